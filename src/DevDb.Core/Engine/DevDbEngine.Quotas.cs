using DevDb.Core.Model;
using DevDb.Core.Rules;

namespace DevDb.Core.Engine;

/// <summary>Quotas (QuotaRules): what a user holds; the checks are in the create, start and checkpoint paths.</summary>
public sealed partial class DevDbEngine
{
    public Task<Quota> GetQuotaAsync(string? user = null, CancellationToken cancellationToken = default)
    {
        var actor = Actor.Current;
        user ??= actor.User;
        var records = _catalog.Databases();
        var checkpoints = records.ToDictionary(r => r.Database.Name, r => r.Checkpoints.Count);
        return Task.FromResult(QuotaRules.UsageOf(user, exempt: actor.IsAdmin && user == actor.User, records.Select(Observed).ToList(),
            name => checkpoints.GetValueOrDefault(name), _quotas));
    }
}
