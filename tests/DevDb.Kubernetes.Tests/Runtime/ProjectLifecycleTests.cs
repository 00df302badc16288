using DevDb.Core;
using DevDb.Core.Client;
using DevDb.Core.Model;
using DevDb.Core.Runtimes.Kubernetes;
using k8s;
using k8s.Models;
using KubeApiDouble;
using static DevDb.Kubernetes.Tests.Runtime.KubernetesRig;

using Xunit;

namespace DevDb.Kubernetes.Tests.Runtime;

/// <summary>The life of a project in the cluster: restore Job, snapshot, image; refresh; failures; removal. Against the API-server double.</summary>
public sealed class ProjectLifecycleTests
{
    internal static NewProjectRequest Shop(string source = "s3://dumps/shop.dump") =>
        new() { Name = "shop", Source = source, PostgresVersion = 16, PostRestoreSql = "UPDATE customers SET email = 'masked'" };

    [Fact]
    public async Task A_project_is_restored_by_a_Job_into_a_volume_that_is_snapshotted_then_only_the_snapshot_is_kept()
    {
        await using var rig = await StartAsync(server =>
        {
            server.JobOutcomes = _ => JobOutcome.Hold;
            server.SnapshotReadiness = SnapshotReadiness.Manual;
        });

        var started = await rig.Engine.BeginNewProjectAsync(Shop());
        Assert.Equal(ProjectStatus.Building, started.Status);
        await UntilAsync(() => rig.Find<V1Job>("devdb-shop-r1-restore") is not null, "the restore Job exists");
        var record = rig.Find<ProjectResource>("shop")!;

        var volume = rig.Find<V1PersistentVolumeClaim>("devdb-shop-r1-restore")!;
        Assert.Equal(["ReadWriteOnce"], volume.Spec.AccessModes);
        Assert.Equal("fast", volume.Spec.StorageClassName);
        Assert.Equal("10Gi", volume.Spec.Resources.Requests["storage"].ToString());
        AssertOwnedBy(volume.Metadata, "DevDbProject", record.Metadata.Uid);

        var job = rig.Find<V1Job>("devdb-shop-r1-restore")!;
        AssertOwnedBy(job.Metadata, "DevDbProject", record.Metadata.Uid);
        Assert.Equal("devdb", job.Metadata.Labels[KubeNames.ManagedBy]);
        Assert.Equal("shop", job.Metadata.Labels[KubeNames.Project]);
        Assert.Equal("1", job.Metadata.Labels[KubeNames.Revision]);
        Assert.Equal(0, job.Spec.BackoffLimit);
        var pod = job.Spec.Template.Spec;
        Assert.Equal("Never", pod.RestartPolicy);
        Assert.Equal("devdb-restore", pod.ServiceAccountName);
        Assert.False(pod.AutomountServiceAccountToken);
        Assert.True(pod.SecurityContext.RunAsNonRoot);
        Assert.Equal(999, pod.SecurityContext.RunAsUser);
        Assert.Equal("RuntimeDefault", pod.SecurityContext.SeccompProfile.Type);
        Assert.Equal("devdb-shop-r1-restore", pod.Volumes.Single(v => v.Name == "data").PersistentVolumeClaim.ClaimName);

        var fetch = Assert.Single(pod.InitContainers);
        Assert.Equal("devdb/api:test", fetch.Image);
        Assert.Equal(["fetch", "--source", "s3://dumps/shop.dump", "--output", "/var/lib/postgresql/data/dump"], fetch.Args);
        var restore = Assert.Single(pod.Containers);
        Assert.Equal("postgres:16", restore.Image);
        Assert.Equal(["sh", "-c"], restore.Command.Take(2));
        Assert.Contains("pg_restore", restore.Command[2]);
        var environment = restore.Env.ToDictionary(e => e.Name, e => e.Value);
        Assert.Equal("/var/lib/postgresql/data/pgdata", environment["PGDATA"]);
        Assert.Equal("app", environment["DEVDB_DATABASE_NAME"]);
        Assert.Equal("UPDATE customers SET email = 'masked'", environment["DEVDB_POST_RESTORE_SQL"]);
        foreach (var container in pod.InitContainers.Concat(pod.Containers))
        {
            Assert.False(container.SecurityContext.AllowPrivilegeEscalation);
            Assert.True(container.SecurityContext.ReadOnlyRootFilesystem);
            Assert.Equal(["ALL"], container.SecurityContext.Capabilities.Drop);
            Assert.Equal("FallbackToLogsOnError", container.TerminationMessagePolicy);
        }
        // No snapshot of a volume whose restore has not finished.
        await rig.PassesAsync(2);
        Assert.Null(rig.Find<VolumeSnapshot>("devdb-shop-r1"));

        rig.Server.CompleteJob(Namespace, "devdb-shop-r1-restore");
        await UntilAsync(() => rig.Find<VolumeSnapshot>("devdb-shop-r1") is not null, "the volume is snapshotted once the restore succeeded");
        await rig.PassesAsync(3);
        // Not an image until the snapshot is readyToUse; the restored volume is kept until then.
        Assert.Equal(ProjectStatus.Building, (await rig.Engine.GetProjectAsync("shop")).Status);
        Assert.NotNull(rig.Find<V1PersistentVolumeClaim>("devdb-shop-r1-restore"));

        rig.Server.MakeSnapshotReady(Namespace, "devdb-shop-r1");
        var ready = await rig.Engine.NewProjectAsync(Shop()); // the same request again: waits for the build under way

        Assert.Equal(ProjectStatus.Ready, ready.Status);
        var image = Assert.Single(ready.Images);
        Assert.Equal((1, ImageStatus.Ready), (image.Revision, image.Status));
        var snapshot = rig.Find<VolumeSnapshot>("devdb-shop-r1")!;
        Assert.Equal("devdb-shop-r1-restore", snapshot.Spec.Source.PersistentVolumeClaimName);
        Assert.Equal("csi-snapshots", snapshot.Spec.VolumeSnapshotClassName);
        Assert.Equal(("shop", "1"), (snapshot.Metadata.Labels[KubeNames.Project], snapshot.Metadata.Labels[KubeNames.Revision]));
        AssertOwnedBy(snapshot.Metadata, "DevDbProject", record.Metadata.Uid);
        await UntilAsync(() => rig.Find<V1Job>("devdb-shop-r1-restore") is null && rig.Find<V1PersistentVolumeClaim>("devdb-shop-r1-restore") is null,
            "the restore Job and its volume are deleted once the snapshot is ready");
        // What kubectl get devdbprojects shows.
        var status = rig.Find<ProjectResource>("shop")!.Status!;
        Assert.Equal((ProjectPhase.Ready, "devdb-shop-r1"), (status.Phase, status.Images.Single().Snapshot));
    }

    [Fact]
    public async Task An_image_is_dated_by_the_engines_and_the_reconcilers_clock()
    {
        var clock = new FixedClock(new DateTimeOffset(2031, 5, 6, 7, 8, 9, TimeSpan.Zero));
        await using var rig = await StartAsync(clock: clock);

        var project = await rig.Engine.NewProjectAsync(Shop());

        var image = project.Images.Single();
        Assert.Equal((clock.Now, TimeSpan.Zero), (image.Created, image.BuildDuration)); // the clock stood still during the build
        var imageReady = (await rig.Client.CoreV1.ListNamespacedEventAsync(Namespace)).Items.Single(e => e.Reason == "ImageReady");
        Assert.Equal(clock.Now.UtcDateTime, imageReady.LastTimestamp);
    }

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now => now;

        public override DateTimeOffset GetUtcNow() => now;
    }

    [Fact]
    public async Task A_failed_fetch_fails_the_project_with_the_code_and_words_of_the_fetch_step_and_leaves_no_object()
    {
        const string message = "{\"code\":\"SourceNotFound\",\"message\":\"There is no object 'missing.dump' in bucket 'dumps'.\",\"recommendedAction\":\"Check the key.\"}";
        await using var rig = await StartAsync(server => server.JobOutcomes = _ => JobOutcome.Fail("fetch", 1, message));

        var error = await Assert.ThrowsAsync<DevDbException>(() => rig.Engine.NewProjectAsync(Shop("s3://dumps/missing.dump")));

        Assert.Equal(ErrorCodes.SourceNotFound, error.Code);
        Assert.Contains("There is no object 'missing.dump' in bucket 'dumps'.", error.Message);
        var project = await rig.Engine.GetProjectAsync("shop");
        Assert.Equal((ProjectStatus.Failed, ErrorCodes.SourceNotFound), (project.Status, project.ErrorCode));
        Assert.Empty(project.Images);
        // What kubectl describe devdbproject shop shows.
        var events = await rig.Client.CoreV1.ListNamespacedEventAsync(Namespace, fieldSelector: "metadata.namespace=devdb");
        var failed = Assert.Single(events.Items, e => e.InvolvedObject.Name == "shop" && e.Reason == "ImageBuildFailed");
        Assert.Equal(("Warning", "DevDbProject"), (failed.Type, failed.InvolvedObject.Kind));
        Assert.StartsWith("SourceNotFound: ", failed.Message);
        await UntilAsync(() => rig.Find<V1Job>("devdb-shop-r1-restore") is null && rig.Find<V1PersistentVolumeClaim>("devdb-shop-r1-restore") is null
                               && rig.Server.FindAll("v1", "pods", Namespace).Count == 0 && rig.Find<VolumeSnapshot>("devdb-shop-r1") is null,
            "the failed build's Job, pod and volume are gone");
    }

    [Fact]
    public async Task A_restore_that_fails_without_a_code_reports_the_tail_of_its_log_as_RestoreFailed()
    {
        await using var rig = await StartAsync(server => server.JobOutcomes = _ => JobOutcome.Fail("restore", 1, "pg_restore: error: could not execute query: ERROR:  extension \"postgis\" is not available"));

        var error = await Assert.ThrowsAsync<DevDbException>(() => rig.Engine.NewProjectAsync(Shop()));

        Assert.Equal(ErrorCodes.RestoreFailed, error.Code);
        Assert.Contains("extension \"postgis\" is not available", error.Message);
        Assert.Contains("restore step exited with 1", error.Message);
    }

    [Fact]
    public async Task A_snapshot_that_fails_fails_the_build_and_leaves_nothing()
    {
        await using var rig = await StartAsync(server => server.SnapshotReadiness = SnapshotReadiness.Manual);
        await rig.Engine.BeginNewProjectAsync(Shop());
        await UntilAsync(() => rig.Find<VolumeSnapshot>("devdb-shop-r1") is not null, "the snapshot exists");

        // The snapshot controller cannot snapshot a volume that is gone (someone deleted it).
        await rig.Client.CoreV1.DeleteNamespacedPersistentVolumeClaimAsync("devdb-shop-r1-restore", Namespace);
        var error = await Assert.ThrowsAsync<DevDbException>(() => rig.Engine.NewProjectAsync(Shop()));

        Assert.Equal(ErrorCodes.RestoreFailed, error.Code);
        Assert.Contains("the snapshot of the restored volume failed", error.Message);
        Assert.Contains("devdb-shop-r1-restore", error.Message);
        await UntilAsync(() => rig.Find<VolumeSnapshot>("devdb-shop-r1") is null && rig.Find<V1PersistentVolumeClaim>("devdb-shop-r1-restore") is null
                               && rig.Find<V1Job>("devdb-shop-r1-restore") is null, "the snapshot, volume and Job are deleted");
    }

    [Fact]
    public async Task A_failed_project_is_rebuilt_from_a_new_definition_and_gets_a_new_revision()
    {
        var failFirst = true;
        await using var rig = await StartAsync(server => server.JobOutcomes = _ =>
        {
            var outcome = failFirst ? JobOutcome.Fail("fetch", 1, "{\"code\":\"SourceNotFound\",\"message\":\"gone\"}") : JobOutcome.Succeed;
            failFirst = false;
            return outcome;
        });
        await Assert.ThrowsAsync<DevDbException>(() => rig.Engine.NewProjectAsync(Shop("s3://dumps/old.dump")));

        var rebuilt = await rig.Engine.NewProjectAsync(Shop("s3://dumps/new.dump"));

        Assert.Equal(ProjectStatus.Ready, rebuilt.Status);
        Assert.Equal("s3://dumps/new.dump", rebuilt.Source);
        Assert.Null(rebuilt.Error);
        Assert.Equal(2, Assert.Single(rebuilt.Images).Revision);
    }

    [Fact]
    public async Task Refreshing_builds_the_next_image_while_databases_keep_theirs_until_reset_then_the_old_snapshot_goes()
    {
        await using var rig = await StartAsync();
        await rig.Engine.NewProjectAsync(Shop());
        await rig.Engine.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "dave", Owner = "dave" });

        var refreshed = await rig.Engine.UpdateProjectAsync(new UpdateProjectRequest { Name = "shop", Source = "s3://dumps/shop-2.dump" });

        Assert.Equal([1, 2], refreshed.Images.Select(i => i.Revision));
        Assert.Equal("s3://dumps/shop-2.dump", rig.Find<ProjectResource>("shop")!.Spec.Source);
        Assert.Equal(1, (await rig.Engine.GetDatabaseAsync("dave")).ImageRevision);
        Assert.NotNull(rig.Find<VolumeSnapshot>("devdb-shop-r1"));

        var reset = await rig.Engine.ResetDatabaseAsync("dave");

        Assert.Equal(2, reset.ImageRevision);
        await UntilAsync(() => rig.Find<VolumeSnapshot>("devdb-shop-r1") is null, "image r1 is deleted once no database uses it");
        Assert.Equal([2], (await rig.Engine.GetProjectAsync("shop")).Images.Select(i => i.Revision));
    }

    [Fact]
    public async Task A_refresh_asked_with_kubectl_after_a_failed_build_gets_a_new_revision_never_a_reused_one()
    {
        var failSecond = 0;
        await using var rig = await StartAsync(server => server.JobOutcomes = _ =>
            ++failSecond == 2 ? JobOutcome.Fail("fetch", 1, "{\"code\":\"SourceNotFound\",\"message\":\"gone\"}") : JobOutcome.Succeed);
        await rig.Engine.NewProjectAsync(Shop());
        await Assert.ThrowsAsync<DevDbException>(() => rig.Engine.UpdateProjectAsync(new UpdateProjectRequest { Name = "shop" }));
        Assert.Equal([1], (await rig.Engine.GetProjectAsync("shop")).Images.Select(i => i.Revision));

        // kubectl patch devdbproject shop --type merge -p '{"spec":{"refresh":2}}'
        await rig.Client.CustomObjects.PatchNamespacedCustomObjectAsync(new V1Patch(new { spec = new { refresh = 2 } }, V1Patch.PatchType.MergePatch),
            DevDbGroup.Name, DevDbGroup.Version, Namespace, DevDbGroup.Projects, "shop");

        await UntilAsync(async () => (await rig.Engine.GetProjectAsync("shop")).Images.Any(i => i is { Revision: 3, Status: ImageStatus.Ready }),
            "the reconciler builds image r3 (r2 was the failed build)");
        // No r2 ever again; r1 goes too once r3 is ready, since no database uses it.
        await UntilAsync(async () => (await rig.Engine.GetProjectAsync("shop")).Images.Select(i => i.Revision).SequenceEqual([3]), "only r3 is kept");
    }

    [Fact]
    public async Task Removing_a_project_refuses_while_it_has_databases_and_with_force_removes_them_and_its_snapshots()
    {
        await using var rig = await StartAsync();
        await rig.Engine.NewProjectAsync(Shop());
        await rig.Engine.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "dave", Owner = "dave" });

        var refused = await Assert.ThrowsAsync<DevDbException>(() => rig.Engine.RemoveProjectAsync("shop"));
        Assert.Equal(ErrorCodes.ProjectHasDatabases, refused.Code);
        Assert.NotNull(rig.Find<ProjectResource>("shop"));

        await rig.Engine.RemoveProjectAsync("shop", force: true);

        Assert.Empty(await rig.Engine.GetProjectsAsync());
        await UntilAsync(() => rig.Find<VolumeSnapshot>("devdb-shop-r1") is null && rig.Find<V1StatefulSet>("devdb-db-dave") is null
                               && rig.Server.FindAll("v1", "persistentvolumeclaims", Namespace).Count == 0,
            "the garbage collector removes the project's snapshot and the database's objects");
    }

    [Fact]
    public async Task Bad_project_requests_are_refused_before_anything_is_recorded()
    {
        await using var rig = await StartAsync();

        Assert.Equal(ErrorCodes.SourceInvalid, (await Assert.ThrowsAsync<DevDbException>(() => rig.Engine.NewProjectAsync(Shop("/home/dave/shop.dump")))).Code);
        Assert.Equal(ErrorCodes.NameInvalid, (await Assert.ThrowsAsync<DevDbException>(() => rig.Engine.NewProjectAsync(Shop() with { Name = "Shop_1" }))).Code);
        Assert.Equal(ErrorCodes.PostgresVersionUnsupported, (await Assert.ThrowsAsync<DevDbException>(() => rig.Engine.NewProjectAsync(Shop() with { PostgresVersion = 9 }))).Code);
        Assert.Empty(rig.Server.FindAll(DevDbGroup.ApiVersion, DevDbGroup.Projects, Namespace));

        await rig.Engine.NewProjectAsync(Shop());
        var duplicate = await Assert.ThrowsAsync<DevDbException>(() => rig.Engine.NewProjectAsync(Shop("s3://dumps/other.dump")));
        Assert.Equal(ErrorCodes.ProjectExists, duplicate.Code);
        Assert.Equal("s3://dumps/shop.dump", rig.Find<ProjectResource>("shop")!.Spec.Source);
        Assert.Equal(ErrorCodes.ProjectNotFound, (await Assert.ThrowsAsync<DevDbException>(() => rig.Engine.GetProjectAsync("nope"))).Code);
    }

    internal static void AssertOwnedBy(V1ObjectMeta metadata, string kind, string uid)
    {
        var owner = Assert.Single(metadata.OwnerReferences);
        Assert.Equal((kind, uid, true), (owner.Kind, owner.Uid, owner.Controller ?? false));
    }
}
