using DevDb.Api;
using DevDb.Core.Client;
using DevDb.Core.Engine;
using DevDb.Core.Sources;
using Microsoft.Extensions.DependencyInjection;

namespace DevDb.Conformance.Tests.Configurations;

/// <summary>The embedded engine over the local runtime, in the test's process: what the module uses by default.</summary>
public sealed class EmbeddedEngine : Configuration
{
    private EngineHome? _home;

    public override IntendedDifferences Differences { get; } =
        new() { FileSources = true, CancelledWaitKeepsAcceptedWork = false, HostPerDatabase = false, ScheduledRefreshRuns = false };

    protected override Task<IDevDbClient> StartAsync()
    {
        S3.UseAsDefaultEndpoint();
        _home = new EngineHome(new LocalEngineOptions { Sources = new DumpSourceOptions { S3ServiceUrl = S3.ServiceUrl }, Clock = Clock, Quotas = Quotas });
        return Task.FromResult(ClientAs(AdminUser));
    }

    public override IDevDbClient ClientAs(string user) => ActingClient.For(_home!.Engine, ActorOf(user));

    /// <summary>No server runs in between: the passes (expiry, then idle stop) are what the next changing command does first.</summary>
    public override async Task AdvanceClockAsync(TimeSpan by)
    {
        Clock.Advance(by);
        await _home!.Engine.ExpireDatabasesAsync();
        await _home.Engine.StopIdleDatabasesAsync();
    }

    protected override async ValueTask StopAsync()
    {
        if (_home is not null) await _home.DisposeAsync();
    }
}

/// <summary>HttpDevDbClient -> the real API (server mode) -> the embedded engine over the local runtime.</summary>
public sealed class HttpToEmbeddedEngine : Configuration
{
    private EngineHome? _home;
    private ApiHost? _api;
    private IDevDbClient? _client;

    public override IntendedDifferences Differences { get; } = new() { FileSources = true, CancelledWaitKeepsAcceptedWork = true, HostPerDatabase = false };

    protected override async Task<IDevDbClient> StartAsync()
    {
        // The API's engine reaches S3 the way a server's does: the AWS_* environment.
        S3.UseAsDefaultEndpoint();
        // A home of the test's own (EngineHome makes it reachable by the postgres OS user and removes it afterwards).
        _home = new EngineHome();
        _api = await ApiHost.StartAsync(_home.Path, new Dictionary<string, string?>
            {
                ["DevDb:Home"] = _home.Path, ["DevDb:ExpiryInterval"] = "00:00:00.2",
                ["DevDb:Quotas:DatabasesPerUser"] = Quotas.DatabasesPerUser.ToString(), ["DevDb:Quotas:RunningDatabasesPerUser"] = Quotas.RunningDatabasesPerUser.ToString(),
                ["DevDb:Quotas:CheckpointsPerUser"] = Quotas.CheckpointsPerUser.ToString(),
            },
            services => services.AddSingleton<TimeProvider>(Clock));
        return _client = _api.ClientFor(AdminUser);
    }

    public override IDevDbClient ClientAs(string user) => _api!.ClientFor(user);

    /// <summary>The API's background pass (LocalEngineService) removes what expired and stops what is idle.</summary>
    public override async Task AdvanceClockAsync(TimeSpan by)
    {
        Clock.Advance(by);
        var service = _api!.Services.GetRequiredService<LocalEngineService>();
        await UntilPassAsync(() => service.CompletedExpiryPasses);
    }

    protected override async ValueTask StopAsync()
    {
        _client?.Dispose();
        if (_api is not null) await _api.DisposeAsync();
        if (_home is not null) await _home.DisposeAsync();
    }
}
