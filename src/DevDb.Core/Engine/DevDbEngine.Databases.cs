using DevDb.Core.Catalog;
using DevDb.Core.Client;
using DevDb.Core.Model;
using DevDb.Core.Rules;
using DevDb.Core.Runtimes;
using DevDb.Core.Runtimes.Local;

namespace DevDb.Core.Engine;

/// <summary>Databases: creating (cloning), reading and removing them, each under its lock (steps on them: DevDbEngine.Steps.cs).</summary>
public sealed partial class DevDbEngine
{
    /// <summary>A clone recorded and ready to run: the database's lock (held until it ends) and what to clone.</summary>
    private sealed record PendingClone(IDisposable Lock, DatabaseSpec Spec);

    public async Task<Database> NewDatabaseAsync(NewDatabaseRequest request, IProgress<DevDbProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var (database, clone) = await RecordNewDatabaseAsync(request, accepted: false, cancellationToken);
        // The same request again wakes what an idle pass stopped.
        if (clone is null && IsIdleStopped(database)) return await StartDatabaseAsync(database.Name, cancellationToken);
        if (clone is null)
            return database.Status == DatabaseStatus.Creating ? await WaitDatabaseAsync(database.Name, progress, cancellationToken) : database;
        using (clone.Lock)
            return await CloneAsync(database, clone.Spec, accepted: false, progress, cancellationToken);
    }

    public async Task<Database> BeginNewDatabaseAsync(NewDatabaseRequest request, CancellationToken cancellationToken = default)
    {
        var (database, clone) = await RecordNewDatabaseAsync(request, accepted: true, cancellationToken);
        if (clone is null && IsIdleStopped(database)) return await BeginStartDatabaseAsync(database.Name, cancellationToken);
        if (clone is not null)
            RunInBackground(clone.Lock, token => CloneAsync(database, clone.Spec, accepted: true, progress: null, token));
        return database;
    }

    public Task<Database> WaitDatabaseAsync(string name, IProgress<DevDbProgress>? progress = null, CancellationToken cancellationToken = default) =>
        Polling.UntilAsync(_ => Task.FromResult(DatabaseRules.Settled(Observed(RequireDatabase(name)))), progress,
            elapsed => new DevDbProgress($"Waiting for database {name}", $"{Observed(RequireDatabase(name)).Status} ({Polling.Elapsed(elapsed)})"),
            cancellationToken, PollInterval);

    /// <summary>
    /// Checks the request and records the database Creating, with a port, a password and its
    /// server's user, under its lock. Returns no clone when the same request was made before
    /// (same project and owner): there is nothing to clone. A Failed one of that request is replaced.
    /// </summary>
    private async Task<(Database Database, PendingClone? Clone)> RecordNewDatabaseAsync(NewDatabaseRequest request, bool accepted, CancellationToken cancellationToken)
    {
        RequestLimits.Check(request);
        LifetimeRules.CheckShape(request.Name, request.TimeToLive, request.ExpiresAt);
        IdleRules.CheckShape(request.Name, request.IdleTimeout);
        var owner = request.Owner ?? Actor.Current.User;
        // A branch belongs to its parent's project.
        if (request.FromDatabase is not null) request = request with { Project = CheckpointRules.BranchProject(request, RequireDatabase(request.FromDatabase).Database) };
        // A repeated request is answered at once, even while its first clone runs (an expired one is gone first).
        if (_catalog.FindDatabase(request.Name) is { } seen && !LifetimeRules.IsExpired(Observed(seen), _options.Clock.GetUtcNow())
            && DatabaseRules.ClassifyNew(seen.Database, request.Project, owner) == NewDatabaseDecision.Identical)
            return (Observed(seen), null);
        await PrepareChangeAsync(cancellationToken);
        var held = await LockDatabaseAsync(request.Name, cancellationToken);
        try
        {
            await RepairDatabaseAsync(request.Name, cancellationToken);
            using (await _catalog.LockAsync(cancellationToken))
            {
                var records = _catalog.Databases();
                var existing = records.FirstOrDefault(r => r.Database.Name == request.Name);
                switch (DatabaseRules.ClassifyNew(existing?.Database, request.Project, owner))
                {
                    case NewDatabaseDecision.Identical:
                        held.Dispose();
                        return (Observed(existing!), null);
                    case NewDatabaseDecision.Conflict:
                        throw DevDbErrors.DatabaseExists(existing!.Database.Name, existing.Database.Project, existing.Database.Owner);
                }
                var projectRecord = RequireProject(request.Project);
                if (projectRecord.Pending is { Kind: OperationKind.RemoveProject } removal) throw Busy("Project", request.Project, removal);
                var project = projectRecord.Project;
                var branch = request.FromDatabase is null ? default : BranchSource(request);
                var revision = branch.Parent is null ? ProjectRules.ImageToClone(project).Revision : branch.From?.ImageRevision ?? branch.Parent.ImageRevision;
                var now = _options.Clock.GetUtcNow();
                var expiresAt = LifetimeRules.ExpiresAtOfNew(request, project, _options.MaxTimeToLive, now);
                var idleTimeout = IdleRules.IdleTimeoutOfNew(request, project, _options.IdleTimeout);
                var others = records.Where(r => r.Database.Name != request.Name).ToList();
                QuotaRules.CheckNew(Actor.Current, request.Name, owner, project.Name, others.Select(Observed).ToList(), _quotas);
                var port = PortAllocator.Allocate(others.Select(r => r.Database.Port));
                var uid = _runtime.ChooseServerUid(others.Select(r => r.ServerUid).OfType<int>());
                var spec = new DatabaseSpec(request.Name, project.Name, revision, port, project.DatabaseName, request.Name,
                    Passwords.New(), project.PostgresVersion, project.SuperuserLogins, uid);
                var database = new Database
                {
                    Name = request.Name, Project = project.Name, ImageRevision = revision, Status = DatabaseStatus.Creating,
                    Host = _runtime.HostOf(request.Name), Port = port, DatabaseName = project.DatabaseName, Username = spec.Username,
                    Owner = owner, Created = now, ExpiresAt = expiresAt, Protected = request.Protected, IdleTimeout = idleTimeout,
                    Parent = branch.Parent?.Name, ParentCheckpoint = branch.From?.Name,
                    // A failed create of the same request that this one replaces keeps its history.
                    History = existing?.Database.History ?? [],
                };
                _catalog.Save(new DatabaseRecord(database, PendingOperation.Begin(OperationKind.CreateDatabase, accepted: accepted), uid)
                {
                    OriginRevision = branch.Parent is null ? null : revision,
                });
                _secrets.Save(request.Name, spec.Password);
                FaultPoints.Reach(request.FromDatabase is null ? "new-database:recorded" : "branch-database:recorded");
                return (database, new PendingClone(held, spec));
            }
        }
        catch
        {
            held.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Clones, starts and records a database recorded Creating. On failure nothing of it runs or
    /// is kept: the record goes too, or, for accepted work nobody waits on, stays Failed with why.
    /// </summary>
    private async Task<Database> CloneAsync(Database database, DatabaseSpec spec, bool accepted, IProgress<DevDbProgress>? progress,
        CancellationToken cancellationToken)
    {
        try
        {
            // Another installation on this machine (another DEVDB_HOME) may take the port between
            // allocation and server start: then try the next free one.
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    if (database.Parent is null) await _runtime.CreateDatabaseAsync(spec, progress, cancellationToken);
                    else await BranchAsync(database, spec, progress, cancellationToken);
                    return await SaveDatabaseAsync(database with { Status = DatabaseStatus.Running },
                        Entry(HistoryAction.Created, detail: database.Parent is null ? $"image r{spec.ImageRevision}"
                            : $"branch of {database.Parent}{(database.ParentCheckpoint is null ? "" : $" at checkpoint {database.ParentCheckpoint}")}"));
                }
                catch (DevDbException e) when (e.Code == ErrorCodes.PortInUse && attempt < 5)
                {
                    await _runtime.DeleteDatabaseAsync(database.Name, cancellationToken);
                    using (await _catalog.LockAsync(cancellationToken))
                    {
                        var port = PortAllocator.Allocate(_catalog.Databases().Select(r => r.Database.Port));
                        database = database with { Port = port };
                        spec = spec with { Port = port };
                        _catalog.Save(new DatabaseRecord(database, PendingOperation.Begin(OperationKind.CreateDatabase, accepted: accepted), spec.ServerUid)
                        {
                            OriginRevision = database.Parent is null ? null : spec.ImageRevision,
                        });
                    }
                }
            }
        }
        catch (Exception e)
        {
            var keep = accepted && (e is not OperationCanceledException || HostIsStopping);
            var failed = Entry(HistoryAction.Created, e);
            // Nothing of it is kept: its project's history says it was asked for and failed.
            if (!keep) await RecordProjectAsync(database.Project, failed with { Database = database.Name, Owner = database.Owner });
            await FinishDatabaseRemovalAsync(database.Name, CancellationToken.None, keep
                ? database with
                {
                    Status = DatabaseStatus.Failed,
                    Error = e switch
                    {
                        DevDbException => e.Message,
                        OperationCanceledException => $"Creating database '{database.Name}' was stopped: the DevDb server shut down before it finished.",
                        _ => $"Creating database '{database.Name}' failed: {e.Message}",
                    },
                    ErrorCode = (e as DevDbException)?.Code ?? ErrorCodes.DatabaseCreateFailed,
                    History = HistoryRules.Append(database.History, failed with { ErrorCode = (e as DevDbException)?.Code ?? ErrorCodes.DatabaseCreateFailed }),
                }
                : null);
            throw;
        }
    }

    public Task<IReadOnlyList<Database>> GetDatabasesAsync(string? project = null, string? owner = null, CancellationToken cancellationToken = default)
    {
        if (project is not null) RequireProject(project);
        return Task.FromResult<IReadOnlyList<Database>>(_catalog.Databases()
            .Where(r => (project is null || r.Database.Project == project) && (owner is null || r.Database.Owner == owner))
            .Select(Observed).ToList());
    }

    public Task<Database> GetDatabaseAsync(string name, CancellationToken cancellationToken = default) =>
        Task.FromResult(Observed(RequireDatabase(name)));

    public Task<ConnectionInfo> GetConnectionAsync(string name, CancellationToken cancellationToken = default)
    {
        var database = Observed(RequireDatabase(name));
        string password;
        try
        {
            if (database.Status == DatabaseStatus.Failed) throw RecordedErrors.DatabaseFailed(database);
            password = _secrets.Read(name);
        }
        catch (FileNotFoundException)
        {
            // A background create failed (or the database was removed) between the two reads.
            throw RequireDatabase(name).Database is { Status: DatabaseStatus.Failed } failed ? RecordedErrors.DatabaseFailed(failed) : DevDbErrors.DatabaseNotFound(name);
        }
        return Task.FromResult(new ConnectionInfo(database.Host, database.Port, database.DatabaseName, database.Username, password));
    }

    public async Task RemoveDatabaseAsync(string name, CancellationToken cancellationToken = default)
    {
        await PrepareChangeAsync(cancellationToken);
        string project;
        using (await LockDatabaseAsync(name, cancellationToken))
        {
            var record = RequireDatabase(name);
            try
            {
                LifetimeRules.CheckRemovable(record.Database);
            }
            catch (DevDbException refused)
            {
                await RecordDatabaseAsync(name, Entry(HistoryAction.Removed, refused));
                throw;
            }
            project = record.Database.Project;
            await RepairDatabaseAsync(name, cancellationToken);
            await RemoveDatabaseUnderLockAsync(name, cancellationToken);
        }
        await PruneImagesAsync(project);
    }

    /// <summary>
    /// Records the removal, then deletes the server, data, secret and record; the caller holds the
    /// database's lock. With <paramref name="onlyIf"/>, only when the record still passes it (under the
    /// catalog's lock). True when it removed the database. Its project's history and the log say so
    /// (<paramref name="why"/>: Removed or Expired).
    /// </summary>
    private async Task<bool> RemoveDatabaseUnderLockAsync(string name, CancellationToken cancellationToken, Func<DatabaseRecord, bool>? onlyIf = null,
        HistoryAction why = HistoryAction.Removed)
    {
        Database removed;
        using (await _catalog.LockAsync(cancellationToken))
        {
            if (_catalog.FindDatabase(name) is not { } record || onlyIf?.Invoke(record) == false) return false;
            _catalog.Save(record with { Pending = PendingOperation.Begin(OperationKind.RemoveDatabase) });
            removed = record.Database;
        }
        FaultPoints.Reach("remove-database:recorded");
        await FinishDatabaseRemovalAsync(name, cancellationToken);
        await RecordRemovalAsync(removed, Entry(why, detail: why == HistoryAction.Expired ? $"expired at {removed.ExpiresAt:u}" : null));
        return true;
    }

    /// <summary>A database is gone: its project's history names it, and the log has its one line.</summary>
    private async Task RecordRemovalAsync(Database removed, HistoryEntry removal)
    {
        await RecordProjectAsync(removed.Project, removal with { Database = removed.Name, Owner = removed.Owner });
        RemovalLog.Write(_options.Log, removed, removal);
    }

    /// <summary>Deletes a database's server, data and secret; its record too, or, with <paramref name="keepAs"/>, that Failed record instead.</summary>
    private async Task FinishDatabaseRemovalAsync(string name, CancellationToken cancellationToken, Database? keepAs = null)
    {
        await _runtime.DeleteDatabaseAsync(name, cancellationToken);
        FaultPoints.Reach("remove-database:deleted");
        using (await _catalog.LockAsync(CancellationToken.None))
        {
            _secrets.Delete(name);
            if (keepAs is null) _catalog.DeleteDatabase(name);
            else _catalog.Save(new DatabaseRecord(keepAs));
        }
    }

    /// <summary>
    /// Records the database as it is now, with no step pending; what only the record knows (its server's
    /// user, its checkpoints, a branch's origin) stays, and so does its lifetime, which Set-DevDbDatabase may
    /// change while a step runs, and its history, to which <paramref name="entry"/> (the step's outcome) is added.
    /// A database that runs now counts as used now (its idle time starts again); a stopped one says why
    /// (Requested unless given), a running one has no stop reason.
    /// </summary>
    private async Task<Database> SaveDatabaseAsync(Database database, HistoryEntry? entry = null)
    {
        using (await _catalog.LockAsync(CancellationToken.None))
        {
            var current = _catalog.FindDatabase(database.Name);
            if (current is not null)
                database = database with
                {
                    ExpiresAt = current.Database.ExpiresAt, Protected = current.Database.Protected, IdleTimeout = current.Database.IdleTimeout,
                    LastActiveAt = Latest(current.Database.LastActiveAt, database.LastActiveAt), History = current.Database.History,
                };
            if (entry is not null) database = database with { History = HistoryRules.Append(database.History, entry) };
            var running = database.Status == DatabaseStatus.Running;
            database = database with
            {
                LastActiveAt = running ? _options.Clock.GetUtcNow() : database.LastActiveAt,
                StopReason = database.Status == DatabaseStatus.Stopped ? database.StopReason ?? StopReason.Requested : null,
            };
            _catalog.Save(current is null ? new DatabaseRecord(database)
                : current with { Database = database, Pending = null, IdleSessions = running ? null : current.IdleSessions });
        }
        return database;
    }

    private static DateTimeOffset? Latest(DateTimeOffset? a, DateTimeOffset? b) => a is null ? b : b is null ? a : a > b ? a : b;

    private DatabaseSpec SpecOf(DatabaseRecord record, int revision, Project project) =>
        new(record.Database.Name, record.Database.Project, revision, record.Database.Port, record.Database.DatabaseName, record.Database.Username,
            _secrets.Read(record.Database.Name), project.PostgresVersion, project.SuperuserLogins, record.ServerUid);

    /// <summary>
    /// The record as it is now, without changing it: a server that died while meant to run is
    /// Crashed (with its log's last lines); a create whose process died is Failed.
    /// </summary>
    private Database Observed(DatabaseRecord record)
    {
        var database = record.Database;
        var abandoned = record.Pending is { } step && !step.OwnerIsAlive() ? step : null;
        // A reset, stop or start whose process died: the status it had (the next change repairs it).
        if (abandoned is not null && DatabaseRules.IsBusy(database.Status) && database.Status != DatabaseStatus.Creating)
            database = database with
            {
                Status = abandoned.PreviousStatus ?? DatabaseStatus.Stopped,
                Error = abandoned.Accepted ? InterruptedStep(database.Name, abandoned).Message : null,
                ErrorCode = abandoned.Accepted ? ErrorCodes.OperationInterrupted : null,
            };
        if (database.Status == DatabaseStatus.Running && (record.Pending is null || abandoned is not null) && !_runtime.IsRunning(database.Name))
            return database with
            {
                Status = DatabaseStatus.Crashed,
                Error = $"The server of database '{database.Name}' stopped without being asked to. Its log ends: {_runtime.LastLogLines(database.Name)}",
            };
        if (database.Status == DatabaseStatus.Creating && record.Pending is { } pending && !pending.OwnerIsAlive())
            return database with { Status = DatabaseStatus.Failed, ErrorCode = ErrorCodes.DatabaseCreateFailed, Error = Interrupted(database.Name, pending) };
        return database;
    }

    private static DevDbException InterruptedStep(string name, PendingOperation pending) =>
        DevDbErrors.OperationInterrupted(name, Doing(pending.Kind), $"the process doing it (process {pending.ProcessId}) stopped before it finished");

    private static string Interrupted(string name, PendingOperation pending) =>
        $"Database '{name}' was not created: the process creating it (process {pending.ProcessId}) stopped before it finished.";
}
