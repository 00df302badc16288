using System.Net;
using System.Text.Json.Nodes;
using DevDb.Core.Client;
using DevDb.Core.Model;
using DevDb.Core.Rules;
using k8s.Autorest;

namespace DevDb.Core.Runtimes.Kubernetes;

/// <summary>
/// Data states on Kubernetes, as requests in the database's spec that the reconciler converges: a checkpoint is an
/// entry of spec.checkpoints (the reconciler takes a VolumeSnapshot of the current volume); a restore is a reset
/// (spec.reset + 1) naming the checkpoint (spec.restoreCheckpoint), so the server moves to a volume cloned from its
/// snapshot exactly as a reset moves it to one cloned from the image's; a branch is a new record naming its parent
/// (spec.parent), whose first volume the reconciler clones from a snapshot of the parent. Rules: <see cref="CheckpointRules"/>.
/// </summary>
public sealed partial class KubernetesEngine
{
    public Task<Database> ResetDatabaseAsync(string name, IProgress<DevDbProgress>? progress = null, CancellationToken cancellationToken = default) =>
        ResetDatabaseAsync(name, toImage: false, progress, cancellationToken);

    public Task<Database> BeginResetDatabaseAsync(string name, CancellationToken cancellationToken = default) =>
        BeginResetDatabaseAsync(name, toImage: false, cancellationToken);

    public async Task<Database> ResetDatabaseAsync(string name, bool toImage, IProgress<DevDbProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        await BeginResetDatabaseAsync(name, toImage, cancellationToken);
        return await WaitDatabaseAsync(name, progress, cancellationToken);
    }

    /// <summary>A reset goes to the newest image; a branch's to the data it was branched from, unless <paramref name="toImage"/> (then it is a branch no more).</summary>
    public async Task<Database> BeginResetDatabaseAsync(string name, bool toImage, CancellationToken cancellationToken = default)
    {
        var detail = "";
        var patched = await PatchSpecAsync(name, async database =>
        {
            await RefusedAsync(name, HistoryAction.Reset, () => LifetimeRules.CheckResettable(ToDatabase(database)), cancellationToken);
            var toOrigin = database.Spec.Parent is not null && !toImage;
            detail = toOrigin ? $"to the data of {database.Spec.Parent}"
                : $"image r{ProjectRules.ImageToClone(ToProject(await RequireProjectAsync(database.Spec.Project, cancellationToken))).Revision}"
                  + (database.Spec.Parent is null ? "" : "; no longer a branch");
            var spec = new JsonObject { ["reset"] = database.Spec.Reset + 1, ["restoreCheckpoint"] = null, ["resetToImage"] = !toOrigin };
            // A branch reset to the image names no parent any more.
            if (!toOrigin)
            {
                spec["parent"] = null;
                spec["parentCheckpoint"] = null;
            }
            return spec;
        }, cancellationToken);
        return ToDatabase(await RecordDatabaseAsync(name, Entry(HistoryAction.Reset, detail: detail), cancellationToken) ?? patched);
    }

    public async Task<Checkpoint> CheckpointDatabaseAsync(string name, string checkpoint, CancellationToken cancellationToken = default)
    {
        CheckpointRules.ValidateName(checkpoint);
        var id = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(4)).ToLowerInvariant();
        // The request is written on the record as read: of two racing for one name, the second write is refused (409) and reads the first.
        await PatchOnFreshReadAsync(() => WithQuotaLockAsync(async () =>
        {
            var record = await RequireDatabaseAsync(name, cancellationToken);
            var database = ToDatabase(record);
            CheckpointRules.CheckCheckpointable(database);
            CheckpointRules.CheckNew(database, checkpoint, CheckpointsOf(record));
            var all = await _databases.ListAsync(null, cancellationToken);
            QuotaRules.CheckCheckpoint(Actor.Current, database.Owner, name,
                all.Where(d => d.Spec.Owner == database.Owner).Sum(d => d.Spec.Checkpoints?.Count ?? 0), _options.Quotas);
            var requests = new List<CheckpointRequest>(record.Spec.Checkpoints ?? [])
            {
                new() { Name = checkpoint, Id = id, Requested = _engineOptions.Clock.GetUtcNow() },
            };
            return await _databases.PatchAsync(name, new { metadata = new { resourceVersion = record.Metadata.ResourceVersion }, spec = new { checkpoints = requests } }, cancellationToken);
        }, cancellationToken), () => ChangedAllTheWhile("Database", name));
        await RecordDatabaseAsync(name, Entry(HistoryAction.Checkpointed, detail: checkpoint), cancellationToken);
        var taken = await Polling.UntilAsync(async token =>
            {
                var record = await RequireDatabaseAsync(name, token);
                var state = record.Status?.Checkpoints?.FirstOrDefault(c => c.Id == id);
                if (record.Spec.Checkpoints?.Any(c => c.Id == id) != true) throw DevDbErrors.CheckpointNotFound(name, checkpoint);
                return state is { Ready: true } || state?.Error is not null ? state : null;
            }, progress: null, elapsed => new DevDbProgress($"Taking checkpoint {checkpoint} of database {name}", Polling.Elapsed(elapsed)),
            cancellationToken, _engineOptions.PollInterval);
        if (taken.Error is { } error)
        {
            // Nothing half-made stays: the request goes, and the reconciler deletes the failed snapshot.
            var failure = DevDbErrors.CheckpointFailed(name, checkpoint, error);
            await RemoveCheckpointRequestAsync(name, checkpoint, cancellationToken);
            await RecordDatabaseAsync(name, Entry(HistoryAction.Checkpointed, failure, checkpoint), cancellationToken);
            throw failure;
        }
        return CheckpointsOf(await RequireDatabaseAsync(name, cancellationToken)).First(c => c.Name == checkpoint);
    }

    public async Task<IReadOnlyList<Checkpoint>> GetCheckpointsAsync(string? database = null, CancellationToken cancellationToken = default)
    {
        var records = database is null ? await _databases.ListAsync(null, cancellationToken) : [await RequireDatabaseAsync(database, cancellationToken)];
        return records.SelectMany(CheckpointsOf)
            .OrderBy(c => c.Database, StringComparer.Ordinal).ThenBy(c => c.Created).ThenBy(c => c.Name, StringComparer.Ordinal).ToList();
    }

    public async Task RemoveCheckpointAsync(string database, string checkpoint, CancellationToken cancellationToken = default)
    {
        CheckpointRules.ValidateName(checkpoint);
        var record = await RequireDatabaseAsync(database, cancellationToken);
        if (record.Spec.Checkpoints?.Any(c => c.Name == checkpoint) != true) throw DevDbErrors.CheckpointNotFound(database, checkpoint);
        // A restore of it under way would lose its source: it finishes first.
        if (StatusOf(record) == DatabaseStatus.Restoring && record.Spec.RestoreCheckpoint == checkpoint)
            throw DatabaseRules.Busy(database, $"being restored from checkpoint {checkpoint}");
        if (!await RemoveCheckpointRequestAsync(database, checkpoint, cancellationToken)) throw DevDbErrors.CheckpointNotFound(database, checkpoint);
        await RecordDatabaseAsync(database, Entry(HistoryAction.CheckpointRemoved, detail: checkpoint), cancellationToken);
    }

    /// <summary>Takes the checkpoint off the spec (the reconciler deletes its snapshot, unless a branch still starts from it); false when it was not there.</summary>
    private async Task<bool> RemoveCheckpointRequestAsync(string database, string checkpoint, CancellationToken cancellationToken)
    {
        return await PatchOnFreshReadAsync(async () =>
        {
            var record = await _databases.FindAsync(database, cancellationToken);
            if (record?.Spec.Checkpoints?.Any(c => c.Name == checkpoint) != true) return false;
            var kept = record.Spec.Checkpoints.Where(c => c.Name != checkpoint).ToList();
            await _databases.PatchAsync(database, new { metadata = new { resourceVersion = record.Metadata.ResourceVersion }, spec = new { checkpoints = kept } }, cancellationToken);
            return true;
        }, () => ChangedAllTheWhile("Database", database));
    }

    public async Task<Database> RestoreDatabaseAsync(string name, string checkpoint, IProgress<DevDbProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        await BeginRestoreDatabaseAsync(name, checkpoint, cancellationToken);
        return await WaitDatabaseAsync(name, progress, cancellationToken);
    }

    public async Task<Database> BeginRestoreDatabaseAsync(string name, string checkpoint, CancellationToken cancellationToken = default)
    {
        CheckpointRules.ValidateName(checkpoint);
        var patched = await PatchSpecAsync(name, async database =>
        {
            await RefusedAsync(name, HistoryAction.Restored, () => LifetimeRules.CheckResettable(ToDatabase(database)), cancellationToken);
            CheckpointRules.Find(name, checkpoint, CheckpointsOf(database));
            return new JsonObject { ["reset"] = database.Spec.Reset + 1, ["restoreCheckpoint"] = checkpoint, ["resetToImage"] = false };
        }, cancellationToken);
        return ToDatabase(await RecordDatabaseAsync(name, Entry(HistoryAction.Restored, detail: checkpoint), cancellationToken) ?? patched);
    }

    /// <summary>Patches the spec of a usable database with what <paramref name="change"/> makes of a fresh read of it (<see cref="PatchOnFreshReadAsync"/>).</summary>
    private Task<DatabaseResource> PatchSpecAsync(string name, Func<DatabaseResource, Task<JsonObject>> change, CancellationToken cancellationToken) =>
        PatchOnFreshReadAsync(async () =>
        {
            var database = await RequireUsableAsync(name, cancellationToken);
            var spec = await change(database);
            return await _databases.PatchAsync(name, new JsonObject
            {
                ["metadata"] = new JsonObject { ["resourceVersion"] = database.Metadata.ResourceVersion }, ["spec"] = spec,
            }, cancellationToken);
        }, () => ChangedAllTheWhile("Database", name));

    /// <summary>A branch's record: its parent checked (and its checkpoint, if it starts from one); the reconciler copies the data.</summary>
    private async Task<(DatabaseResource Parent, NewDatabaseRequest Request)> BranchSourceAsync(NewDatabaseRequest request, CancellationToken cancellationToken)
    {
        CheckpointRules.CheckBranchRequest(request);
        var parent = await RequireDatabaseAsync(request.FromDatabase!, cancellationToken);
        request = request with { Project = CheckpointRules.BranchProject(request, ToDatabase(parent)) };
        CheckpointRules.CheckBranchable(ToDatabase(parent), request.Checkpoint);
        if (request.Checkpoint is not null) CheckpointRules.Find(parent.Name(), request.Checkpoint, CheckpointsOf(parent));
        return (parent, request);
    }

    /// <summary>A record's checkpoints as the model shows them: each one asked for, Creating until its snapshot is ready.</summary>
    internal static IEnumerable<Checkpoint> CheckpointsOf(DatabaseResource record) =>
        (record.Spec.Checkpoints ?? []).Select(request =>
        {
            var state = record.Status?.Checkpoints?.FirstOrDefault(c => c.Id == request.Id);
            return new Checkpoint
            {
                Database = record.Name(), Name = request.Name, Project = record.Spec.Project,
                ImageRevision = state?.ImageRevision ?? record.Status?.ImageRevision ?? 0,
                Status = state?.Error is not null ? CheckpointStatus.Failed : state?.Ready == true ? CheckpointStatus.Ready : CheckpointStatus.Creating,
                Created = request.Requested, Error = state?.Error,
            };
        });
}
