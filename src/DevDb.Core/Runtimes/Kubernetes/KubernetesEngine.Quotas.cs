using System.Diagnostics;
using System.Net;
using DevDb.Core.Model;
using DevDb.Core.Rules;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace DevDb.Core.Runtimes.Kubernetes;

/// <summary>Quotas (QuotaRules) from the DevDbDatabase records; a database's checkpoints are the ones its spec asks for.</summary>
public sealed partial class KubernetesEngine
{
    /// <summary>How long a quota Lease stays held by a holder that died before it let go.</summary>
    private static readonly TimeSpan QuotaLockDuration = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Runs a quota check and the write it allows as one step, holding the namespace's quota Lease
    /// (<see cref="KubernetesOptions.QuotaLeaseName"/>): the API server has no transaction, and without it two
    /// creates racing for a user's last place both landed, whichever API replica answered them. Only when a
    /// limit is set; a holder that died frees it after <see cref="QuotaLockDuration"/>. A kubeconfig without
    /// RBAC on Leases works unlocked (such a user can write the records and go around quotas anyway).
    /// </summary>
    private async Task<T> WithQuotaLockAsync<T>(Func<Task<T>> checkAndWrite, CancellationToken cancellationToken)
    {
        if (_options.Quotas == QuotaLimits.None) return await checkAndWrite();
        var leases = _client.CoordinationV1;
        var name = _options.QuotaLeaseName;
        var holder = $"{Environment.MachineName}-{Guid.NewGuid():N}";
        var waited = Stopwatch.StartNew();
        while (true)
        {
            // Real time, not the engine's clock: the Lease is about who writes now.
            var now = DateTime.UtcNow;
            var held = new V1LeaseSpec { HolderIdentity = holder, LeaseDurationSeconds = (int)QuotaLockDuration.TotalSeconds, AcquireTime = now, RenewTime = now };
            try
            {
                V1Lease? lease = null;
                try
                {
                    lease = await leases.ReadNamespacedLeaseAsync(name, Namespace, cancellationToken: cancellationToken);
                }
                catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
                {
                }
                if (lease is null)
                {
                    await leases.CreateNamespacedLeaseAsync(new V1Lease
                    {
                        Metadata = new V1ObjectMeta { Name = name, Labels = new Dictionary<string, string> { [KubeNames.ManagedBy] = KubeNames.Devdb } },
                        Spec = held,
                    }, Namespace, cancellationToken: cancellationToken);
                    break;
                }
                if (string.IsNullOrEmpty(lease.Spec?.HolderIdentity) || (lease.Spec.RenewTime ?? DateTime.MinValue) + QuotaLockDuration < now)
                {
                    lease.Spec = held;
                    await leases.ReplaceNamespacedLeaseAsync(lease, name, Namespace, cancellationToken: cancellationToken);
                    break;
                }
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
            {
                // Another create or replace won: look again.
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Forbidden)
            {
                return await checkAndWrite();
            }
            if (waited.Elapsed > 2 * QuotaLockDuration)
                throw DevDbErrors.StateLocked($"Quotas are being checked for another request (Lease '{name}' stayed held for {waited.Elapsed.TotalSeconds:0} s).", name);
            await Task.Delay(Random.Shared.Next(10, 40), cancellationToken);
        }
        try
        {
            return await checkAndWrite();
        }
        finally
        {
            await ReleaseQuotaLockAsync(name, holder);
        }
    }

    private async Task ReleaseQuotaLockAsync(string name, string holder)
    {
        try
        {
            var lease = await _client.CoordinationV1.ReadNamespacedLeaseAsync(name, Namespace);
            if (lease.Spec?.HolderIdentity != holder) return;
            lease.Spec.HolderIdentity = null;
            await _client.CoordinationV1.ReplaceNamespacedLeaseAsync(lease, name, Namespace);
        }
        catch (Exception e) when (e is HttpOperationException or HttpRequestException)
        {
            // Taken over after it expired, deleted, or the API server did not answer: it frees itself after QuotaLockDuration.
        }
    }

    public async Task<Quota> GetQuotaAsync(string? user = null, CancellationToken cancellationToken = default)
    {
        var actor = Actor.Current;
        user ??= actor.User;
        var records = await _databases.ListAsync(null, cancellationToken);
        var checkpoints = records.ToDictionary(r => r.Name(), r => r.Spec.Checkpoints?.Count ?? 0);
        return QuotaRules.UsageOf(user, exempt: actor.IsAdmin && user == actor.User, records.Select(ToDatabase).ToList(), name => checkpoints[name], _options.Quotas);
    }
}
