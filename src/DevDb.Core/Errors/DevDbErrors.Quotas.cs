using DevDb.Core.Model;

namespace DevDb.Core;

/// <summary>Quotas: what a user may hold, in the same words from both engines.</summary>
public static partial class DevDbErrors
{
    /// <param name="limit">The limit's name in the settings (QuotaLimits' property, e.g. DatabasesPerUser).</param>
    /// <param name="count">What is held now, as words: "user 'dave' owns 3 databases".</param>
    /// <param name="target">What was refused: the new database, or the database to start or checkpoint.</param>
    public static DevDbException QuotaExceeded(string limit, int most, string count, Quota usage, string target)
    {
        var names = usage.DatabaseNames.Count == 0 ? "" : $" Their databases: {string.Join(", ", usage.DatabaseNames.Take(20))}{(usage.DatabaseNames.Count > 20 ? ", ..." : "")}.";
        var action = limit switch
        {
            "RunningDatabasesPerUser" => "Stop or remove one of them (Stop-DevDbDatabase, Remove-DevDbDatabase), or ask an administrator.",
            "CheckpointsPerUser" => "Remove a checkpoint first (Get-DevDbCheckpoint | Remove-DevDbCheckpoint), or ask an administrator.",
            _ => "Remove one first (Remove-DevDbDatabase), or ask an administrator to create it for you or to raise the limit.",
        };
        return new(ErrorCodes.QuotaExceeded,
            $"'{UserInput.Shown(target)}' would go past the quota {limit} = {most}: {count}.{names} See Get-DevDbQuota.",
            action, UserInput.Shown(target), null);
    }
}
