using DevDb.Core.Catalog;
using DevDb.Core.Model;
using DevDb.Core.Rules;

namespace DevDb.Core.Engine;

/// <summary>
/// Finishing or rolling back the work of processes that died in the middle of it. Each step
/// recorded a <see cref="PendingOperation"/> before it began, under the item's lock; whoever
/// holds that lock now and finds such a mark knows its process is gone (a live one would hold the
/// lock). What each interrupted step becomes:
/// a synchronous create is rolled back; accepted work (202, -NoWait) is kept Failed with why;
/// removals are finished; a reset, stop or start ends with consistent data, the database's own
/// credentials working and the status it had before (a reset of a running database runs again).
/// </summary>
public sealed partial class DevDbEngine
{
    /// <summary>Repairs every interrupted item nobody is working on, and deletes images the catalog does not know.</summary>
    private async Task SweepAsync(CancellationToken cancellationToken)
    {
        foreach (var record in _catalog.Projects().Where(r => r.Pending is { } p && !p.OwnerIsAlive()))
            await WhenFreeAsync(ItemKind.Project, record.Project.Name, () => RepairProjectAsync(record.Project.Name, cancellationToken));
        foreach (var record in _catalog.Databases().Where(r => r.Pending is { } p && !p.OwnerIsAlive()))
            await WhenFreeAsync(ItemKind.Database, record.Database.Name, () => RepairDatabaseAsync(record.Database.Name, cancellationToken));

        List<(string Project, int Revision)> unrecorded;
        using (await _catalog.LockAsync(cancellationToken))
        {
            var projects = _catalog.Projects().ToDictionary(r => r.Project.Name);
            // Images of projects with work in flight are left to that work.
            unrecorded = _runtime.ListImages()
                .Where(image => !projects.TryGetValue(image.Project, out var record)
                                || (record.Pending is null && record.Project.Images.All(i => i.Revision != image.Revision)))
                .ToList();
        }
        foreach (var (project, revision) in unrecorded)
            await WhenFreeAsync(ItemKind.Project, project, () => _runtime.DeleteImageAsync(project, revision, cancellationToken));
    }

    /// <summary>Runs <paramref name="repair"/> holding the item's lock, unless someone holds it (then their work is not ours to repair).</summary>
    private async Task WhenFreeAsync(ItemKind kind, string name, Func<Task> repair)
    {
        IDisposable held;
        try
        {
            held = await _catalog.LockItemAsync(kind, name, TimeSpan.Zero, () => "", CancellationToken.None);
        }
        catch (DevDbException e) when (e.Code == ErrorCodes.StateLocked)
        {
            return;
        }
        using (held) await repair();
    }

    /// <summary>What recovery did, in the history: by devdb, naming the step and the process that died.</summary>
    private HistoryEntry Recovered(PendingOperation interrupted, string how) =>
        HistoryRules.Entry(HistoryAction.Recovered, _options.Clock.GetUtcNow(),
            detail: $"{how}: {interrupted.Describe()} was interrupted when its process stopped", actor: Actor.DevDb);

    /// <summary>Repairs a project's interrupted step; the caller holds the project's lock.</summary>
    private async Task RepairProjectAsync(string name, CancellationToken cancellationToken)
    {
        ProjectRecord record;
        using (await _catalog.LockAsync(cancellationToken))
        {
            if (_catalog.FindProject(name) is not { Pending: { } pending } found || pending.OwnerIsAlive()) return;
            record = found with { Pending = pending.Claimed() };
            _catalog.Save(record);
        }
        var interrupted = record.Pending!;
        if (interrupted.Kind == OperationKind.RemoveProject)
        {
            await FinishProjectRemovalAsync(name, cancellationToken);
            return;
        }
        var revision = interrupted.Revision ?? 0;
        await _runtime.DeleteImageAsync(name, revision, cancellationToken);
        if (!interrupted.Accepted && revision == 1 && record.Project.Images.All(i => i.Revision == 1))
        {
            // A new project whose creator died with it: as if it had never been asked for.
            using (await _catalog.LockAsync(CancellationToken.None))
                _catalog.DeleteProject(name);
            return;
        }
        var failed = HistoryRules.Failed(revision == 1 ? HistoryAction.Created : HistoryAction.Refreshed, _options.Clock.GetUtcNow(), ErrorCodes.OperationInterrupted,
            $"image r{revision}: rolled back, {interrupted.Describe()} was interrupted when its process stopped", Actor.DevDb);
        await SaveImageAsync(name, revision, p => ProjectRules.Settled(p, InterruptedBuild(name, interrupted), ErrorCodes.RestoreFailed) with
        {
            History = HistoryRules.Append(p.History, failed),
        }, image: null);
    }

    /// <summary>Repairs a database's interrupted step; the caller holds the database's lock.</summary>
    private async Task RepairDatabaseAsync(string name, CancellationToken cancellationToken)
    {
        DatabaseRecord record;
        using (await _catalog.LockAsync(cancellationToken))
        {
            if (_catalog.FindDatabase(name) is not { Pending: { } pending } found || pending.OwnerIsAlive()) return;
            record = found with { Pending = pending.Claimed() };
            _catalog.Save(record);
        }
        var interrupted = record.Pending!;
        if (interrupted.Accepted && interrupted.Kind is OperationKind.ResetDatabase or OperationKind.StartDatabase or OperationKind.StopDatabase or OperationKind.RestoreDatabase)
        {
            // Whoever waits for accepted work learns it was interrupted; the database is repaired all the same.
            var failure = InterruptedStep(name, interrupted);
            record = record with { Database = record.Database with { Error = failure.Message, ErrorCode = failure.Code } };
        }
        switch (interrupted.Kind)
        {
            case OperationKind.CreateDatabase when interrupted.Accepted:
                await FinishDatabaseRemovalAsync(name, cancellationToken, record.Database with
                {
                    Status = DatabaseStatus.Failed, ErrorCode = ErrorCodes.DatabaseCreateFailed, Error = Interrupted(name, interrupted),
                    History = HistoryRules.Append(record.Database.History, HistoryRules.Failed(HistoryAction.Created, _options.Clock.GetUtcNow(),
                        ErrorCodes.DatabaseCreateFailed, $"rolled back: {interrupted.Describe()} was interrupted when its process stopped", Actor.DevDb)),
                });
                break;
            case OperationKind.CreateDatabase or OperationKind.RemoveDatabase:
                await FinishDatabaseRemovalAsync(name, cancellationToken);
                await RecordRemovalAsync(record.Database, Recovered(interrupted, interrupted.Kind == OperationKind.CreateDatabase ? "rolled back" : "finished") with
                {
                    Action = HistoryAction.Removed,
                });
                break;
            case OperationKind.ResetDatabase or OperationKind.StartDatabase:
                // Whichever data was complete stays (the old, or the reset's new clone): the record names its image.
                var revision = await _runtime.RepairDatabaseAsync(name, cancellationToken);
                record = record with { Database = record.Database with { ImageRevision = revision ?? record.Database.ImageRevision } };
                await BringBackAsync(record, interrupted.PreviousStatus == DatabaseStatus.Running || interrupted.Kind == OperationKind.StartDatabase, interrupted, cancellationToken);
                break;
            case OperationKind.CheckpointDatabase or OperationKind.RestoreDatabase or OperationKind.RemoveCheckpoint:
                await RepairDataStateAsync(record, interrupted, cancellationToken);
                break;
            case OperationKind.StopDatabase:
                await _runtime.StopDatabaseAsync(name, cancellationToken);
                await SaveDatabaseAsync(record.Database with { Status = DatabaseStatus.Stopped }, Recovered(interrupted, "finished, stopped"));
                break;
        }
        if (interrupted.Kind == OperationKind.CreateDatabase && record.Database.Parent is { } parent) await RestartParentAsync(parent, interrupted, cancellationToken);
    }

    /// <summary>
    /// A branch of a running database stops its parent for the copy; a branch that died then left the
    /// parent's server down (it would show Crashed): start it again, unless someone is working on it.
    /// </summary>
    private Task RestartParentAsync(string parent, PendingOperation interrupted, CancellationToken cancellationToken) =>
        WhenFreeAsync(ItemKind.Database, parent, async () =>
        {
            if (_catalog.FindDatabase(parent) is { Pending: null } record && Observed(record).Status == DatabaseStatus.Crashed)
                await BringBackAsync(record, run: true, interrupted, cancellationToken);
        });

    /// <summary>After a reset or start that died: runs the database again (with its own credentials) when it was meant to run, else leaves it stopped.</summary>
    private async Task BringBackAsync(DatabaseRecord record, bool run, PendingOperation interrupted, CancellationToken cancellationToken)
    {
        var name = record.Database.Name;
        if (run && _catalog.FindProject(record.Database.Project) is { } project)
        {
            try
            {
                await _runtime.StartDatabaseAsync(SpecOf(record, record.Database.ImageRevision, project.Project), cancellationToken);
                await SaveDatabaseAsync(record.Database with { Status = DatabaseStatus.Running }, Recovered(interrupted, "repaired, running"));
                return;
            }
            catch (DevDbException e)
            {
                await _runtime.StopDatabaseAsync(name, CancellationToken.None);
                await SaveDatabaseAsync(record.Database with { Status = DatabaseStatus.Crashed, Error = e.Message },
                    Recovered(interrupted, "repaired, but its server did not start") with { Outcome = HistoryOutcome.Failed, ErrorCode = e.Code });
                return;
            }
        }
        await _runtime.StopDatabaseAsync(name, cancellationToken);
        await SaveDatabaseAsync(record.Database with { Status = DatabaseStatus.Stopped }, Recovered(interrupted, "repaired, stopped"));
    }
}
