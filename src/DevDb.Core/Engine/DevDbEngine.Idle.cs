using DevDb.Core.Catalog;
using DevDb.Core.Model;
using DevDb.Core.Rules;
using DevDb.Core.Runtimes;

namespace DevDb.Core.Engine;

/// <summary>
/// Idle stop: a pass samples the client sessions of every running database that has an idle timeout
/// (IdleRules), records when each was last seen in use, and stops the ones no client used for their
/// whole timeout, keeping data, port and password (StopReason Idle). It runs with the expiry pass: at
/// the start of every change made through the engine, and on the API's timer (LocalEngineService).
/// </summary>
public sealed partial class DevDbEngine
{
    /// <summary>
    /// Samples each watched database and stops those idle for their timeout (never a protected one, nor one an
    /// operation is under way on). Returns the names it stopped. A server that does not answer the sample is left
    /// to the next pass (a dead one shows as Crashed).
    /// </summary>
    public async Task<IReadOnlyList<string>> StopIdleDatabasesAsync(CancellationToken cancellationToken = default)
    {
        using var _ = Actor.Use(Actor.DevDb);
        var stopped = new List<string>();
        var watched = _catalog.Databases().Where(r => r.Pending is null && IdleRules.IsWatched(Observed(r))).ToList();
        // Sampled several at a time: each sample is a session and a query, and the pass's cost grows with the databases watched.
        var samples = new System.Collections.Concurrent.ConcurrentDictionary<string, ClientSample>();
        await Parallel.ForEachAsync(watched, new ParallelOptions { MaxDegreeOfParallelism = IdleSamplesAtOnce, CancellationToken = cancellationToken },
            async (record, token) =>
            {
                if (await SampleAsync(record, token) is { } sample) samples[record.Database.Name] = sample;
            });
        foreach (var record in watched)
        {
            var seen = Observed(record);
            if (!samples.TryGetValue(seen.Name, out var sample)) continue;
            if (await RecordSampleAsync(seen.Name, sample) is not { } current || !IdleRules.IsIdle(Observed(current), _options.Clock.GetUtcNow())) continue;
            if (!await StopIfIdleAsync(seen.Name, cancellationToken)) continue;
            stopped.Add(seen.Name);
            _options.Counters.CountIdleStopped();
        }
        return stopped;
    }

    /// <summary>How many servers the idle pass samples at once.</summary>
    private const int IdleSamplesAtOnce = 8;

    private async Task<ClientSample?> SampleAsync(DatabaseRecord record, CancellationToken cancellationToken)
    {
        try
        {
            return await _runtime.SampleClientsAsync(record.Database.Name, record.Database.Port, cancellationToken);
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or IOException or TimeoutException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>Records what a sample showed (last seen in use, the session counter) when the record is still the running one sampled; returns it as saved.</summary>
    private async Task<DatabaseRecord?> RecordSampleAsync(string name, ClientSample sample)
    {
        using (await _catalog.LockAsync(CancellationToken.None))
        {
            if (_catalog.FindDatabase(name) is not { Pending: null } current || current.Database.Status != DatabaseStatus.Running) return null;
            var used = IdleRules.ShowsUse(sample.Clients, sample.Sessions, current.IdleSessions);
            var changed = current with
            {
                IdleSessions = sample.Sessions,
                Database = used ? current.Database with { LastActiveAt = _options.Clock.GetUtcNow() } : current.Database,
            };
            if (changed != current) _catalog.Save(changed);
            return changed;
        }
    }

    /// <summary>Under the database's lock (waited for briefly: a busy one is the next pass's), samples once more and stops it if it is still idle.</summary>
    private async Task<bool> StopIfIdleAsync(string name, CancellationToken cancellationToken)
    {
        IDisposable held;
        try
        {
            held = await _catalog.LockItemAsync(ItemKind.Database, name, ExpiryLockWait, () => $"Database '{name}' is busy", cancellationToken);
        }
        catch (DevDbException e) when (e.Code == ErrorCodes.StateLocked)
        {
            return false;
        }
        using (held)
        {
            // A client may have connected, or its owner started using, extending or protecting it, since the first sample.
            if (_catalog.FindDatabase(name) is not { } record || await SampleAsync(record, cancellationToken) is not { } sample) return false;
            PendingStep step;
            using (await _catalog.LockAsync(cancellationToken))
            {
                if (_catalog.FindDatabase(name) is not { Pending: null } current) return false;
                var observed = Observed(current);
                if (IdleRules.ShowsUse(sample.Clients, sample.Sessions, current.IdleSessions))
                {
                    _catalog.Save(current with { IdleSessions = sample.Sessions, Database = current.Database with { LastActiveAt = _options.Clock.GetUtcNow() } });
                    return false;
                }
                if (!IdleRules.IsIdle(observed, _options.Clock.GetUtcNow())) return false;
                var busy = current with
                {
                    Database = current.Database with { Status = DatabaseStatus.Stopping, Error = null, ErrorCode = null },
                    Pending = PendingOperation.Begin(OperationKind.StopDatabase, accepted: true, previousStatus: observed.Status),
                };
                _catalog.Save(busy);
                step = new PendingStep(held, busy, OperationKind.StopDatabase, observed.Status, Accepted: true) { StopReason = StopReason.Idle };
            }
            try
            {
                await RunStepAsync(step, progress: null, cancellationToken);
            }
            catch (Exception e) when (e is DevDbException or IOException)
            {
                // Recorded as the database's Error by the step; the next pass tries again.
                return false;
            }
            return true;
        }
    }

    /// <summary>Stopped by an idle pass: what repeating the New-DevDbDatabase that made it starts again.</summary>
    private static bool IsIdleStopped(Database database) => database is { Status: DatabaseStatus.Stopped, StopReason: StopReason.Idle };
}
