using DevDb.Core;
using DevDb.Core.Client;
using DevDb.Core.Model;
using DevDb.Core.Runtimes.Kubernetes;
using k8s.Models;
using KubeApiDouble;
using static DevDb.Kubernetes.Tests.Runtime.KubernetesRig;
using static DevDb.Kubernetes.Tests.Runtime.ProjectLifecycleTests;
using static DevDb.Kubernetes.Tests.Runtime.DatabaseLifecycleTests;

using Xunit;

namespace DevDb.Kubernetes.Tests.Runtime;

/// <summary>
/// Checkpoints, restores and branches as the cluster sees them: which VolumeSnapshot is taken of which volume, which
/// PVC is cloned from which snapshot, who owns each snapshot and when it goes. Against the API-server double (its
/// snapshot controller stands in for a CSI driver); the rows themselves are checked by the conformance suite on the
/// container rig.
/// </summary>
public sealed class DataStateTests
{
    private static async Task<KubernetesRig> RigWithDaveAsync(Action<KubeApiServerOptions>? server = null)
    {
        var rig = await StartAsync(server);
        await rig.Engine.NewProjectAsync(Shop());
        await rig.Engine.NewDatabaseAsync(Dave);
        return rig;
    }

    private static CheckpointState StateOf(KubernetesRig rig, string database, string checkpoint) =>
        rig.Find<DatabaseResource>(database)!.Status!.Checkpoints!.Single(c => c.Name == checkpoint);

    private static IReadOnlyList<string> Owners(VolumeSnapshot snapshot) => (snapshot.Metadata.OwnerReferences ?? []).Select(o => o.Name).Order().ToList();

    [Fact]
    public async Task A_checkpoint_is_a_snapshot_of_the_current_volume_and_a_restore_moves_the_server_to_a_volume_cloned_from_it()
    {
        await using var rig = await RigWithDaveAsync();
        var password = (await rig.Engine.GetConnectionAsync("dave")).Password;

        var checkpoint = await rig.Engine.CheckpointDatabaseAsync("dave", "fixtures");

        Assert.Equal((CheckpointStatus.Ready, 1, (double?)null), (checkpoint.Status, checkpoint.ImageRevision, checkpoint.InterruptionSeconds));
        var snapshot = rig.Find<VolumeSnapshot>(StateOf(rig, "dave", "fixtures").Snapshot)!;
        Assert.StartsWith("devdb-db-dave.fixtures.", snapshot.Metadata.Name);
        Assert.Equal(("devdb-db-dave-0", "csi-snapshots"), (snapshot.Spec.Source.PersistentVolumeClaimName, snapshot.Spec.VolumeSnapshotClassName));
        Assert.Equal(("checkpoint", "fixtures", "dave"), (snapshot.Metadata.Labels[KubeNames.Component], snapshot.Metadata.Labels[KubeNames.Checkpoint], snapshot.Metadata.Labels[KubeNames.Database]));
        Assert.Equal(["dave"], Owners(snapshot));
        Assert.Equal(DatabaseStatus.Running, (await rig.Engine.GetDatabaseAsync("dave")).Status);

        var begun = await rig.Engine.BeginRestoreDatabaseAsync("dave", "fixtures");
        Assert.Equal(DatabaseStatus.Restoring, begun.Status);
        var restored = await rig.Engine.WaitDatabaseAsync("dave");

        Assert.Equal((DatabaseStatus.Running, 1), (restored.Status, restored.ImageRevision));
        Assert.Equal(snapshot.Metadata.Name, rig.Find<V1PersistentVolumeClaim>("devdb-db-dave-1")!.Spec.DataSource.Name);
        Assert.Equal("devdb-db-dave-1", rig.Find<V1StatefulSet>("devdb-db-dave")!.Spec.Template.Spec.Volumes.Single(v => v.Name == "data").PersistentVolumeClaim.ClaimName);
        await UntilAsync(() => rig.Find<V1PersistentVolumeClaim>("devdb-db-dave-0") is null, "the volume before the restore is deleted");
        Assert.Equal(password, (await rig.Engine.GetConnectionAsync("dave")).Password);
        Assert.Equal(["Created", "Checkpointed", "Restored"], restored.History.Select(h => h.Action.ToString()));

        // Removed, its snapshot goes; the name can be taken again, as a new snapshot.
        await rig.Engine.RemoveCheckpointAsync("dave", "fixtures");
        await UntilAsync(() => rig.Find<VolumeSnapshot>(snapshot.Metadata.Name) is null, "the removed checkpoint's snapshot is deleted");
        var again = await rig.Engine.CheckpointDatabaseAsync("dave", "fixtures");
        Assert.Equal(CheckpointStatus.Ready, again.Status);
        Assert.NotEqual(snapshot.Metadata.Name, StateOf(rig, "dave", "fixtures").Snapshot);
        Assert.Equal("devdb-db-dave-1", rig.Find<VolumeSnapshot>(StateOf(rig, "dave", "fixtures").Snapshot)!.Spec.Source.PersistentVolumeClaimName);
    }

    [Fact]
    public async Task A_checkpoint_whose_snapshot_the_driver_fails_is_CheckpointFailed_and_leaves_no_snapshot_and_no_checkpoint()
    {
        await using var rig = await StartAsync(server => server.SnapshotReadiness = SnapshotReadiness.Manual);
        await rig.Engine.BeginNewProjectAsync(Shop());
        await UntilAsync(() => rig.Find<VolumeSnapshot>("devdb-shop-r1") is not null, "the image's snapshot exists");
        rig.Server.MakeSnapshotReady(Namespace, "devdb-shop-r1");
        await rig.Engine.WaitProjectAsync("shop");
        await rig.Engine.NewDatabaseAsync(Dave);
        var taking = rig.Engine.CheckpointDatabaseAsync("dave", "doomed");
        await UntilAsync(() => rig.Find<DatabaseResource>("dave")!.Status?.Checkpoints?.Any(c => c.Name == "doomed") == true
                               && rig.Find<VolumeSnapshot>(StateOf(rig, "dave", "doomed").Snapshot) is not null, "the checkpoint's snapshot exists");
        Assert.Equal(CheckpointStatus.Creating, Assert.Single(await rig.Engine.GetCheckpointsAsync("dave")).Status);
        var snapshotName = StateOf(rig, "dave", "doomed").Snapshot;

        rig.Server.FailSnapshot(Namespace, snapshotName, "rpc error: code = ResourceExhausted desc = snapshot quota exceeded");

        var failed = await Assert.ThrowsAsync<DevDbException>(() => taking);
        Assert.Equal(ErrorCodes.CheckpointFailed, failed.Code);
        Assert.Contains("snapshot quota exceeded", failed.Message);
        Assert.Empty(await rig.Engine.GetCheckpointsAsync("dave"));
        await UntilAsync(() => rig.Find<VolumeSnapshot>(snapshotName) is null, "the failed snapshot is deleted");
        var database = await rig.Engine.GetDatabaseAsync("dave");
        Assert.Equal((DatabaseStatus.Running, HistoryOutcome.Failed, ErrorCodes.CheckpointFailed),
            (database.Status, database.History[^1].Outcome, database.History[^1].ErrorCode));
    }

    [Fact]
    public async Task A_branch_of_a_checkpoint_co_owns_its_snapshot_which_outlives_the_checkpoint_and_the_parent_and_goes_with_the_branch()
    {
        await using var rig = await RigWithDaveAsync();
        await rig.Engine.CheckpointDatabaseAsync("dave", "fixtures");
        var snapshotName = StateOf(rig, "dave", "fixtures").Snapshot;

        var erin = await rig.Engine.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "erin", Owner = "erin", FromDatabase = "dave", Checkpoint = "fixtures" });

        Assert.Equal(("dave", "fixtures", DatabaseStatus.Running), (erin.Parent, erin.ParentCheckpoint, erin.Status));
        Assert.Equal(snapshotName, rig.Find<V1PersistentVolumeClaim>("devdb-db-erin-0")!.Spec.DataSource.Name);
        Assert.Equal(["dave", "erin"], Owners(rig.Find<VolumeSnapshot>(snapshotName)!));
        Assert.NotEqual((await rig.Engine.GetConnectionAsync("dave")).Password, (await rig.Engine.GetConnectionAsync("erin")).Password);

        // The parent lets go of its checkpoint, then goes itself: the snapshot stays for the branch.
        await rig.Engine.RemoveCheckpointAsync("dave", "fixtures");
        await UntilAsync(() => rig.Find<VolumeSnapshot>(snapshotName) is { } s && Owners(s).SequenceEqual(["erin"]), "only the branch owns the snapshot");
        await rig.Engine.RemoveDatabaseAsync("dave");
        await UntilAsync(() => rig.Find<V1StatefulSet>("devdb-db-dave") is null, "the parent's objects are deleted");
        Assert.NotNull(rig.Find<VolumeSnapshot>(snapshotName));

        // A reset of the branch still goes back to where it branched.
        var reset = await rig.Engine.ResetDatabaseAsync("erin");
        Assert.Equal((DatabaseStatus.Running, "dave"), (reset.Status, reset.Parent));
        Assert.Equal(snapshotName, rig.Find<V1PersistentVolumeClaim>("devdb-db-erin-1")!.Spec.DataSource.Name);

        await rig.Engine.RemoveDatabaseAsync("erin");
        await UntilAsync(() => rig.Find<VolumeSnapshot>(snapshotName) is null, "the snapshot goes with its last owner");
    }

    [Fact]
    public async Task A_branch_of_the_current_data_has_its_own_origin_snapshot_which_a_reset_to_the_image_deletes()
    {
        await using var rig = await RigWithDaveAsync();

        var erin = await rig.Engine.NewDatabaseAsync(new NewDatabaseRequest { Project = "", Name = "erin", Owner = "erin", FromDatabase = "dave" });

        Assert.Equal(("shop", "dave", (string?)null), (erin.Project, erin.Parent, erin.ParentCheckpoint));
        var record = rig.Find<DatabaseResource>("erin")!;
        var origin = rig.Find<VolumeSnapshot>(record.Status!.OriginSnapshot!)!;
        Assert.Equal((KubeNames.OriginSnapshot("erin", record.Metadata.Uid), "devdb-db-dave-0", "origin"),
            (origin.Metadata.Name, origin.Spec.Source.PersistentVolumeClaimName, origin.Metadata.Labels[KubeNames.Component]));
        Assert.Equal(["erin"], Owners(origin));
        Assert.Equal(origin.Metadata.Name, rig.Find<V1PersistentVolumeClaim>("devdb-db-erin-0")!.Spec.DataSource.Name);
        // The parent kept running: a snapshot needs no stop.
        Assert.Equal(DatabaseStatus.Running, (await rig.Engine.GetDatabaseAsync("dave")).Status);

        var plain = await rig.Engine.ResetDatabaseAsync("erin", toImage: true);

        Assert.Equal(((string?)null, DatabaseStatus.Running), (plain.Parent, plain.Status));
        Assert.Equal("devdb-shop-r1", rig.Find<V1PersistentVolumeClaim>("devdb-db-erin-1")!.Spec.DataSource.Name);
        await UntilAsync(() => rig.Find<VolumeSnapshot>(origin.Metadata.Name) is null, "the origin goes with the branch's past");
        Assert.Null(rig.Find<DatabaseResource>("erin")!.Status!.OriginSnapshot);
    }

    [Fact]
    public async Task Checkpoints_hold_their_image_so_a_refresh_does_not_prune_what_a_restore_needs()
    {
        await using var rig = await RigWithDaveAsync();
        await rig.Engine.CheckpointDatabaseAsync("dave", "on-r1");
        await rig.Engine.UpdateProjectAsync(new UpdateProjectRequest { Name = "shop" });
        await rig.Engine.ResetDatabaseAsync("dave");
        Assert.Equal(2, (await rig.Engine.GetDatabaseAsync("dave")).ImageRevision);

        // The rig keeps the newest image only, but r1 stays: dave's checkpoint descends from it.
        await rig.PassesAsync(2);
        Assert.Equal([1, 2], (await rig.Engine.GetProjectAsync("shop")).Images.Select(i => i.Revision));
        var restored = await rig.Engine.RestoreDatabaseAsync("dave", "on-r1");
        Assert.Equal(1, restored.ImageRevision);

        await rig.Engine.RemoveCheckpointAsync("dave", "on-r1");
        await rig.Engine.ResetDatabaseAsync("dave");
        await UntilAsync(async () => (await rig.Engine.GetProjectAsync("shop")).Images.Select(i => i.Revision).SequenceEqual([2]), "r1 is pruned once nothing holds it");
    }

    [Fact]
    public async Task A_reset_or_restore_whose_record_another_writer_changed_after_it_was_read_reads_it_again_and_goes_through()
    {
        // The reconciler writes a record's status often: a request's spec patch on the resourceVersion it read then
        // answers 409. The double lets one write land right before each of the engine's spec patches of dave.
        KubernetesRig? running = null;
        var interleave = 0;
        await using var rig = await RigWithDaveAsync(server => server.BeforeEachRequest = request =>
        {
            if (request is { Verb: "patch", Resource: DevDbGroup.Databases, Subresource: null, Name: "dave" } && Interlocked.Exchange(ref interleave, 0) == 1)
                running!.Server.Mutate(DevDbGroup.ApiVersion, DevDbGroup.Databases, Namespace, "dave",
                    record => record["metadata"]!["annotations"] = new System.Text.Json.Nodes.JsonObject { ["test/written-meanwhile"] = "yes" });
        });
        running = rig;
        await rig.Engine.CheckpointDatabaseAsync("dave", "fixtures");

        Volatile.Write(ref interleave, 1);
        await rig.Engine.BeginResetDatabaseAsync("dave", toImage: false);
        Assert.Equal(0, Volatile.Read(ref interleave));
        Assert.Equal(DatabaseStatus.Running, (await rig.Engine.WaitDatabaseAsync("dave")).Status);

        Volatile.Write(ref interleave, 1);
        await rig.Engine.BeginRestoreDatabaseAsync("dave", "fixtures");
        Assert.Equal(0, Volatile.Read(ref interleave));
        var restored = await rig.Engine.WaitDatabaseAsync("dave");

        Assert.Equal((DatabaseStatus.Running, 2), (restored.Status, rig.Find<DatabaseResource>("dave")!.Spec.Reset));
        Assert.Equal(["Created", "Checkpointed", "Reset", "Restored"], restored.History.Select(h => h.Action.ToString()));
    }
}
