using System.Text;
using DevDb.Core;
using DevDb.Core.Client;
using DevDb.Core.Model;
using DevDb.Core.Runtimes.Kubernetes;
using k8s;
using k8s.Models;
using KubeApiDouble;
using static DevDb.Kubernetes.Tests.Runtime.KubernetesRig;
using static DevDb.Kubernetes.Tests.Runtime.ProjectLifecycleTests;

using Xunit;

namespace DevDb.Kubernetes.Tests.Runtime;

/// <summary>The life of a database in the cluster: clone, serve, stop, start, reset, repair, remove. Against the API-server double.</summary>
public sealed class DatabaseLifecycleTests
{
    internal static NewDatabaseRequest Dave => new() { Project = "shop", Name = "dave", Owner = "dave" };

    private static async Task<KubernetesRig> RigWithProjectAsync(Action<KubeApiServerOptions>? server = null, Func<KubernetesOptions, KubernetesOptions>? configure = null)
    {
        var rig = await StartAsync(server, configure);
        await rig.Engine.NewProjectAsync(Shop());
        return rig;
    }

    [Fact]
    public async Task A_database_is_a_clone_of_the_image_snapshot_served_by_a_StatefulSet_behind_a_Service_and_an_SNI_route()
    {
        await using var rig = await RigWithProjectAsync(server => server.PodReadiness = PodReadiness.Manual);

        var creating = await rig.Engine.BeginNewDatabaseAsync(Dave);
        Assert.Equal(DatabaseStatus.Creating, creating.Status);
        await UntilAsync(() => rig.Server.Find(("v1"), "pods", Namespace, "devdb-db-dave-0") is not null, "the database's pod exists");
        Assert.Equal(DatabaseStatus.Creating, (await rig.Engine.GetDatabaseAsync("dave")).Status); // not Ready yet
        var record = rig.Find<DatabaseResource>("dave")!;
        Assert.Equal(("shop", "dave", "devdb"), (record.Metadata.Labels[KubeNames.Project], record.Metadata.Labels[KubeNames.Owner], record.Metadata.Labels[KubeNames.ManagedBy]));

        var volume = rig.Find<V1PersistentVolumeClaim>("devdb-db-dave-0")!;
        Assert.Equal(("snapshot.storage.k8s.io", "VolumeSnapshot", "devdb-shop-r1"), (volume.Spec.DataSource.ApiGroup, volume.Spec.DataSource.Kind, volume.Spec.DataSource.Name));
        AssertOwnedBy(volume.Metadata, "DevDbDatabase", record.Metadata.Uid);

        var server = rig.Find<V1StatefulSet>("devdb-db-dave")!;
        AssertOwnedBy(server.Metadata, "DevDbDatabase", record.Metadata.Uid);
        Assert.Equal(1, server.Spec.Replicas);
        var template = server.Spec.Template;
        Assert.Equal(("devdb", "database", "dave", "devdb"), (template.Metadata.Labels[KubeNames.PartOf], template.Metadata.Labels[KubeNames.Component],
            template.Metadata.Labels[KubeNames.Database], template.Metadata.Labels[KubeNames.Instance]));
        var pod = template.Spec;
        Assert.False(pod.AutomountServiceAccountToken);
        Assert.Equal("devdb-db-dave-0", pod.Volumes.Single(v => v.Name == "data").PersistentVolumeClaim.ClaimName);
        var setPassword = Assert.Single(pod.InitContainers);
        Assert.Equal(("set-password", "postgres:16"), (setPassword.Name, setPassword.Image));
        // The password reaches the pod from the Secret, never through the StatefulSet's spec.
        var passwordVariable = setPassword.Env.Single(e => e.Name == "DEVDB_PASSWORD");
        Assert.Null(passwordVariable.Value);
        Assert.Equal(("devdb-db-dave", "password"), (passwordVariable.ValueFrom.SecretKeyRef.Name, passwordVariable.ValueFrom.SecretKeyRef.Key));
        var postgres = Assert.Single(pod.Containers);
        Assert.Equal(["postgres"], postgres.Command);
        Assert.Equal(5432, Assert.Single(postgres.Ports).ContainerPort);
        Assert.Equal(["pg_isready", "-h", "127.0.0.1", "-p", "5432"], postgres.ReadinessProbe.Exec.Command);
        Assert.NotNull(postgres.LivenessProbe);
        Assert.Equal("512Mi", postgres.Resources.Limits["memory"].ToString());
        Assert.True(postgres.SecurityContext.ReadOnlyRootFilesystem);

        var service = rig.Find<V1Service>("devdb-db-dave")!;
        Assert.Equal("ClusterIP", service.Spec.Type);
        Assert.Equal("dave", service.Spec.Selector[KubeNames.Database]);
        Assert.Equal(5432, Assert.Single(service.Spec.Ports).Port);
        var route = rig.Find<IngressRouteTcp>("devdb-db-dave")!;
        Assert.Equal(["postgres"], route.Spec.EntryPoints);
        Assert.Equal("HostSNI(`dave.db.example.test`)", Assert.Single(route.Spec.Routes).Match);
        Assert.Equal(("devdb-db-dave", 5432), (route.Spec.Routes[0].Services[0].Name, route.Spec.Routes[0].Services[0].Port));
        Assert.Equal("devdb-wildcard-tls", route.Spec.Tls!.SecretName);

        rig.Server.SetPodReady(Namespace, "devdb-db-dave-0");
        var running = await rig.Engine.WaitDatabaseAsync("dave");

        Assert.Equal(DatabaseStatus.Running, running.Status);
        Assert.Equal(("dave.db.example.test", 5432, "app", "dave", 1), (running.Host, running.Port, running.DatabaseName, running.Username, running.ImageRevision));
        var connection = await rig.Engine.GetConnectionAsync("dave");
        var secret = rig.Find<V1Secret>("devdb-db-dave")!;
        Assert.Equal(Encoding.UTF8.GetString(secret.Data["password"]), connection.Password);
        Assert.Equal(32, connection.Password.Length);
        Assert.Equal("dave", Encoding.UTF8.GetString(secret.Data["username"]));
        Assert.DoesNotContain(connection.Password, connection.ToString());
    }

    [Fact]
    public async Task Stopping_scales_to_zero_and_keeps_the_volume_and_starting_brings_the_same_data_back()
    {
        await using var rig = await RigWithProjectAsync();
        await rig.Engine.NewDatabaseAsync(Dave);
        var before = await rig.Engine.GetConnectionAsync("dave");

        var stopped = await rig.Engine.StopDatabaseAsync("dave");

        Assert.Equal(DatabaseStatus.Stopped, stopped.Status);
        Assert.Equal(0, rig.Find<V1StatefulSet>("devdb-db-dave")!.Spec.Replicas);
        Assert.Null(rig.Find<V1Pod>("devdb-db-dave-0"));
        Assert.NotNull(rig.Find<V1PersistentVolumeClaim>("devdb-db-dave-0"));

        var started = await rig.Engine.StartDatabaseAsync("dave");

        Assert.Equal(DatabaseStatus.Running, started.Status);
        Assert.Equal("devdb-db-dave-0", rig.Find<V1StatefulSet>("devdb-db-dave")!.Spec.Template.Spec.Volumes.Single(v => v.Name == "data").PersistentVolumeClaim.ClaimName);
        Assert.Equal(before.Password, (await rig.Engine.GetConnectionAsync("dave")).Password);
    }

    [Fact]
    public async Task Reset_swaps_in_a_fresh_volume_from_the_newest_image_and_keeps_Secret_Service_hostname_and_password()
    {
        await using var rig = await RigWithProjectAsync();
        await rig.Engine.NewDatabaseAsync(Dave);
        var secretUid = rig.Find<V1Secret>("devdb-db-dave")!.Metadata.Uid;
        var serviceUid = rig.Find<V1Service>("devdb-db-dave")!.Metadata.Uid;
        var password = (await rig.Engine.GetConnectionAsync("dave")).Password;
        await rig.Engine.UpdateProjectAsync(new UpdateProjectRequest { Name = "shop" });

        var reset = await rig.Engine.ResetDatabaseAsync("dave");

        Assert.Equal((DatabaseStatus.Running, 2, "dave.db.example.test"), (reset.Status, reset.ImageRevision, reset.Host));
        var volume = rig.Find<V1PersistentVolumeClaim>("devdb-db-dave-1")!;
        Assert.Equal("devdb-shop-r2", volume.Spec.DataSource.Name);
        Assert.Equal("devdb-db-dave-1", rig.Find<V1StatefulSet>("devdb-db-dave")!.Spec.Template.Spec.Volumes.Single(v => v.Name == "data").PersistentVolumeClaim.ClaimName);
        await UntilAsync(() => rig.Find<V1PersistentVolumeClaim>("devdb-db-dave-0") is null, "the old clone's volume is deleted");
        Assert.Equal(secretUid, rig.Find<V1Secret>("devdb-db-dave")!.Metadata.Uid);
        Assert.Equal(serviceUid, rig.Find<V1Service>("devdb-db-dave")!.Metadata.Uid);
        Assert.Equal(password, (await rig.Engine.GetConnectionAsync("dave")).Password);
    }

    [Fact]
    public async Task Removing_the_record_removes_every_object_of_the_database()
    {
        await using var rig = await RigWithProjectAsync();
        await rig.Engine.NewDatabaseAsync(Dave);

        await rig.Engine.RemoveDatabaseAsync("dave");

        Assert.Empty(await rig.Engine.GetDatabasesAsync());
        await UntilAsync(() => rig.Find<V1StatefulSet>("devdb-db-dave") is null && rig.Find<V1Service>("devdb-db-dave") is null
                               && rig.Find<V1Secret>("devdb-db-dave") is null && rig.Find<IngressRouteTcp>("devdb-db-dave") is null
                               && rig.Find<V1PersistentVolumeClaim>("devdb-db-dave-0") is null && rig.Find<V1Pod>("devdb-db-dave-0") is null,
            "the garbage collector deletes what the record owned");
        Assert.Equal(ErrorCodes.DatabaseNotFound, (await Assert.ThrowsAsync<DevDbException>(() => rig.Engine.GetConnectionAsync("dave"))).Code);
    }

    [Fact]
    public async Task A_name_can_be_used_again_at_once_after_its_database_is_removed()
    {
        await using var rig = await RigWithProjectAsync();
        await rig.Engine.NewDatabaseAsync(Dave);
        var before = await rig.Engine.GetConnectionAsync("dave");

        await rig.Engine.RemoveDatabaseAsync("dave");
        var again = await rig.Engine.NewDatabaseAsync(Dave with { Owner = "erin" });

        Assert.Equal((DatabaseStatus.Running, "erin"), (again.Status, again.Owner));
        var after = await rig.Engine.GetConnectionAsync("dave");
        Assert.NotEqual(before.Password, after.Password);
        var record = rig.Find<DatabaseResource>("dave")!;
        await UntilAsync(() => rig.Find<V1StatefulSet>("devdb-db-dave")?.Metadata.OwnerReferences.Single().Uid == record.Metadata.Uid,
            "the new record owns the server");
        Assert.Equal(record.Metadata.Uid, rig.Find<V1Secret>("devdb-db-dave")!.Metadata.OwnerReferences.Single().Uid);
    }

    [Fact]
    public async Task Drift_is_repaired_a_deleted_pod_comes_back_a_deleted_Service_is_made_again_a_deleted_Secret_gets_a_new_password()
    {
        await using var rig = await RigWithProjectAsync();
        await rig.Engine.NewDatabaseAsync(Dave);
        var password = (await rig.Engine.GetConnectionAsync("dave")).Password;
        var podUid = rig.Find<V1Pod>("devdb-db-dave-0")!.Metadata.Uid;

        rig.Server.DeletePod(Namespace, "devdb-db-dave-0");
        await UntilAsync(() => rig.Find<V1Pod>("devdb-db-dave-0") is { } pod && pod.Metadata.Uid != podUid, "the StatefulSet makes the pod again");
        await UntilAsync(async () => (await rig.Engine.GetDatabaseAsync("dave")).Status == DatabaseStatus.Running, "the database is Running again");

        await rig.Client.CoreV1.DeleteNamespacedServiceAsync("devdb-db-dave", Namespace);
        await UntilAsync(() => rig.Find<V1Service>("devdb-db-dave") is not null, "the reconciler makes the Service again");

        podUid = rig.Find<V1Pod>("devdb-db-dave-0")!.Metadata.Uid;
        await rig.Client.CoreV1.DeleteNamespacedSecretAsync("devdb-db-dave", Namespace);
        await UntilAsync(() => rig.Find<V1Secret>("devdb-db-dave") is not null, "the reconciler makes the Secret again");
        Assert.NotEqual(password, (await rig.Engine.GetConnectionAsync("dave")).Password);
        await UntilAsync(() => rig.Find<V1Pod>("devdb-db-dave-0") is { } pod && pod.Metadata.Uid != podUid, "the server restarts to take the new password");
        var events = await rig.Client.CoreV1.ListNamespacedEventAsync(Namespace);
        Assert.Contains(events.Items, e => e.InvolvedObject.Name == "dave" && e.Reason == "CredentialsRemade" && e.Type == "Warning");
    }

    [Fact]
    public async Task A_record_applied_with_kubectl_gets_credentials_from_the_reconciler_and_runs()
    {
        await using var rig = await RigWithProjectAsync();

        await rig.Client.CustomObjects.CreateNamespacedCustomObjectAsync(new DatabaseResource
        {
            Metadata = new V1ObjectMeta { Name = "kim", Labels = new Dictionary<string, string> { [KubeNames.Project] = "shop" } },
            Spec = new DatabaseResourceSpec { Project = "shop", Owner = "kim" },
        }, DevDbGroup.Name, DevDbGroup.Version, Namespace, DevDbGroup.Databases);
        var database = await rig.Engine.WaitDatabaseAsync("kim");

        Assert.Equal((DatabaseStatus.Running, "kim.db.example.test"), (database.Status, database.Host));
        Assert.Equal(32, (await rig.Engine.GetConnectionAsync("kim")).Password.Length);
    }

    [Fact]
    public async Task A_server_that_cannot_start_fails_the_create_with_the_containers_words()
    {
        await using var rig = await RigWithProjectAsync(server => server.PodReadiness = PodReadiness.Manual);
        await rig.Engine.BeginNewDatabaseAsync(Dave);
        await UntilAsync(() => rig.Find<V1Pod>("devdb-db-dave-0") is not null, "the pod exists");

        rig.Server.Mutate("v1", "pods", Namespace, "devdb-db-dave-0", pod => pod["status"] = System.Text.Json.Nodes.JsonNode.Parse("""
            {"phase":"Pending","initContainerStatuses":[{"name":"set-password","ready":false,"restartCount":0,"image":"postgres:16","imageID":"",
             "state":{"terminated":{"exitCode":1,"reason":"Error","message":"FATAL:  database files are incompatible with server"}}}],
             "containerStatuses":[{"name":"postgres","ready":false,"restartCount":0,"image":"postgres:16","imageID":"","state":{"waiting":{"reason":"PodInitializing"}}}]}
            """));
        var error = await Assert.ThrowsAsync<DevDbException>(() => rig.Engine.WaitDatabaseAsync("dave"));

        Assert.Equal(ErrorCodes.ServerStartFailed, error.Code);
        Assert.Contains("database files are incompatible with server", error.Message);
        Assert.Equal(DatabaseStatus.Failed, (await rig.Engine.GetDatabaseAsync("dave")).Status);
        Assert.Equal(ErrorCodes.ServerStartFailed, (await Assert.ThrowsAsync<DevDbException>(() => rig.Engine.GetConnectionAsync("dave"))).Code);
        // Only the record and its error stay.
        await UntilAsync(() => rig.Find<V1StatefulSet>("devdb-db-dave") is null && rig.Find<V1Service>("devdb-db-dave") is null
                               && rig.Find<V1Secret>("devdb-db-dave") is null && rig.Find<IngressRouteTcp>("devdb-db-dave") is null
                               && rig.Server.FindAll("v1", "persistentvolumeclaims", Namespace).Count == 0,
            "the failed database's server, Service, Secret, route and volume are deleted");

        // The same request again replaces the failed database.
        await rig.Engine.BeginNewDatabaseAsync(Dave);
        await UntilAsync(() => rig.Find<V1Pod>("devdb-db-dave-0") is not null, "the new pod exists");
        rig.Server.SetPodReady(Namespace, "devdb-db-dave-0");
        Assert.Equal(DatabaseStatus.Running, (await rig.Engine.WaitDatabaseAsync("dave")).Status);
    }

    [Fact]
    public async Task A_reset_is_over_only_when_the_server_on_the_new_volume_answers_not_the_old_one()
    {
        await using var rig = await RigWithProjectAsync(server => server.PodReadiness = PodReadiness.Manual);
        await rig.Engine.BeginNewDatabaseAsync(Dave);
        await UntilAsync(() => rig.Find<V1Pod>("devdb-db-dave-0") is not null, "the pod exists");
        rig.Server.SetPodReady(Namespace, "devdb-db-dave-0");
        await rig.Engine.WaitDatabaseAsync("dave");
        var oldPod = rig.Find<V1Pod>("devdb-db-dave-0")!.Metadata.Uid;

        var reset = rig.Engine.ResetDatabaseAsync("dave");
        await UntilAsync(() => rig.Find<V1Pod>("devdb-db-dave-0") is { } pod && pod.Metadata.Uid != oldPod, "the StatefulSet replaces the pod");
        await rig.PassesAsync(3);

        Assert.False(reset.IsCompleted);
        Assert.Equal(DatabaseStatus.Creating, (await rig.Engine.GetDatabaseAsync("dave")).Status);
        rig.Server.SetPodReady(Namespace, "devdb-db-dave-0");
        Assert.Equal(DatabaseStatus.Running, (await reset).Status);
    }

    [Fact]
    public async Task Without_SNI_each_database_gets_its_own_port_on_the_shared_load_balancer_and_gives_it_back_when_removed()
    {
        await using var rig = await StartAsync(configure: options => options with
        {
            Traefik = new TraefikOptions { Enabled = false },
            LoadBalancer = new LoadBalancerOptions { Enabled = true, Host = "pg.example.test", PortRangeStart = 31000, PortRangeEnd = 31001 },
        });
        await rig.Client.CoreV1.CreateNamespacedServiceAsync(new V1Service
        {
            Metadata = new V1ObjectMeta { Name = "devdb-databases" },
            Spec = new V1ServiceSpec
            {
                Type = "LoadBalancer", Selector = new Dictionary<string, string> { [KubeNames.PartOf] = "devdb", [KubeNames.Instance] = "devdb" },
                Ports = [new V1ServicePort { Name = "api", Port = 80, TargetPort = "http" }],
            },
        }, Namespace);
        await rig.Engine.NewProjectAsync(Shop());

        var dave = await rig.Engine.NewDatabaseAsync(Dave);
        var erin = await rig.Engine.NewDatabaseAsync(Dave with { Name = "erin", Owner = "erin" });
        var third = await Assert.ThrowsAsync<DevDbException>(() => rig.Engine.NewDatabaseAsync(Dave with { Name = "frank", Owner = "frank" }));

        Assert.Equal(("pg.example.test", 31000), (dave.Host, dave.Port));
        Assert.Equal(("pg.example.test", 31001), (erin.Host, erin.Port));
        Assert.Equal(ErrorCodes.NoFreePort, third.Code);
        Assert.Null(rig.Find<IngressRouteTcp>("devdb-db-dave"));
        await UntilAsync(() => rig.Find<V1Service>("devdb-databases")!.Spec.Ports.Count == 3, "the shared Service has a port per database");
        var ports = rig.Find<V1Service>("devdb-databases")!.Spec.Ports;
        Assert.Equal(["api", "lb-31000", "lb-31001"], ports.Select(p => p.Name));
        Assert.Equal("lb-31000", ports[1].TargetPort.Value);
        // The named port the Service targets is declared by that database's pod alone.
        Assert.Equal("lb-31000", Assert.Single(rig.Find<V1StatefulSet>("devdb-db-dave")!.Spec.Template.Spec.Containers[0].Ports).Name);

        await rig.Engine.RemoveDatabaseAsync("dave");
        await rig.Engine.RemoveDatabaseAsync("frank");
        await UntilAsync(() => rig.Find<V1Service>("devdb-databases")!.Spec.Ports.Select(p => p.Name).SequenceEqual(["api", "lb-31001"]), "dave's port is given back");
        var again = await rig.Engine.NewDatabaseAsync(Dave with { Name = "gina", Owner = "gina" });
        Assert.Equal(31000, again.Port);
    }

    [Fact]
    public async Task Owners_with_any_characters_and_63_character_names_give_objects_a_real_API_server_accepts()
    {
        await using var rig = await RigWithProjectAsync();
        var name = new string('a', 30) + "-" + new string('b', 32);
        const string owner = @"CORP\Dave.Smith@example.com";

        var database = await rig.Engine.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = name, Owner = owner });

        Assert.Equal((DatabaseStatus.Running, owner), (database.Status, database.Owner));
        var server = Assert.Single(rig.Server.FindAll("apps/v1", "statefulsets", Namespace));
        Assert.True(server["metadata"]!["name"]!.GetValue<string>().Length <= 52);
        Assert.Equal("CORP-Dave.Smith-example.com", rig.Find<DatabaseResource>(name)!.Metadata.Labels[KubeNames.Owner]);
        Assert.Equal([name], (await rig.Engine.GetDatabasesAsync(owner: owner)).Select(d => d.Name));
        Assert.Empty(await rig.Engine.GetDatabasesAsync(owner: "CORP-Dave.Smith-example.com"));
    }

    [Fact]
    public async Task A_pass_over_many_running_databases_reads_each_kind_once_and_writes_nothing()
    {
        await using var rig = await StartAsync(runReconciler: false);
        await rig.Engine.BeginNewProjectAsync(Shop());
        await UntilAsync(async () =>
        {
            await rig.Reconciler.ReconcileOnceAsync(CancellationToken.None);
            return (await rig.Engine.GetProjectAsync("shop")).Status == ProjectStatus.Ready;
        }, "the project is Ready");
        for (var i = 0; i < 25; i++) await rig.Engine.BeginNewDatabaseAsync(Dave with { Name = $"db-{i}" });
        await UntilAsync(async () =>
        {
            await rig.Reconciler.ReconcileOnceAsync(CancellationToken.None);
            return (await rig.Engine.GetDatabasesAsync()).All(d => d.Status == DatabaseStatus.Running);
        }, "25 databases are Running");

        rig.Server.ClearRequests();
        await rig.Reconciler.ReconcileOnceAsync(CancellationToken.None);

        // Two lists of records and one list per kind of object, however many databases there are.
        var requests = rig.Server.Requests;
        Assert.All(requests, r => Assert.Equal("list", r.Verb));
        Assert.Equal(10, requests.Count);
        Assert.Equal(requests.Count, requests.Select(r => r.Resource).Distinct().Count());
    }

    [Fact]
    public async Task Bad_database_requests_name_the_problem_and_leave_nothing()
    {
        await using var rig = await RigWithProjectAsync();
        await rig.Engine.NewDatabaseAsync(Dave);

        Assert.Equal(ErrorCodes.ProjectNotFound, (await Assert.ThrowsAsync<DevDbException>(() => rig.Engine.NewDatabaseAsync(Dave with { Name = "x", Project = "nope" }))).Code);
        Assert.Equal(ErrorCodes.DatabaseExists, (await Assert.ThrowsAsync<DevDbException>(() => rig.Engine.NewDatabaseAsync(Dave with { Owner = "erin" }))).Code);
        Assert.Equal(ErrorCodes.NameInvalid, (await Assert.ThrowsAsync<DevDbException>(() => rig.Engine.NewDatabaseAsync(Dave with { Name = "Dave!" }))).Code);
        Assert.Equal(ErrorCodes.DatabaseNotFound, (await Assert.ThrowsAsync<DevDbException>(() => rig.Engine.ResetDatabaseAsync("nobody"))).Code);
        Assert.Equal(["dave"], rig.Server.FindAll(DevDbGroup.ApiVersion, DevDbGroup.Databases, Namespace).Select(d => d["metadata"]!["name"]!.GetValue<string>()));
        Assert.Single(rig.Server.FindAll("v1", "secrets", Namespace));
        // The same request again is not an error: it returns the database as it is.
        Assert.Equal(DatabaseStatus.Running, (await rig.Engine.NewDatabaseAsync(Dave)).Status);
    }

    [Fact]
    public async Task The_expiry_deletes_only_the_version_it_read_so_a_renewal_landing_meanwhile_keeps_the_database()
    {
        await using var rig = await RigWithProjectAsync();
        await rig.Engine.BeginNewDatabaseAsync(Dave with { TimeToLive = TimeSpan.FromMinutes(5) });
        var records = new CustomResources<DatabaseResource>(rig.Client, Namespace);
        var read = await records.FindAsync("dave", CancellationToken.None);

        // The CI job renews its lease after the reconciler's last read and before its delete.
        await rig.Engine.SetDatabaseAsync(new SetDatabaseRequest { Name = "dave", TimeToLive = TimeSpan.FromHours(1) });

        Assert.False(await records.DeleteAsync("dave", read!.Metadata.ResourceVersion, CancellationToken.None));
        var kept = await rig.Engine.GetDatabaseAsync("dave");
        Assert.True(kept.ExpiresAt > DateTimeOffset.UtcNow.AddMinutes(50));
        Assert.True(await records.DeleteAsync("dave", CancellationToken.None));
    }
}
