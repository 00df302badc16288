using DevDb.Core;

namespace DevDb.Commands;

/// <summary>How the cmdlets show a dump's address: without user name, password or query string (a presigned URL's signature), and only a short prefix.</summary>
internal static class SourceText
{
    public static string Shown(string source) => DevDbErrors.ShownSource(source);

    /// <summary>Who reads the dump at <paramref name="source"/> and from where, for -Verbose; <paramref name="local"/> is true when this process (the local engine) fetches it, false when a server or cluster does.</summary>
    public static string Fetching(string source, bool local)
    {
        if (!local) return $"Source {Shown(source)}: fetched by the DevDb server or cluster, with its own settings and credentials.";
        if (source.StartsWith("s3://", StringComparison.OrdinalIgnoreCase))
        {
            // The engine's rule (S3DumpSource): AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL, else AWS itself.
            string? endpoint = new[] { "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL" }
                .Select(name => Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? $"{SourceText.Shown(value)} ({name})" : null)
                .FirstOrDefault(value => value is not null);
            return $"Source {Shown(source)}: fetched by this machine from the S3 endpoint {endpoint ?? "of AWS (region from AWS_REGION or the AWS profile)"}, with the standard AWS credential chain.";
        }
        return Uri.TryCreate(source, UriKind.Absolute, out Uri? uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
            ? $"Source {Shown(source)}: downloaded by this machine."
            : $"Source {Shown(source)}: read from this machine's file system.";
    }
}
