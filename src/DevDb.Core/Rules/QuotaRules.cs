using DevDb.Core.Model;

namespace DevDb.Core.Rules;

/// <summary>
/// Quotas, written once for both engines: what counts, and when a create, a start or a checkpoint
/// is refused (QuotaExceeded, naming the limit, the count and the user's databases). The actor is
/// the one making the request (<see cref="Actor.Current"/>): administrators are never refused.
/// </summary>
public static class QuotaRules
{
    /// <summary>Whether a database holds its place: everything but a Failed create (a record of why, no data).</summary>
    public static bool Counts(Database database) => database.Status != DatabaseStatus.Failed;

    /// <summary>Whether a database holds a server, or is on its way to one (a crashed one is meant to run).</summary>
    public static bool IsRunning(Database database) => database.Status is DatabaseStatus.Running or DatabaseStatus.Creating
        or DatabaseStatus.Starting or DatabaseStatus.Resetting or DatabaseStatus.Restoring or DatabaseStatus.Crashed;

    /// <summary>A user's usage: <paramref name="databases"/> is every database of the installation, <paramref name="checkpoints"/> their checkpoints' count.</summary>
    public static Quota UsageOf(string user, bool exempt, IReadOnlyCollection<Database> databases, Func<string, int> checkpointsOf, QuotaLimits limits)
    {
        var own = databases.Where(d => d.Owner == user && Counts(d)).OrderBy(d => d.Name, StringComparer.Ordinal).ToList();
        return new Quota
        {
            User = user, Limits = limits, Exempt = exempt,
            Databases = own.Count, RunningDatabases = own.Count(IsRunning), Checkpoints = own.Sum(d => checkpointsOf(d.Name)),
            DatabaseNames = own.Select(d => d.Name).ToList(),
        };
    }

    /// <summary>Before recording a new database <paramref name="name"/> of <paramref name="owner"/> in <paramref name="project"/>; <paramref name="databases"/> excludes it.</summary>
    public static void CheckNew(Actor actor, string name, string owner, string project, IReadOnlyCollection<Database> databases, QuotaLimits limits)
    {
        if (actor.IsAdmin) return;
        var usage = UsageOf(owner, exempt: false, databases, _ => 0, limits);
        Refuse(limits.DatabasesPerUser, usage.Databases, "DatabasesPerUser", $"user '{owner}' owns", usage, name);
        Refuse(limits.RunningDatabasesPerUser, usage.RunningDatabases, "RunningDatabasesPerUser", $"user '{owner}' runs", usage, name);
        var inProject = databases.Count(d => d.Project == project && Counts(d));
        if (limits.DatabasesPerProject is { } perProject && inProject >= perProject)
            throw DevDbErrors.QuotaExceeded("DatabasesPerProject", perProject, $"project '{project}' has {inProject} databases", usage, name);
    }

    /// <summary>Before starting <paramref name="database"/> again (Start-DevDbDatabase): the running limit of its owner.</summary>
    public static void CheckStart(Actor actor, Database database, IReadOnlyCollection<Database> databases, QuotaLimits limits)
    {
        if (actor.IsAdmin || IsRunning(database)) return;
        var usage = UsageOf(database.Owner, exempt: false, databases.Where(d => d.Name != database.Name).ToList(), _ => 0, limits);
        Refuse(limits.RunningDatabasesPerUser, usage.RunningDatabases, "RunningDatabasesPerUser", $"user '{database.Owner}' runs", usage, database.Name);
    }

    /// <summary>Before a new checkpoint of one of <paramref name="owner"/>'s databases.</summary>
    public static void CheckCheckpoint(Actor actor, string owner, string database, int checkpointsOfOwner, QuotaLimits limits)
    {
        if (actor.IsAdmin || limits.CheckpointsPerUser is not { } limit || checkpointsOfOwner < limit) return;
        throw DevDbErrors.QuotaExceeded("CheckpointsPerUser", limit, $"the databases of user '{owner}' hold {checkpointsOfOwner} checkpoints",
            new Quota { User = owner, Limits = limits, Checkpoints = checkpointsOfOwner }, database);
    }

    private static void Refuse(int? limit, int count, string limitName, string holder, Quota usage, string name)
    {
        if (limit is { } most && count >= most)
            throw DevDbErrors.QuotaExceeded(limitName, most, $"{holder} {count} databases", usage, name);
    }
}
