using DevDb.Core.Catalog;
using DevDb.Core.Client;
using DevDb.Core.Model;
using DevDb.Core.Rules;
using DevDb.Core.Runtimes;
using DevDb.Core.Runtimes.Local;

namespace DevDb.Core.Engine;

/// <summary>Databases: creating (cloning), resetting, stopping, starting and removing them, each under its lock.</summary>
public sealed partial class DevDbEngine
{
    /// <summary>A clone recorded and ready to run: the database's lock (held until it ends) and what to clone.</summary>
    private sealed record PendingClone(IDisposable Lock, DatabaseSpec Spec);

    public async Task<Database> NewDatabaseAsync(NewDatabaseRequest request, IProgress<DevDbProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var (database, clone) = await BeginNewDatabaseAsync(request, accepted: false, cancellationToken);
        if (clone is null)
            return database.Status == DatabaseStatus.Creating ? await WaitDatabaseAsync(database.Name, progress, cancellationToken) : database;
        using (clone.Lock)
            return await CloneAsync(database, clone.Spec, accepted: false, progress, cancellationToken);
    }

    public async Task<Database> StartNewDatabaseAsync(NewDatabaseRequest request, CancellationToken cancellationToken = default)
    {
        var (database, clone) = await BeginNewDatabaseAsync(request, accepted: true, cancellationToken);
        if (clone is not null)
            RunInBackground(clone.Lock, token => CloneAsync(database, clone.Spec, accepted: true, progress: null, token));
        return database;
    }

    public async Task<Database> WaitDatabaseAsync(string name, IProgress<DevDbProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        progress?.Report(new DevDbProgress($"Creating database {name}", "Waiting for the clone"));
        while (true)
        {
            var database = Observed(RequireDatabase(name));
            if (database.Status == DatabaseStatus.Failed) throw RecordedErrors.CreateFailed(database);
            if (database.Status != DatabaseStatus.Creating) return database;
            await Task.Delay(PollInterval, cancellationToken);
        }
    }

    /// <summary>
    /// Checks the request and records the database Creating, with a port, a password and its
    /// server's user, under its lock. Returns no clone when the same request was made before
    /// (same project and owner): there is nothing to clone. A Failed one of that request is replaced.
    /// </summary>
    private async Task<(Database Database, PendingClone? Clone)> BeginNewDatabaseAsync(NewDatabaseRequest request, bool accepted, CancellationToken cancellationToken)
    {
        RequestLimits.Check(request);
        var owner = request.Owner ?? Environment.UserName;
        // A repeated request is answered at once, even while its first clone runs.
        if (_catalog.FindDatabase(request.Name) is { } seen && DatabaseRules.ClassifyNew(seen.Database, request.Project, owner) == NewDatabaseDecision.Identical)
            return (Observed(seen), null);
        await EnsureRecoveredAsync(cancellationToken);
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
                var image = ProjectRules.ImageToClone(project);
                var others = records.Where(r => r.Database.Name != request.Name).ToList();
                var port = PortAllocator.Allocate(others.Select(r => r.Database.Port));
                var uid = _runtime.ChooseServerUid(others.Select(r => r.ServerUid).OfType<int>());
                var spec = new DatabaseSpec(request.Name, project.Name, image.Revision, port, project.DatabaseName, request.Name,
                    SecretStore.NewPassword(), project.PostgresVersion, project.SuperuserLogins, uid);
                var database = new Database
                {
                    Name = request.Name, Project = project.Name, ImageRevision = image.Revision, Status = DatabaseStatus.Creating,
                    Host = _runtime.HostOf(request.Name), Port = port, DatabaseName = project.DatabaseName, Username = spec.Username,
                    Owner = owner, Created = DateTimeOffset.UtcNow,
                };
                _catalog.Save(new DatabaseRecord(database, PendingOperation.Begin(OperationKind.CreateDatabase, accepted: accepted), uid));
                _secrets.Save(request.Name, spec.Password);
                FaultPoints.Reach("new-database:recorded");
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
                    await _runtime.CreateDatabaseAsync(spec, progress, cancellationToken);
                    return await SaveDatabaseAsync(database with { Status = DatabaseStatus.Running });
                }
                catch (DevDbException e) when (e.Code == ErrorCodes.PortInUse && attempt < 5)
                {
                    await _runtime.DeleteDatabaseAsync(database.Name, cancellationToken);
                    using (await _catalog.LockAsync(cancellationToken))
                    {
                        var port = PortAllocator.Allocate(_catalog.Databases().Select(r => r.Database.Port));
                        database = database with { Port = port };
                        spec = spec with { Port = port };
                        _catalog.Save(new DatabaseRecord(database, PendingOperation.Begin(OperationKind.CreateDatabase, accepted: accepted), spec.ServerUid));
                    }
                }
            }
        }
        catch (Exception e)
        {
            var keep = accepted && (e is not OperationCanceledException || HostIsStopping);
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
            if (database.Status == DatabaseStatus.Failed) throw RecordedErrors.CreateFailed(database);
            password = _secrets.Read(name);
        }
        catch (FileNotFoundException)
        {
            // A background create failed (or the database was removed) between the two reads.
            throw RequireDatabase(name).Database is { Status: DatabaseStatus.Failed } failed ? RecordedErrors.CreateFailed(failed) : DevDbErrors.DatabaseNotFound(name);
        }
        return Task.FromResult(new ConnectionInfo(database.Host, database.Port, database.DatabaseName, database.Username, password));
    }

    public async Task RemoveDatabaseAsync(string name, CancellationToken cancellationToken = default)
    {
        await EnsureRecoveredAsync(cancellationToken);
        string project;
        using (await LockDatabaseAsync(name, cancellationToken))
        {
            project = RequireDatabase(name).Database.Project;
            await RepairDatabaseAsync(name, cancellationToken);
            await RemoveDatabaseUnderLockAsync(name, cancellationToken);
        }
        await PruneImagesAsync(project);
    }

    /// <summary>Records the removal, then deletes the server, data, secret and record; the caller holds the database's lock.</summary>
    private async Task RemoveDatabaseUnderLockAsync(string name, CancellationToken cancellationToken)
    {
        using (await _catalog.LockAsync(cancellationToken))
        {
            if (_catalog.FindDatabase(name) is not { } record) return;
            _catalog.Save(record with { Pending = PendingOperation.Begin(OperationKind.RemoveDatabase) });
        }
        FaultPoints.Reach("remove-database:recorded");
        await FinishDatabaseRemovalAsync(name, cancellationToken);
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

    public async Task<Database> ResetDatabaseAsync(string name, IProgress<DevDbProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        await EnsureRecoveredAsync(cancellationToken);
        Database reset;
        using (await LockDatabaseAsync(name, cancellationToken))
        {
            await RepairDatabaseAsync(name, cancellationToken);
            var (record, previous) = await BeginDatabaseStepAsync(name, OperationKind.ResetDatabase, cancellationToken);
            var project = RequireProject(record.Database.Project).Project;
            var spec = SpecOf(record, ProjectRules.ImageToClone(project).Revision, project);
            FaultPoints.Reach("reset-database:recorded");
            try
            {
                await _runtime.ResetDatabaseAsync(spec, progress, cancellationToken);
            }
            catch
            {
                await SaveDatabaseAsync(record.Database with { Status = _runtime.IsRunning(name) ? DatabaseStatus.Running : StoppedOr(previous) });
                throw;
            }
            reset = await SaveDatabaseAsync(record.Database with { ImageRevision = spec.ImageRevision, Status = DatabaseStatus.Running, Error = null });
        }
        await PruneImagesAsync(reset.Project);
        return reset;
    }

    public async Task<Database> StopDatabaseAsync(string name, CancellationToken cancellationToken = default)
    {
        await EnsureRecoveredAsync(cancellationToken);
        using (await LockDatabaseAsync(name, cancellationToken))
        {
            await RepairDatabaseAsync(name, cancellationToken);
            var (record, _) = await BeginDatabaseStepAsync(name, OperationKind.StopDatabase, cancellationToken);
            FaultPoints.Reach("stop-database:recorded");
            await _runtime.StopDatabaseAsync(name, cancellationToken);
            FaultPoints.Reach("stop-database:stopped");
            return await SaveDatabaseAsync(record.Database with { Status = DatabaseStatus.Stopped, Error = null });
        }
    }

    public async Task<Database> StartDatabaseAsync(string name, CancellationToken cancellationToken = default)
    {
        await EnsureRecoveredAsync(cancellationToken);
        using (await LockDatabaseAsync(name, cancellationToken))
        {
            await RepairDatabaseAsync(name, cancellationToken);
            var (record, previous) = await BeginDatabaseStepAsync(name, OperationKind.StartDatabase, cancellationToken);
            FaultPoints.Reach("start-database:recorded");
            var project = RequireProject(record.Database.Project).Project;
            try
            {
                await _runtime.StartDatabaseAsync(SpecOf(record, record.Database.ImageRevision, project), cancellationToken);
            }
            catch
            {
                await SaveDatabaseAsync(record.Database with { Status = StoppedOr(previous) });
                throw;
            }
            FaultPoints.Reach("start-database:started");
            return await SaveDatabaseAsync(record.Database with { Status = DatabaseStatus.Running, Error = null });
        }
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

    /// <summary>Under the database's lock: checks it can be changed and records the step; returns the record and its status before.</summary>
    private async Task<(DatabaseRecord Record, DatabaseStatus Previous)> BeginDatabaseStepAsync(string name, OperationKind kind, CancellationToken cancellationToken)
    {
        using (await _catalog.LockAsync(cancellationToken))
        {
            var record = RequireDatabase(name);
            var observed = Observed(record);
            DatabaseRules.CheckUsable(observed);
            _catalog.Save(record with { Pending = PendingOperation.Begin(kind, previousStatus: observed.Status) });
            return (record, observed.Status);
        }
    }

    /// <summary>What a step that failed leaves: stopped, but still Crashed if it was.</summary>
    private static DatabaseStatus StoppedOr(DatabaseStatus previous) => previous == DatabaseStatus.Crashed ? DatabaseStatus.Crashed : DatabaseStatus.Stopped;

    /// <summary>Records the database as it is now, with no step pending; what only the record knows (its server's user) stays.</summary>
    private async Task<Database> SaveDatabaseAsync(Database database)
    {
        using (await _catalog.LockAsync(CancellationToken.None))
            _catalog.Save(new DatabaseRecord(database, ServerUid: _catalog.FindDatabase(database.Name)?.ServerUid));
        return database;
    }

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
        if (database.Status == DatabaseStatus.Running && record.Pending is null && !_runtime.IsRunning(database.Name))
            return database with
            {
                Status = DatabaseStatus.Crashed,
                Error = $"The server of database '{database.Name}' stopped without being asked to. Its log ends: {_runtime.LastLogLines(database.Name)}",
            };
        if (database.Status == DatabaseStatus.Creating && record.Pending is { } pending && !pending.OwnerIsAlive())
            return database with { Status = DatabaseStatus.Failed, ErrorCode = ErrorCodes.DatabaseCreateFailed, Error = Interrupted(database.Name, pending) };
        return database;
    }

    private static string Interrupted(string name, PendingOperation pending) =>
        $"Database '{name}' was not created: the process creating it (process {pending.ProcessId}) stopped before it finished.";
}
