using DevDb.Core.Runtimes.Kubernetes;
using Microsoft.Extensions.Options;

namespace DevDb.Api;

/// <summary>In Kubernetes mode, runs the reconcile loop inside the API; replicas compete for its Lease and one reconciles.</summary>
public sealed class ReconcilerService(IServiceProvider services, IOptions<DevDbApiOptions> options, ILogger<ReconcilerService> log) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Value.Runtime != DevDbRuntime.Kubernetes) return Task.CompletedTask;
        // The pod's name (unique per replica) plus a random part, so two processes on one machine differ too.
        var identity = $"{Environment.MachineName}-{Guid.NewGuid():N}";
        log.LogInformation("Reconciler {Identity} campaigning for the lease", identity);
        return services.GetRequiredService<Reconciler>().RunAsync(identity, stoppingToken);
    }
}
