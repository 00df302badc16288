using DevDb.Core.Model;

namespace DevDb.Core.Rules;

/// <summary>How an engine answers a request to create a database whose name may be taken.</summary>
public enum NewDatabaseDecision
{
    /// <summary>No database has the name: record and clone it.</summary>
    Create,
    /// <summary>The same request made before (same project and owner): answer with that database (waiting while it is Creating).</summary>
    Identical,
    /// <summary>The same request whose create failed: replace the Failed record with a new create.</summary>
    ReplaceFailed,
    /// <summary>Another project or owner has the name: DatabaseExists.</summary>
    Conflict,
}

/// <summary>The decisions about databases, written once and used by both engines.</summary>
public static class DatabaseRules
{
    /// <summary>
    /// How long a database's server has to end a stop before it is forced: the pods' default
    /// terminationGracePeriodSeconds (SIGKILL after it), and the local stop's wait before an immediate stop.
    /// A fast stop's shutdown checkpoint of a large database takes a while.
    /// </summary>
    public static readonly TimeSpan StopGracePeriod = TimeSpan.FromSeconds(60);

    public static NewDatabaseDecision ClassifyNew(Database? existing, string project, string owner)
    {
        if (existing is null) return NewDatabaseDecision.Create;
        if (existing.Project != project || existing.Owner != owner) return NewDatabaseDecision.Conflict;
        return existing.Status == DatabaseStatus.Failed ? NewDatabaseDecision.ReplaceFailed : NewDatabaseDecision.Identical;
    }

    /// <summary>Whether an operation on the database is under way (its outcome is what waiting returns).</summary>
    public static bool IsBusy(DatabaseStatus status) =>
        status is DatabaseStatus.Creating or DatabaseStatus.Resetting or DatabaseStatus.Starting or DatabaseStatus.Stopping
            or DatabaseStatus.Restoring;

    /// <summary>Stop, start and reset need a database that was created and that nothing else is changing.</summary>
    public static void CheckUsable(Database database)
    {
        if (database.Status == DatabaseStatus.Failed) throw RecordedErrors.DatabaseFailed(database);
        if (IsBusy(database.Status)) throw Busy(database.Name, $"being {Describe(database.Status)}");
    }

    /// <summary>What waiting for a database returns: it once no operation is under way; the failure of the last one, if it failed.</summary>
    public static Database? Settled(Database database) =>
        IsBusy(database.Status) ? null
        : database.Status == DatabaseStatus.Failed || database.ErrorCode is not null ? throw RecordedErrors.DatabaseFailed(database)
        : database;

    public static string Describe(DatabaseStatus busy) => busy switch
    {
        DatabaseStatus.Creating => "created",
        DatabaseStatus.Resetting => "reset",
        DatabaseStatus.Starting => "started",
        DatabaseStatus.Stopping => "stopped",
        DatabaseStatus.Restoring => "restored",
        _ => busy.ToString().ToLowerInvariant(),
    };

    public static DevDbException Busy(string name, string what) =>
        DevDbErrors.StateLocked($"Database '{name}' is busy: it is {what}.", name, "Wait for it to finish (Wait-DevDbDatabase), then try again.");
}
