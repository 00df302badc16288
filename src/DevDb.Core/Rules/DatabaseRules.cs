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
    public static NewDatabaseDecision ClassifyNew(Database? existing, string project, string owner)
    {
        if (existing is null) return NewDatabaseDecision.Create;
        if (existing.Project != project || existing.Owner != owner) return NewDatabaseDecision.Conflict;
        return existing.Status == DatabaseStatus.Failed ? NewDatabaseDecision.ReplaceFailed : NewDatabaseDecision.Identical;
    }

    /// <summary>Stop, start and reset need a database that was created: not Creating, not Failed.</summary>
    public static void CheckUsable(Database database)
    {
        if (database.Status == DatabaseStatus.Failed) throw RecordedErrors.CreateFailed(database);
        if (database.Status == DatabaseStatus.Creating) throw Busy(database.Name, "being created");
    }

    public static DevDbException Busy(string name, string what) =>
        DevDbErrors.StateLocked($"Database '{name}' is busy: it is {what}.", name, "Wait for it to finish (Wait-DevDbDatabase), then try again.");
}
