using System.Net;
using System.Text.Json.Nodes;
using DevDb.Core.Client;
using DevDb.Core.Engine;
using DevDb.Core.Model;
using DevDb.Core.Rules;
using k8s.Autorest;

namespace DevDb.Core.Runtimes.Kubernetes;

/// <summary>
/// Lifetimes on Kubernetes: a database's expiry and protection live in its record's spec
/// (spec.expiresAt, spec.protected), a project's settings in its own; the reconciler deletes
/// the record of a database whose expiry has come (Reconciler.Expiry.cs).
/// </summary>
public sealed partial class KubernetesEngine
{
    public async Task<Database> SetDatabaseAsync(SetDatabaseRequest request, CancellationToken cancellationToken = default)
    {
        LifetimeRules.CheckShape(request.Name, request.TimeToLive, request.ExpiresAt, request.NoExpiry);
        IReadOnlyList<HistoryEntry> changes = [];
        var patched = await PatchOnFreshReadAsync(async () =>
        {
            var record = await RequireDatabaseAsync(request.Name, cancellationToken);
            var database = ToDatabase(record);
            var project = await _projects.FindAsync(database.Project, cancellationToken);
            var now = _engineOptions.Clock.GetUtcNow();
            var (expiresAt, isProtected) = LifetimeRules.Apply(request, database, project is null ? null : ToProject(project), _options.MaxTimeToLive, now);
            changes = HistoryRules.OfSet(database, expiresAt, isProtected, now).ToList();
            // A JSON merge patch: null removes spec.expiresAt. The resourceVersion makes a concurrent change fail (and this try again) rather than be lost.
            var patch = new JsonObject
            {
                ["metadata"] = new JsonObject { ["resourceVersion"] = record.Metadata.ResourceVersion },
                ["spec"] = new JsonObject
                {
                    ["expiresAt"] = expiresAt is { } at ? JsonValue.Create(at.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'")) : null,
                    ["protected"] = isProtected,
                },
            };
            return await _databases.PatchAsync(request.Name, patch, cancellationToken);
        });
        foreach (var change in changes) patched = await RecordDatabaseAsync(request.Name, change, cancellationToken) ?? patched;
        return ToDatabase(patched);
    }

    public async Task<Project> SetProjectAsync(SetProjectRequest request, CancellationToken cancellationToken = default)
    {
        IReadOnlyList<HistoryEntry> changes = [];
        var patched = await PatchOnFreshReadAsync(async () =>
        {
            var record = await RequireProjectAsync(request.Name, cancellationToken);
            var project = DevDbEngine.LifetimeSettings(ToProject(record), request);
            changes = HistoryRules.OfProjectSet(ToProject(record), project, _engineOptions.Clock.GetUtcNow()).ToList();
            LifetimeRules.CheckProjectSettings(project.Name, project.DefaultTimeToLive, project.MaxTimeToLive, _options.MaxTimeToLive);
            var patch = new JsonObject
            {
                ["metadata"] = new JsonObject { ["resourceVersion"] = record.Metadata.ResourceVersion },
                ["spec"] = new JsonObject
                {
                    ["defaultTimeToLiveSeconds"] = Seconds(project.DefaultTimeToLive),
                    ["maxTimeToLiveSeconds"] = Seconds(project.MaxTimeToLive),
                    ["protected"] = project.Protected,
                },
            };
            return await _projects.PatchAsync(request.Name, patch, cancellationToken);
        });
        foreach (var change in changes) patched = await RecordProjectAsync(request.Name, change, cancellationToken) ?? patched;
        return ToProject(patched);
    }

    /// <summary>
    /// Reads, decides and patches with the read's resourceVersion; when the record changed in between
    /// (the reconciler writes its status often), reads and decides again.
    /// </summary>
    private static async Task<T> PatchOnFreshReadAsync<T>(Func<Task<T>> readDecideAndPatch)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await readDecideAndPatch();
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict && attempt < 5)
            {
            }
        }
    }

    internal static long? Seconds(TimeSpan? span) => span is { } s ? (long)Math.Ceiling(s.TotalSeconds) : null;
}
