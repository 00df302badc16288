using System.Text.RegularExpressions;

namespace DevDb.Core.Sources;

/// <summary>Turns a project's source address into the <see cref="IDumpSource"/> that reads it.</summary>
public static partial class DumpSources
{
    /// <summary>The longest source address DevDb takes (a presigned S3 URL is about 1,500 characters).</summary>
    public const int MaxLength = 4096;

    /// <summary>
    /// The source for <paramref name="location"/>: a file or folder path (absolute or relative to the
    /// current directory, Windows or Unix), file://, http(s)://host/path or s3://bucket/key. A folder
    /// path ending in a separator (or a folder that is no pg_dump -Fd dump) and s3://bucket/prefix/
    /// (trailing slash) name the newest dump in it (<see cref="NewestDump"/>).
    /// Only the address is checked here; <see cref="IDumpSource.ProbeAsync"/> checks the dump.
    /// Throws SourceInvalid for anything else.
    /// </summary>
    public static IDumpSource Open(string location, DumpSourceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(location))
            throw DevDbErrors.SourceInvalid(location ?? "", "the address is empty.");
        if (location.Length > MaxLength)
            throw DevDbErrors.SourceInvalid(location, $"it has {location.Length} characters, more than the {MaxLength} DevDb takes.");
        var trimmed = location.Trim();

        // A Windows drive path (C:\dumps\shop.dump, C:/dumps) or UNC path is a path, not a URI scheme "c:".
        if (WindowsDrivePath().IsMatch(trimmed) || trimmed.StartsWith(@"\\", StringComparison.Ordinal))
            return new FileDumpSource(location, trimmed);

        var scheme = SchemePrefix().Match(trimmed);
        if (!scheme.Success)
            return new FileDumpSource(location, Path.GetFullPath(trimmed));

        switch (scheme.Groups[1].Value.ToLowerInvariant())
        {
            case "file":
                if (!Uri.TryCreate(trimmed, UriKind.Absolute, out var fileUri) || !fileUri.IsFile)
                    throw DevDbErrors.SourceInvalid(location, "it is not a valid file:// URI (use file:///absolute/path).");
                return new FileDumpSource(location, fileUri.LocalPath);
            case "http":
            case "https":
                if (!Uri.TryCreate(trimmed, UriKind.Absolute, out var httpUri) || string.IsNullOrEmpty(httpUri.Host))
                    throw DevDbErrors.SourceInvalid(location, "it is not a valid http(s) URL.");
                return new HttpDumpSource(location, httpUri, options);
            case "s3":
                return ParseS3(location, trimmed, options);
            default:
                throw DevDbErrors.SourceInvalid(location, $"the scheme '{UserInput.Shown(scheme.Groups[1].Value)}://' is not supported.");
        }
    }

    private static S3DumpSource ParseS3(string location, string address, DumpSourceOptions options)
    {
        // Taken literally, like the AWS CLI does: keys may hold spaces or '%' that a URI parser would change.
        var rest = address["s3://".Length..];
        var slash = rest.IndexOf('/');
        var bucket = slash < 0 ? rest : rest[..slash];
        var key = slash < 0 ? "" : rest[(slash + 1)..];
        if (!BucketName().IsMatch(bucket))
            throw DevDbErrors.SourceInvalid(location,
                $"'{UserInput.Shown(bucket)}' is not a valid S3 bucket name (3-63 lowercase letters, digits, dots and hyphens).");
        // s3://bucket/prefix/ (and s3://bucket/): the newest object under the prefix.
        if (key.Length == 0 && slash < 0)
            throw DevDbErrors.SourceInvalid(location,
                "it names no object key (expected s3://bucket/path/to/file.dump, or s3://bucket/prefix/ for the newest dump under a prefix).");
        return new S3DumpSource(location, bucket, key, options);
    }

    [GeneratedRegex(@"^[A-Za-z]:[\\/]")]
    private static partial Regex WindowsDrivePath();

    [GeneratedRegex(@"^([A-Za-z][A-Za-z0-9+.\-]*)://")]
    private static partial Regex SchemePrefix();

    [GeneratedRegex(@"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")]
    private static partial Regex BucketName();
}
