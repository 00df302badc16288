using k8s;
using k8s.LeaderElection;
using k8s.LeaderElection.ResourceLock;
using Microsoft.Extensions.Logging;

namespace DevDb.Core.Runtimes.Kubernetes;

/// <summary>The reconcile loop: only the holder of the namespace's Lease reconciles, on every watch event and at least every resync interval.</summary>
public sealed partial class Reconciler
{
    /// <summary>True while this replica holds the Lease and reconciles.</summary>
    public bool IsLeading { get; private set; }

    /// <summary>
    /// Campaigns for the Lease and, while holding it, reconciles on every watch event and at least
    /// every <see cref="KubernetesOptions.ResyncInterval"/>. Returns when cancelled.
    /// </summary>
    public async Task RunAsync(string identity, CancellationToken cancellationToken)
    {
        var election = _options.LeaderElection;
        using var elector = new LeaderElector(new LeaderElectionConfig(new LeaseLock(_client, Namespace, _options.LeaseName, identity))
        {
            LeaseDuration = election.LeaseDuration, RenewDeadline = election.RenewDeadline, RetryPeriod = election.RetryPeriod,
        });
        CancellationTokenSource? leading = null;
        Task work = Task.CompletedTask;
        elector.OnStartedLeading += () =>
        {
            _log.LogInformation("{Identity} holds lease {Lease}: reconciling namespace {Namespace}", identity, _options.LeaseName, Namespace);
            leading = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            IsLeading = true;
            work = LeadAsync(leading.Token);
        };
        elector.OnStoppedLeading += () =>
        {
            _log.LogWarning("{Identity} lost lease {Lease}: stopped reconciling", identity, _options.LeaseName);
            IsLeading = false;
            leading?.Cancel();
        };
        try
        {
            await elector.RunAndTryToHoldLeadershipForeverAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            IsLeading = false;
            leading?.Cancel();
            await work.ContinueWith(_ => { }, TaskScheduler.Default);
            leading?.Dispose();
        }
    }

    private async Task LeadAsync(CancellationToken cancellationToken)
    {
        var watches = new[]
        {
            WatchAsync(() => _client.CustomObjects.WatchListNamespacedCustomObjectAsync(DevDbGroup.Name, DevDbGroup.Version, Namespace, DevDbGroup.Projects, cancellationToken: cancellationToken), cancellationToken),
            WatchAsync(() => _client.CustomObjects.WatchListNamespacedCustomObjectAsync(DevDbGroup.Name, DevDbGroup.Version, Namespace, DevDbGroup.Databases, cancellationToken: cancellationToken), cancellationToken),
            WatchAsync(() => _client.CoreV1.WatchListNamespacedPodAsync(Namespace, labelSelector: ManagedSelector, cancellationToken: cancellationToken), cancellationToken),
            WatchAsync(() => _client.BatchV1.WatchListNamespacedJobAsync(Namespace, labelSelector: ManagedSelector, cancellationToken: cancellationToken), cancellationToken),
            WatchAsync(() => _client.CustomObjects.WatchListNamespacedCustomObjectAsync("snapshot.storage.k8s.io", "v1", Namespace, "volumesnapshots", labelSelector: ManagedSelector, cancellationToken: cancellationToken), cancellationToken),
        };
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await ReconcileOnceAsync(cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                _log.LogError(e, "Reconcile pass failed; retrying");
            }
            try
            {
                await _kick.WaitAsync(_options.ResyncInterval, cancellationToken);
                // Coalesce a burst of events into one pass.
                while (_kick.CurrentCount > 0) await _kick.WaitAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
        await Task.WhenAll(watches);
    }

    /// <summary>Wakes the loop on every change of the watched kind; a watch that ends is opened again.</summary>
    private async Task WatchAsync<T>(Func<IAsyncEnumerable<(WatchEventType, T)>> open, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await foreach (var _ in open().WithCancellation(cancellationToken))
                    _kick.Release();
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                _log.LogDebug(e, "Watch ended; opening it again");
            }
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
