using DevDb.Core.Engine;
using Microsoft.Extensions.Options;

namespace DevDb.Api;

/// <summary>
/// In local mode, when the API starts: finishes or rolls back what a crash left (work it had
/// accepted before it died ends Failed with why, at once), then starts again, in the background,
/// the databases whose servers died while they were meant to run (a crash, a reboot), when
/// DevDb:RestartCrashedDatabases is on (the default).
/// </summary>
public sealed class LocalEngineService(IDevDbService engine, IOptions<DevDbApiOptions> options, ILogger<LocalEngineService> log) : BackgroundService
{
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        if (engine is DevDbEngine local) await local.RecoverAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (engine is not DevDbEngine local || !options.Value.RestartCrashedDatabases) return;
        var started = await local.RestartCrashedDatabasesAsync(stoppingToken);
        if (started.Count > 0) log.LogInformation("Started again {Count} database(s) whose servers had stopped unasked: {Databases}", started.Count, string.Join(", ", started));
    }
}
