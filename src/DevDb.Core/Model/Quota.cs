namespace DevDb.Core.Model;

/// <summary>
/// The limits an installation sets on what one user may hold (null: no limit). Administrators
/// create past them, for themselves or for others. Set by the API's DevDb:Quotas, the chart's
/// <c>quotas</c> values, or (embedded engine) the state folder's settings.json.
/// </summary>
public sealed record QuotaLimits
{
    /// <summary>Databases one user may own, whatever their state.</summary>
    public int? DatabasesPerUser { get; init; }
    /// <summary>Databases of one user that may run (or be on their way to running) at once.</summary>
    public int? RunningDatabasesPerUser { get; init; }
    /// <summary>Databases one project may have, whoever owns them.</summary>
    public int? DatabasesPerProject { get; init; }
    /// <summary>Checkpoints one user's databases may hold together.</summary>
    public int? CheckpointsPerUser { get; init; }

    public static QuotaLimits None { get; } = new();
}

/// <summary>What one user holds against the installation's <see cref="Limits"/> (Get-DevDbQuota).</summary>
public sealed record Quota
{
    public required string User { get; init; }
    public required QuotaLimits Limits { get; init; }
    public int Databases { get; init; }
    public int RunningDatabases { get; init; }
    public int Checkpoints { get; init; }
    /// <summary>The names of the user's databases.</summary>
    public IReadOnlyList<string> DatabaseNames { get; init; } = [];
    /// <summary>True when the user is an administrator: the limits do not apply to what they create.</summary>
    public bool Exempt { get; init; }
}
