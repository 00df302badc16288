namespace DevDb.Core;

/// <summary>What kind of failure an error is; the PowerShell layer maps it to an ErrorCategory.</summary>
public enum DevDbErrorCategory
{
    InvalidArgument,
    ObjectNotFound,
    ResourceExists,
    InvalidOperation,
    InvalidData,
    ConnectionError,
    PermissionDenied,
    NotInstalled,
    ResourceUnavailable,
    ResourceBusy,
}

/// <summary>
/// Every failure DevDb reports on purpose. <see cref="Code"/> is stable: cmdlets use it as the
/// ErrorId, the API as the problem code, and tests assert it.
/// </summary>
public sealed class DevDbException : Exception
{
    public DevDbException(string code, DevDbErrorCategory category, string message,
        string? recommendedAction = null, string? target = null, Exception? inner = null)
        : base(message, inner)
    {
        Code = code;
        Category = category;
        RecommendedAction = recommendedAction;
        Target = target;
    }

    public string Code { get; }
    public DevDbErrorCategory Category { get; }
    /// <summary>What the user can do about it, in one sentence.</summary>
    public string? RecommendedAction { get; }
    /// <summary>The name or address the error is about.</summary>
    public string? Target { get; }
}

/// <summary>The stable error codes. Add here; never rename one.</summary>
public static class ErrorCodes
{
    public const string NameInvalid = nameof(NameInvalid);
    public const string SourceInvalid = nameof(SourceInvalid);
    public const string SourceNotFound = nameof(SourceNotFound);
    public const string SourceUnreachable = nameof(SourceUnreachable);
    public const string SourceAccessDenied = nameof(SourceAccessDenied);
    public const string DumpCorrupt = nameof(DumpCorrupt);
    /// <summary>A plain SQL dump holds a psql meta-command other than those pg_dump writes: DevDb restores data, never commands.</summary>
    public const string DumpUnsafe = nameof(DumpUnsafe);
    public const string RestoreFailed = nameof(RestoreFailed);
    public const string PostRestoreSqlFailed = nameof(PostRestoreSqlFailed);
    public const string PostgresNotFound = nameof(PostgresNotFound);
    public const string PostgresVersionNotInstalled = nameof(PostgresVersionNotInstalled);
    public const string ServerUserMissing = nameof(ServerUserMissing);
    public const string ServerStartFailed = nameof(ServerStartFailed);
    /// <summary>A Postgres server did not stop when asked.</summary>
    public const string ServerStopFailed = nameof(ServerStopFailed);
    /// <summary>An installation setting (an environment variable, an API or chart setting) has a value DevDb cannot use.</summary>
    public const string SettingInvalid = nameof(SettingInvalid);
    /// <summary>A project asks for superuser logins where the installation does not allow them.</summary>
    public const string SuperuserLoginsNotAllowed = nameof(SuperuserLoginsNotAllowed);
    /// <summary>The local engine cannot run on this operating system (Windows): use a DevDb server.</summary>
    public const string PlatformNotSupported = nameof(PlatformNotSupported);
    /// <summary>A file system DevDb writes to is full; the message names the folder, its free space and what the step needed.</summary>
    public const string DiskFull = nameof(DiskFull);
    /// <summary>Running as root, the state folder (or a folder above it) cannot be entered by the servers' users.</summary>
    public const string HomeNotAccessible = nameof(HomeNotAccessible);
    /// <summary>A dump made by a newer pg_dump than the installed pg_restore reads.</summary>
    public const string DumpVersionUnsupported = nameof(DumpVersionUnsupported);
    /// <summary>An http(s) source redirects in a loop (or more times than DevDb follows).</summary>
    public const string SourceRedirectLoop = nameof(SourceRedirectLoop);
    public const string NoFreePort = nameof(NoFreePort);
    public const string PortInUse = nameof(PortInUse);
    public const string ProjectNotFound = nameof(ProjectNotFound);
    public const string ProjectExists = nameof(ProjectExists);
    public const string ProjectNotReady = nameof(ProjectNotReady);
    public const string ProjectHasDatabases = nameof(ProjectHasDatabases);
    public const string DatabaseNotFound = nameof(DatabaseNotFound);
    public const string DatabaseExists = nameof(DatabaseExists);
    public const string StateLocked = nameof(StateLocked);
    public const string DatabaseCreateFailed = nameof(DatabaseCreateFailed);
    public const string WaitTimedOut = nameof(WaitTimedOut);

    // Server mode: the API and its clients.
    /// <summary>No bearer token, or one the server does not know (HTTP 401).</summary>
    public const string Unauthenticated = nameof(Unauthenticated);
    /// <summary>The caller's role or ownership does not allow it (HTTP 403).</summary>
    public const string Forbidden = nameof(Forbidden);
    public const string ServerUnreachable = nameof(ServerUnreachable);
    /// <summary>The server answered with something that is not the DevDb API (or a 5xx without a problem code).</summary>
    public const string ServerError = nameof(ServerError);
    /// <summary>A token would travel over plain http to a host that is not this machine.</summary>
    public const string InsecureConnection = nameof(InsecureConnection);
    public const string ContextNotFound = nameof(ContextNotFound);
    /// <summary>The API could not read the request: a malformed body or query, or no such route.</summary>
    public const string RequestInvalid = nameof(RequestInvalid);
    /// <summary>Kubernetes: DevDb's custom resources are not installed where the kubeconfig points.</summary>
    public const string DevDbNotInstalled = nameof(DevDbNotInstalled);
    /// <summary>The API's tokens file is not the shape the server expects.</summary>
    public const string TokensFileInvalid = nameof(TokensFileInvalid);
}
