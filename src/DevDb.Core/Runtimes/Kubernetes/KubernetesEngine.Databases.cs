using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using DevDb.Core.Client;
using DevDb.Core.Model;
using DevDb.Core.Rules;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace DevDb.Core.Runtimes.Kubernetes;

/// <summary>The engine's databases: a DevDbDatabase record and its credentials Secret; reset, stop and start are changes of its spec.</summary>
public sealed partial class KubernetesEngine
{
    public async Task<Database> NewDatabaseAsync(NewDatabaseRequest request, IProgress<DevDbProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var database = await BeginNewDatabaseAsync(request, cancellationToken);
        return await WaitDatabaseAsync(database.Name, progress, cancellationToken);
    }

    public async Task<Database> BeginNewDatabaseAsync(NewDatabaseRequest request, CancellationToken cancellationToken = default)
    {
        RequestLimits.Check(request);
        LifetimeRules.CheckShape(request.Name, request.TimeToLive, request.ExpiresAt);
        IdleRules.CheckShape(request.Name, request.IdleTimeout);
        CheckpointRules.CheckBranchRequest(request);
        DatabaseResource? parent = null;
        if (request.FromDatabase is not null) (parent, request) = await BranchSourceAsync(request, cancellationToken);
        var owner = request.Owner ?? Actor.Current.User;
        var existing = await _databases.FindAsync(request.Name, cancellationToken);
        // What expired is gone for good, even before the reconciler's next pass deletes its record.
        if (existing is not null && LifetimeRules.IsExpired(ToDatabase(existing), _engineOptions.Clock.GetUtcNow()))
        {
            await _databases.DeleteAsync(request.Name, cancellationToken);
            existing = null;
        }
        if (existing is not null)
        {
            if (existing.Spec.Project != request.Project || existing.Spec.Owner != owner)
                throw Exists(request.Name, existing);
            // The same request again wakes what the idle pass stopped.
            if (ToDatabase(existing) is { Status: DatabaseStatus.Stopped, StopReason: StopReason.Idle }) return await BeginStartDatabaseAsync(request.Name, cancellationToken);
            if (existing.Status?.Phase != DatabasePhase.Failed) return ToDatabase(existing);
            // A failed create of the same name, project and owner is replaced.
            await _databases.DeleteAsync(request.Name, cancellationToken);
        }
        var project = await RequireProjectAsync(request.Project, cancellationToken);
        ProjectRules.ImageToClone(ToProject(project));
        var expiresAt = LifetimeRules.ExpiresAtOfNew(request, ToProject(project), _options.MaxTimeToLive, _engineOptions.Clock.GetUtcNow());
        var idleTimeout = IdleRules.IdleTimeoutOfNew(request, ToProject(project), _options.IdleTimeout);

        // Counted from the records under the quota Lease, so two creates racing for the last place cannot both land.
        var created = await WithQuotaLockAsync(async () =>
        {
            QuotaRules.CheckNew(Actor.Current, request.Name, owner, request.Project,
                (await _databases.ListAsync(null, cancellationToken)).Where(d => d.Name() != request.Name).Select(ToDatabase).ToList(), _options.Quotas);
            try
            {
                return await _databases.CreateAsync(new DatabaseResource
                {
                    Metadata = new V1ObjectMeta
                    {
                        Name = request.Name,
                        Labels = new Dictionary<string, string>
                        {
                            [KubeNames.ManagedBy] = KubeNames.Devdb, [KubeNames.Project] = request.Project, [KubeNames.Owner] = KubeNames.LabelValue(owner),
                        },
                    },
                    Spec = new DatabaseResourceSpec
                    {
                        Project = request.Project, Owner = owner, ExpiresAt = expiresAt, Protected = request.Protected, IdleTimeoutSeconds = Seconds(idleTimeout),
                        IdleFrom = _engineOptions.Clock.GetUtcNow(), Parent = parent?.Name(), ParentCheckpoint = request.Checkpoint,
                    },
                }, cancellationToken);
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
            {
                return null;
            }
        }, cancellationToken);
        if (created is null)
        {
            // Another client created it between the check and now: the same request gets the same answer.
            var raced = await RequireDatabaseAsync(request.Name, cancellationToken);
            if (raced.Spec.Project != request.Project || raced.Spec.Owner != owner) throw Exists(request.Name, raced);
            return ToDatabase(raced);
        }
        try
        {
            // The engine sets the password: it is in the Secret before the server first starts, and never in a log.
            await SaveSecretAsync(_manifests.DatabaseSecret(created, request.Name, Passwords.New()), cancellationToken);
        }
        catch (Exception e)
        {
            await _databases.DeleteAsync(request.Name, CancellationToken.None);
            if (KubeErrors.Translate(e, "secrets", "", Namespace) is { } translated) throw translated;
            throw;
        }
        return ToDatabase(await RecordDatabaseAsync(request.Name, Entry(HistoryAction.Created), cancellationToken) ?? created);
    }

    /// <summary>
    /// Creates the database's Secret; one left by an earlier database of the same name, which the
    /// garbage collector has not deleted yet, is taken over (new owner, new password).
    /// </summary>
    private async Task SaveSecretAsync(V1Secret secret, CancellationToken cancellationToken)
    {
        try
        {
            await _client.CoreV1.CreateNamespacedSecretAsync(secret, Namespace, cancellationToken: cancellationToken);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
        {
            await _client.CoreV1.ReplaceNamespacedSecretAsync(secret, secret.Metadata.Name, Namespace, cancellationToken: cancellationToken);
        }
    }

    private static DevDbException Exists(string name, DatabaseResource existing) => DevDbErrors.DatabaseExists(name, existing.Spec.Project, existing.Spec.Owner);

    public Task<Database> WaitDatabaseAsync(string name, IProgress<DevDbProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var status = "";
        return Polling.UntilAsync(async token =>
            {
                var database = ToDatabase(await RequireDatabaseAsync(name, token));
                status = database.Status.ToString();
                return DatabaseRules.Settled(database);
            }, progress, elapsed => new DevDbProgress($"Waiting for database {name}", $"{status} ({Polling.Elapsed(elapsed)})"),
            cancellationToken, _engineOptions.PollInterval);
    }

    public async Task<IReadOnlyList<Database>> GetDatabasesAsync(string? project = null, string? owner = null, CancellationToken cancellationToken = default)
    {
        if (project is not null) await RequireProjectAsync(project, cancellationToken);
        var selector = project is null ? null : $"{KubeNames.Project}={project}";
        return (await _databases.ListAsync(selector, cancellationToken))
            .Where(d => owner is null || d.Spec.Owner == owner)
            .OrderBy(d => d.Name(), StringComparer.Ordinal)
            .Select(ToDatabase).ToList();
    }

    public async Task<Database> GetDatabaseAsync(string name, CancellationToken cancellationToken = default) =>
        ToDatabase(await RequireDatabaseAsync(name, cancellationToken));

    public async Task<ConnectionInfo> GetConnectionAsync(string name, CancellationToken cancellationToken = default)
    {
        var database = ToDatabase(await RequireDatabaseAsync(name, cancellationToken));
        if (database.Status == DatabaseStatus.Failed) throw RecordedErrors.DatabaseFailed(database);
        V1Secret secret;
        try
        {
            secret = await _client.CoreV1.ReadNamespacedSecretAsync(KubeNames.DatabaseObject(name), Namespace, cancellationToken: cancellationToken);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            throw DevDbErrors.CredentialsMissing(name, $"Secret {KubeNames.DatabaseObject(name)}");
        }
        catch (Exception e) when (KubeErrors.Translate(e, "secrets", "", Namespace) is { } translated)
        {
            throw translated;
        }
        var password = secret.Data is { } data && data.TryGetValue("password", out var bytes) ? Encoding.UTF8.GetString(bytes) : secret.StringData?["password"] ?? "";
        return new ConnectionInfo(database.Host, database.Port, database.DatabaseName, database.Username, password);
    }

    public async Task RemoveDatabaseAsync(string name, CancellationToken cancellationToken = default)
    {
        var database = ToDatabase(await RequireDatabaseAsync(name, cancellationToken));
        await RefusedAsync(name, HistoryAction.Removed, () => LifetimeRules.CheckRemovable(database), cancellationToken);
        // Its server, volume, Secret, Service and route are owned by the record: Kubernetes deletes them.
        if (await _databases.DeleteAsync(name, cancellationToken)) await RecordRemovalAsync(database, cancellationToken);
    }

    public async Task<Database> StopDatabaseAsync(string name, CancellationToken cancellationToken = default)
    {
        await BeginStopDatabaseAsync(name, cancellationToken);
        return await WaitDatabaseAsync(name, progress: null, cancellationToken);
    }

    public async Task<Database> BeginStopDatabaseAsync(string name, CancellationToken cancellationToken = default)
    {
        await RequireUsableAsync(name, cancellationToken);
        var patched = await _databases.PatchAsync(name, new { spec = new { running = false, stopReason = nameof(StopReason.Requested) } }, cancellationToken);
        return ToDatabase(await RecordDatabaseAsync(name, Entry(HistoryAction.Stopped), cancellationToken) ?? patched);
    }

    public async Task<Database> StartDatabaseAsync(string name, CancellationToken cancellationToken = default)
    {
        await BeginStartDatabaseAsync(name, cancellationToken);
        return await WaitDatabaseAsync(name, progress: null, cancellationToken);
    }

    public async Task<Database> BeginStartDatabaseAsync(string name, CancellationToken cancellationToken = default)
    {
        var record = await RequireUsableAsync(name, cancellationToken);
        var patched = await WithQuotaLockAsync(async () =>
        {
            QuotaRules.CheckStart(Actor.Current, ToDatabase(record), (await _databases.ListAsync(null, cancellationToken)).Select(ToDatabase).ToList(), _options.Quotas);
            // Its idle time starts again from now (the reconciler also counts from when it is Running again).
            return await _databases.PatchAsync(name, new JsonObject
            {
                ["spec"] = new JsonObject { ["running"] = true, ["stopReason"] = null, ["idleFrom"] = Timestamp(_engineOptions.Clock.GetUtcNow()) },
            }, cancellationToken);
        }, cancellationToken);
        return ToDatabase(await RecordDatabaseAsync(name, Entry(HistoryAction.Started), cancellationToken) ?? patched);
    }

    /// <summary>Stop, start and reset need a database that was created and that nothing else is changing.</summary>
    private async Task<DatabaseResource> RequireUsableAsync(string name, CancellationToken cancellationToken)
    {
        var record = await RequireDatabaseAsync(name, cancellationToken);
        DatabaseRules.CheckUsable(ToDatabase(record));
        return record;
    }
}
