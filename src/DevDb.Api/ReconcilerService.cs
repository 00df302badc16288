using DevDb.Core.Runtimes.Kubernetes;

namespace DevDb.Api;

/// <summary>Runs the Kubernetes reconcile loop inside the API; replicas compete for its Lease, one reconciles.</summary>
public sealed class ReconcilerService(Reconciler reconciler, ILogger<ReconcilerService> log) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // The pod's name, unique per replica; a random suffix keeps two processes on one machine apart.
        var identity = $"{Environment.MachineName}-{Guid.NewGuid():N}"[..Math.Min(63, Environment.MachineName.Length + 33)];
        log.LogInformation("Reconciler {Identity} starting", identity);
        return reconciler.RunAsync(identity, stoppingToken);
    }
}
