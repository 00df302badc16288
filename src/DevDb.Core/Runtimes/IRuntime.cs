using DevDb.Core.Client;
using DevDb.Core.Model;
using DevDb.Core.Sources;

namespace DevDb.Core.Runtimes;

/// <summary>What an image build produced.</summary>
public sealed record ImageBuildResult(DumpFormat SourceFormat, long SourceBytes, long SizeBytes);

/// <summary>Everything a runtime needs to run one database; the engine records it before asking.</summary>
/// <param name="Superuser">The login is a superuser (a project that asks for it, where the installation allows it).</param>
/// <param name="ServerUid">The OS user id the server runs as, when DevDb runs as root (<see cref="IRuntime.ChooseServerUid"/>); null otherwise.</param>
public sealed record DatabaseSpec(string Name, string Project, int ImageRevision, int Port,
    string DatabaseName, string Username, string Password, int PostgresVersion, bool Superuser, int? ServerUid);

/// <summary>What an idle pass read from a server: client sessions connected now, and client sessions ever opened (pg_stat_database.sessions).</summary>
public sealed record ClientSample(long Clients, long Sessions);

/// <summary>
/// Where images and databases physically live: Postgres processes on this machine (only the
/// local runtime implements this; the Kubernetes engine is declarative and converges records
/// instead). The engine records intent; the runtime makes it so.
/// Every method is safe to repeat and cleans up after itself when it fails or is cancelled.
/// </summary>
public interface IRuntime
{
    /// <summary>The host clients connect to for a database.</summary>
    string HostOf(string database);

    /// <summary>An OS user id of its own for a new database's server, none of <paramref name="taken"/>; null where servers run as the current user.</summary>
    int? ChooseServerUid(IEnumerable<int> taken);

    Task<ImageBuildResult> BuildImageAsync(Project project, int revision, IDumpSource source,
        IProgress<DevDbProgress>? progress, CancellationToken cancellationToken);

    /// <summary>Every image the runtime holds, recorded or not (to find what a crash left unrecorded).</summary>
    IReadOnlyList<(string Project, int Revision)> ListImages();

    /// <summary>Removes an image, or what an interrupted build of it left behind.</summary>
    Task DeleteImageAsync(string project, int revision, CancellationToken cancellationToken);

    /// <summary>Clones the spec's image, starts its server and sets its login role's password; returns once it answers queries.</summary>
    Task CreateDatabaseAsync(DatabaseSpec spec, IProgress<DevDbProgress>? progress, CancellationToken cancellationToken);

    /// <summary>Replaces the database's data with a fresh clone of the spec's image, keeping port, user and password.</summary>
    Task ResetDatabaseAsync(DatabaseSpec spec, IProgress<DevDbProgress>? progress, CancellationToken cancellationToken);

    /// <summary>
    /// After a reset or start whose process died: keeps whichever data was complete, removes the
    /// rest, leaves the server stopped. Returns the image revision the kept data was cloned from.
    /// </summary>
    Task<int?> RepairDatabaseAsync(string database, CancellationToken cancellationToken);

    /// <summary>Starts the server if it is not running, and (re)sets its login's password either way: a start always ends with the database's own credentials working.</summary>
    Task StartDatabaseAsync(DatabaseSpec spec, CancellationToken cancellationToken);
    Task StopDatabaseAsync(string database, CancellationToken cancellationToken);

    /// <summary>Stops the database's server if it runs and deletes everything it had.</summary>
    Task DeleteDatabaseAsync(string database, CancellationToken cancellationToken);

    bool IsRunning(string database);

    /// <summary>Reads the running server's client sessions (<see cref="Rules.IdleRules.SampleSql"/>) as DevDb's admin, through its socket.</summary>
    Task<ClientSample> SampleClientsAsync(string database, int port, CancellationToken cancellationToken);

    /// <summary>The last lines of the database server's log (why it stopped, when it crashed).</summary>
    string LastLogLines(string database);

    // ---- data states ------------------------------------------------------------------------

    /// <summary>
    /// Saves a consistent copy of the database's data as <paramref name="checkpoint"/>: a running
    /// server is stopped (fast), its data cloned and the server started again with its own
    /// credentials. Returns how long it did not answer (zero when it was stopped). Nothing is left of a failed one.
    /// </summary>
    Task<TimeSpan> CheckpointDatabaseAsync(DatabaseSpec spec, string checkpoint, CancellationToken cancellationToken);

    /// <summary>Deletes a checkpoint's data (nothing when it has none).</summary>
    Task DeleteCheckpointAsync(string database, string checkpoint, CancellationToken cancellationToken);

    /// <summary>The checkpoints whose data is complete.</summary>
    IReadOnlyList<string> ListCheckpoints(string database);

    /// <summary>Replaces the database's data with a clone of a checkpoint's, or (null) of the data it was branched from, keeping port, user and password; starts it.</summary>
    Task RestoreDatabaseAsync(DatabaseSpec spec, string? checkpoint, IProgress<DevDbProgress>? progress, CancellationToken cancellationToken);

    /// <summary>
    /// Creates a branch: its origin is a consistent copy of the parent's current data (the parent
    /// is stopped and started again like a checkpoint) or of a checkpoint of it; its data a clone of
    /// the origin; then starts it with its own credentials. Nothing of it is left if it fails; the parent runs as before.
    /// </summary>
    Task BranchDatabaseAsync(DatabaseSpec branch, DatabaseSpec parent, string? checkpoint, IProgress<DevDbProgress>? progress, CancellationToken cancellationToken);

    /// <summary>Deletes a branch's origin (after a reset to the image it is a branch no more).</summary>
    Task DeleteOriginAsync(string database, CancellationToken cancellationToken);
}
