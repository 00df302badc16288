using DevDb.Core.Model;
using Microsoft.Extensions.Logging;

namespace DevDb.Core.Engine;

/// <summary>
/// The one structured log line a removed database leaves (its record, with its history, is gone):
/// what it was, who removed it and why (removed or expired), and how its history ended. The API
/// writes it for both engines (the reconciler for what it expires); local mode has no log, so
/// there the project's history keeps the removal (an entry naming the database and its owner).
/// </summary>
public static class RemovalLog
{
    /// <summary>How many of its last history entries the line carries.</summary>
    public const int LastEntries = 3;

    public static void Write(ILogger? log, Database database, HistoryEntry removal)
    {
        if (log is null) return;
        var last = string.Join("; ", database.History.TakeLast(LastEntries).Select(e => e.ToString()));
        log.LogInformation(
            "Database {Database} of project {Project} (owner {Owner}) was {Why} by {User} (request {RequestId}); its history had {HistoryCount} entries, the last: {LastEntries}",
            database.Name, database.Project, database.Owner, removal.Action == HistoryAction.Expired ? "expired" : "removed", removal.User,
            removal.RequestId ?? "-", database.History.Count, last);
    }
}
