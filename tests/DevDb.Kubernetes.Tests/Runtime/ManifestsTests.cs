using DevDb.Core.Runtimes.Kubernetes;
using k8s.Models;
using Xunit;

namespace DevDb.Kubernetes.Tests.Runtime;

/// <summary>
/// The objects DevDb makes, read straight from the builders (no API server, no double), as a platform
/// engineer reviewing them before an install would: pod security, shutdown, names, labels and owners.
/// </summary>
public sealed class ManifestsTests
{
    private static readonly KubernetesOptions Defaults = new();

    private static ProjectResource Shop(string? image = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = "shop", Uid = "project-uid" },
        Spec = new ProjectResourceSpec { PostgresVersion = 16, Source = "s3://dumps/shop.dump", PostgresImage = image },
    };

    private static DatabaseResource Dave(bool running = true) => new()
    {
        Metadata = new V1ObjectMeta { Name = "dave", Uid = "database-uid" },
        Spec = new DatabaseResourceSpec { Project = "shop", Owner = @"CORP\Dave Smith", Running = running },
        Status = new DatabaseState { DatabaseName = "app" },
    };

    private static V1Job RestoreJob(KubernetesOptions? options = null) => new Manifests(options ?? Defaults).RestoreJob(Shop(), 3);

    private static V1StatefulSet Server(KubernetesOptions? options = null, bool running = true) =>
        new Manifests(options ?? Defaults).DatabaseServer(Dave(running), "postgres:16", "devdb-db-dave-0", loadBalancerPort: null);

    private static IEnumerable<V1Container> AllContainers(V1PodSpec pod) => (pod.InitContainers ?? []).Concat(pod.Containers);

    [Fact]
    public void Database_and_restore_pods_meet_the_restricted_pod_security_standard()
    {
        foreach (var pod in new[] { RestoreJob().Spec.Template.Spec, Server().Spec.Template.Spec })
        {
            Assert.True(pod.SecurityContext.RunAsNonRoot);
            Assert.Equal((999L, 999L, 999L), (pod.SecurityContext.RunAsUser, pod.SecurityContext.RunAsGroup, pod.SecurityContext.FsGroup));
            Assert.Equal("RuntimeDefault", pod.SecurityContext.SeccompProfile.Type);
            Assert.False(pod.AutomountServiceAccountToken);
            Assert.False(pod.EnableServiceLinks);
            foreach (var container in AllContainers(pod))
            {
                Assert.False(container.SecurityContext.AllowPrivilegeEscalation, container.Name);
                Assert.True(container.SecurityContext.ReadOnlyRootFilesystem, container.Name);
                Assert.Equal(["ALL"], container.SecurityContext.Capabilities.Drop);
                Assert.Null(container.SecurityContext.Capabilities.Add);
                Assert.Null(container.SecurityContext.Privileged);
                Assert.Equal("FallbackToLogsOnError", container.TerminationMessagePolicy);
            }
            // Writable places are volumes: the data volume and emptyDirs for the socket folder and /tmp.
            Assert.Equal(["data", "run", "tmp"], pod.Volumes.Select(v => v.Name));
            Assert.All(pod.Volumes.Where(v => v.Name != "data"), v => Assert.NotNull(v.EmptyDir));
        }
    }

    [Fact]
    public void PGDATA_is_a_sub_folder_of_the_volume_whose_fsGroup_pass_runs_only_on_a_root_mismatch_and_is_set_back_to_0700_before_the_server_starts()
    {
        var pod = Server().Spec.Template.Spec;

        Assert.Equal("OnRootMismatch", pod.SecurityContext.FsGroupChangePolicy);
        Assert.Equal("OnRootMismatch", RestoreJob().Spec.Template.Spec.SecurityContext.FsGroupChangePolicy);
        Assert.Equal("/var/lib/postgresql/data/pgdata", Manifests.DataFolder);
        foreach (var container in AllContainers(pod).Concat(RestoreJob().Spec.Template.Spec.Containers))
        {
            Assert.Equal(Manifests.DataFolder, container.Env.Single(e => e.Name == "PGDATA").Value);
            Assert.Equal("/var/lib/postgresql/data", container.VolumeMounts.Single(m => m.Name == "data").MountPath);
        }
        // The kubelet leaves the folders group-writable and setgid; Postgres refuses such a PGDATA. The init container runs first.
        var setPassword = pod.InitContainers.Single();
        Assert.Equal("set-password", setPassword.Name);
        Assert.Contains("chmod 00700 \"$PGDATA\"", setPassword.Command[2]);
    }

    [Theory]
    [InlineData(60, 50)]  // the default: Postgres gets 50 s, the kubelet keeps 10 s
    [InlineData(120, 110)]
    [InlineData(5, 1)]    // never zero (pg_ctl -t 0 would not wait at all)
    public void A_database_stops_with_a_fast_shutdown_that_fits_in_its_grace_period(int grace, int wait)
    {
        var pod = Server(Defaults with { DatabaseStopGracePeriodSeconds = grace }).Spec.Template.Spec;

        Assert.Equal(grace, pod.TerminationGracePeriodSeconds);
        var preStop = pod.Containers.Single(c => c.Name == "postgres").Lifecycle.PreStop.Exec.Command;
        Assert.Equal(["sh", "-c", $"pg_ctl stop -D \"$PGDATA\" -m fast -w -t {wait} || true"], preStop);
    }

    [Fact]
    public void A_database_server_is_a_Parallel_StatefulSet_of_one_scaled_to_zero_when_stopped_with_its_selector_on_its_pods()
    {
        var server = Server();

        Assert.Equal("Parallel", server.Spec.PodManagementPolicy);
        Assert.Equal(1, server.Spec.Replicas);
        Assert.Equal(0, Server(running: false).Spec.Replicas);
        Assert.Equal(KubeNames.DatabaseObject("dave"), server.Spec.ServiceName);
        var podLabels = server.Spec.Template.Metadata.Labels;
        Assert.All(server.Spec.Selector.MatchLabels, label => Assert.Equal(label.Value, podLabels[label.Key]));
        var service = new Manifests(Defaults).DatabaseService(Dave());
        Assert.All(service.Spec.Selector, label => Assert.Equal(label.Value, podLabels[label.Key]));
        Assert.Equal(("ClusterIP", 5432, "postgres"), (service.Spec.Type, service.Spec.Ports.Single().Port, server.Spec.Template.Spec.Containers.Single().Ports.Single().Name));
        Assert.Equal("devdb-db-dave-0", server.Spec.Template.Spec.Volumes.Single(v => v.Name == "data").PersistentVolumeClaim.ClaimName);
    }

    [Fact]
    public void A_restore_Job_fails_once_and_for_all_past_its_deadline_with_the_restore_service_account()
    {
        var job = RestoreJob(Defaults with { RestoreDeadline = TimeSpan.FromMinutes(90), InstanceName = "devdb-prod" });

        Assert.Equal(5400, job.Spec.ActiveDeadlineSeconds);
        Assert.Equal(0, job.Spec.BackoffLimit);
        Assert.Equal("Never", job.Spec.Template.Spec.RestartPolicy);
        Assert.Equal("devdb-prod-restore", job.Spec.Template.Spec.ServiceAccountName);
        Assert.Equal(6 * 3600, RestoreJob().Spec.ActiveDeadlineSeconds);
    }

    [Fact]
    public void Restore_and_database_pods_pull_with_the_installations_image_pull_secrets_and_without_any_when_none_are_set()
    {
        var options = Defaults with { ImagePullSecrets = ["registry-a", "registry-b"] };

        Assert.Equal(["registry-a", "registry-b"], RestoreJob(options).Spec.Template.Spec.ImagePullSecrets.Select(s => s.Name));
        Assert.Equal(["registry-a", "registry-b"], Server(options).Spec.Template.Spec.ImagePullSecrets.Select(s => s.Name));
        Assert.Null(RestoreJob().Spec.Template.Spec.ImagePullSecrets);
        Assert.Null(Server().Spec.Template.Spec.ImagePullSecrets);
    }

    [Theory]
    [InlineData("postgres:{0}", null, "postgres:16")]
    [InlineData("registry.example.com/mirror/postgres:{0}-bookworm", null, "registry.example.com/mirror/postgres:16-bookworm")]
    [InlineData("postgres:{0}", "postgis/postgis:{0}-3.4", "postgis/postgis:16-3.4")]
    [InlineData("registry.example.com/postgres:{0}", "  ", "registry.example.com/postgres:16")]
    public void The_postgres_image_is_the_projects_own_else_the_installations_with_the_major_filled_in(string installation, string? project, string expected)
    {
        var options = Defaults with { PostgresImage = installation, ApiImage = "registry.example.com/devdb/api:0.1.0" };
        var manifests = new Manifests(options);

        Assert.Equal(expected, manifests.PostgresImage(Shop(project)));
        var pod = manifests.RestoreJob(Shop(project), 1).Spec.Template.Spec;
        Assert.Equal(expected, pod.Containers.Single(c => c.Name == "restore").Image);
        // The fetch step is DevDb's own tool, in the API image.
        Assert.Equal("registry.example.com/devdb/api:0.1.0", pod.InitContainers.Single(c => c.Name == "fetch").Image);
    }

    [Fact]
    public void A_projects_build_objects_are_named_by_KubeNames_labelled_and_owned_by_its_record()
    {
        var manifests = new Manifests(Defaults with { StorageClass = "fast", VolumeSnapshotClass = "csi-snap" });
        var volume = manifests.RestoreVolume(Shop(), 3);
        var job = manifests.RestoreJob(Shop(), 3);
        var snapshot = manifests.ImageSnapshot(Shop(), 3);

        Assert.Equal((KubeNames.RestoreVolume("shop", 3), KubeNames.RestoreJob("shop", 3), KubeNames.ImageSnapshot("shop", 3)),
            (volume.Metadata.Name, job.Metadata.Name, snapshot.Metadata.Name));
        Assert.Equal(("devdb-shop-r3-restore", "devdb-shop-r3"), (job.Metadata.Name, snapshot.Metadata.Name));
        Assert.Equal(volume.Metadata.Name, job.Spec.Template.Spec.Volumes.Single(v => v.Name == "data").PersistentVolumeClaim.ClaimName);
        Assert.Equal(volume.Metadata.Name, snapshot.Spec.Source.PersistentVolumeClaimName);
        Assert.Equal(("fast", "csi-snap", "20Gi"), (volume.Spec.StorageClassName, snapshot.Spec.VolumeSnapshotClassName, volume.Spec.Resources.Requests["storage"].ToString()));
        foreach (var meta in new[] { volume.Metadata, job.Metadata, snapshot.Metadata, job.Spec.Template.Metadata })
        {
            Assert.Equal("devdb", meta.Labels[KubeNames.ManagedBy]);
            Assert.Equal(("shop", "3"), (meta.Labels[KubeNames.Project], meta.Labels[KubeNames.Revision]));
        }
        foreach (var meta in new[] { volume.Metadata, job.Metadata, snapshot.Metadata })
            AssertOwnedBy(meta, "DevDbProject", "shop", "project-uid");
    }

    [Fact]
    public void A_databases_objects_are_named_by_KubeNames_labelled_with_its_owner_and_owned_by_its_record()
    {
        var options = Defaults with { Traefik = new TraefikOptions { Enabled = true, TlsSecret = "wildcard" }, BaseDomain = "db.example.com" };
        var manifests = new Manifests(options);
        var secret = manifests.DatabaseSecret(Dave(), "dave", "s3cret");
        var service = manifests.DatabaseService(Dave());
        var volume = manifests.DatabaseVolume(Dave(), KubeNames.DatabaseVolume("dave", 1), "devdb-shop-r3", new ResourceQuantity("30Gi"));
        var server = manifests.DatabaseServer(Dave(), "postgres:16", volume.Metadata.Name, loadBalancerPort: null);
        var route = manifests.DatabaseRoute(Dave());

        Assert.All(new[] { secret.Metadata, service.Metadata, server.Metadata, route.Metadata }, m => Assert.Equal("devdb-db-dave", m.Name));
        Assert.Equal("devdb-db-dave-1", volume.Metadata.Name);
        foreach (var meta in new[] { secret.Metadata, service.Metadata, volume.Metadata, server.Metadata, route.Metadata, server.Spec.Template.Metadata })
        {
            Assert.Equal(("devdb", "shop", "dave"), (meta.Labels[KubeNames.ManagedBy], meta.Labels[KubeNames.Project], meta.Labels[KubeNames.Database]));
            // A user name is no label value: it is made one (spec.owner keeps the exact name).
            Assert.Equal("CORP-Dave-Smith", meta.Labels[KubeNames.Owner]);
        }
        Assert.Equal(("devdb", "database", "devdb"), (server.Spec.Template.Metadata.Labels[KubeNames.PartOf],
            server.Spec.Template.Metadata.Labels[KubeNames.Component], server.Spec.Template.Metadata.Labels[KubeNames.Instance]));
        foreach (var meta in new[] { secret.Metadata, service.Metadata, volume.Metadata, server.Metadata, route.Metadata })
            AssertOwnedBy(meta, "DevDbDatabase", "dave", "database-uid");
        // The clone of the image's snapshot is never smaller than the snapshot.
        Assert.Equal(("snapshot.storage.k8s.io", "VolumeSnapshot", "devdb-shop-r3", "30Gi"),
            (volume.Spec.DataSource.ApiGroup, volume.Spec.DataSource.Kind, volume.Spec.DataSource.Name, volume.Spec.Resources.Requests["storage"].ToString()));
        Assert.Equal(("Opaque", "dave", "s3cret"), (secret.Type, secret.StringData["username"], secret.StringData["password"]));
        Assert.Equal("HostSNI(`dave.db.example.com`)", route.Spec.Routes.Single().Match);
        Assert.Equal(("postgres", "wildcard", "devdb-db-dave", 5432), (route.Spec.EntryPoints.Single(), route.Spec.Tls!.SecretName,
            route.Spec.Routes.Single().Services.Single().Name, route.Spec.Routes.Single().Services.Single().Port));
    }

    [Fact]
    public void The_database_password_reaches_the_pod_only_from_its_Secret()
    {
        var setPassword = Server().Spec.Template.Spec.InitContainers.Single();

        foreach (var (variable, key) in new[] { ("DEVDB_USERNAME", "username"), ("DEVDB_PASSWORD", "password") })
        {
            var env = setPassword.Env.Single(e => e.Name == variable);
            Assert.Null(env.Value);
            Assert.Equal(("devdb-db-dave", key), (env.ValueFrom.SecretKeyRef.Name, env.ValueFrom.SecretKeyRef.Key));
        }
        Assert.Equal("off", setPassword.Env.Single(e => e.Name == "DEVDB_SUPERUSER").Value);
    }

    [Fact]
    public void A_database_on_the_shared_load_balancer_names_its_container_port_after_its_load_balancer_port()
    {
        var server = new Manifests(Defaults).DatabaseServer(Dave(), "postgres:16", "v", loadBalancerPort: 15433);

        var port = server.Spec.Template.Spec.Containers.Single().Ports.Single();
        Assert.Equal((KubeNames.LoadBalancerPortName(15433), 5432), (port.Name, port.ContainerPort));
    }

    [Fact]
    public void Database_and_restore_containers_and_their_init_containers_have_the_installations_requests_and_memory_limits()
    {
        var options = Defaults with { DatabaseCpuRequest = "100m", DatabaseMemoryRequest = "256Mi", DatabaseMemoryLimit = "1Gi", RestoreMemoryLimit = "4Gi" };

        var postgres = Server(options).Spec.Template.Spec.Containers.Single().Resources;
        Assert.Equal(("100m", "256Mi", "1Gi"), (postgres.Requests["cpu"].ToString(), postgres.Requests["memory"].ToString(), postgres.Limits["memory"].ToString()));
        Assert.False(postgres.Limits.ContainsKey("cpu")); // no CPU limit: no throttling of a restore or a query
        var restore = RestoreJob(options).Spec.Template.Spec.Containers.Single().Resources;
        Assert.Equal("4Gi", restore.Limits["memory"].ToString());
        // Init containers too: a namespace's ResourceQuota on requests or limits refuses a pod with any container lacking them.
        var setPassword = Server(options).Spec.Template.Spec.InitContainers.Single().Resources;
        Assert.Equal(("100m", "256Mi", "1Gi"), (setPassword.Requests["cpu"].ToString(), setPassword.Requests["memory"].ToString(), setPassword.Limits["memory"].ToString()));
        Assert.Equal("4Gi", RestoreJob(options).Spec.Template.Spec.InitContainers.Single().Resources.Limits["memory"].ToString());
    }

    private static void AssertOwnedBy(V1ObjectMeta meta, string kind, string name, string uid)
    {
        var owner = Assert.Single(meta.OwnerReferences);
        Assert.Equal(("devdb.io/v1alpha1", kind, name, uid), (owner.ApiVersion, owner.Kind, owner.Name, owner.Uid));
        Assert.True(owner.Controller);
        Assert.True(owner.BlockOwnerDeletion);
    }
}
