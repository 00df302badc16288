using DevDb.Core.Client;
using DevDb.Core.Model;
using Npgsql;
using Xunit;

namespace DevDb.Conformance.Tests.Configurations;

/// <summary>
/// One way of reaching DevDb through <see cref="IDevDbClient"/>, with what the scenarios share: an
/// s3rver bucket holding the sample dump (every configuration restores from S3), and a project
/// "shop" built once from it. Disposing removes what the scenarios left and stops everything.
/// </summary>
public abstract class Configuration : IAsyncLifetime
{
    public const string Bucket = "conformance";
    public const string SharedProject = "shop";
    /// <summary>The Postgres major version the sample dump is restored into (the one installed here and in the rig's image).</summary>
    public const int PostgresVersion = 15;

    public S3rverFixture S3 { get; } = new();

    /// <summary>The clock of the configuration's engine, API and reconciler: scenarios move it instead of sleeping.</summary>
    public ManualClock Clock { get; } = new();

    /// <summary>
    /// Moves the clock on, then waits until an expiry pass has run that began after the move: the
    /// embedded engine's own (what the next changing command does), the API's background service,
    /// or a reconcile pass. The same passes stop idle databases.
    /// </summary>
    public abstract Task AdvanceClockAsync(TimeSpan by);

    /// <summary>Waits until a pass counted by <paramref name="passes"/> began after now and ended (two more ended).</summary>
    protected static async Task UntilPassAsync(Func<long> passes)
    {
        var seen = passes();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (passes() < seen + 2)
        {
            if (DateTime.UtcNow > deadline) Assert.Fail("No expiry pass ran within 60 seconds.");
            await Task.Delay(50);
        }
    }

    /// <summary>The client the scenarios call, acting as an administrator (<see cref="AdminUser"/>).</summary>
    public IDevDbClient Client { get; private set; } = null!;

    /// <summary>The administrator every configuration knows: the API's admin token, or the actor of the in-process engine's calls.</summary>
    public const string AdminUser = "ada";
    /// <summary>Developers every configuration knows (tokens of the API's, actors of the in-process engines').</summary>
    public static readonly IReadOnlyList<string> DeveloperUsers = ["dave", "erin", "quinn"];

    /// <summary>The quotas every configuration sets. They bind developers only, so the scenarios run as the administrator are past them.</summary>
    public static QuotaLimits Quotas { get; } = new() { DatabasesPerUser = 2, RunningDatabasesPerUser = 1, CheckpointsPerUser = 1 };

    /// <summary>A client acting as <paramref name="user"/> (<see cref="AdminUser"/> or one of <see cref="DeveloperUsers"/>); the caller disposes it.</summary>
    public abstract IDevDbClient ClientAs(string user);

    /// <summary>The actor an in-process engine's calls run as, for <paramref name="user"/>.</summary>
    protected static Actor ActorOf(string user) => new(user, IsAdmin: user == AdminUser, RequestId: $"conformance-{Guid.NewGuid():N}");

    /// <summary>How this configuration differs from the others on purpose.</summary>
    public abstract IntendedDifferences Differences { get; }

    public string Source(string key) => $"s3://{Bucket}/{key}";

    public NewProjectRequest Shop => new() { Name = SharedProject, Source = Source("shop.dump"), PostgresVersion = PostgresVersion };

    /// <summary>Logs in to a database as its user, over TCP with its password, the way an engineer's client does.</summary>
    public async Task<NpgsqlConnection> OpenAsync(ConnectionInfo connection)
    {
        var (host, port) = Endpoint(connection);
        var session = new NpgsqlConnection(new NpgsqlConnectionStringBuilder
        {
            Host = host, Port = port, Database = connection.DatabaseName, Username = connection.Username, Password = connection.Password,
            Pooling = false, Timeout = 15, SslMode = SslMode.Prefer,
        }.ConnectionString);
        await session.OpenAsync();
        return session;
    }

    public async Task<string?> ScalarAsync(ConnectionInfo connection, string sql)
    {
        await using var session = await OpenAsync(connection);
        await using var command = new NpgsqlCommand(sql, session);
        return (await command.ExecuteScalarAsync())?.ToString();
    }

    /// <summary>Where a client reaches the database (the rig has no Traefik: its Services are loopback ports).</summary>
    protected virtual (string Host, int Port) Endpoint(ConnectionInfo connection) => (connection.Host, connection.Port);

    /// <summary>Starts the configuration's engine (and API); returns the administrator's client.</summary>
    protected abstract Task<IDevDbClient> StartAsync();

    /// <summary>Stops what <see cref="StartAsync"/> started, the client included.</summary>
    protected abstract ValueTask StopAsync();

    public async Task InitializeAsync()
    {
        await S3.InitializeAsync();
        await S3.CreateBucketAsync(Bucket);
        await S3.UploadAsync(Bucket, "shop.dump", RepoPaths.SampleDump);
        Client = await StartAsync();
        await Client.NewProjectAsync(Shop);
    }

    public async Task DisposeAsync()
    {
        try
        {
            if (Client is not null)
            {
                foreach (var project in await Client.GetProjectsAsync())
                    await Client.RemoveProjectAsync(project.Name, force: true);
                Assert.Empty(await Client.GetDatabasesAsync());
            }
        }
        finally
        {
            await StopAsync();
            await S3.DisposeAsync();
        }
    }
}

/// <summary>
/// What differs between the configurations on purpose, declared in one place; each difference has a
/// scenario that holds every configuration to its side of it.
/// </summary>
public sealed record IntendedDifferences
{
    /// <summary>
    /// A dump at a path on this machine: the local engine restores it; in a cluster the restore Job
    /// cannot read the caller's files, so the request is SourceInvalid before anything is recorded.
    /// </summary>
    public required bool FileSources { get; init; }

    /// <summary>
    /// Cancelling a create while waiting for it. The embedded engine runs the create in the caller's
    /// process and rolls it back (nothing left); a server or cluster has accepted the work and
    /// finishes it (the caller only stops waiting, as with Ctrl+C).
    /// </summary>
    public required bool CancelledWaitKeepsAcceptedWork { get; init; }

    /// <summary>
    /// Connection details: the local runtime gives each database a port of its own on one host; the
    /// cluster gives each a host name of its own (SNI through the shared load balancer) on 5432.
    /// </summary>
    public required bool HostPerDatabase { get; init; }

    /// <summary>
    /// Whether the source is checked before the project is recorded. The embedded engine and the API
    /// check it (SourceNotFound, nothing recorded); the Kubernetes engine driven from a workstation may
    /// hold no credentials for the source, so it records the project and the restore Job's fetch step
    /// reports the same code as the failed build's error.
    /// </summary>
    public bool SourcesCheckedBeforeRecording { get; init; } = true;

    /// <summary>
    /// Scheduled refresh. A server (the API's background service) or the reconciler runs a project's
    /// schedule when it comes; the embedded engine has no background service and ordinary commands never
    /// refresh a project, so in local mode without a server a schedule is recorded and shown
    /// (NextRefresh) but nothing refreshes.
    /// </summary>
    public bool ScheduledRefreshRuns { get; init; } = true;
    /// When a database's history gets the entry of a create, reset, stop or start. The embedded engine does the
    /// work and records the outcome (succeeded, or failed with its code) when it ends; the Kubernetes engine only
    /// records the request (the reconciler does the work later), so its entry is written when the request is
    /// accepted, and a failure the reconciler finds afterwards is a second, failed entry by devdb. Refusals
    /// (e.g. DatabaseProtected) are failed entries by the caller in both.
    /// </summary>
    public bool HistoryAtRequest { get; init; }
}
