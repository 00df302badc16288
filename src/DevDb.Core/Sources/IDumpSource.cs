namespace DevDb.Core.Sources;

/// <summary>The formats pg_dump writes, told apart by content, never by file name.</summary>
public enum DumpFormat
{
    /// <summary>pg_dump -Fc.</summary>
    Custom,
    /// <summary>pg_dump -Ft.</summary>
    Tar,
    /// <summary>pg_dump -Fd (a folder; only as a local path).</summary>
    Directory,
    /// <summary>pg_dump -Fp: a SQL script for psql.</summary>
    PlainSql,
    /// <summary>A plain SQL script compressed with gzip.</summary>
    GzipPlainSql,
}

/// <summary>A dump on this machine, ready for pg_restore or psql.</summary>
/// <param name="Path">File or folder to restore from.</param>
/// <param name="IsDownload">True when <paramref name="Path"/> is a download DevDb must delete afterwards.</param>
public sealed record LocalDump(string Path, DumpFormat Format, long Bytes, bool IsDownload);

/// <summary>Settings for reaching dump sources.</summary>
public sealed record DumpSourceOptions
{
    /// <summary>S3-compatible endpoint (MinIO, Ceph, s3rver); null uses AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, then AWS.</summary>
    public string? S3ServiceUrl { get; init; }
    /// <summary>How long to wait for a remote source to answer before calling it unreachable.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(15);
}

/// <summary>Where a project's dump comes from: a local path, https://, or s3://.</summary>
public interface IDumpSource
{
    /// <summary>The address as the user gave it.</summary>
    string Location { get; }

    /// <summary>
    /// The dump this source reads, to show on the image: the S3 key, or the file name. For a prefix
    /// or folder source it is null until <see cref="ProbeAsync"/> or <see cref="FetchAsync"/> picked the
    /// newest one (<see cref="NewestDump"/>); from then on the same source reads that one.
    /// </summary>
    string? Dump { get; }

    /// <summary>
    /// Checks cheaply that the dump exists and can be read, before anything is recorded.
    /// Throws SourceNotFound, SourceUnreachable or SourceAccessDenied.
    /// </summary>
    Task ProbeAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Makes the dump available locally (downloading into <paramref name="workDirectory"/> when remote),
    /// detects its format, and reports bytes fetched so far.
    /// </summary>
    Task<LocalDump> FetchAsync(string workDirectory, IProgress<long>? bytesFetched, CancellationToken cancellationToken);
}
