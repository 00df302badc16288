using System.Text.Json.Nodes;
using DevDb.Core;
using DevDb.Core.Client;
using DevDb.Core.Model;
using DevDb.Core.Runtimes.Kubernetes;
using k8s;
using k8s.Models;
using KubeApiDouble;
using Xunit;
using static DevDb.Kubernetes.Tests.Runtime.KubernetesRig;
using static DevDb.Kubernetes.Tests.Runtime.ProjectLifecycleTests;
using static DevDb.Kubernetes.Tests.Runtime.DatabaseLifecycleTests;

namespace DevDb.Kubernetes.Tests.Runtime;

/// <summary>
/// What real clusters do that the first version of the runtime did not expect (issue 11), against the API-server
/// double: StatefulSets that never replace a pod that is not Ready, restore volumes that stay Pending, Job
/// deadlines, private registries, kept restore volumes, load balancers that get their address late.
/// </summary>
public sealed class RealClusterBehaviourTests
{
    private static void MarkNotReady(KubernetesRig rig, string pod) =>
        rig.Server.Mutate("v1", "pods", Namespace, pod, p => p["status"]!["conditions"] = new JsonArray(
            new JsonObject { ["type"] = "Ready", ["status"] = "False", ["reason"] = "ContainersNotReady" }));

    [Theory]
    [InlineData("Parallel")]      // what DevDb creates now
    [InlineData("OrderedReady")]  // a StatefulSet made before (the field is immutable): the reconciler deletes the stuck pod
    public async Task A_reset_replaces_a_database_pod_that_is_not_Ready(string policy)
    {
        await using var rig = await StartAsync(server => server.PodReadiness = PodReadiness.Manual);
        await rig.Engine.NewProjectAsync(Shop());
        var creating = rig.Engine.NewDatabaseAsync(Dave);
        await UntilAsync(() => rig.Find<V1Pod>("devdb-db-dave-0") is not null, "dave's pod exists");
        rig.Server.SetPodReady(Namespace, "devdb-db-dave-0");
        await creating;
        rig.Server.Mutate("apps/v1", "statefulsets", Namespace, "devdb-db-dave", sts => sts["spec"]!["podManagementPolicy"] = policy);
        MarkNotReady(rig, "devdb-db-dave-0"); // the server hangs: its readiness probe fails
        var stuck = rig.Find<V1Pod>("devdb-db-dave-0")!.Metadata.Uid;
        await rig.Engine.UpdateProjectAsync(new UpdateProjectRequest { Name = "shop" });

        var reset = rig.Engine.ResetDatabaseAsync("dave");

        await UntilAsync(() => rig.Find<V1Pod>("devdb-db-dave-0") is { } pod && pod.Metadata.Uid != stuck, "the stuck pod is replaced");
        var replaced = rig.Find<V1Pod>("devdb-db-dave-0")!;
        Assert.Equal("devdb-db-dave-1", replaced.Spec.Volumes.Single(v => v.Name == "data").PersistentVolumeClaim.ClaimName);
        rig.Server.SetPodReady(Namespace, "devdb-db-dave-0");
        Assert.Equal((DatabaseStatus.Running, 2), ((await reset).Status, (await reset).ImageRevision));
    }

    [Fact]
    public async Task A_database_StatefulSet_is_Parallel_with_a_grace_period_a_fast_shutdown_preStop_and_fsGroup_OnRootMismatch()
    {
        await using var rig = await StartAsync();
        await rig.Engine.NewProjectAsync(Shop());
        await rig.Engine.NewDatabaseAsync(Dave);

        var server = rig.Find<V1StatefulSet>("devdb-db-dave")!;
        var pod = server.Spec.Template.Spec;
        Assert.Equal("Parallel", server.Spec.PodManagementPolicy);
        Assert.Equal(60, pod.TerminationGracePeriodSeconds);
        Assert.Equal(["sh", "-c", "pg_ctl stop -D \"$PGDATA\" -m fast -w -t 50 || true"], pod.Containers.Single().Lifecycle.PreStop.Exec.Command);
        Assert.Equal((999L, "OnRootMismatch"), (pod.SecurityContext.FsGroup!.Value, pod.SecurityContext.FsGroupChangePolicy));
        Assert.Equal("OnRootMismatch", rig.Find<V1Job>("devdb-shop-r2-restore")?.Spec.Template.Spec.SecurityContext.FsGroupChangePolicy ?? "OnRootMismatch");
    }

    [Fact]
    public async Task A_restore_that_runs_past_its_deadline_fails_the_build_instead_of_leaving_the_project_Building()
    {
        await using var rig = await StartAsync(server => server.JobOutcomes = _ => JobOutcome.Hold,
            options => options with { RestoreDeadline = TimeSpan.FromSeconds(1) });

        var error = await Assert.ThrowsAsync<DevDbException>(() => rig.Engine.NewProjectAsync(Shop()));

        Assert.Equal(ErrorCodes.RestoreFailed, error.Code);
        Assert.Contains("ran longer than its deadline (1 s, restore.deadlineSeconds)", error.Message);
        Assert.Equal(ProjectStatus.Failed, (await rig.Engine.GetProjectAsync("shop")).Status);
        Assert.Null(rig.Find<V1Job>("devdb-shop-r1-restore"));
    }

    [Fact]
    public async Task A_restore_volume_that_stays_Pending_fails_the_build_with_what_to_fix()
    {
        // No volume is ever bound: a cluster without a default StorageClass (EKS 1.30+) and storage.storageClass empty.
        await using var rig = await StartAsync(server => server.Volumes = false,
            options => options with { StorageClass = null, RestoreVolumeBindTimeout = TimeSpan.FromSeconds(1) });

        var error = await Assert.ThrowsAsync<DevDbException>(() => rig.Engine.NewProjectAsync(Shop()));

        Assert.Equal(ErrorCodes.RestoreFailed, error.Code);
        Assert.Contains("restore volume devdb-shop-r1-restore stayed Pending", error.Message);
        Assert.Contains("set storage.storageClass", error.Message);
        Assert.Null(rig.Find<V1PersistentVolumeClaim>("devdb-shop-r1-restore"));
    }

    [Fact]
    public async Task Pull_secrets_reach_restore_and_database_pods_and_a_project_may_name_its_own_Postgres_image()
    {
        // Jobs are held until the test completes them: a build that succeeds at once deletes its Job before a poll sees it.
        await using var rig = await StartAsync(server => server.JobOutcomes = _ => JobOutcome.Hold, options => options with
        {
            ImagePullSecrets = ["regcred"], PostgresImage = "mirror.example.test/library/postgres:{0}",
        });
        await rig.Client.CustomObjects.CreateNamespacedCustomObjectAsync(new ProjectResource
        {
            Metadata = new V1ObjectMeta { Name = "gis" },
            Spec = new ProjectResourceSpec { PostgresVersion = 16, Source = "s3://dumps/gis.dump", PostgresImage = "postgis/postgis:{0}-3.4" },
        }, DevDbGroup.Name, DevDbGroup.Version, Namespace, DevDbGroup.Projects);
        await UntilAsync(() => rig.Find<V1Job>("devdb-gis-r1-restore") is not null, "gis's restore Job exists");
        var gisJob = rig.Find<V1Job>("devdb-gis-r1-restore")!.Spec.Template.Spec;
        rig.Server.CompleteJob(Namespace, "devdb-gis-r1-restore");
        await rig.Engine.BeginNewProjectAsync(Shop());
        await UntilAsync(() => rig.Find<V1Job>("devdb-shop-r1-restore") is not null, "shop's restore Job exists");
        rig.Server.CompleteJob(Namespace, "devdb-shop-r1-restore");
        await UntilAsync(async () => (await rig.Engine.GetProjectAsync("gis")).Status == ProjectStatus.Ready
            && (await rig.Engine.GetProjectAsync("shop")).Status == ProjectStatus.Ready, "both projects are ready");
        await rig.Engine.NewDatabaseAsync(new NewDatabaseRequest { Project = "gis", Name = "maps", Owner = "dave" });
        await rig.Engine.NewDatabaseAsync(Dave);

        Assert.Equal(["regcred"], gisJob.ImagePullSecrets.Select(s => s.Name));
        Assert.Equal("postgis/postgis:16-3.4", gisJob.Containers.Single(c => c.Name == "restore").Image);
        var maps = rig.Find<V1StatefulSet>("devdb-db-maps")!.Spec.Template.Spec;
        Assert.Equal(["regcred"], maps.ImagePullSecrets.Select(s => s.Name));
        Assert.All(maps.InitContainers.Concat(maps.Containers), c => Assert.Equal("postgis/postgis:16-3.4", c.Image));
        var dave = rig.Find<V1StatefulSet>("devdb-db-dave")!.Spec.Template.Spec;
        Assert.Equal("mirror.example.test/library/postgres:16", dave.Containers.Single().Image);
    }

    [Fact]
    public async Task With_KeepRestoreVolume_the_restore_volume_lives_as_long_as_its_snapshot()
    {
        await using var rig = await StartAsync(configure: options => options with { KeepRestoreVolume = true });

        await rig.Engine.NewProjectAsync(Shop());

        Assert.NotNull(rig.Find<V1PersistentVolumeClaim>("devdb-shop-r1-restore"));
        Assert.Null(rig.Find<V1Job>("devdb-shop-r1-restore"));
        await rig.Engine.UpdateProjectAsync(new UpdateProjectRequest { Name = "shop" });
        // r1 is no longer the newest and no database uses it: its snapshot goes, and only then its volume.
        await UntilAsync(() => rig.Find<VolumeSnapshot>("devdb-shop-r1") is null, "r1's snapshot is deleted");
        await UntilAsync(() => rig.Find<V1PersistentVolumeClaim>("devdb-shop-r1-restore") is null, "r1's restore volume is deleted");
        Assert.NotNull(rig.Find<V1PersistentVolumeClaim>("devdb-shop-r2-restore"));
    }

    [Theory]
    [InlineData("2Gi", 2, 448)]   // the chart's default: 2 x 448 MB within a 2 GiB limit
    [InlineData("2Gi", 8, 112)]
    [InlineData("512Mi", 4, 32)]
    [InlineData("16Gi", 2, 512)]  // capped: more helps little
    [InlineData("256Mi", 2, 16)]  // floor
    public void The_restore_servers_maintenance_work_mem_times_the_jobs_fits_in_the_memory_limit(string limit, int jobs, long expected)
    {
        var job = new Manifests(new KubernetesOptions { RestoreMemoryLimit = limit, RestoreJobs = jobs })
            .RestoreJob(new ProjectResource { Metadata = new V1ObjectMeta { Name = "shop", Uid = "u" }, Spec = new ProjectResourceSpec { PostgresVersion = 16, Source = "s3://b/k" } }, 1);

        var value = job.Spec.Template.Spec.Containers.Single().Env.Single(e => e.Name == "DEVDB_MAINTENANCE_WORK_MEM").Value;

        Assert.Equal($"{expected}MB", value);
        var limitMegabytes = new ResourceQuantity(limit).ToDecimal() / (1024 * 1024);
        Assert.True(expected * jobs <= Math.Max(16 * jobs, (limitMegabytes - 256) / 2), $"{jobs} x {value} does not fit in {limit}");
    }

    [Fact]
    public async Task A_database_on_the_shared_load_balancer_gets_the_address_the_cloud_gives_it_when_no_host_name_is_set()
    {
        await using var rig = await StartAsync(configure: options => options with
        {
            BaseDomain = null, Traefik = new TraefikOptions(), LoadBalancer = new LoadBalancerOptions { Enabled = true },
        });
        await rig.Client.CoreV1.CreateNamespacedServiceAsync(new V1Service
        {
            Metadata = new V1ObjectMeta { Name = "devdb-databases" },
            Spec = new V1ServiceSpec { Type = "LoadBalancer", Ports = [new V1ServicePort { Name = "api", Port = 443, TargetPort = "https" }] },
        }, Namespace);
        await rig.Engine.NewProjectAsync(Shop());

        var before = await rig.Engine.NewDatabaseAsync(Dave);

        Assert.Equal(("devdb-db-dave.devdb.svc", 15432), (before.Host, before.Port)); // no address yet
        rig.Server.Mutate("v1", "services", Namespace, "devdb-databases", service =>
            service["status"] = JsonNode.Parse("""{"loadBalancer":{"ingress":[{"hostname":"lb-1234.elb.example.test"}]}}"""));
        await UntilAsync(async () => (await rig.Engine.GetDatabaseAsync("dave")).Host == "lb-1234.elb.example.test", "the host is the load balancer's address");
        Assert.Equal(15432, (await rig.Engine.GetConnectionAsync("dave")).Port);
    }

    [Fact]
    public async Task A_server_that_crash_loops_fails_the_database_with_the_message_its_last_exit_left()
    {
        await using var rig = await StartAsync(server => server.PodReadiness = PodReadiness.Manual);
        await rig.Engine.NewProjectAsync(Shop());
        await rig.Engine.BeginNewDatabaseAsync(Dave);
        await UntilAsync(() => rig.Find<V1Pod>("devdb-db-dave-0") is not null, "dave's pod exists");

        // As a kubelet reports an init container it restarts: CrashLoopBackOff now, the exit and its message in lastState.
        rig.Server.Mutate("v1", "pods", Namespace, "devdb-db-dave-0", pod => pod["status"] = JsonNode.Parse("""
            {"phase":"Pending","initContainerStatuses":[{"name":"set-password","ready":false,"restartCount":2,"image":"postgres:16","imageID":"",
              "state":{"waiting":{"reason":"CrashLoopBackOff","message":"back-off 20s restarting failed container"}},
              "lastState":{"terminated":{"exitCode":1,"reason":"Error","message":"{\"code\":\"ServerStartFailed\",\"message\":\"data directory has invalid permissions\"}"}}}],
              "containerStatuses":[{"name":"postgres","ready":false,"restartCount":0,"image":"postgres:16","imageID":"","state":{"waiting":{"reason":"PodInitializing"}}}]}
            """));
        var error = await Assert.ThrowsAsync<DevDbException>(() => rig.Engine.WaitDatabaseAsync("dave"));

        Assert.Equal(ErrorCodes.ServerStartFailed, error.Code);
        Assert.Contains("container set-password exited with 1", error.Message);
        Assert.Contains("data directory has invalid permissions", error.Message);
    }
}
