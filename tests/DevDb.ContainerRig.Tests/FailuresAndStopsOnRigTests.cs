using System.Diagnostics;
using System.Text.Json.Nodes;
using DevDb.Core;
using DevDb.Core.Client;
using DevDb.Core.Model;
using DevDb.Core.Runtimes.Kubernetes;
using k8s;
using k8s.Models;
using Xunit;
using static DevDb.Testing.RigSql;

namespace DevDb.ContainerRig.Tests;

// Inside this namespace the bare name would mean the namespace DevDb.ContainerRig.
using ContainerRig = DevDb.Testing.ContainerRig;

/// <summary>What real containers report when a build fails, and how a database pod stops, on the container rig.</summary>
[Collection(RigCollection.Name)]
public sealed class FailuresAndStopsOnRigTests(S3rverFixture s3)
{
    [Fact]
    public async Task A_truncated_dump_fails_the_build_with_DumpCorrupt_from_the_restore_containers_termination_message()
    {
        using var folder = new TempFolder("wt-k8s-dumps");
        var bytes = await File.ReadAllBytesAsync(RepoPaths.SampleDump);
        await File.WriteAllBytesAsync(folder.Combine("cut.dump"), bytes[..(bytes.Length / 2)]);
        await s3.CreateBucketAsync("rig-broken");
        await s3.UploadAsync("rig-broken", "cut.dump", folder.Combine("cut.dump"));
        await using var rig = await ContainerRig.StartAsync(s3);

        var error = await Assert.ThrowsAsync<DevDbException>(() =>
            rig.Engine.NewProjectAsync(new NewProjectRequest { Name = "cut", Source = "s3://rig-broken/cut.dump", PostgresVersion = 15 }));

        Assert.Equal(ErrorCodes.DumpCorrupt, error.Code);
        Assert.Contains("The dump is corrupt or truncated", error.Message);
        Assert.Contains(rig.Kubelet.Events, e => e.Container == "restore" && e.ExitCode == 1);
        // A failed build leaves nothing: no Job, no volume, no container.
        await rig.UntilAsync(async () => (await rig.Docker.ListAsync("devdb.rig.pod")).Count == 0
            && rig.Server.FindAll("v1", "persistentvolumeclaims", ContainerRig.Namespace).Count == 0, "the failed build's objects are gone");
    }

    [Fact]
    public async Task Failing_post_restore_SQL_fails_the_build_with_PostRestoreSqlFailed_and_the_servers_words()
    {
        await using var rig = await ContainerRig.StartAsync();
        await using var files = new HttpFileServer(Path.GetDirectoryName(RepoPaths.SampleDump)!);

        var error = await Assert.ThrowsAsync<DevDbException>(() => rig.Engine.NewProjectAsync(new NewProjectRequest
        {
            Name = "shop", Source = files.UrlFor("shop.dump"), PostgresVersion = 15, PostRestoreSql = "UPDATE no_such_table SET x = 1",
        }));

        Assert.Equal(ErrorCodes.PostRestoreSqlFailed, error.Code);
        Assert.Contains("relation \"no_such_table\" does not exist", error.Message);
    }

    [Fact]
    public async Task Stopping_a_database_with_an_open_session_is_a_fast_clean_shutdown_even_with_an_image_whose_stop_signal_is_SIGTERM()
    {
        await using var rig = await ContainerRig.StartAsync();
        await using var files = new HttpFileServer(Path.GetDirectoryName(RepoPaths.SampleDump)!);
        // A project with its own image (spec.postgresImage): the stand-in rebuilt with STOPSIGNAL SIGTERM, which
        // asks Postgres for a smart shutdown (it waits for every session), as many self-built images do.
        await rig.Client.CustomObjects.CreateNamespacedCustomObjectAsync(new ProjectResource
        {
            Metadata = new V1ObjectMeta { Name = "shop" },
            Spec = new ProjectResourceSpec { PostgresVersion = 15, Source = files.UrlFor("shop.dump"), PostgresImage = "devdb-rig/postgres-sigterm:{0}" },
        }, DevDbGroup.Name, DevDbGroup.Version, ContainerRig.Namespace, DevDbGroup.Projects);
        await rig.UntilAsync(async () => (await rig.Engine.GetProjectAsync("shop")).Status == ProjectStatus.Ready, "the project is ready");
        await rig.Engine.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "frank", Owner = "frank" });
        var container = await RunningContainerAsync(rig, "postgres");
        // The pod's security context, applied by the rig's kubelet to the real container.
        Assert.Equal("devdb-rig/postgres-sigterm:15", container["Config"]!["Image"]!.GetValue<string>());
        Assert.Equal("999:999", container["Config"]!["User"]!.GetValue<string>());
        Assert.True(container["HostConfig"]!["ReadonlyRootfs"]!.GetValue<bool>());
        Assert.Equal(["ALL"], container["HostConfig"]!["CapDrop"]!.AsArray().Select(c => c!.GetValue<string>()));
        Assert.Contains("no-new-privileges", container["HostConfig"]!["SecurityOpt"]!.AsArray().Select(c => c!.GetValue<string>()));
        Assert.Contains("999", container["HostConfig"]!["GroupAdd"]!.AsArray().Select(c => c!.GetValue<string>()));
        var password = (await rig.Engine.GetConnectionAsync("frank")).Password;
        await using var session = await OpenAsync(rig.DatabaseEndpoint("frank"), "frank", password);
        Assert.Equal("1", await ScalarAsync(session, "SELECT 1"));
        var volume = rig.VolumeFolder("devdb-db-frank-0");

        var clock = Stopwatch.StartNew();
        await rig.Engine.StopDatabaseAsync("frank");
        await rig.UntilAsync(() => rig.Server.Find("v1", "pods", ContainerRig.Namespace, "devdb-db-frank-0") is null, "the pod is gone");
        clock.Stop();

        // preStop's fast shutdown ends the session at once: no wait for the grace period, no SIGKILL, no crash recovery next time.
        var stop = Assert.Single(rig.Kubelet.Events, e => e.Pod == "devdb-db-frank-0" && e.Container == "postgres" && e.StopTook is not null);
        Assert.True(stop.ExitCode == 0, $"postgres exited {stop.ExitCode} on stop (137: killed at the end of the grace period)");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"the stop took {clock.Elapsed.TotalSeconds:0.0} s");
        Assert.Equal("shut down", await DatabaseOnRigTests.ClusterStateAsync(Path.Combine(volume, "pgdata")));
    }

    private static async Task<JsonObject> RunningContainerAsync(ContainerRig rig, string name)
    {
        foreach (var id in await rig.Docker.ListAsync($"devdb.rig.container={name}"))
            if (await rig.Docker.InspectAsync(id) is { } container && container["State"]!["Running"]!.GetValue<bool>()) return container;
        throw new InvalidOperationException($"no running {name} container");
    }
}
