namespace DevDb.Core.Model;

/// <summary>A failed build leaves no image (its error is on the project), so an image is only ever Building or Ready.</summary>
public enum ImageStatus { Building, Ready }

/// <summary>One restored, cleanly shut-down copy of a project's source at a point in time.</summary>
public sealed record Image
{
    public required string Project { get; init; }
    /// <summary>1, 2, ... in the order the images were built.</summary>
    public required int Revision { get; init; }
    public ImageStatus Status { get; init; }
    public DateTimeOffset Created { get; init; }
    /// <summary>The dump's format as detected from its content (Custom, Tar, Directory, PlainSql, GzipPlainSql).</summary>
    public string? SourceFormat { get; init; }
    public long SourceBytes { get; init; }
    /// <summary>The dump the image was restored from: the S3 key or file name a prefix or folder source resolved to (never credentials).</summary>
    public string? Dump { get; init; }
    /// <summary>Size of the restored data folder.</summary>
    public long SizeBytes { get; init; }
    public TimeSpan BuildDuration { get; init; }

    /// <summary>Short, for lists such as a project's Images in Format-List.</summary>
    public override string ToString() => $"r{Revision} {Status}";
}
