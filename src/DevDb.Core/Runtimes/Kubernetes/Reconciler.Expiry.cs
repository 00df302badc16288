using DevDb.Core.Engine;
using DevDb.Core.Rules;
using k8s;
using Microsoft.Extensions.Logging;

namespace DevDb.Core.Runtimes.Kubernetes;

/// <summary>The reconciler's expiry: a database whose spec.expiresAt has come (by the reconciler's clock) and is not protected is deleted.</summary>
public sealed partial class Reconciler
{
    private long _completedPasses;

    /// <summary>How many passes have ended (tests wait for one that began after they moved the clock).</summary>
    public long CompletedPasses => Interlocked.Read(ref _completedPasses);

    /// <summary>Deletes the records of expired databases (their objects are owned by the record and go with it); returns the others.</summary>
    private async Task<IReadOnlyList<DatabaseResource>> ExpireAsync(IReadOnlyList<DatabaseResource> databases, CancellationToken cancellationToken)
    {
        var now = _clock.GetUtcNow();
        var kept = new List<DatabaseResource>();
        foreach (var database in databases)
        {
            var seen = KubernetesEngine.ToDatabase(database);
            if (!LifetimeRules.IsExpired(seen, now))
            {
                kept.Add(database);
                continue;
            }
            await Guarded(async () =>
            {
                // Read again just before: its owner may have extended or protected it since the pass listed it.
                var current = await _databases.FindAsync(seen.Name, cancellationToken);
                if (current is null) return;
                if (!LifetimeRules.IsExpired(KubernetesEngine.ToDatabase(current), _clock.GetUtcNow()))
                {
                    kept.Add(current);
                    return;
                }
                // Only the version just read: a renewal (Set-DevDbDatabase) landing after that read keeps the database.
                if (!await _databases.DeleteAsync(seen.Name, current.Metadata.ResourceVersion, cancellationToken))
                {
                    _log.LogInformation("Kept database {Database}: it changed while it was being expired; the next pass looks again", seen.Name);
                    return;
                }
                _counters.CountExpired();
                await RecordEventAsync(database, "Normal", "DatabaseExpired", $"Database '{seen.Name}' expired at {seen.ExpiresAt:u} and is removed.", cancellationToken);
                var removed = KubernetesEngine.ToDatabase(current);
                var expiry = HistoryRules.Entry(Model.HistoryAction.Expired, _clock.GetUtcNow(), detail: $"expired at {removed.ExpiresAt:u}", actor: Model.Actor.DevDb)
                    with { Database = removed.Name, Owner = removed.Owner };
                await KubeHistory.AppendAsync(_projects, removed.Project, expiry, cancellationToken);
                RemovalLog.Write(_log, removed, expiry);
            }, "database", database.Name());
        }
        return kept;
    }
}
