using DevDb.Core.Model;
using DevDb.Core.Rules;

namespace DevDb.Core.Runtimes.Kubernetes;

/// <summary>Quotas (QuotaRules) from the DevDbDatabase records; checkpoints are not on this runtime yet, so none count.</summary>
public sealed partial class KubernetesEngine
{
    public async Task<Quota> GetQuotaAsync(string? user = null, CancellationToken cancellationToken = default)
    {
        var actor = Actor.Current;
        user ??= actor.User;
        var databases = (await _databases.ListAsync(null, cancellationToken)).Select(ToDatabase).ToList();
        return QuotaRules.UsageOf(user, exempt: actor.IsAdmin && user == actor.User, databases, _ => 0, _options.Quotas);
    }
}
