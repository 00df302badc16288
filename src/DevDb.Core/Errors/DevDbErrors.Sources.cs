using DevDb.Core.Sources;

namespace DevDb.Core;

/// <summary>Sources and dumps: every message shows the address redacted (no credentials, no query string) and short.</summary>
public static partial class DevDbErrors
{
    public const string AcceptedSourceForms = "a file path, file:///path, http(s)://host/path or s3://bucket/key";

    /// <summary>A source address as messages show it: credentials and query string left out, and no longer than <see cref="UserInput.ShownLength"/>.</summary>
    public static string ShownSource(string? location) => UserInput.Shown(SourceAddress.Redacted(location));

    /// <param name="problem">Why DevDb cannot read it, e.g. "the scheme 'ftp' is not supported."</param>
    public static DevDbException SourceInvalid(string location, string problem, string? action = null, Exception? inner = null) =>
        new(ErrorCodes.SourceInvalid, $"'{ShownSource(location)}' is not a dump source DevDb can read: {problem}",
            action ?? $"Give {AcceptedSourceForms}.", ShownSource(location), inner);

    public static DevDbException SourceNotFound(string location, string what, string? action = null, Exception? inner = null) =>
        new(ErrorCodes.SourceNotFound, $"The dump '{ShownSource(location)}' was not found: {what}",
            action ?? "Check the address for typos and that the dump has been published there.", ShownSource(location), inner);

    public static DevDbException SourceAccessDenied(string location, string what, string action, Exception? inner = null) =>
        new(ErrorCodes.SourceAccessDenied, $"Access to the dump '{ShownSource(location)}' was denied: {what}", action, ShownSource(location), inner);

    public static DevDbException SourceUnreachable(string location, string what, string? action = null, Exception? inner = null) =>
        new(ErrorCodes.SourceUnreachable, $"The dump '{ShownSource(location)}' could not be reached: {what}",
            action ?? "Check the address, the network and that the server is up, then try again.", ShownSource(location), inner);

    public static DevDbException SourceRedirectLoop(string location, int redirects, int status, string? lastTarget) =>
        new(ErrorCodes.SourceRedirectLoop,
            $"The dump '{ShownSource(location)}' could not be reached: the server still redirected after {redirects} redirects " +
            $"(HTTP {status}, last to '{ShownSource(lastTarget)}').",
            "The URL redirects in a loop: give the dump's final address, or ask the server's owner to fix the redirect.", ShownSource(location), null);

    /// <param name="what">What is wrong with it, as a sentence after its name, e.g. "is empty."</param>
    public static DevDbException DumpCorrupt(string path, string what, string? action = null, Exception? inner = null) =>
        new(ErrorCodes.DumpCorrupt, $"'{ShownSource(path)}' {what}",
            action ?? "Point the project at a file written by pg_dump (custom -Fc, tar -Ft, directory -Fd or plain SQL -Fp).", ShownSource(path), inner);

    /// <param name="line">The line, when known (psql's restricted mode names none).</param>
    public static DevDbException DumpUnsafe(string location, long? line, string what) =>
        new(ErrorCodes.DumpUnsafe,
            (line is { } number ? $"The dump '{ShownSource(location)}' is refused before anything of it ran: line {number} holds {what}. "
                : $"The restore of the dump '{ShownSource(location)}' was stopped: it holds {what}. ") +
            "DevDb restores a plain SQL dump's statements and data, and of psql's meta-commands only those pg_dump writes (\\connect, \\restrict, \\unrestrict).",
            "Make the dump with pg_dump (best: pg_dump -Fc --no-owner --no-acl) rather than by hand, or remove that line from the script.",
            ShownSource(location), null);

    /// <param name="message">Which pg_dump made the dump and which archive formats the project's pg_restore reads.</param>
    public static DevDbException DumpVersionUnsupported(string project, string message, string action) =>
        new(ErrorCodes.DumpVersionUnsupported, message, action, project, null);

    /// <param name="message">What failed, quoting the restore tool (or the step).</param>
    public static DevDbException RestoreFailed(string message, string action, string target, Exception? inner = null) =>
        new(ErrorCodes.RestoreFailed, message, action, target, inner);

    /// <param name="detail">Postgres's words: SQLSTATE, message and position.</param>
    public static DevDbException PostRestoreSqlFailed(string project, string detail, Exception? inner = null) =>
        new(ErrorCodes.PostRestoreSqlFailed, $"The post-restore SQL of project '{project}' failed, so no image was published: {detail}",
            "Fix the SQL and run Update-DevDbProject with -PostRestoreSql.", project, inner);
}
