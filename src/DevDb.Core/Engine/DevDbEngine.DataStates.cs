using DevDb.Core.Catalog;
using DevDb.Core.Client;
using DevDb.Core.Model;
using DevDb.Core.Rules;
using DevDb.Core.Runtimes;

namespace DevDb.Core.Engine;

/// <summary>
/// Data states: checkpoints (taken under the database's lock, recorded Creating before the copy
/// and Ready after it), restores (a step like a reset, from a checkpoint's data) and branches (a
/// create whose data is copied from another database under that database's lock). Rules: <see cref="CheckpointRules"/>.
/// </summary>
public sealed partial class DevDbEngine
{
    public async Task<Checkpoint> CheckpointDatabaseAsync(string name, string checkpoint, CancellationToken cancellationToken = default)
    {
        CheckpointRules.ValidateName(checkpoint);
        await PrepareChangeAsync(cancellationToken);
        if (_catalog.FindDatabase(name) is { } current && Observed(current) is var seen && DatabaseRules.IsBusy(seen.Status))
            DatabaseRules.CheckUsable(seen);
        using var held = await LockDatabaseAsync(name, cancellationToken);
        await RepairDatabaseAsync(name, cancellationToken);
        DatabaseRecord record;
        Checkpoint taking;
        using (await _catalog.LockAsync(cancellationToken))
        {
            record = RequireDatabase(name);
            var observed = Observed(record);
            CheckpointRules.CheckCheckpointable(observed);
            CheckpointRules.CheckNew(observed, checkpoint, record.Checkpoints);
            QuotaRules.CheckCheckpoint(Actor.Current, observed.Owner, name,
                _catalog.Databases().Where(r => r.Database.Owner == observed.Owner).Sum(r => r.Checkpoints.Count), _quotas);
            taking = new Checkpoint
            {
                Database = name, Name = checkpoint, Project = observed.Project, ImageRevision = observed.ImageRevision,
                Status = CheckpointStatus.Creating, Created = _options.Clock.GetUtcNow(),
            };
            record = record with
            {
                Checkpoints = [.. record.Checkpoints, taking],
                Pending = PendingOperation.Begin(OperationKind.CheckpointDatabase, previousStatus: observed.Status) with { Checkpoint = checkpoint },
            };
            _catalog.Save(record);
        }
        try
        {
            FaultPoints.Reach("checkpoint-database:recorded");
            var spec = SpecOf(record, record.Database.ImageRevision, RequireProject(record.Database.Project).Project);
            var interruption = await _runtime.CheckpointDatabaseAsync(spec, checkpoint, cancellationToken);
            var ready = taking with { Status = CheckpointStatus.Ready, InterruptionSeconds = Math.Round(interruption.TotalSeconds, 3) };
            var done = Entry(HistoryAction.Checkpointed, detail: checkpoint);
            await SaveRecordAsync(name, r => r with
            {
                Pending = null, Checkpoints = r.Checkpoints.Select(c => c.Name == checkpoint ? ready : c).ToList(),
                Database = r.Database with { History = HistoryRules.Append(r.Database.History, done) },
            });
            return ready;
        }
        catch (Exception e)
        {
            await _runtime.DeleteCheckpointAsync(name, checkpoint, CancellationToken.None);
            var failed = Entry(HistoryAction.Checkpointed, e, checkpoint);
            await SaveRecordAsync(name, r => r with
            {
                Pending = null, Checkpoints = r.Checkpoints.Where(c => c.Name != checkpoint).ToList(),
                Database = r.Database with { History = HistoryRules.Append(r.Database.History, failed) },
            });
            throw;
        }
    }

    public Task<IReadOnlyList<Checkpoint>> GetCheckpointsAsync(string? database = null, CancellationToken cancellationToken = default)
    {
        var records = database is null ? _catalog.Databases() : [RequireDatabase(database)];
        return Task.FromResult<IReadOnlyList<Checkpoint>>(records.SelectMany(r => r.Checkpoints)
            .OrderBy(c => c.Database, StringComparer.Ordinal).ThenBy(c => c.Created).ThenBy(c => c.Name, StringComparer.Ordinal).ToList());
    }

    public async Task RemoveCheckpointAsync(string database, string checkpoint, CancellationToken cancellationToken = default)
    {
        CheckpointRules.ValidateName(checkpoint);
        await PrepareChangeAsync(cancellationToken);
        RequireDatabase(database);
        using (await LockDatabaseAsync(database, cancellationToken))
        {
            await RepairDatabaseAsync(database, cancellationToken);
            using (await _catalog.LockAsync(cancellationToken))
            {
                var record = RequireDatabase(database);
                if (record.Checkpoints.All(c => c.Name != checkpoint)) throw DevDbErrors.CheckpointNotFound(database, checkpoint);
                // Unrecorded first, deleted second; the pending mark finishes a deletion a crash interrupted.
                _catalog.Save(record with
                {
                    Checkpoints = record.Checkpoints.Where(c => c.Name != checkpoint).ToList(),
                    Pending = PendingOperation.Begin(OperationKind.RemoveCheckpoint) with { Checkpoint = checkpoint },
                });
            }
            await _runtime.DeleteCheckpointAsync(database, checkpoint, cancellationToken);
            var removed = Entry(HistoryAction.CheckpointRemoved, detail: checkpoint);
            await SaveRecordAsync(database, r => r with { Pending = null, Database = r.Database with { History = HistoryRules.Append(r.Database.History, removed) } });
        }
        await PruneImagesAsync(RequireDatabase(database).Database.Project);
    }

    public async Task<Database> RestoreDatabaseAsync(string name, string checkpoint, IProgress<DevDbProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var step = await RecordStepAsync(name, OperationKind.RestoreDatabase, accepted: false, cancellationToken, checkpoint);
        Database restored;
        using (step.Lock) restored = await RunStepAsync(step, progress, cancellationToken);
        await PruneImagesAsync(restored.Project);
        return restored;
    }

    public Task<Database> BeginRestoreDatabaseAsync(string name, string checkpoint, CancellationToken cancellationToken = default) =>
        BeginStepAsync(name, OperationKind.RestoreDatabase, cancellationToken, checkpoint);

    /// <summary>A restore of a checkpoint, or the reset of a branch to the data it was branched from (no checkpoint).</summary>
    private async Task<Database> RestoreDataAsync(PendingStep step, IProgress<DevDbProgress>? progress, CancellationToken cancellationToken)
    {
        var database = step.Record.Database;
        var revision = step.Checkpoint?.ImageRevision ?? step.Record.OriginRevision ?? database.ImageRevision;
        var spec = SpecOf(step.Record, revision, RequireProject(database.Project).Project);
        FaultPoints.Reach("restore-database:recorded");
        await _runtime.RestoreDatabaseAsync(spec, step.Checkpoint?.Name, progress, cancellationToken);
        return await SaveDatabaseAsync(database with { ImageRevision = revision, Status = DatabaseStatus.Running },
            step.Checkpoint is { } from ? Entry(HistoryAction.Restored, detail: from.Name) : Entry(HistoryAction.Reset, detail: $"to the data of {database.Parent}"));
    }

    /// <summary>A branch reset to the project's image: its origin goes, and it no longer names a parent.</summary>
    private async Task<Database> NoLongerABranchAsync(Database database, HistoryEntry entry)
    {
        await _runtime.DeleteOriginAsync(database.Name, CancellationToken.None);
        var plain = database with { Parent = null, ParentCheckpoint = null };
        await SaveRecordAsync(database.Name, r =>
        {
            plain = plain with { ExpiresAt = r.Database.ExpiresAt, Protected = r.Database.Protected, History = HistoryRules.Append(r.Database.History, entry) };
            return r with { Database = plain, Pending = null, OriginRevision = null };
        });
        return plain;
    }

    /// <summary>Changes a database's record under the catalog lock (nothing when it is gone).</summary>
    private async Task SaveRecordAsync(string name, Func<DatabaseRecord, DatabaseRecord> change)
    {
        using (await _catalog.LockAsync(CancellationToken.None))
            if (_catalog.FindDatabase(name) is { } record) _catalog.Save(change(record));
    }

    /// <summary>For a branch request: its parent (observed) and the checkpoint it starts from, checked; the project is the parent's.</summary>
    private (Database Parent, Checkpoint? From) BranchSource(NewDatabaseRequest request)
    {
        var parentRecord = RequireDatabase(request.FromDatabase!);
        var parent = Observed(parentRecord);
        CheckpointRules.CheckBranchable(parent, request.Checkpoint);
        var from = request.Checkpoint is null ? null : CheckpointRules.Find(parent.Name, request.Checkpoint, parentRecord.Checkpoints);
        return (parent, from);
    }

    /// <summary>Copies a branch's data from its parent under the parent's lock (its current data is copied with its server stopped briefly).</summary>
    private async Task BranchAsync(Database branch, DatabaseSpec spec, IProgress<DevDbProgress>? progress, CancellationToken cancellationToken)
    {
        using (await LockDatabaseAsync(branch.Parent!, cancellationToken))
        {
            await RepairDatabaseAsync(branch.Parent!, cancellationToken);
            var parentRecord = RequireDatabase(branch.Parent!);
            var parent = Observed(parentRecord);
            CheckpointRules.CheckBranchable(parent, branch.ParentCheckpoint);
            if (branch.ParentCheckpoint is { } checkpoint) CheckpointRules.Find(parent.Name, checkpoint, parentRecord.Checkpoints);
            var parentSpec = SpecOf(parentRecord, parent.ImageRevision, RequireProject(parent.Project).Project);
            await _runtime.BranchDatabaseAsync(spec, parentSpec, branch.ParentCheckpoint, progress, cancellationToken);
        }
    }

    /// <summary>After a checkpoint, restore or checkpoint removal whose process died: whatever was complete stays, the rest goes; the server runs again if it ran.</summary>
    private async Task RepairDataStateAsync(DatabaseRecord record, PendingOperation interrupted, CancellationToken cancellationToken)
    {
        var name = record.Database.Name;
        if (interrupted.Kind == OperationKind.RemoveCheckpoint)
        {
            // Unrecorded already: only its data is left to delete; the server was never touched.
            await _runtime.DeleteCheckpointAsync(name, interrupted.Checkpoint ?? "", cancellationToken);
            var finished = Recovered(interrupted, "finished");
            await SaveRecordAsync(name, r => r with { Pending = null, Database = r.Database with { History = HistoryRules.Append(r.Database.History, finished) } });
            return;
        }
        var revision = await _runtime.RepairDatabaseAsync(name, cancellationToken);
        var complete = _runtime.ListCheckpoints(name);
        var checkpoints = record.Checkpoints
            .Where(c => c.Status == CheckpointStatus.Ready || complete.Contains(c.Name))
            .Select(c => c with { Status = CheckpointStatus.Ready }).ToList();
        record = record with
        {
            Checkpoints = checkpoints,
            Database = record.Database with { ImageRevision = interrupted.Kind == OperationKind.RestoreDatabase ? revision ?? record.Database.ImageRevision : record.Database.ImageRevision },
        };
        await SaveRecordAsync(name, r => record with { Pending = r.Pending });
        await BringBackAsync(record, interrupted.PreviousStatus is DatabaseStatus.Running or DatabaseStatus.Crashed, interrupted, cancellationToken);
    }
}
