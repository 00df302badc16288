using DevDb.Core.Model;
using DevDb.Core.Rules;

namespace DevDb.Core.Runtimes.Kubernetes;

/// <summary>Quotas (QuotaRules) from the DevDbDatabase records; a database's checkpoints are the ones its spec asks for.</summary>
public sealed partial class KubernetesEngine
{
    public async Task<Quota> GetQuotaAsync(string? user = null, CancellationToken cancellationToken = default)
    {
        var actor = Actor.Current;
        user ??= actor.User;
        var records = await _databases.ListAsync(null, cancellationToken);
        var checkpoints = records.ToDictionary(r => r.Name(), r => r.Spec.Checkpoints?.Count ?? 0);
        return QuotaRules.UsageOf(user, exempt: actor.IsAdmin && user == actor.User, records.Select(ToDatabase).ToList(), name => checkpoints[name], _options.Quotas);
    }
}
