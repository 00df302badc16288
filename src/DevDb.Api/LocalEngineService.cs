using DevDb.Core.Engine;
using Microsoft.Extensions.Options;

namespace DevDb.Api;

/// <summary>
/// In local mode, when the API starts: finishes or rolls back what a crash left (work it had
/// accepted before it died ends Failed with why, at once), then starts again, in the background,
/// the databases whose servers died while they were meant to run (a crash, a reboot), when
/// DevDb:RestartCrashedDatabases is on (the default). Then, every DevDb:ExpiryInterval, removes
/// the databases whose expiry has come (the engine's clock decides; the interval is wall time),
/// stops those no client used for their idle timeout, and starts the scheduled refreshes that are
/// due. This is where local-runtime schedules run: ordinary commands never refresh a project.
/// </summary>
public sealed class LocalEngineService(IDevDbService engine, IOptions<DevDbApiOptions> options, ILogger<LocalEngineService> log) : BackgroundService
{
    private long _completedExpiryPasses;

    /// <summary>How many expiry passes have ended (tests wait for one that began after they moved the clock).</summary>
    public long CompletedExpiryPasses => Interlocked.Read(ref _completedExpiryPasses);

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        if (engine is DevDbEngine local) await local.RecoverAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (engine is not DevDbEngine local) return;
        if (options.Value.RestartCrashedDatabases)
        {
            var started = await local.RestartCrashedDatabasesAsync(stoppingToken);
            if (started.Count > 0) log.LogInformation("Started again {Count} database(s) whose servers had stopped unasked: {Databases}", started.Count, string.Join(", ", started));
        }
        var interval = options.Value.ExpiryInterval > TimeSpan.Zero ? options.Value.ExpiryInterval : TimeSpan.FromMinutes(1);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var expired = await local.ExpireDatabasesAsync(stoppingToken);
                foreach (var name in expired) log.LogInformation("Removed database {Database}: its expiry had come", name);
                var idle = await local.StopIdleDatabasesAsync(stoppingToken);
                foreach (var name in idle) log.LogInformation("Stopped database {Database}: no client connection for its idle timeout", name);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                log.LogError(e, "The expiry and idle pass failed; the next one tries again");
            }
            try
            {
                // Each refresh builds in the background and records its own outcome: the pass only starts them.
                var refreshing = await local.RefreshDueProjectsAsync(stoppingToken);
                foreach (var name in refreshing) log.LogInformation("Scheduled refresh of project {Project} started", name);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                log.LogError(e, "The refresh pass failed; the next one tries again");
            }
            Interlocked.Increment(ref _completedExpiryPasses);
            try
            {
                await Task.Delay(interval, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
