namespace DevDb.Core.Sources;

/// <summary>
/// The one rule for showing a source address to someone who must not learn its secrets: a
/// developer reading a project, any error message, any log line. User names, passwords, query
/// strings (presigned URL signatures, tokens) and fragments are left out.
/// </summary>
public static class SourceAddress
{
    public const string RedactedMark = "REDACTED";

    public static string Redacted(string? location)
    {
        if (string.IsNullOrEmpty(location)) return location ?? "";
        var schemeEnd = location.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd <= 0) return location;
        var authorityStart = schemeEnd + 3;
        var pathStart = location.IndexOfAny(['/', '?', '#'], authorityStart);
        var authority = pathStart < 0 ? location[authorityStart..] : location[authorityStart..pathStart];
        var at = authority.LastIndexOf('@');
        if (at >= 0) authority = RedactedMark + "@" + authority[(at + 1)..];
        var rest = pathStart < 0 ? "" : location[pathStart..];
        var query = rest.IndexOfAny(['?', '#']);
        if (query >= 0) rest = rest[..query] + (rest[query] == '?' ? "?" : "#") + RedactedMark;
        return location[..authorityStart] + authority + rest;
    }
}
