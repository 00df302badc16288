using System.Text.Json.Serialization;

namespace DevDb.Core.Model;

public enum ProjectStatus
{
    /// <summary>The first image is being built.</summary>
    Building,
    /// <summary>At least one image is ready; databases can be cloned from it.</summary>
    Ready,
    /// <summary>No image could be built; <see cref="Project.Error"/> says why.</summary>
    Failed,
}

/// <summary>How the last scheduled refresh of a project went.</summary>
public enum RefreshOutcome
{
    /// <summary>Its image is being built.</summary>
    Running,
    /// <summary>It built the next image.</summary>
    Succeeded,
    /// <summary>It built nothing; the previous image keeps serving. <see cref="Project.LastRefreshError"/> says why.</summary>
    Failed,
}

/// <summary>A registered pg_dump and the images restored from it.</summary>
public sealed record Project
{
    public const string DefaultDatabaseName = "app";

    public required string Name { get; init; }
    public string Engine { get; init; } = "postgres";
    /// <summary>Postgres major version, e.g. 15.</summary>
    public required int PostgresVersion { get; init; }
    /// <summary>Where the dump is: a file path, file://, https://, or s3://bucket/key.</summary>
    public required string Source { get; init; }
    /// <summary>The database the dump is restored into, inside every clone.</summary>
    public string DatabaseName { get; init; } = DefaultDatabaseName;
    /// <summary>SQL run after the restore (e.g. masking); it must succeed before an image is published.</summary>
    public string? PostRestoreSql { get; init; }
    /// <summary>
    /// Whether each database's login is a PostgreSQL superuser: off unless the project asks for it
    /// and the installation allows it (where each database has OS-level isolation of its own).
    /// A superuser can run programs and read files as its server's OS user.
    /// </summary>
    public bool SuperuserLogins { get; init; }
    /// <summary>The time-to-live of a database created without one; null: such databases do not expire (unless a maximum applies).</summary>
    public TimeSpan? DefaultTimeToLive { get; init; }
    /// <summary>The longest a database of the project may live from now (at create and at each extension); null: the installation's maximum, if any.</summary>
    public TimeSpan? MaxTimeToLive { get; init; }
    /// <summary>The idle timeout of a database created without one; null: the installation's, if any.</summary>
    public TimeSpan? IdleTimeout { get; init; }
    /// <summary>A protected project refuses Remove-DevDbProject (DatabaseProtected).</summary>
    public bool Protected { get; init; }
    /// <summary>When the project refreshes itself from its source: a five-field cron expression (e.g. "0 3 * * *"); null: never. Run where a DevDb server (or the reconciler) runs.</summary>
    public string? RefreshSchedule { get; init; }
    /// <summary>The IANA time zone of <see cref="RefreshSchedule"/> (default UTC).</summary>
    public string? RefreshTimeZone { get; init; }
    /// <summary>When the schedule next refreshes the project (the engine's clock), or null without a schedule.</summary>
    public DateTimeOffset? NextRefresh { get; init; }
    /// <summary>When the last scheduled refresh started; null: none yet.</summary>
    public DateTimeOffset? LastRefresh { get; init; }
    public RefreshOutcome? LastRefreshOutcome { get; init; }
    /// <summary>Why the last scheduled refresh failed (the previous image kept serving).</summary>
    public string? LastRefreshError { get; init; }
    /// <summary>The stable code of <see cref="LastRefreshError"/>.</summary>
    public string? LastRefreshErrorCode { get; init; }
    public ProjectStatus Status { get; init; }
    /// <summary>Why the last image build failed, in the restore tool's own words.</summary>
    public string? Error { get; init; }
    /// <summary>The stable code of <see cref="Error"/> (e.g. DumpCorrupt), so a client that polls can raise the same error.</summary>
    public string? ErrorCode { get; init; }
    public DateTimeOffset Created { get; init; }
    public IReadOnlyList<Image> Images { get; init; } = [];
    /// <summary>
    /// Its last changes, oldest first: the last <see cref="Rules.HistoryRules.Capacity"/> of its own
    /// (created, updated, refreshed, lifetime settings) and, counted apart, the last as many removals or
    /// expiries of its databases, whose records are gone with them.
    /// </summary>
    public IReadOnlyList<HistoryEntry> History { get => _history; init => _history = HistoryList.Of(value); }
    private readonly HistoryList _history = HistoryList.Empty;

    /// <summary>The newest ready image: what new databases and resets are cloned from.</summary>
    [JsonIgnore]
    public Image? LatestImage => Images.Where(i => i.Status == ImageStatus.Ready).MaxBy(i => i.Revision);
}
