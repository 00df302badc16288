namespace DevDb.Core.Sources;

/// <summary>The errors every dump source reports, worded the same way for each kind of source.</summary>
internal static class SourceErrors
{
    public const string AcceptedForms =
        "a file path, file:///path, http(s)://host/path or s3://bucket/key";

    public static DevDbException Invalid(string location, string problem, Exception? inner = null) =>
        new(ErrorCodes.SourceInvalid, DevDbErrorCategory.InvalidArgument,
            $"'{Shown(location)}' is not a dump source DevDb can read: {problem}",
            $"Give {AcceptedForms}.", Shown(location), inner);

    public static DevDbException NotFound(string location, string what, string? action = null, Exception? inner = null) =>
        new(ErrorCodes.SourceNotFound, DevDbErrorCategory.ObjectNotFound,
            $"The dump '{Shown(location)}' was not found: {what}",
            action ?? "Check the address for typos and that the dump has been published there.", Shown(location), inner);

    public static DevDbException AccessDenied(string location, string what, string action, Exception? inner = null) =>
        new(ErrorCodes.SourceAccessDenied, DevDbErrorCategory.PermissionDenied,
            $"Access to the dump '{Shown(location)}' was denied: {what}", action, Shown(location), inner);

    public static DevDbException Unreachable(string location, string what, string? action = null, Exception? inner = null) =>
        new(ErrorCodes.SourceUnreachable, DevDbErrorCategory.ConnectionError,
            $"The dump '{Shown(location)}' could not be reached: {what}",
            action ?? "Check the address, the network and that the server is up, then try again.", Shown(location), inner);

    /// <param name="line">The line, when known (psql's restricted mode names none).</param>
    public static DevDbException Unsafe(string location, long? line, string what) =>
        new(ErrorCodes.DumpUnsafe, DevDbErrorCategory.InvalidData,
            (line is { } number ? $"The dump '{Shown(location)}' is refused before anything of it ran: line {number} holds {what}. "
                : $"The restore of the dump '{Shown(location)}' was stopped: it holds {what}. ") +
            "DevDb restores a plain SQL dump's statements and data, and of psql's meta-commands only those pg_dump writes (\\connect, \\restrict, \\unrestrict).",
            "Make the dump with pg_dump (best: pg_dump -Fc --no-owner --no-acl) rather than by hand, or remove that line from the script.",
            Shown(location));

    /// <summary>A source address as messages show it: credentials and query string left out, and no longer than <see cref="UserInput.ShownLength"/>.</summary>
    public static string Shown(string? location) => UserInput.Shown(SourceAddress.Redacted(location));

    public static DevDbException Corrupt(string path, string what, string? action = null, Exception? inner = null) =>
        new(ErrorCodes.DumpCorrupt, DevDbErrorCategory.InvalidData,
            $"'{Shown(path)}' {what}",
            action ?? "Point the project at a file written by pg_dump (custom -Fc, tar -Ft, directory -Fd or plain SQL -Fp).",
            Shown(path), inner);
}
