namespace DevDb.Core;

/// <summary>This machine's software and resources, and the database servers DevDb runs on it (or in pods).</summary>
public static partial class DevDbErrors
{
    public static DevDbException PostgresNotFound() =>
        new(ErrorCodes.PostgresNotFound, "No PostgreSQL server installation was found (looked in DEVDB_PG_BIN, PATH and the usual folders).",
            "Install the PostgreSQL server package, or set DEVDB_PG_BIN to the folder that holds initdb, pg_ctl and pg_restore.", null, null);

    public static DevDbException PostgresVersionNotInstalled(int version, IEnumerable<int> installed) =>
        new(ErrorCodes.PostgresVersionNotInstalled,
            $"PostgreSQL {version} is not installed here; found {string.Join(", ", installed.Distinct().Order())}.",
            $"Install PostgreSQL {version} (server and client), set DEVDB_PG_BIN to its bin folder, or choose an installed version with -PostgresVersion.",
            version.ToString(), null);

    public static DevDbException ProgramNotFound(string program, string reason, string action, Exception? inner = null) =>
        new(ErrorCodes.ProgramNotFound, $"Could not run '{program}': {reason}", action, program, inner);

    public static DevDbException ServerUserMissing(string user) =>
        new(ErrorCodes.ServerUserMissing,
            $"DevDb is running as root and Postgres servers cannot; the OS user '{UserInput.Shown(user)}' to run them as does not exist.",
            "Create it (installing the PostgreSQL server package does), or set DEVDB_SERVER_USER to another unprivileged user.",
            UserInput.Shown(user), null);

    public static DevDbException PlatformNotSupported() =>
        new(ErrorCodes.PlatformNotSupported,
            "DevDb's local engine needs Linux or macOS: it authenticates its own admin connections by the OS (peer), which Postgres does not offer on Windows.",
            "On Windows, connect to a DevDb server instead: Connect-DevDb -Server <address>.", null, null);

    /// <param name="problem">Why DevDb cannot use the folder, naming it.</param>
    public static DevDbException HomeNotAccessible(string folder, string problem, string action, Exception? inner = null) =>
        new(ErrorCodes.HomeNotAccessible, problem, action, folder, inner);

    /// <param name="step">What DevDb was doing, e.g. "cloning image shop r1 into database dave".</param>
    /// <param name="free">What is free there, e.g. "12.0 MB".</param>
    /// <param name="needed">What the step needed, when known.</param>
    public static DevDbException DiskFull(string folder, string step, string free, string? needed, Exception? inner = null) =>
        new(ErrorCodes.DiskFull,
            $"The disk is full while {step}: '{folder}' has {free} free" + (needed is null ? "." : $", and the step needs about {needed}.") +
            " Nothing half-made was kept.",
            $"Free space on the file system of '{folder}' (remove databases you no longer need: Get-DevDbDatabase | Remove-DevDbDatabase), or move DEVDB_HOME to a larger one.",
            folder, inner);

    public static DevDbException NoFreePort(int first, int last, int heldByDevDb) =>
        new(ErrorCodes.NoFreePort,
            $"No free port is left in {first}-{last}: {heldByDevDb} of its {last - first + 1} are held by DevDb databases, the other {last - first + 1 - heldByDevDb} by other programs.",
            "Remove databases you no longer need (Get-DevDbDatabase | Remove-DevDbDatabase), or widen DEVDB_PORT_RANGE.", $"{first}-{last}", null);

    public static DevDbException PortInUse(string database, string logTail) =>
        new(ErrorCodes.PortInUse, $"The server of '{database}' cannot listen on its port, another program holds it: {logTail}",
            "Stop the program using that port, or remove and re-create the database to get another port.", database, null);

    /// <param name="problem">What went wrong, with the log's last lines or the container's words.</param>
    public static DevDbException ServerStartFailed(string database, string problem, string action) =>
        new(ErrorCodes.ServerStartFailed, $"The Postgres server of '{database}' did not start: {problem}".Trim(), action, database, null);

    public static DevDbException ServerStopFailed(string dataFolder, string tail) =>
        new(ErrorCodes.ServerStopFailed, $"The Postgres server in '{dataFolder}' did not stop: {tail}",
            "A process that outlives SIGKILL is waiting on the kernel, most often on a disk that does not answer (state D in 'ps -o pid,stat,cmd'): " +
            "check the disk and the kernel log (dmesg), then try again.", dataFolder, null);

    /// <param name="step">What DevDb tried, e.g. "initialize the image's data folder" or "set up the login of database 'dave'".</param>
    /// <param name="postgresSaid">The tool's or the server's words.</param>
    public static DevDbException ServerSetupFailed(string step, string postgresSaid, string action, string target, Exception? inner = null) =>
        new(ErrorCodes.ServerSetupFailed, $"Could not {step}: {postgresSaid}", action, target, inner);

    public static DevDbException ImageMissing(string project, int revision, string where) =>
        new(ErrorCodes.ImageMissing, $"Image r{revision} of project '{project}' is missing from {where}.",
            $"Build a new one with Update-DevDbProject -Name {project}, then reset or re-create the database.", project, null);

    public static DevDbException CredentialsMissing(string database, string where) =>
        new(ErrorCodes.CredentialsMissing,
            $"The credentials of database '{database}' ({where}) are missing; DevDb makes new ones and restarts its server.",
            $"Wait a moment and try again, or reset it with Reset-DevDbDatabase -Name {database}.", database, null);
}
