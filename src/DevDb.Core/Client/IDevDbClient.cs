using DevDb.Core.Model;

namespace DevDb.Core.Client;

public sealed record NewProjectRequest
{
    public required string Name { get; init; }
    public required string Source { get; init; }
    /// <summary>Postgres major version; null takes the newest one available.</summary>
    public int? PostgresVersion { get; init; }
    public string DatabaseName { get; init; } = Project.DefaultDatabaseName;
    public string? PostRestoreSql { get; init; }
    /// <summary>Make each database's login a superuser; refused with SuperuserLoginsNotAllowed where the installation does not allow it.</summary>
    public bool SuperuserLogins { get; init; }
    /// <summary>The time-to-live of its databases created without one (null: they do not expire).</summary>
    public TimeSpan? DefaultTimeToLive { get; init; }
    /// <summary>The longest its databases may live from now; null: the installation's maximum, if any.</summary>
    public TimeSpan? MaxTimeToLive { get; init; }
    /// <summary>The idle timeout of its databases created without one (null: the installation's, if any).</summary>
    public TimeSpan? IdleTimeout { get; init; }
    /// <summary>Refuse to remove the project (DatabaseProtected) until it is unprotected.</summary>
    public bool Protected { get; init; }
    /// <summary>Refresh the project from its source on this cron schedule (five fields, e.g. "0 3 * * *"); null: never (RefreshRules).</summary>
    public string? RefreshSchedule { get; init; }
    /// <summary>The IANA time zone of <see cref="RefreshSchedule"/>; null: UTC.</summary>
    public string? RefreshTimeZone { get; init; }
}

/// <summary>Changes a project's lifetime settings, without building a new image; null keeps a setting.</summary>
public sealed record SetProjectRequest
{
    public required string Name { get; init; }
    public TimeSpan? DefaultTimeToLive { get; init; }
    /// <summary>Drop the project's default time-to-live (its databases then do not expire unless a maximum applies).</summary>
    public bool NoDefaultTimeToLive { get; init; }
    public TimeSpan? MaxTimeToLive { get; init; }
    /// <summary>Drop the project's maximum (the installation's, if any, still applies).</summary>
    public bool NoMaxTimeToLive { get; init; }
    /// <summary>The idle timeout of its databases created from now on without one.</summary>
    public TimeSpan? IdleTimeout { get; init; }
    /// <summary>Drop the project's idle timeout (the installation's, if any, then applies to new databases).</summary>
    public bool NoIdleTimeout { get; init; }
    public bool? Protected { get; init; }
    /// <summary>A new refresh schedule (cron, five fields); null keeps the current one.</summary>
    public string? RefreshSchedule { get; init; }
    /// <summary>A new IANA time zone for the schedule; null keeps the current one (UTC for a new schedule).</summary>
    public string? RefreshTimeZone { get; init; }
    /// <summary>Drop the refresh schedule.</summary>
    public bool NoRefreshSchedule { get; init; }
}

public sealed record UpdateProjectRequest
{
    public required string Name { get; init; }
    /// <summary>A new source address; null fetches the current one again.</summary>
    public string? Source { get; init; }
    /// <summary>New post-restore SQL; null keeps the current one.</summary>
    public string? PostRestoreSql { get; init; }
}

public sealed record NewDatabaseRequest
{
    public required string Project { get; init; }
    public required string Name { get; init; }
    /// <summary>Who the database belongs to; null means the calling user.</summary>
    public string? Owner { get; init; }
    /// <summary>A branch: clone this database's current data (or <see cref="Checkpoint"/>'s) instead of the project's newest image. Project must be empty or the parent's.</summary>
    public string? FromDatabase { get; init; }
    /// <summary>With <see cref="FromDatabase"/>: the checkpoint of that database to branch from.</summary>
    public string? Checkpoint { get; init; }
    /// <summary>Remove it this long after it is created; null: the project's default (or no expiry). Not with <see cref="ExpiresAt"/>.</summary>
    public TimeSpan? TimeToLive { get; init; }
    /// <summary>Remove it at this moment. Not with <see cref="TimeToLive"/>.</summary>
    public DateTimeOffset? ExpiresAt { get; init; }
    /// <summary>Refuse Remove and Reset (DatabaseProtected), and never expire or idle-stop it, until it is unprotected.</summary>
    public bool Protected { get; init; }
    /// <summary>Stop it after this long with no client connection; null: the project's, else the installation's, else never.</summary>
    public TimeSpan? IdleTimeout { get; init; }
}

/// <summary>
/// Changes a database's lifetime: at most one of <see cref="TimeToLive"/> (from now: a CI job's
/// lease renewal), <see cref="ExpiresAt"/> and <see cref="NoExpiry"/>; and/or its protection. What is
/// not given is kept.
/// </summary>
public sealed record SetDatabaseRequest
{
    public required string Name { get; init; }
    public TimeSpan? TimeToLive { get; init; }
    public DateTimeOffset? ExpiresAt { get; init; }
    public bool NoExpiry { get; init; }
    public bool? Protected { get; init; }
    /// <summary>Stop it after this long with no client connection (its idle time counts from now). Not with <see cref="NoIdleTimeout"/>.</summary>
    public TimeSpan? IdleTimeout { get; init; }
    /// <summary>Never stop it for being idle.</summary>
    public bool NoIdleTimeout { get; init; }
}

/// <summary>
/// The one interface every front end calls: the cmdlets, the API, and tests. Implemented by the
/// engine in-process (<see cref="Engine.DevDbEngine"/>) and by <see cref="HttpDevDbClient"/>, a
/// client of the DevDb API. Every failure it reports on
/// purpose is a <see cref="DevDbException"/>; cancellation leaves nothing half-made.
/// </summary>
public interface IDevDbClient : IDisposable
{
    /// <summary>Records the project and builds image revision 1. Repeating an identical request returns the project.</summary>
    Task<Project> NewProjectAsync(NewProjectRequest request, IProgress<DevDbProgress>? progress = null, CancellationToken cancellationToken = default);
    Task<IReadOnlyList<Project>> GetProjectsAsync(CancellationToken cancellationToken = default);
    Task<Project> GetProjectAsync(string name, CancellationToken cancellationToken = default);
    /// <summary>Fetches the source again and builds the next image revision; databases keep theirs until reset.</summary>
    Task<Project> UpdateProjectAsync(UpdateProjectRequest request, IProgress<DevDbProgress>? progress = null, CancellationToken cancellationToken = default);
    /// <summary>
    /// Checks and records the project like <see cref="NewProjectAsync"/>, then returns it at once
    /// with status Building while image revision 1 is built: in the server, the cluster, or (embedded
    /// engine) in this process. An identical project comes back as it is.
    /// <see cref="WaitProjectAsync"/> waits for the build.
    /// </summary>
    Task<Project> BeginNewProjectAsync(NewProjectRequest request, CancellationToken cancellationToken = default);
    /// <summary>Checks and records the next image revision like <see cref="UpdateProjectAsync"/>, then returns the project at once with that image Building.</summary>
    Task<Project> BeginUpdateProjectAsync(UpdateProjectRequest request, CancellationToken cancellationToken = default);
    /// <summary>
    /// Waits until no image of the project is being built and returns the project; when its last
    /// build failed (or the process building it stopped), throws that build's error instead.
    /// </summary>
    Task<Project> WaitProjectAsync(string name, IProgress<DevDbProgress>? progress = null, CancellationToken cancellationToken = default);
    /// <summary>Changes a project's settings (DefaultTimeToLive, MaxTimeToLive, Protected, RefreshSchedule, RefreshTimeZone) without a new image; returns it.</summary>
    Task<Project> SetProjectAsync(SetProjectRequest request, CancellationToken cancellationToken = default);
    /// <summary>Removes a project and its images; refuses while it is protected (DatabaseProtected), and while it has databases unless <paramref name="force"/>, which removes them too.</summary>
    Task RemoveProjectAsync(string name, bool force = false, CancellationToken cancellationToken = default);

    /// <summary>
    /// Clones the project's newest image into a new running database with a fresh password, and
    /// waits until it answers. Repeating an identical request (same name, project and owner)
    /// returns the database; a different one with the same name is DatabaseExists.
    /// </summary>
    Task<Database> NewDatabaseAsync(NewDatabaseRequest request, IProgress<DevDbProgress>? progress = null, CancellationToken cancellationToken = default);
    /// <summary>
    /// Checks and records the database like <see cref="NewDatabaseAsync"/>, then returns it at once
    /// with status Creating while the clone goes on: in the server, or (embedded engine) in this
    /// process. A background create that fails leaves the record with status Failed and its error.
    /// </summary>
    Task<Database> BeginNewDatabaseAsync(NewDatabaseRequest request, CancellationToken cancellationToken = default);
    /// <summary>
    /// Waits until no operation is under way on a database (Creating, Resetting, Starting,
    /// Stopping) and returns it; when the last one failed, throws its error instead (a failed
    /// create: DatabaseCreateFailed when the code is lost).
    /// </summary>
    Task<Database> WaitDatabaseAsync(string name, IProgress<DevDbProgress>? progress = null, CancellationToken cancellationToken = default);
    /// <summary>Databases, optionally only those of one project and/or one owner.</summary>
    Task<IReadOnlyList<Database>> GetDatabasesAsync(string? project = null, string? owner = null, CancellationToken cancellationToken = default);
    Task<Database> GetDatabaseAsync(string name, CancellationToken cancellationToken = default);
    /// <summary>The database's connection details including its password.</summary>
    Task<ConnectionInfo> GetConnectionAsync(string name, CancellationToken cancellationToken = default);
    /// <summary>Removes the database; a protected one is DatabaseProtected.</summary>
    Task RemoveDatabaseAsync(string name, CancellationToken cancellationToken = default);
    /// <summary>
    /// Changes the database's expiry and/or protection (LifetimeRules): a time-to-live counts from
    /// now, so repeating it renews a lease. Returns the database.
    /// </summary>
    Task<Database> SetDatabaseAsync(SetDatabaseRequest request, CancellationToken cancellationToken = default);
    /// <summary>Back to the project's newest image, keeping name, port, user, password and expiry; returns it Running. A protected database is DatabaseProtected.</summary>
    Task<Database> ResetDatabaseAsync(string name, IProgress<DevDbProgress>? progress = null, CancellationToken cancellationToken = default);
    /// <summary>Checks and records a reset like <see cref="ResetDatabaseAsync"/>, then returns the database at once, Resetting; <see cref="WaitDatabaseAsync"/> waits for it.</summary>
    Task<Database> BeginResetDatabaseAsync(string name, CancellationToken cancellationToken = default);
    Task<Database> StopDatabaseAsync(string name, CancellationToken cancellationToken = default);
    /// <summary>Records a stop and returns the database at once, Stopping.</summary>
    Task<Database> BeginStopDatabaseAsync(string name, CancellationToken cancellationToken = default);
    Task<Database> StartDatabaseAsync(string name, CancellationToken cancellationToken = default);
    /// <summary>Records a start and returns the database at once, Starting.</summary>
    Task<Database> BeginStartDatabaseAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>
    /// What <paramref name="user"/> (null: the caller, <see cref="Actor.Current"/>) holds against the
    /// installation's quotas. A developer may ask only about themselves (Forbidden otherwise).
    /// </summary>
    Task<Quota> GetQuotaAsync(string? user = null, CancellationToken cancellationToken = default);

    // ---- data states: checkpoints, restore, branches (rules: Rules/CheckpointRules.cs) ----

    /// <summary>
    /// Resets like <see cref="ResetDatabaseAsync(string, IProgress{DevDbProgress}?, CancellationToken)"/>; a branch goes back to the data it
    /// was branched from unless <paramref name="toImage"/> (then it is a branch no more).
    /// </summary>
    Task<Database> ResetDatabaseAsync(string name, bool toImage, IProgress<DevDbProgress>? progress = null, CancellationToken cancellationToken = default);
    /// <summary>Checks and records a reset like <see cref="ResetDatabaseAsync(string, bool, IProgress{DevDbProgress}?, CancellationToken)"/> and returns at once, Resetting.</summary>
    Task<Database> BeginResetDatabaseAsync(string name, bool toImage, CancellationToken cancellationToken = default);
    /// <summary>Saves the database's current data as checkpoint <paramref name="checkpoint"/> (a DNS label) and returns it Ready; CheckpointExists when the name is taken.</summary>
    Task<Checkpoint> CheckpointDatabaseAsync(string name, string checkpoint, CancellationToken cancellationToken = default);
    /// <summary>Checkpoints of one database, or of all the databases the caller sees.</summary>
    Task<IReadOnlyList<Checkpoint>> GetCheckpointsAsync(string? database = null, CancellationToken cancellationToken = default);
    /// <summary>Deletes a checkpoint; CheckpointNotFound when it does not exist.</summary>
    Task RemoveCheckpointAsync(string database, string checkpoint, CancellationToken cancellationToken = default);
    /// <summary>Puts a checkpoint's data back, keeping name, host, port, user and password; returns it Running.</summary>
    Task<Database> RestoreDatabaseAsync(string name, string checkpoint, IProgress<DevDbProgress>? progress = null, CancellationToken cancellationToken = default);
    /// <summary>Checks and records a restore and returns the database at once, Restoring; <see cref="WaitDatabaseAsync"/> waits for it.</summary>
    Task<Database> BeginRestoreDatabaseAsync(string name, string checkpoint, CancellationToken cancellationToken = default);
}
