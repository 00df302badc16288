namespace DevDb.Core;

/// <summary>
/// The stable error codes: scripts branch on them, so each means one thing, has one category and
/// one factory in <see cref="DevDbErrors"/>, and a row in the README's troubleshooting table. Add
/// here; never rename one.
/// </summary>
public static class ErrorCodes
{
    // What was asked for.
    /// <summary>A project or database name is not a DNS label (or a name inside the server is unusable).</summary>
    public const string NameInvalid = nameof(NameInvalid);
    /// <summary>The API or a DevDb tool cannot serve the request as given: a malformed body or query, no such route, a bad command line, a value over its limit.</summary>
    public const string RequestInvalid = nameof(RequestInvalid);
    /// <summary>An installation setting (an environment variable, an API or chart setting) has a value DevDb cannot use.</summary>
    public const string SettingInvalid = nameof(SettingInvalid);
    /// <summary>A project asks for superuser logins where the installation does not allow them.</summary>
    public const string SuperuserLoginsNotAllowed = nameof(SuperuserLoginsNotAllowed);
    /// <summary>A PostgreSQL major version DevDb cannot run anywhere (older than 10).</summary>
    public const string PostgresVersionUnsupported = nameof(PostgresVersionUnsupported);
    /// <summary>A time-to-live or expiry DevDb cannot use: not positive, in the past, two at once, or beyond the project's or installation's maximum.</summary>
    public const string LifetimeInvalid = nameof(LifetimeInvalid);
    /// <summary>A refresh schedule DevDb cannot use: not a five-field cron expression, an unknown IANA time zone, or one that never occurs.</summary>
    public const string ScheduleInvalid = nameof(ScheduleInvalid);

    // The source and its dump.
    public const string SourceInvalid = nameof(SourceInvalid);
    public const string SourceNotFound = nameof(SourceNotFound);
    public const string SourceUnreachable = nameof(SourceUnreachable);
    public const string SourceAccessDenied = nameof(SourceAccessDenied);
    /// <summary>An http(s) source redirects in a loop (or more times than DevDb follows).</summary>
    public const string SourceRedirectLoop = nameof(SourceRedirectLoop);
    public const string DumpCorrupt = nameof(DumpCorrupt);
    /// <summary>A plain SQL dump holds a psql meta-command other than those pg_dump writes: DevDb restores data, never commands.</summary>
    public const string DumpUnsafe = nameof(DumpUnsafe);
    /// <summary>A dump made by a newer pg_dump than the installed pg_restore reads.</summary>
    public const string DumpVersionUnsupported = nameof(DumpVersionUnsupported);
    public const string RestoreFailed = nameof(RestoreFailed);
    public const string PostRestoreSqlFailed = nameof(PostRestoreSqlFailed);

    // This machine's software and resources (local runtime).
    public const string PostgresNotFound = nameof(PostgresNotFound);
    public const string PostgresVersionNotInstalled = nameof(PostgresVersionNotInstalled);
    /// <summary>A program DevDb runs (a Postgres tool, setpriv) could not be started.</summary>
    public const string ProgramNotFound = nameof(ProgramNotFound);
    public const string ServerUserMissing = nameof(ServerUserMissing);
    /// <summary>The local engine cannot run on this operating system (Windows): use a DevDb server.</summary>
    public const string PlatformNotSupported = nameof(PlatformNotSupported);
    /// <summary>DevDb cannot use its state folder: the servers' users cannot pass through a folder above it, or it cannot be written.</summary>
    public const string HomeNotAccessible = nameof(HomeNotAccessible);
    /// <summary>A file system DevDb writes to is full; the message names the folder, its free space and what the step needed.</summary>
    public const string DiskFull = nameof(DiskFull);
    public const string NoFreePort = nameof(NoFreePort);
    public const string PortInUse = nameof(PortInUse);

    // Database servers.
    public const string ServerStartFailed = nameof(ServerStartFailed);
    /// <summary>A Postgres server did not stop when asked.</summary>
    public const string ServerStopFailed = nameof(ServerStopFailed);
    /// <summary>Preparing a server's files or its login failed (initdb, a sync, the login's SQL); the message quotes Postgres.</summary>
    public const string ServerSetupFailed = nameof(ServerSetupFailed);
    /// <summary>The image a database is cloned from is gone from disk (deleted outside DevDb).</summary>
    public const string ImageMissing = nameof(ImageMissing);
    /// <summary>A database's credentials are missing (Kubernetes: its Secret was deleted; the reconciler makes new ones).</summary>
    public const string CredentialsMissing = nameof(CredentialsMissing);

    // Projects and databases.
    public const string ProjectNotFound = nameof(ProjectNotFound);
    public const string ProjectExists = nameof(ProjectExists);
    public const string ProjectNotReady = nameof(ProjectNotReady);
    public const string ProjectHasDatabases = nameof(ProjectHasDatabases);
    public const string DatabaseNotFound = nameof(DatabaseNotFound);
    public const string DatabaseExists = nameof(DatabaseExists);
    /// <summary>A protected database (or project) refuses to be removed or reset until it is unprotected.</summary>
    public const string DatabaseProtected = nameof(DatabaseProtected);
    /// <summary>A create, start or checkpoint would go past one of the installation's quotas (QuotaLimits); administrators are not limited.</summary>
    public const string QuotaExceeded = nameof(QuotaExceeded);
    /// <summary>Another session or operation holds the state, the project or the database.</summary>
    public const string StateLocked = nameof(StateLocked);
    public const string DatabaseCreateFailed = nameof(DatabaseCreateFailed);
    /// <summary>A reset, stop or start accepted to run in the background stopped before it finished (the server shut down, its process died); the database was brought back to a consistent state.</summary>
    public const string OperationInterrupted = nameof(OperationInterrupted);
    public const string WaitTimedOut = nameof(WaitTimedOut);
    /// <summary>The database has no checkpoint of that name.</summary>
    public const string CheckpointNotFound = nameof(CheckpointNotFound);
    /// <summary>The database already has a checkpoint of that name (checkpoints are never overwritten).</summary>
    public const string CheckpointExists = nameof(CheckpointExists);
    /// <summary>Taking a checkpoint failed (Kubernetes: its VolumeSnapshot failed); nothing of it was kept.</summary>
    public const string CheckpointFailed = nameof(CheckpointFailed);

    // Servers DevDb talks to (the DevDb API, the Kubernetes API) and the client's saved contexts.
    /// <summary>No bearer token, or one the server does not know (HTTP 401); or the kubeconfig's credentials are refused.</summary>
    public const string Unauthenticated = nameof(Unauthenticated);
    /// <summary>The caller's role or ownership does not allow it (HTTP 403).</summary>
    public const string Forbidden = nameof(Forbidden);
    /// <summary>The DevDb API or the Kubernetes API server cannot be reached.</summary>
    public const string ServerUnreachable = nameof(ServerUnreachable);
    /// <summary>The server answered with something that is not the DevDb API (or a 5xx without a problem code).</summary>
    public const string ServerError = nameof(ServerError);
    /// <summary>A server address that is not an absolute http(s) address.</summary>
    public const string ServerAddressInvalid = nameof(ServerAddressInvalid);
    /// <summary>A token would travel over plain http to a host that is not this machine.</summary>
    public const string InsecureConnection = nameof(InsecureConnection);
    public const string ContextNotFound = nameof(ContextNotFound);
    /// <summary>The saved contexts (or a context's token) cannot be read.</summary>
    public const string ContextsFileInvalid = nameof(ContextsFileInvalid);
    /// <summary>Kubernetes: DevDb's custom resources are not installed where the kubeconfig points.</summary>
    public const string DevDbNotInstalled = nameof(DevDbNotInstalled);
    /// <summary>The API's tokens file is not the shape the server expects.</summary>
    public const string TokensFileInvalid = nameof(TokensFileInvalid);

    /// <summary>The category of each code; a code DevDb does not know (from a newer server) is an InvalidOperation.</summary>
    public static DevDbErrorCategory CategoryOf(string code) => code switch
    {
        NameInvalid or RequestInvalid or SettingInvalid or PostgresVersionUnsupported or SourceInvalid or ServerAddressInvalid or LifetimeInvalid
            or ScheduleInvalid
            => DevDbErrorCategory.InvalidArgument,
        SourceNotFound or ProjectNotFound or DatabaseNotFound or ContextNotFound or CheckpointNotFound => DevDbErrorCategory.ObjectNotFound,
        ProjectExists or DatabaseExists or CheckpointExists => DevDbErrorCategory.ResourceExists,
        SourceRedirectLoop or DumpCorrupt or DumpUnsafe or RestoreFailed or PostRestoreSqlFailed or ContextsFileInvalid or TokensFileInvalid
            => DevDbErrorCategory.InvalidData,
        SourceUnreachable or ServerUnreachable => DevDbErrorCategory.ConnectionError,
        SourceAccessDenied or SuperuserLoginsNotAllowed or HomeNotAccessible or Unauthenticated or Forbidden or InsecureConnection
            => DevDbErrorCategory.PermissionDenied,
        DumpVersionUnsupported or PostgresNotFound or PostgresVersionNotInstalled or ProgramNotFound or ServerUserMissing
            or PlatformNotSupported or DevDbNotInstalled => DevDbErrorCategory.NotInstalled,
        DiskFull or NoFreePort or PortInUse or ServerStartFailed or ServerStopFailed or ServerSetupFailed or ImageMissing
            or CredentialsMissing or ServerError or OperationInterrupted or CheckpointFailed => DevDbErrorCategory.ResourceUnavailable,
        StateLocked => DevDbErrorCategory.ResourceBusy,
        QuotaExceeded => DevDbErrorCategory.QuotaExceeded,
        WaitTimedOut => DevDbErrorCategory.OperationTimeout,
        _ => DevDbErrorCategory.InvalidOperation, // ProjectNotReady, ProjectHasDatabases, DatabaseProtected, DatabaseCreateFailed
    };
}
