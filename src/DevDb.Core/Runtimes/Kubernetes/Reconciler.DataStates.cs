using k8s.Models;
using Microsoft.Extensions.Logging;

namespace DevDb.Core.Runtimes.Kubernetes;

/// <summary>
/// The reconciler's data states: checkpoints are VolumeSnapshots of a database's current volume; a restore (or the
/// reset of a branch) moves the server to a volume cloned from a snapshot other than the image's; a branch's first
/// volume is cloned from its origin, a snapshot of its parent's volume (or the parent's checkpoint it was made from).
/// A snapshot a branch starts from has the branch among its owners, so it outlives the parent's checkpoint and the
/// parent itself: Kubernetes' garbage collector deletes it only when its last owner is gone.
/// </summary>
public sealed partial class Reconciler
{
    /// <summary>Takes the checkpoints the spec asks for (a snapshot of the current volume each) and records when each is ready or failed.</summary>
    private async Task TakeCheckpointsAsync(DatabaseResource database, ClusterView view, CancellationToken cancellationToken)
    {
        var status = database.Status!;
        foreach (var request in database.Spec.Checkpoints ?? [])
        {
            var state = status.Checkpoints?.FirstOrDefault(c => c.Id == request.Id);
            if (state is null)
            {
                var snapshotName = KubeNames.CheckpointSnapshot(database.Name(), request.Name, request.Id);
                await CreateIfMissingAsync(() => _snapshots.CreateAsync(_manifests.DatabaseSnapshot(database, snapshotName, status.Volume!, request.Name), cancellationToken));
                (status.Checkpoints ??= []).Add(new CheckpointState { Name = request.Name, Id = request.Id, Snapshot = snapshotName, ImageRevision = status.ImageRevision ?? 0 });
                continue;
            }
            if (state.Ready || state.Error is not null) continue;
            var snapshot = view.Snapshots.GetValueOrDefault(state.Snapshot);
            if (snapshot?.Status?.ReadyToUse == true)
            {
                state.Ready = true;
                _log.LogInformation("Checkpoint {Checkpoint} of database {Database} is ready (snapshot {Snapshot})", request.Name, database.Name(), state.Snapshot);
            }
            // Made by an earlier pass (this pass's view was read before it), so a missing one was deleted by hand.
            else if ((snapshot is null ? "was deleted before it was ready" : snapshot.Status?.Error?.Message is { } message ? $"failed: {message}" : null) is { } error)
            {
                state.Error = $"its VolumeSnapshot {state.Snapshot} {error}";
                await RecordEventAsync(database, "Warning", "CheckpointFailed", $"Checkpoint {request.Name}: {state.Error}", cancellationToken);
            }
        }
    }

    /// <summary>
    /// Checkpoints no longer asked for lose their snapshot: it is deleted, or only left by this database where a branch
    /// still starts from it. Kept meanwhile: the snapshot of a branch being made from it, and the one the current volume
    /// is being cloned from (a PVC needs its source until the volume is provisioned; it is once the server ran on it).
    /// </summary>
    private async Task DropRemovedCheckpointsAsync(DatabaseResource database, IReadOnlyList<DatabaseResource> all, ClusterView view, CancellationToken cancellationToken)
    {
        var status = database.Status!;
        var asked = (database.Spec.Checkpoints ?? []).Select(c => c.Id).ToHashSet();
        foreach (var removed in (status.Checkpoints ?? []).Where(c => !asked.Contains(c.Id)).ToList())
        {
            var branchPending = all.Any(d => d.Spec.Parent == database.Name() && d.Spec.ParentCheckpoint == removed.Name && d.Status?.OriginSnapshot is null
                && d.Status?.Phase != DatabasePhase.Failed);
            var sourcePending = status.VolumeSnapshot == removed.Snapshot && status.Phase != DatabasePhase.Running;
            if (branchPending || sourcePending) continue;
            await ReleaseSnapshotAsync(view.Snapshots.GetValueOrDefault(removed.Snapshot), database, cancellationToken);
            status.Checkpoints!.Remove(removed);
        }
    }

    /// <summary>A database lets go of a snapshot: it is deleted when no other record owns it, else only this owner is taken off it.</summary>
    private async Task ReleaseSnapshotAsync(VolumeSnapshot? snapshot, DatabaseResource owner, CancellationToken cancellationToken)
    {
        if (snapshot is null) return;
        var others = (snapshot.Metadata.OwnerReferences ?? []).Where(o => o.Uid != owner.Metadata.Uid).ToList();
        if (others.Count == 0)
        {
            await DeleteIfPresentAsync(() => _snapshots.DeleteAsync(snapshot.Metadata.Name, cancellationToken));
            return;
        }
        if (others.Count == snapshot.Metadata.OwnerReferences!.Count) return;
        await _snapshots.PatchAsync(snapshot.Metadata.Name, new
        {
            metadata = new { resourceVersion = snapshot.Metadata.ResourceVersion, ownerReferences = others },
        }, cancellationToken);
    }

    /// <summary>
    /// A new branch's origin, before its first volume: the parent's checkpoint it names (the branch becomes one of its
    /// owners), or a snapshot of the parent's current volume owned by the branch. False while that snapshot is not ready.
    /// </summary>
    private async Task<bool> AssignOriginAsync(DatabaseResource database, IReadOnlyList<DatabaseResource> all, ClusterView view, CancellationToken cancellationToken)
    {
        var status = database.Status!;
        var name = database.Name();
        var parent = all.FirstOrDefault(d => d.Name() == database.Spec.Parent);
        if (database.Spec.ParentCheckpoint is { } checkpoint)
        {
            var request = parent?.Spec.Checkpoints?.FirstOrDefault(c => c.Name == checkpoint);
            var state = request is null ? null : parent!.Status?.Checkpoints?.FirstOrDefault(c => c.Id == request.Id && c.Ready);
            var snapshot = state is null ? null : view.Snapshots.GetValueOrDefault(state.Snapshot);
            if (snapshot is null)
            {
                Fail(status, ErrorCodes.DatabaseCreateFailed, $"Branch '{name}' cannot be made: checkpoint '{checkpoint}' of database '{database.Spec.Parent}' is gone.");
                return false;
            }
            if (snapshot.Metadata.OwnerReferences?.Any(o => o.Uid == database.Metadata.Uid) != true)
                await _snapshots.PatchAsync(snapshot.Metadata.Name, new
                {
                    metadata = new
                    {
                        resourceVersion = snapshot.Metadata.ResourceVersion,
                        ownerReferences = (snapshot.Metadata.OwnerReferences ?? []).Append(new V1OwnerReference
                        {
                            ApiVersion = database.ApiVersion, Kind = database.Kind, Name = name, Uid = database.Metadata.Uid, BlockOwnerDeletion = true,
                        }).ToList(),
                    },
                }, cancellationToken);
            (status.OriginSnapshot, status.OriginRevision) = (state!.Snapshot, state.ImageRevision);
            return true;
        }

        var originName = KubeNames.OriginSnapshot(name, database.Metadata.Uid);
        var origin = view.Snapshots.GetValueOrDefault(originName);
        if (origin is null)
        {
            if (parent?.Status?.Volume is not { } parentVolume || parent.Status.ImageRevision is not { } parentRevision || parent.Status.Phase == DatabasePhase.Failed)
            {
                Fail(status, ErrorCodes.DatabaseCreateFailed, $"Branch '{name}' cannot be made: its parent '{database.Spec.Parent}' is gone or failed before its data was copied.");
                return false;
            }
            var made = _manifests.DatabaseSnapshot(database, originName, parentVolume, checkpoint: null);
            made.Metadata.Labels[KubeNames.Revision] = parentRevision.ToString(System.Globalization.CultureInfo.InvariantCulture);
            await CreateIfMissingAsync(() => _snapshots.CreateAsync(made, cancellationToken));
            return false;
        }
        if (origin.Status?.Error?.Message is { } error)
        {
            Fail(status, ErrorCodes.DatabaseCreateFailed, $"Branch '{name}' cannot be made: the snapshot of its parent's volume ({originName}) failed: {error}");
            return false;
        }
        if (origin.Status?.ReadyToUse != true) return false;
        status.OriginSnapshot = originName;
        status.OriginRevision = int.Parse(Label(origin.Metadata, KubeNames.Revision) ?? "0", System.Globalization.CultureInfo.InvariantCulture);
        return true;
    }

    /// <summary>
    /// What a reset asks the next volume to be cloned from: the checkpoint it restores, a branch's origin, or the project's
    /// newest image (then a branch is a branch no more: it lets go of its origin). False when there is nothing to clone
    /// (the request stays pending; <paramref name="refusal"/> says why when it never can be met).
    /// </summary>
    private async Task<(bool Ready, string? Refusal)> ChooseResetSourceAsync(DatabaseResource database, ProjectResource project, ClusterView view, CancellationToken cancellationToken)
    {
        var status = database.Status!;
        if (database.Spec.RestoreCheckpoint is { } checkpoint)
        {
            var state = status.Checkpoints?.FirstOrDefault(c => c.Name == checkpoint && c.Ready && database.Spec.Checkpoints?.Any(r => r.Id == c.Id) == true);
            if (state is null) return (false, $"Database '{database.Name()}' has no checkpoint named '{checkpoint}' to restore any more.");
            (status.VolumeSnapshot, status.ImageRevision) = (state.Snapshot, state.ImageRevision);
            return (true, null);
        }
        if (status.OriginSnapshot is { } origin && !database.Spec.ResetToImage)
        {
            (status.VolumeSnapshot, status.ImageRevision) = (origin, status.OriginRevision);
            return (true, null);
        }
        if (project.Status?.Images.Where(i => i.Status == ImagePhase.Ready).MaxBy(i => i.Revision) is not { } newest) return (false, null);
        (status.VolumeSnapshot, status.ImageRevision) = (newest.Snapshot, newest.Revision);
        if (status.OriginSnapshot is { } left)
        {
            await ReleaseSnapshotAsync(view.Snapshots.GetValueOrDefault(left), database, cancellationToken);
            (status.OriginSnapshot, status.OriginRevision) = (null, null);
        }
        return (true, null);
    }
}
