using DevDb.Core.Client;
using DevDb.Core.Model;

namespace DevDb.Core.Rules;

/// <summary>
/// Idle stop, written once and used by both engines (the embedded engine's pass, the API's background
/// service over it, and the reconciler): which idle timeout applies, and when a database that no client
/// uses is stopped. Times are the engine's clock.
/// </summary>
public static class IdleRules
{
    /// <summary>The shortest idle timeout DevDb takes: a pass runs about once a minute, so anything shorter means nothing.</summary>
    public static readonly TimeSpan Shortest = TimeSpan.FromMinutes(1);

    /// <summary>How often local commands run the idle pass at most (a server's timer runs its own).</summary>
    public static readonly TimeSpan PassInterval = Shortest;

    /// <summary>True when no pass ran yet, the last one is <see cref="PassInterval"/> old, or it is in the future (the clock went back).</summary>
    public static bool PassDue(DateTimeOffset? lastPass, DateTimeOffset now) =>
        lastPass is not { } last || now - last >= PassInterval || last > now;

    /// <summary>
    /// The application_name of DevDb's own sampling session: it is not a client, and another sampler's
    /// session (a second pass at the same moment) is not one either.
    /// </summary>
    public const string SamplerApplicationName = "devdb-idle-sampler";

    /// <summary>
    /// What a pass reads from a server, in one statement, through a session to the <c>postgres</c> database:
    /// the client sessions connected now other than this one (client backends of any user), and how many client
    /// sessions were ever opened to the other databases (pg_stat_database.sessions counts client backends only;
    /// the sampler's own sessions go to <c>postgres</c>, which it leaves out), so a client that came and went
    /// between two passes is seen too.
    /// </summary>
    /// <remarks>
    /// The local runtime samples as the cluster's superuser, which sees every session's backend_type. On
    /// Kubernetes the sampler is the database's own login, which sees backend_type only of its own sessions: a
    /// session of another role counts when it is connected to a database and is not the bootstrap superuser's
    /// (oid 10, DevDb's admin), whose name the server's own workers (autovacuum, the logical replication
    /// launcher) carry. So there a session of the admin (kubectl exec ... psql) does not keep a database running.
    /// </remarks>
    public const string SampleSql =
        "SELECT (SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid() " +
        $"AND coalesce(application_name, '') <> '{SamplerApplicationName}' " +
        "AND (backend_type = 'client backend' OR (backend_type IS NULL AND datid IS NOT NULL AND usesysid IS NOT NULL AND usesysid <> 10))), " +
        "(SELECT coalesce(sum(sessions), 0)::bigint FROM pg_stat_database WHERE datname IS NOT NULL AND datname <> 'postgres')";

    /// <summary>An idle timeout as given: between a minute and 100 years (LifetimeInvalid), and not with "no idle timeout".</summary>
    public static void CheckShape(string name, TimeSpan? idleTimeout, bool noIdleTimeout = false)
    {
        if (idleTimeout is not null && noIdleTimeout)
            throw DevDbErrors.LifetimeInvalid(name, "it gives both an idle timeout and no idle timeout.", "Give one of -IdleTimeout or -NoIdleTimeout.");
        if (idleTimeout is { } t && (t < Shortest || t > LifetimeRules.Longest))
            throw DevDbErrors.LifetimeInvalid(name, $"the idle timeout {LifetimeRules.Shown(t)} is not between a minute and 100 years.",
                "Give an idle timeout of a minute or more, e.g. -IdleTimeout (New-TimeSpan -Minutes 30) or '00:30:00'.");
    }

    /// <summary>The idle timeout of a new database: its own, else its project's, else the installation's, else none (never idle-stopped).</summary>
    public static TimeSpan? IdleTimeoutOfNew(NewDatabaseRequest request, Project project, TimeSpan? installationDefault)
    {
        CheckShape(request.Name, request.IdleTimeout);
        return request.IdleTimeout ?? project.IdleTimeout ?? installationDefault;
    }

    /// <summary>What a Set request leaves of a database's idle timeout, and whether its idle time starts again from now (it was given one).</summary>
    public static (TimeSpan? IdleTimeout, bool Restart) Apply(SetDatabaseRequest request, Database database)
    {
        CheckShape(request.Name, request.IdleTimeout, request.NoIdleTimeout);
        if (request.NoIdleTimeout) return (null, false);
        return request.IdleTimeout is { } t ? (t, true) : (database.IdleTimeout, false);
    }

    /// <summary>A project's idle timeout after a Set request (what it does not give is kept).</summary>
    public static TimeSpan? ProjectIdleTimeout(Project project, SetProjectRequest request)
    {
        CheckShape(project.Name, request.IdleTimeout, request.NoIdleTimeout);
        return request.NoIdleTimeout ? null : request.IdleTimeout ?? project.IdleTimeout;
    }

    /// <summary>Whether a pass looks at the database at all: it runs, has an idle timeout, and is not protected.</summary>
    public static bool IsWatched(Database database) =>
        database.Status == DatabaseStatus.Running && database.IdleTimeout is not null && !database.Protected;

    /// <summary>
    /// Where its idle time counts from: when it was last seen in use (or started, created, reset, restored), which
    /// every engine records by its own clock; else when it was created (on Kubernetes the API server's clock).
    /// </summary>
    public static DateTimeOffset IdleSince(Database database) => database.LastActiveAt ?? database.Created;

    /// <summary>Whether a pass that found no client connected stops it now: watched, and idle for its whole timeout.</summary>
    public static bool IsIdle(Database database, DateTimeOffset now) =>
        IsWatched(database) && now - IdleSince(database) >= database.IdleTimeout!.Value;

    /// <summary>
    /// Whether a sample shows use: a client connected now, or client sessions opened since the sample before
    /// (any change of the counter: a server whose statistics were reset counts as used, to be safe). A session
    /// that came and went between two samples counts as use at the second one: a pass cannot tell when it was.
    /// </summary>
    public static bool ShowsUse(long clients, long sessions, long? sessionsBefore) =>
        clients > 0 || (sessionsBefore is { } before && before != sessions);
}
