using DevDb.Core.Catalog;
using DevDb.Core.Client;
using DevDb.Core.Model;
using DevDb.Core.Rules;
using DevDb.Core.Runtimes;
using DevDb.Core.Runtimes.Local;

namespace DevDb.Core.Engine;

/// <summary>Steps on a database that exists: reset, stop and start, begun or waited for, each recorded before it runs and after it ends.</summary>
public sealed partial class DevDbEngine
{
    public Task<Database> ResetDatabaseAsync(string name, IProgress<DevDbProgress>? progress = null, CancellationToken cancellationToken = default) =>
        ResetDatabaseAsync(name, toImage: false, progress, cancellationToken);

    public async Task<Database> ResetDatabaseAsync(string name, bool toImage, IProgress<DevDbProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var step = await RecordStepAsync(name, OperationKind.ResetDatabase, accepted: false, cancellationToken, toImage: toImage);
        Database reset;
        using (step.Lock) reset = await RunStepAsync(step, progress, cancellationToken);
        await PruneImagesAsync(reset.Project);
        return reset;
    }

    public Task<Database> BeginResetDatabaseAsync(string name, CancellationToken cancellationToken = default) =>
        BeginStepAsync(name, OperationKind.ResetDatabase, cancellationToken);

    public Task<Database> BeginResetDatabaseAsync(string name, bool toImage, CancellationToken cancellationToken = default) =>
        BeginStepAsync(name, OperationKind.ResetDatabase, cancellationToken, toImage: toImage);

    public async Task<Database> StopDatabaseAsync(string name, CancellationToken cancellationToken = default)
    {
        var step = await RecordStepAsync(name, OperationKind.StopDatabase, accepted: false, cancellationToken);
        using (step.Lock) return await RunStepAsync(step, progress: null, cancellationToken);
    }

    public Task<Database> BeginStopDatabaseAsync(string name, CancellationToken cancellationToken = default) =>
        BeginStepAsync(name, OperationKind.StopDatabase, cancellationToken);

    public async Task<Database> StartDatabaseAsync(string name, CancellationToken cancellationToken = default)
    {
        var step = await RecordStepAsync(name, OperationKind.StartDatabase, accepted: false, cancellationToken);
        using (step.Lock) return await RunStepAsync(step, progress: null, cancellationToken);
    }

    public Task<Database> BeginStartDatabaseAsync(string name, CancellationToken cancellationToken = default) =>
        BeginStepAsync(name, OperationKind.StartDatabase, cancellationToken);

    /// <summary>Records a reset, stop or start and runs it in the background under the database's lock; returns the database Resetting, Stopping or Starting.</summary>
    private async Task<Database> BeginStepAsync(string name, OperationKind kind, CancellationToken cancellationToken, string? checkpoint = null, bool toImage = false)
    {
        var step = await RecordStepAsync(name, kind, accepted: true, cancellationToken, checkpoint, toImage);
        RunInBackground(step.Lock, token => RunStepAsync(step, progress: null, token),
            then: kind is OperationKind.ResetDatabase or OperationKind.RestoreDatabase ? () => PruneImagesAsync(step.Record.Database.Project) : null);
        return step.Record.Database;
    }

    /// <summary>
    /// Starts again every database whose server died while it was meant to run (a crash, a reboot):
    /// what the API does at start-up. Returns the names it started; one that fails is left Crashed.
    /// </summary>
    public async Task<IReadOnlyList<string>> RestartCrashedDatabasesAsync(CancellationToken cancellationToken = default)
    {
        var started = new List<string>();
        foreach (var name in _catalog.Databases().Select(Observed).Where(d => d.Status == DatabaseStatus.Crashed).Select(d => d.Name))
        {
            try
            {
                await StartDatabaseAsync(name, cancellationToken);
                started.Add(name);
            }
            catch (DevDbException)
            {
                // Shown as Crashed with its server's last words; the others still start.
            }
        }
        return started;
    }

    /// <summary>A reset, stop or start recorded under the database's lock (held until it ends), with the status it had.</summary>
    private sealed record PendingStep(IDisposable Lock, DatabaseRecord Record, OperationKind Kind, DatabaseStatus Previous, bool Accepted)
    {
        /// <summary>A restore's checkpoint (checked to exist when the step was recorded).</summary>
        public Checkpoint? Checkpoint { get; init; }
        public bool ToImage { get; init; }
        /// <summary>A stop's reason: asked for, or an idle pass's.</summary>
        public StopReason StopReason { get; init; } = StopReason.Requested;
    }

    /// <summary>Takes the database's lock, checks it can be changed and records the step, with its busy status (Resetting, Stopping, Starting).</summary>
    private async Task<PendingStep> RecordStepAsync(string name, OperationKind kind, bool accepted, CancellationToken cancellationToken,
        string? checkpoint = null, bool toImage = false)
    {
        if (kind == OperationKind.RestoreDatabase) CheckpointRules.ValidateName(checkpoint);
        await PrepareChangeAsync(cancellationToken);
        // A step under way in a live process makes this one StateLocked at once rather than queue behind it (as on Kubernetes).
        if (_catalog.FindDatabase(name) is { } current && Observed(current) is var seen && DatabaseRules.IsBusy(seen.Status))
            DatabaseRules.CheckUsable(seen);
        var held = await LockDatabaseAsync(name, cancellationToken);
        try
        {
            await RepairDatabaseAsync(name, cancellationToken);
            using (await _catalog.LockAsync(cancellationToken))
            {
                var record = RequireDatabase(name);
                var observed = Observed(record);
                DatabaseRules.CheckUsable(observed);
                if (kind == OperationKind.StartDatabase) QuotaRules.CheckStart(Actor.Current, observed, _catalog.Databases().Select(Observed).ToList(), _quotas);
                // A protected database keeps its data: neither a reset nor a restore throws it away.
                if (kind is OperationKind.ResetDatabase or OperationKind.RestoreDatabase)
                {
                    try
                    {
                        LifetimeRules.CheckResettable(observed);
                    }
                    catch (DevDbException refused)
                    {
                        _catalog.Save(record with { Database = record.Database with { History = HistoryRules.Append(record.Database.History, Entry(ActionOf(kind), refused)) } });
                        throw;
                    }
                }
                var restored = kind == OperationKind.RestoreDatabase ? CheckpointRules.Find(name, checkpoint, record.Checkpoints) : null;
                var busy = record with
                {
                    Database = record.Database with { Status = BusyStatus(kind), Error = null, ErrorCode = null },
                    Pending = PendingOperation.Begin(kind, accepted: accepted, previousStatus: observed.Status) with { Checkpoint = checkpoint, ToImage = toImage },
                };
                _catalog.Save(busy);
                return new PendingStep(held, busy, kind, observed.Status, accepted) { Checkpoint = restored, ToImage = toImage };
            }
        }
        catch
        {
            held.Dispose();
            throw;
        }
    }

    private static DatabaseStatus BusyStatus(OperationKind kind) => kind switch
    {
        OperationKind.ResetDatabase => DatabaseStatus.Resetting,
        OperationKind.StopDatabase => DatabaseStatus.Stopping,
        OperationKind.RestoreDatabase => DatabaseStatus.Restoring,
        _ => DatabaseStatus.Starting,
    };

    /// <summary>
    /// Runs a recorded step and records its outcome. A step that fails leaves the database with
    /// the data it had, running if its server runs, and (unless its caller stopped it) the failure
    /// as its Error, which waiting for it raises.
    /// </summary>
    private async Task<Database> RunStepAsync(PendingStep step, IProgress<DevDbProgress>? progress, CancellationToken cancellationToken)
    {
        var database = step.Record.Database;
        var name = database.Name;
        try
        {
            switch (step.Kind)
            {
                case OperationKind.RestoreDatabase or OperationKind.ResetDatabase when step.Kind == OperationKind.RestoreDatabase || (step.Record.OriginRevision is not null && !step.ToImage):
                    return await RestoreDataAsync(step, progress, cancellationToken);
                case OperationKind.ResetDatabase:
                    var project = RequireProject(database.Project).Project;
                    var spec = SpecOf(step.Record, ProjectRules.ImageToClone(project).Revision, project);
                    FaultPoints.Reach("reset-database:recorded");
                    await _runtime.ResetDatabaseAsync(spec, progress, cancellationToken);
                    if (step.Record.OriginRevision is not null)
                        return await NoLongerABranchAsync(database with { ImageRevision = spec.ImageRevision, Status = DatabaseStatus.Running },
                            Entry(HistoryAction.Reset, detail: $"image r{spec.ImageRevision}; no longer a branch"));
                    return await SaveDatabaseAsync(database with { ImageRevision = spec.ImageRevision, Status = DatabaseStatus.Running },
                        Entry(HistoryAction.Reset, detail: $"image r{spec.ImageRevision}"));
                case OperationKind.StopDatabase:
                    FaultPoints.Reach("stop-database:recorded");
                    await _runtime.StopDatabaseAsync(name, cancellationToken);
                    FaultPoints.Reach("stop-database:stopped");
                    return await SaveDatabaseAsync(database with { Status = DatabaseStatus.Stopped, StopReason = step.StopReason },
                        Entry(HistoryAction.Stopped, detail: step.StopReason == StopReason.Idle ? "idle: no client for its idle timeout" : null));
                default:
                    FaultPoints.Reach("start-database:recorded");
                    await _runtime.StartDatabaseAsync(SpecOf(step.Record, database.ImageRevision, RequireProject(database.Project).Project), cancellationToken);
                    FaultPoints.Reach("start-database:started");
                    return await SaveDatabaseAsync(database with { Status = DatabaseStatus.Running }, Entry(HistoryAction.Started));
            }
        }
        catch (Exception e)
        {
            var stoppedByCaller = e is OperationCanceledException && !(step.Accepted && HostIsStopping);
            var error = stoppedByCaller ? null : e as DevDbException ?? (e is OperationCanceledException
                ? DevDbErrors.OperationInterrupted(name, Doing(step.Kind), "the DevDb server shut down before it finished")
                : DevDbErrors.ServerError($"{Doing(step.Kind)} database '{name}' failed unexpectedly: {e.Message}", "Try again; if it fails again, report it with the server's log.", name, e));
            var status = _runtime.IsRunning(name) ? DatabaseStatus.Running : StoppedOr(step.Previous);
            await SaveDatabaseAsync(database with { Status = status, Error = error?.Message, ErrorCode = error?.Code }, Entry(ActionOf(step.Kind), error ?? e));
            throw;
        }
    }

    private static string Doing(OperationKind kind) => kind switch
    {
        OperationKind.ResetDatabase => "Resetting",
        OperationKind.StopDatabase => "Stopping",
        OperationKind.StartDatabase => "Starting",
        OperationKind.RestoreDatabase => "Restoring",
        OperationKind.CheckpointDatabase => "Checkpointing",
        _ => kind.ToString(),
    };

    /// <summary>What a step that failed leaves: stopped, but still Crashed if it was.</summary>
    private static DatabaseStatus StoppedOr(DatabaseStatus previous) => previous == DatabaseStatus.Crashed ? DatabaseStatus.Crashed : DatabaseStatus.Stopped;
}
