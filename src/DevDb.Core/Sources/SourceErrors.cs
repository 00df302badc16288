namespace DevDb.Core.Sources;

/// <summary>The errors every dump source reports, worded the same way for each kind of source.</summary>
internal static class SourceErrors
{
    public const string AcceptedForms =
        "a file path, file:///path, http(s)://host/path or s3://bucket/key";

    public static DevDbException Invalid(string location, string problem, Exception? inner = null) =>
        new(ErrorCodes.SourceInvalid, DevDbErrorCategory.InvalidArgument,
            $"'{location}' is not a dump source DevDb can read: {problem}",
            $"Give {AcceptedForms}.", location, inner);

    public static DevDbException NotFound(string location, string what, string? action = null, Exception? inner = null) =>
        new(ErrorCodes.SourceNotFound, DevDbErrorCategory.ObjectNotFound,
            $"The dump '{location}' was not found: {what}",
            action ?? "Check the address for typos and that the dump has been published there.", location, inner);

    public static DevDbException AccessDenied(string location, string what, string action, Exception? inner = null) =>
        new(ErrorCodes.SourceAccessDenied, DevDbErrorCategory.PermissionDenied,
            $"Access to the dump '{location}' was denied: {what}", action, location, inner);

    public static DevDbException Unreachable(string location, string what, string? action = null, Exception? inner = null) =>
        new(ErrorCodes.SourceUnreachable, DevDbErrorCategory.ConnectionError,
            $"The dump '{location}' could not be reached: {what}",
            action ?? "Check the address, the network and that the server is up, then try again.", location, inner);

    public static DevDbException Corrupt(string path, string what, string? action = null, Exception? inner = null) =>
        new(ErrorCodes.DumpCorrupt, DevDbErrorCategory.InvalidData,
            $"'{path}' {what}",
            action ?? "Point the project at a file written by pg_dump (custom -Fc, tar -Ft, directory -Fd or plain SQL -Fp).",
            path, inner);
}
