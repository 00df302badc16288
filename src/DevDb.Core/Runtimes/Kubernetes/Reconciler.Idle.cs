using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using DevDb.Core.Model;
using DevDb.Core.Rules;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace DevDb.Core.Runtimes.Kubernetes;

/// <summary>Where the reconciler reaches a database's server to sample its clients: its Service in a cluster (the rig maps Services to loopback ports).</summary>
public delegate DnsEndPoint DatabaseEndpointResolver(string database);

/// <summary>
/// The reconciler's idle stop: each pass samples the client sessions of every running database that has an
/// idle timeout (IdleRules), over its Service, as the database's own login (the password from its Secret);
/// records when it was last seen in use (status.lastActiveAt); and stops one no client used for its whole
/// timeout the way Stop-DevDbDatabase does (spec.running false, so its StatefulSet scales to 0), with
/// spec.stopReason Idle. A database whose server does not answer the sample is left to the next pass.
/// </summary>
public sealed partial class Reconciler
{
    private DnsEndPoint EndpointOf(string database) =>
        _databaseEndpoint?.Invoke(database) ?? new DnsEndPoint(_manifests.ServiceHost(database), Manifests.PostgresPort);

    /// <summary>Samples and stops what is idle; returns the records as they are after it (what the rest of the pass works on).</summary>
    private async Task<IReadOnlyList<DatabaseResource>> StopIdleAsync(IReadOnlyList<DatabaseResource> databases, ClusterView view, CancellationToken cancellationToken)
    {
        var result = new List<DatabaseResource>(databases.Count);
        foreach (var database in databases)
        {
            var current = database;
            if (database.Status?.Phase == DatabasePhase.Running && database.Spec.Running && IdleRules.IsWatched(KubernetesEngine.ToDatabase(database))
                && view.Secrets.GetValueOrDefault(KubeNames.DatabaseObject(database.Name())) is { } secret)
                await Guarded(async () => current = await SampleAndStopAsync(database, secret, cancellationToken), "database", database.Name());
            result.Add(current);
        }
        return result;
    }

    private async Task<DatabaseResource> SampleAndStopAsync(DatabaseResource database, V1Secret secret, CancellationToken cancellationToken)
    {
        var name = database.Name();
        if (await SampleAsync(database, secret, cancellationToken) is not { } sample) return database;
        var status = database.Status!;
        var now = _clock.GetUtcNow();
        if (IdleRules.ShowsUse(sample.Clients, sample.Sessions, status.Sessions) || status.Sessions != sample.Sessions)
        {
            if (IdleRules.ShowsUse(sample.Clients, sample.Sessions, status.Sessions)) status.LastActiveAt = now;
            status.Sessions = sample.Sessions;
            database = await _databases.ReplaceStatusAsync(database, cancellationToken);
        }
        var seen = KubernetesEngine.ToDatabase(database);
        _log.LogDebug("Idle pass: database {Database} has {Clients} client session(s) ({Sessions} ever), idle since {Since:o}, timeout {IdleTimeout}",
            name, sample.Clients, sample.Sessions, IdleRules.IdleSince(seen), seen.IdleTimeout);
        if (!IdleRules.IsIdle(seen, now)) return database;
        // With the read's resourceVersion: a start, an extension or protection written since wins (the patch is refused, the next pass looks again).
        var stopped = await _databases.PatchAsync(name, new JsonObject
        {
            ["metadata"] = new JsonObject { ["resourceVersion"] = database.Metadata.ResourceVersion },
            ["spec"] = new JsonObject { ["running"] = false, ["stopReason"] = nameof(StopReason.Idle) },
        }, cancellationToken);
        _counters.CountIdleStopped();
        var since = IdleRules.IdleSince(seen);
        stopped = await KubeHistory.AppendAsync(_databases, name, Rules.HistoryRules.Entry(HistoryAction.Stopped, now,
            detail: $"idle: no client since {since:u}", actor: Actor.DevDb), cancellationToken) ?? stopped;
        await RecordEventAsync(stopped, "Normal", "DatabaseIdleStopped",
            $"Database '{name}' had no client connection since {since:u} (idle timeout {LifetimeRules.Shown(seen.IdleTimeout!.Value)}) and is stopped; data, port and password are kept.",
            cancellationToken);
        _log.LogInformation("Stopped database {Database} of {Owner}: no client connection since {Since:o} (idle timeout {IdleTimeout})", name, seen.Owner, since, seen.IdleTimeout);
        return stopped;
    }

    /// <summary>Reads the server's client sessions (IdleRules.SampleSql) as the database's login; null when it does not answer.</summary>
    private async Task<ClientSample?> SampleAsync(DatabaseResource database, V1Secret secret, CancellationToken cancellationToken)
    {
        var password = secret.Data is { } data && data.TryGetValue("password", out var bytes) ? Encoding.UTF8.GetString(bytes) : secret.StringData is { } text && text.TryGetValue("password", out var plain) ? plain : null;
        if (string.IsNullOrEmpty(password) || database.Status?.Username is not { } username)
        {
            _log.LogDebug("Idle pass: database {Database} has no password in its Secret or no login yet; not sampled", database.Name());
            return null;
        }
        var endpoint = EndpointOf(database.Name());
        try
        {
            await using var session = new NpgsqlConnection(new NpgsqlConnectionStringBuilder
            {
                Host = endpoint.Host, Port = endpoint.Port, Username = username, Password = password, Database = "postgres",
                ApplicationName = IdleRules.SamplerApplicationName, Pooling = false, Timeout = 5, CommandTimeout = 5,
            }.ConnectionString);
            await session.OpenAsync(cancellationToken);
            await using var command = new NpgsqlCommand(IdleRules.SampleSql, session);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            return new ClientSample(reader.GetInt64(0), reader.GetInt64(1));
        }
        catch (Exception e) when (e is NpgsqlException or IOException or TimeoutException or System.Net.Sockets.SocketException)
        {
            _log.LogDebug("Sampling the clients of database {Database} at {Host}:{Port} failed: {Error}", database.Name(), endpoint.Host, endpoint.Port, e.Message);
            return null;
        }
    }
}
