using System.Collections.Concurrent;
using DevDb.Core.Catalog;
using DevDb.Core.Client;
using DevDb.Core.Model;
using DevDb.Core.Runtimes;
using DevDb.Core.Runtimes.Local;
using DevDb.Core.Sources;

namespace DevDb.Core.Engine;

/// <summary>Options of the embedded (local) engine.</summary>
public sealed record LocalEngineOptions
{
    /// <summary>State folder; null uses DEVDB_HOME, else the user's local app-data folder (or /var/lib/devdb as root).</summary>
    public string? Home { get; init; }
    public DumpSourceOptions Sources { get; init; } = new();
    /// <summary>Where database servers listen and which host their connection details name.</summary>
    public DatabaseNetwork Network { get; init; } = new();
}

/// <summary>
/// The engine: validates requests, records intent in the catalog before each step and the
/// outcome after it, and asks the runtime to do the work. Catalog changes happen under the
/// catalog lock; long work (restores, clones) happens outside it, marked by a
/// <see cref="PendingOperation"/> that the next engine to open finishes or rolls back if the
/// process doing it died.
/// </summary>
public sealed class DevDbEngine : IDevDbService
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    private readonly FileCatalog _catalog;
    private readonly SecretStore _secrets;
    private readonly IRuntime _runtime;
    private readonly DumpSourceOptions _sourceOptions;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<int, Task> _background = new();

    private DevDbEngine(string home, FileCatalog catalog, SecretStore secrets, IRuntime runtime, DumpSourceOptions sourceOptions)
    {
        Home = home;
        _catalog = catalog;
        _secrets = secrets;
        _runtime = runtime;
        _sourceOptions = sourceOptions;
    }

    public string Home { get; }

    /// <summary>Opens the embedded engine on this machine, creating its state folder and repairing what a crashed command left.</summary>
    public static DevDbEngine OpenLocal(LocalEngineOptions? options = null)
    {
        options ??= new LocalEngineOptions();
        var layout = new LocalLayout(options.Home ?? LocalLayout.DefaultHome());
        var serverUser = ServerUser.Resolve();
        layout.EnsureCreated(serverUser);
        var engine = new DevDbEngine(layout.Home, new FileCatalog(layout.Catalog), new SecretStore(layout.Secrets),
            new LocalRuntime(layout, serverUser, options.Network), options.Sources);
        engine.RecoverAsync(CancellationToken.None).GetAwaiter().GetResult();
        return engine;
    }

    /// <summary>Releases nothing: work started with Start* goes on in this process (a PowerShell session ends each command this way).</summary>
    public void Dispose()
    {
    }

    /// <summary>Graceful shutdown of a host (the API): cancels work started with Start* and waits until it has cleaned up.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        try
        {
            await Task.WhenAll(_background.Values);
        }
        catch (Exception)
        {
            // Each background step records its own outcome; shutdown only waits for them.
        }
        _stopping.Dispose();
    }

    /// <summary>Runs long work after the request that started it has returned; it records its own outcome.</summary>
    private void RunInBackground(Func<CancellationToken, Task> work)
    {
        var task = Task.Run(async () =>
        {
            try
            {
                await work(_stopping.Token);
            }
            catch (Exception)
            {
                // Recorded by the work itself (a Failed database or project); nobody awaits it.
            }
        });
        _background[task.Id] = task;
        task.ContinueWith(t => _background.TryRemove(t.Id, out _), TaskScheduler.Default);
    }

    // ---- projects -------------------------------------------------------------------------

    public async Task<Project> NewProjectAsync(NewProjectRequest request, IProgress<DevDbProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var (project, source) = await RecordNewProjectAsync(request, cancellationToken);
        if (source is null)
            return project.Status == ProjectStatus.Building ? await WaitProjectAsync(project.Name, progress, cancellationToken) : project;
        return await BuildImageAsync(project, 1, source, isNewProject: true, progress, cancellationToken);
    }

    /// <summary>Records the project and builds image revision 1 in the background; returns it Building (or the identical project as it is).</summary>
    public async Task<Project> StartNewProjectAsync(NewProjectRequest request, CancellationToken cancellationToken = default)
    {
        var (project, source) = await RecordNewProjectAsync(request, cancellationToken);
        if (source is not null)
            RunInBackground(token => BuildImageAsync(project, 1, source, isNewProject: true, progress: null, token));
        return project;
    }

    /// <summary>
    /// Checks the request and its source, and records the project Building. Returns no source
    /// when an identical project exists already (ready, or being built): there is nothing to build.
    /// </summary>
    private async Task<(Project Project, IDumpSource? Source)> RecordNewProjectAsync(NewProjectRequest request, CancellationToken cancellationToken)
    {
        Names.Validate(request.Name, "project");
        Names.ValidateDatabaseName(request.DatabaseName);
        var version = PostgresInstallation.Find(request.PostgresVersion).MajorVersion;
        var source = await OpenAndProbeAsync(request.Source, cancellationToken);

        using (await _catalog.LockAsync(cancellationToken))
        {
            if (_catalog.FindProject(request.Name) is { } existing)
            {
                var same = existing.Project.Source == request.Source && existing.Project.PostgresVersion == version
                           && existing.Project.DatabaseName == request.DatabaseName && existing.Project.PostRestoreSql == request.PostRestoreSql;
                var building = existing.Pending is { Kind: OperationKind.BuildImage } pending && pending.OwnerIsAlive();
                if (same && (building || existing.Pending is null) && existing.Project.Status != ProjectStatus.Failed)
                    return (existing.Project, null);
                if (existing.Pending is not null || existing.Project.Status != ProjectStatus.Failed)
                    throw new DevDbException(ErrorCodes.ProjectExists, DevDbErrorCategory.ResourceExists,
                        existing.Pending is not null
                            ? $"Project '{request.Name}' is busy in another session (it is being built or removed)."
                            : $"Project '{request.Name}' already exists with another definition (source '{existing.Project.Source}', PostgreSQL {existing.Project.PostgresVersion}).",
                        $"Choose another name, change it with Update-DevDbProject, or remove it first with Remove-DevDbProject -Name {request.Name}.",
                        request.Name);
                // A project whose first build failed is rebuilt from the new definition.
            }
            var project = new Project
            {
                Name = request.Name, PostgresVersion = version, Source = request.Source, DatabaseName = request.DatabaseName,
                PostRestoreSql = request.PostRestoreSql, Status = ProjectStatus.Building, Created = DateTimeOffset.UtcNow,
                Images = [NewImage(request.Name, 1)],
            };
            _catalog.Save(new ProjectRecord(project, PendingOperation.Begin(OperationKind.BuildImage, 1)));
            return (project, source);
        }
    }

    public Task<IReadOnlyList<Project>> GetProjectsAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<Project>>(_catalog.Projects().Select(r => r.Project).ToList());

    public Task<Project> GetProjectAsync(string name, CancellationToken cancellationToken = default) =>
        Task.FromResult(RequireProject(name).Project);

    public async Task<Project> UpdateProjectAsync(UpdateProjectRequest request, IProgress<DevDbProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var (project, revision, source) = await RecordUpdateAsync(request, cancellationToken);
        var updated = await BuildImageAsync(project, revision, source, isNewProject: false, progress, cancellationToken);
        return await PruneImagesAsync(updated.Name) ?? updated;
    }

    /// <summary>Records the next image revision and builds it in the background; returns the project with that image Building.</summary>
    public async Task<Project> StartUpdateProjectAsync(UpdateProjectRequest request, CancellationToken cancellationToken = default)
    {
        var (project, revision, source) = await RecordUpdateAsync(request, cancellationToken);
        RunInBackground(async token =>
        {
            await BuildImageAsync(project, revision, source, isNewProject: false, progress: null, token);
            await PruneImagesAsync(project.Name);
        });
        return project;
    }

    private async Task<(Project Project, int Revision, IDumpSource Source)> RecordUpdateAsync(UpdateProjectRequest request, CancellationToken cancellationToken)
    {
        var current = RequireProject(request.Name).Project;
        var source = await OpenAndProbeAsync(request.Source ?? current.Source, cancellationToken);
        using (await _catalog.LockAsync(cancellationToken))
        {
            var record = RequireProject(request.Name);
            if (record.Pending is not null) throw Busy("Project", request.Name, record.Pending);
            var revision = record.Project.Images.Select(i => i.Revision).DefaultIfEmpty(0).Max() + 1;
            var project = record.Project with
            {
                Source = request.Source ?? record.Project.Source,
                PostRestoreSql = request.PostRestoreSql ?? record.Project.PostRestoreSql,
                Status = record.Project.LatestImage is null ? ProjectStatus.Building : record.Project.Status,
                Images = [.. record.Project.Images, NewImage(request.Name, revision)],
            };
            _catalog.Save(new ProjectRecord(project, PendingOperation.Begin(OperationKind.BuildImage, revision)));
            return (project, revision, source);
        }
    }

    public async Task<Project> WaitProjectAsync(string name, IProgress<DevDbProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            var record = RequireProject(name);
            var building = record.Project.Images.FirstOrDefault(i => i.Status == ImageStatus.Building);
            if (building is null)
                return record.Project.Error is null
                    ? record.Project
                    : throw RecordedErrors.BuildFailed(record.Project, record.Project.Images.Select(i => i.Revision).DefaultIfEmpty(0).Max() + 1);
            if (record.Pending is not { Kind: OperationKind.BuildImage } pending || !pending.OwnerIsAlive())
                throw RecordedErrors.BuildFailed(record.Project, building.Revision);
            progress?.Report(new DevDbProgress($"Building image {name} r{building.Revision}", "Restoring"));
            await Task.Delay(PollInterval, cancellationToken);
        }
    }

    public async Task RemoveProjectAsync(string name, bool force = false, CancellationToken cancellationToken = default)
    {
        Project project;
        List<string> databases;
        using (await _catalog.LockAsync(cancellationToken))
        {
            var record = RequireProject(name);
            databases = _catalog.Databases().Where(d => d.Database.Project == name).Select(d => d.Database.Name).ToList();
            if (databases.Count > 0 && !force)
                throw new DevDbException(ErrorCodes.ProjectHasDatabases, DevDbErrorCategory.InvalidOperation,
                    $"Project '{name}' still has {databases.Count} database(s): {string.Join(", ", databases)}.",
                    $"Remove them first (Get-DevDbDatabase -Project {name} | Remove-DevDbDatabase), or use -Force to remove them with the project.",
                    name);
            if (record.Pending is { Kind: OperationKind.BuildImage } pending && pending.OwnerIsAlive()) throw Busy("Project", name, pending);
            project = record.Project;
            _catalog.Save(record with { Pending = PendingOperation.Begin(OperationKind.RemoveProject) });
        }
        foreach (var database in databases) await RemoveDatabaseAsync(database, cancellationToken);
        await FinishProjectRemovalAsync(project, cancellationToken);
    }

    private async Task FinishProjectRemovalAsync(Project project, CancellationToken cancellationToken)
    {
        foreach (var image in project.Images) await _runtime.DeleteImageAsync(project.Name, image.Revision, cancellationToken);
        using (await _catalog.LockAsync(cancellationToken))
            _catalog.DeleteProject(project.Name);
    }

    private async Task<Project> BuildImageAsync(Project project, int revision, IDumpSource source, bool isNewProject,
        IProgress<DevDbProgress>? progress, CancellationToken cancellationToken)
    {
        var started = DateTimeOffset.UtcNow;
        try
        {
            var built = await _runtime.BuildImageAsync(project, revision, source, progress, cancellationToken);
            return await SaveImageAsync(project.Name, revision, p => Settled(p, error: null, errorCode: null),
                image => image with
                {
                    Status = ImageStatus.Ready, SourceFormat = built.SourceFormat.ToString(), SourceBytes = built.SourceBytes,
                    SizeBytes = built.SizeBytes, BuildDuration = DateTimeOffset.UtcNow - started,
                });
        }
        catch (OperationCanceledException)
        {
            // Stopped by the user: leave things as they were before the command.
            if (isNewProject)
            {
                using (await _catalog.LockAsync(CancellationToken.None))
                    _catalog.DeleteProject(project.Name);
            }
            else
            {
                await SaveImageAsync(project.Name, revision, p => Settled(p, p.Error, p.ErrorCode), image: null);
            }
            throw;
        }
        catch (Exception e)
        {
            var error = e as DevDbException ?? new DevDbException(ErrorCodes.RestoreFailed, DevDbErrorCategory.InvalidData,
                $"Building image r{revision} of project '{project.Name}' failed: {e.Message}",
                "Fix the cause, then run Update-DevDbProject to try again.", project.Name, e);
            await SaveImageAsync(project.Name, revision, p => Settled(p, error.Message, error.Code), image: null);
            if (error == e) throw;
            throw error;
        }
    }

    /// <summary>Records the outcome of an image build: the image updated (or dropped when null), the pending mark cleared.</summary>
    private async Task<Project> SaveImageAsync(string name, int revision, Func<Project, Project> updateProject, Func<Image, Image>? image)
    {
        using (await _catalog.LockAsync(CancellationToken.None))
        {
            var record = RequireProject(name);
            var images = image is null
                ? record.Project.Images.Where(i => i.Revision != revision).ToList()
                : record.Project.Images.Select(i => i.Revision == revision ? image(i) : i).ToList();
            var project = updateProject(record.Project with { Images = images });
            _catalog.Save(new ProjectRecord(project));
            return project;
        }
    }

    // ---- databases ------------------------------------------------------------------------

    public async Task<Database> NewDatabaseAsync(NewDatabaseRequest request, IProgress<DevDbProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var (database, spec) = await RecordNewDatabaseAsync(request, cancellationToken);
        if (spec is null)
            return database.Status == DatabaseStatus.Creating ? await WaitDatabaseAsync(database.Name, progress, cancellationToken) : database;
        return await CloneAsync(database, spec, keepFailedRecord: false, progress, cancellationToken);
    }

    public async Task<Database> StartNewDatabaseAsync(NewDatabaseRequest request, CancellationToken cancellationToken = default)
    {
        var (database, spec) = await RecordNewDatabaseAsync(request, cancellationToken);
        if (spec is not null)
            RunInBackground(token => CloneAsync(database, spec, keepFailedRecord: true, progress: null, token));
        return database;
    }

    public async Task<Database> WaitDatabaseAsync(string name, IProgress<DevDbProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        progress?.Report(new DevDbProgress($"Creating database {name}", "Waiting for the clone"));
        while (true)
        {
            var record = RequireDatabase(name);
            var database = Observed(record);
            if (database.Status == DatabaseStatus.Failed) throw RecordedErrors.CreateFailed(database);
            if (database.Status != DatabaseStatus.Creating) return database;
            if (record.Pending is { } pending && !pending.OwnerIsAlive())
                throw new DevDbException(ErrorCodes.DatabaseCreateFailed, DevDbErrorCategory.InvalidOperation,
                    $"Database '{name}' was not created: the process creating it (process {pending.ProcessId}) stopped.",
                    $"Create it again with New-DevDbDatabase -Name {name}.", name);
            await Task.Delay(PollInterval, cancellationToken);
        }
    }

    /// <summary>
    /// Checks the request and records the database Creating, with a port and a password. Returns
    /// no spec when an identical database (same project and owner) exists: there is nothing to
    /// clone. A Failed one of the same name, project and owner is replaced.
    /// </summary>
    private async Task<(Database Database, DatabaseSpec? Spec)> RecordNewDatabaseAsync(NewDatabaseRequest request, CancellationToken cancellationToken)
    {
        Names.Validate(request.Name, "database");
        var owner = request.Owner ?? Environment.UserName;
        using (await _catalog.LockAsync(cancellationToken))
        {
            var records = _catalog.Databases();
            if (records.FirstOrDefault(r => r.Database.Name == request.Name) is { } existing)
            {
                if (existing.Database.Project != request.Project || existing.Database.Owner != owner)
                    throw new DevDbException(ErrorCodes.DatabaseExists, DevDbErrorCategory.ResourceExists,
                        $"A database named '{request.Name}' already exists (project '{existing.Database.Project}', owner '{existing.Database.Owner}').",
                        $"Choose another name, or reuse it: Get-DevDbDatabase -Name {request.Name}.", request.Name);
                if (existing.Database.Status != DatabaseStatus.Failed) return (Observed(existing), null);
            }
            var project = RequireProject(request.Project).Project;
            var image = project.LatestImage ?? throw new DevDbException(ErrorCodes.ProjectNotReady, DevDbErrorCategory.InvalidOperation,
                project.Status == ProjectStatus.Failed
                    ? $"Project '{project.Name}' has no image to clone: its build failed: {project.Error}"
                    : $"Project '{project.Name}' has no image to clone yet: its first image is still being built.",
                project.Status == ProjectStatus.Failed
                    ? $"Fix the source and run Update-DevDbProject -Name {project.Name}."
                    : "Wait for the build to finish, then try again.", project.Name);
            var port = PortAllocator.Allocate(records.Where(r => r.Database.Name != request.Name).Select(r => r.Database.Port));
            var password = SecretStore.NewPassword();
            var spec = new DatabaseSpec(request.Name, project.Name, image.Revision, port, project.DatabaseName, request.Name, password, project.PostgresVersion);
            var database = new Database
            {
                Name = request.Name, Project = project.Name, ImageRevision = image.Revision, Status = DatabaseStatus.Creating,
                Host = _runtime.HostOf(request.Name), Port = port, DatabaseName = project.DatabaseName, Username = spec.Username,
                Owner = owner, Created = DateTimeOffset.UtcNow,
            };
            _catalog.Save(new DatabaseRecord(database, PendingOperation.Begin(OperationKind.CreateDatabase)));
            _secrets.Save(request.Name, password);
            return (database, spec);
        }
    }

    /// <summary>
    /// Clones, starts and records a database recorded Creating. On failure nothing of it runs or is
    /// kept: the record goes too, or, for a create nobody waits on, stays as Failed with the error.
    /// </summary>
    private async Task<Database> CloneAsync(Database database, DatabaseSpec spec, bool keepFailedRecord,
        IProgress<DevDbProgress>? progress, CancellationToken cancellationToken)
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
                        _catalog.Save(new DatabaseRecord(database, PendingOperation.Begin(OperationKind.CreateDatabase)));
                    }
                }
            }
        }
        catch (Exception e)
        {
            await FinishDatabaseRemovalAsync(database.Name, CancellationToken.None, keepFailedRecord && e is not OperationCanceledException
                ? database with
                {
                    Status = DatabaseStatus.Failed,
                    Error = e is DevDbException ? e.Message : $"Creating database '{database.Name}' failed: {e.Message}",
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
        var database = RequireDatabase(name).Database;
        string password;
        try
        {
            if (database.Status == DatabaseStatus.Failed) throw RecordedErrors.CreateFailed(database);
            password = _secrets.Read(name);
        }
        catch (FileNotFoundException)
        {
            // A background create failed (or the database was removed) between the two reads.
            throw RequireDatabase(name).Database is { Status: DatabaseStatus.Failed } failed ? RecordedErrors.CreateFailed(failed) : NotFound(name);
        }
        return Task.FromResult(new ConnectionInfo(database.Host, database.Port, database.DatabaseName, database.Username, password));
    }

    public async Task RemoveDatabaseAsync(string name, CancellationToken cancellationToken = default)
    {
        DatabaseRecord record;
        using (await _catalog.LockAsync(cancellationToken))
        {
            record = RequireDatabase(name);
            ThrowIfBusy(record);
            _catalog.Save(record with { Pending = PendingOperation.Begin(OperationKind.RemoveDatabase) });
        }
        await FinishDatabaseRemovalAsync(name, cancellationToken);
        await PruneImagesAsync(record.Database.Project);
    }

    /// <summary>
    /// Deletes a project's images that can never be cloned again: not its newest, and used by no
    /// database. Skipped while anything of the project is in flight (a reset may be cloning).
    /// Returns the project as recorded afterwards, or null when nothing was pruned.
    /// </summary>
    private async Task<Project?> PruneImagesAsync(string projectName)
    {
        Project pruned;
        List<int> unused;
        using (await _catalog.LockAsync(CancellationToken.None))
        {
            if (_catalog.FindProject(projectName) is not { Pending: null } record) return null;
            var databases = _catalog.Databases().Where(d => d.Database.Project == projectName).ToList();
            if (databases.Any(d => d.Pending is not null)) return null;
            databases.RemoveAll(d => d.Database.Status == DatabaseStatus.Failed);
            var latest = record.Project.LatestImage?.Revision;
            unused = record.Project.Images
                .Where(i => i.Status == ImageStatus.Ready && i.Revision != latest && databases.All(d => d.Database.ImageRevision != i.Revision))
                .Select(i => i.Revision).ToList();
            if (unused.Count == 0) return null;
            pruned = record.Project with { Images = record.Project.Images.Where(i => !unused.Contains(i.Revision)).ToList() };
            _catalog.Save(record with { Project = pruned });
        }
        // Unrecorded first, deleted second: a crash in between leaves a folder the next recovery sweeps.
        foreach (var revision in unused) await _runtime.DeleteImageAsync(projectName, revision, CancellationToken.None);
        return pruned;
    }

    /// <summary>Deletes a database's server, data and secret; its record too, or, with <paramref name="keepAs"/>, that Failed record instead.</summary>
    private async Task FinishDatabaseRemovalAsync(string name, CancellationToken cancellationToken, Database? keepAs = null)
    {
        await _runtime.DeleteDatabaseAsync(name, cancellationToken);
        using (await _catalog.LockAsync(CancellationToken.None))
        {
            _secrets.Delete(name);
            if (keepAs is null) _catalog.DeleteDatabase(name);
            else _catalog.Save(new DatabaseRecord(keepAs));
        }
    }

    public async Task<Database> ResetDatabaseAsync(string name, IProgress<DevDbProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        DatabaseSpec spec;
        DatabaseRecord record;
        using (await _catalog.LockAsync(cancellationToken))
        {
            record = RequireDatabase(name);
            ThrowIfUnusable(record);
            var project = RequireProject(record.Database.Project).Project;
            var image = project.LatestImage ?? throw new DevDbException(ErrorCodes.ProjectNotReady, DevDbErrorCategory.InvalidOperation,
                $"Project '{project.Name}' has no ready image to reset '{name}' to.", $"Run Update-DevDbProject -Name {project.Name}.", project.Name);
            spec = SpecOf(record.Database, image.Revision, project.PostgresVersion);
            _catalog.Save(record with { Pending = PendingOperation.Begin(OperationKind.ResetDatabase) });
        }
        try
        {
            await _runtime.ResetDatabaseAsync(spec, progress, cancellationToken);
        }
        catch
        {
            await SaveDatabaseAsync(record.Database with { Status = _runtime.IsRunning(name) ? DatabaseStatus.Running : DatabaseStatus.Stopped });
            throw;
        }
        var reset = await SaveDatabaseAsync(record.Database with { ImageRevision = spec.ImageRevision, Status = DatabaseStatus.Running });
        await PruneImagesAsync(reset.Project);
        return reset;
    }

    public async Task<Database> StopDatabaseAsync(string name, CancellationToken cancellationToken = default)
    {
        var record = RequireDatabase(name);
        ThrowIfUnusable(record);
        await _runtime.StopDatabaseAsync(name, cancellationToken);
        return await SaveDatabaseAsync(record.Database with { Status = DatabaseStatus.Stopped });
    }

    public async Task<Database> StartDatabaseAsync(string name, CancellationToken cancellationToken = default)
    {
        var record = RequireDatabase(name);
        ThrowIfUnusable(record);
        var project = RequireProject(record.Database.Project).Project;
        await _runtime.StartDatabaseAsync(SpecOf(record.Database, record.Database.ImageRevision, project.PostgresVersion), cancellationToken);
        return await SaveDatabaseAsync(record.Database with { Status = DatabaseStatus.Running });
    }

    private async Task<Database> SaveDatabaseAsync(Database database)
    {
        using (await _catalog.LockAsync(CancellationToken.None))
            _catalog.Save(new DatabaseRecord(database));
        return database;
    }

    private DatabaseSpec SpecOf(Database database, int revision, int postgresVersion) =>
        new(database.Name, database.Project, revision, database.Port, database.DatabaseName, database.Username, _secrets.Read(database.Name), postgresVersion);

    /// <summary>The record as it is now: a server that died or was stopped outside DevDb shows as Stopped.</summary>
    private Database Observed(DatabaseRecord record) =>
        record.Database.Status == DatabaseStatus.Running && !_runtime.IsRunning(record.Database.Name)
            ? record.Database with { Status = DatabaseStatus.Stopped }
            : record.Database;

    // ---- recovery -------------------------------------------------------------------------

    /// <summary>
    /// Finishes or rolls back every step whose process died in the middle of it, and deletes
    /// images the catalog does not know (a crash between unrecording and deleting one).
    /// </summary>
    private async Task RecoverAsync(CancellationToken cancellationToken)
    {
        List<DatabaseRecord> databases;
        List<ProjectRecord> projects;
        List<(string Project, int Revision)> unrecordedImages;
        using (await _catalog.LockAsync(cancellationToken))
        {
            var allProjects = _catalog.Projects().ToDictionary(r => r.Project.Name);
            databases = _catalog.Databases().Where(r => r.Pending is { } p && !p.OwnerIsAlive()).ToList();
            projects = allProjects.Values.Where(r => r.Pending is { } p && !p.OwnerIsAlive()).ToList();
            // Images of projects with work in flight (or being repaired here) are left to that work.
            unrecordedImages = _runtime.ListImages()
                .Where(image => !allProjects.TryGetValue(image.Project, out var record)
                                || (record.Pending is null && record.Project.Images.All(i => i.Revision != image.Revision)))
                .ToList();
            // Claim them, so a second session opening now does not repair the same records.
            foreach (var record in databases) _catalog.Save(record with { Pending = PendingOperation.Begin(record.Pending!.Kind) });
            foreach (var record in projects) _catalog.Save(record with { Pending = PendingOperation.Begin(record.Pending!.Kind, record.Pending.Revision) });
        }
        foreach (var record in databases)
        {
            switch (record.Pending!.Kind)
            {
                case OperationKind.CreateDatabase:
                case OperationKind.RemoveDatabase:
                    await FinishDatabaseRemovalAsync(record.Database.Name, cancellationToken);
                    break;
                case OperationKind.ResetDatabase:
                    await _runtime.RepairDatabaseAsync(record.Database.Name, cancellationToken);
                    await SaveDatabaseAsync(record.Database with { Status = DatabaseStatus.Stopped });
                    break;
            }
        }
        foreach (var (project, revision) in unrecordedImages) await _runtime.DeleteImageAsync(project, revision, cancellationToken);
        foreach (var record in projects)
        {
            if (record.Pending!.Kind == OperationKind.RemoveProject)
            {
                await FinishProjectRemovalAsync(record.Project, cancellationToken);
                continue;
            }
            var revision = record.Pending.Revision ?? 0;
            await _runtime.DeleteImageAsync(record.Project.Name, revision, cancellationToken);
            await SaveImageAsync(record.Project.Name, revision, p => Settled(p,
                $"Building image r{revision} was interrupted (the process building it stopped). Run Update-DevDbProject -Name {p.Name} to try again.",
                ErrorCodes.RestoreFailed), image: null);
        }
    }

    // ---- helpers --------------------------------------------------------------------------

    private async Task<IDumpSource> OpenAndProbeAsync(string location, CancellationToken cancellationToken)
    {
        var source = DumpSources.Open(location, _sourceOptions);
        await source.ProbeAsync(cancellationToken);
        return source;
    }

    private static Image NewImage(string project, int revision) =>
        new() { Project = project, Revision = revision, Status = ImageStatus.Building, Created = DateTimeOffset.UtcNow };

    /// <summary>A project once no build of it runs: Ready while it has an image to clone, else Failed; with the last build's error, if it failed.</summary>
    private static Project Settled(Project project, string? error, string? errorCode) =>
        project with { Status = project.LatestImage is null ? ProjectStatus.Failed : ProjectStatus.Ready, Error = error, ErrorCode = errorCode };

    private ProjectRecord RequireProject(string name) =>
        _catalog.FindProject(Names.IsValid(name) ? name : "") is { } record ? record
            : throw new DevDbException(ErrorCodes.ProjectNotFound, DevDbErrorCategory.ObjectNotFound,
                $"There is no project named '{name}'.", "List projects with Get-DevDbProject, or create one with New-DevDbProject.", name);

    private DatabaseRecord RequireDatabase(string name) =>
        _catalog.FindDatabase(Names.IsValid(name) ? name : "") is { } record ? record : throw NotFound(name);

    private static DevDbException NotFound(string database) =>
        new(ErrorCodes.DatabaseNotFound, DevDbErrorCategory.ObjectNotFound,
            $"There is no database named '{database}'.", "List databases with Get-DevDbDatabase, or create one with New-DevDbDatabase.", database);

    private static void ThrowIfBusy(DatabaseRecord record)
    {
        if (record.Pending is { } pending && pending.OwnerIsAlive()) throw Busy("Database", record.Database.Name, pending);
    }

    /// <summary>Stop, start and reset need a database that was created: not busy, not Failed.</summary>
    private static void ThrowIfUnusable(DatabaseRecord record)
    {
        ThrowIfBusy(record);
        if (record.Database.Status == DatabaseStatus.Failed) throw RecordedErrors.CreateFailed(record.Database);
    }

    private static DevDbException Busy(string kind, string name, PendingOperation pending) =>
        new(ErrorCodes.StateLocked, DevDbErrorCategory.ResourceBusy,
            $"{kind} '{name}' is busy: another session is {Describe(pending)}.", "Wait for it to finish, then try again.", name);

    private static string Describe(PendingOperation pending) => pending.Kind switch
    {
        OperationKind.BuildImage => $"building image r{pending.Revision}",
        OperationKind.CreateDatabase => "creating it",
        OperationKind.ResetDatabase => "resetting it",
        OperationKind.RemoveDatabase or OperationKind.RemoveProject => "removing it",
        _ => pending.Kind.ToString(),
    } + $" (process {pending.ProcessId})";
}
