using DevDb.Core.Model;

namespace DevDb.Commands;

/// <summary>What one user holds against the installation's quotas, as Get-DevDbQuota returns it (an empty limit: none).</summary>
public sealed class DevDbQuota
{
    /// <summary>The user whose usage this is.</summary>
    public required string User { get; init; }
    /// <summary>Databases the user owns (a failed create does not count).</summary>
    public int Databases { get; init; }
    /// <summary>The most databases one user may own; empty: no limit.</summary>
    public int? DatabasesPerUser { get; init; }
    /// <summary>The user's databases running, or on their way to running.</summary>
    public int RunningDatabases { get; init; }
    /// <summary>The most databases of one user running at once; empty: no limit.</summary>
    public int? RunningDatabasesPerUser { get; init; }
    /// <summary>Checkpoints of the user's databases.</summary>
    public int Checkpoints { get; init; }
    /// <summary>The most checkpoints one user's databases may hold; empty: no limit.</summary>
    public int? CheckpointsPerUser { get; init; }
    /// <summary>The most databases one project may have, whoever owns them.</summary>
    public int? DatabasesPerProject { get; init; }
    /// <summary>The user's databases, by name.</summary>
    public required string[] DatabaseNames { get; init; }
    /// <summary>True for an administrator asking about themselves: the limits do not apply to what they create.</summary>
    public bool Exempt { get; init; }

    internal static DevDbQuota From(Quota quota) => new()
    {
        User = quota.User, Databases = quota.Databases, DatabasesPerUser = quota.Limits.DatabasesPerUser,
        RunningDatabases = quota.RunningDatabases, RunningDatabasesPerUser = quota.Limits.RunningDatabasesPerUser,
        Checkpoints = quota.Checkpoints, CheckpointsPerUser = quota.Limits.CheckpointsPerUser,
        DatabasesPerProject = quota.Limits.DatabasesPerProject, DatabaseNames = [.. quota.DatabaseNames], Exempt = quota.Exempt,
    };

    /// <summary>The user's name.</summary>
    public override string ToString() => User;
}
