namespace DevDb.Core.Sources;

/// <summary>
/// The one rule for sources that name the newest dump (an S3 prefix, a local folder): the candidate
/// modified last wins; of several modified at the same moment, the greatest name (ordinal), so
/// dumps named by date pick the latest one. Both engines, and the restore pod's fetch step, use it.
/// </summary>
public static class NewestDump
{
    public sealed record Candidate(string Name, DateTimeOffset Modified);

    /// <summary>The newest candidate, or null when there is none.</summary>
    public static Candidate? Pick(IEnumerable<Candidate> candidates) =>
        candidates.OrderByDescending(c => c.Modified).ThenByDescending(c => c.Name, StringComparer.Ordinal).FirstOrDefault();

    /// <summary>Whether an address names the newest dump under an S3 prefix (s3://bucket/prefix/, trailing slash) rather than one object.</summary>
    public static bool IsS3Prefix(string key) => key.Length == 0 || key.EndsWith('/');
}
