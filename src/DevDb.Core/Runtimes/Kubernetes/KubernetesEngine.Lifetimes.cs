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
        IdleRules.CheckShape(request.Name, request.IdleTimeout, request.NoIdleTimeout);
        IReadOnlyList<HistoryEntry> changes = [];
        var patched = await PatchOnFreshReadAsync(async () =>
        {
            var record = await RequireDatabaseAsync(request.Name, cancellationToken);
            var database = ToDatabase(record);
            var project = await _projects.FindAsync(database.Project, cancellationToken);
            var now = _engineOptions.Clock.GetUtcNow();
            var (expiresAt, isProtected) = LifetimeRules.Apply(request, database, project is null ? null : ToProject(project), _options.MaxTimeToLive, now);
            var (idleTimeout, restart) = IdleRules.Apply(request, database);
            changes = HistoryRules.OfSet(database, expiresAt, isProtected, now).ToList();
            // A JSON merge patch: null removes spec.expiresAt. The resourceVersion makes a concurrent change fail (and this try again) rather than be lost.
            var patch = new JsonObject
            {
                ["metadata"] = new JsonObject { ["resourceVersion"] = record.Metadata.ResourceVersion },
                ["spec"] = new JsonObject
                {
                    ["expiresAt"] = expiresAt is { } at ? JsonValue.Create(at.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'")) : null,
                    ["protected"] = isProtected,
                    ["idleTimeoutSeconds"] = Seconds(idleTimeout),
                },
            };
            if (restart) patch["spec"]!["idleFrom"] = Timestamp(_engineOptions.Clock.GetUtcNow());
            return await _databases.PatchAsync(request.Name, patch, cancellationToken);
        }, () => ChangedAllTheWhile("Database", request.Name));
        foreach (var change in changes) patched = await RecordDatabaseAsync(request.Name, change, cancellationToken) ?? patched;
        return ToDatabase(patched);
    }

    public async Task<Project> SetProjectAsync(SetProjectRequest request, CancellationToken cancellationToken = default)
    {
        IReadOnlyList<HistoryEntry> changes = [];
        var patched = await PatchOnFreshReadAsync(async () =>
        {
            var record = await RequireProjectAsync(request.Name, cancellationToken);
            var project = DevDbEngine.LifetimeSettings(ToProject(record), request, _engineOptions.Clock.GetUtcNow());
            changes = HistoryRules.OfProjectSet(ToProject(record), project, _engineOptions.Clock.GetUtcNow()).ToList();
            LifetimeRules.CheckProjectSettings(project.Name, project.DefaultTimeToLive, project.MaxTimeToLive, _options.MaxTimeToLive);
            var patch = new JsonObject
            {
                ["metadata"] = new JsonObject { ["resourceVersion"] = record.Metadata.ResourceVersion },
                ["spec"] = new JsonObject
                {
                    ["defaultTimeToLiveSeconds"] = Seconds(project.DefaultTimeToLive),
                    ["maxTimeToLiveSeconds"] = Seconds(project.MaxTimeToLive),
                    ["idleTimeoutSeconds"] = Seconds(project.IdleTimeout),
                    ["protected"] = project.Protected,
                    // A JSON merge patch: null removes the schedule.
                    ["refreshSchedule"] = project.RefreshSchedule,
                    ["refreshTimeZone"] = project.RefreshSchedule is null ? null : project.RefreshTimeZone,
                },
            };
            return await _projects.PatchAsync(request.Name, patch, cancellationToken);
        }, () => ChangedAllTheWhile("Project", request.Name));
        foreach (var change in changes) await RecordProjectAsync(request.Name, change, cancellationToken);
        return ToProject(await RecordScheduleAsync(request.Name, cancellationToken));
    }

    /// <summary>
    /// Records the next refresh of the project's schedule in its status (as the reconciler would on its
    /// next pass), so the caller sees NextRefresh at once.
    /// </summary>
    private async Task<ProjectResource> RecordScheduleAsync(string name, CancellationToken cancellationToken)
    {
        while (true)
        {
            var project = await RequireProjectAsync(name, cancellationToken);
            var status = project.Status ??= new ProjectState();
            if (!status.ObserveSchedule(project.Spec, name, _engineOptions.Clock.GetUtcNow())) return project;
            try
            {
                return await _projects.ReplaceStatusAsync(project, cancellationToken);
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
            {
                // The reconciler wrote in between: look again.
            }
        }
    }

    /// <summary>
    /// Reads, decides and patches with the read's resourceVersion; when the record changed in between
    /// (the reconciler writes its status often, another request its spec), reads and decides again, so two
    /// requests never both act on one state. A record that changes at every try is <paramref name="alwaysChanged"/>.
    /// </summary>
    private static async Task<T> PatchOnFreshReadAsync<T>(Func<Task<T>> readDecideAndPatch, Func<DevDbException> alwaysChanged)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await readDecideAndPatch();
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
            {
                if (attempt == PatchAttempts) throw alwaysChanged();
            }
        }
    }

    private const int PatchAttempts = 10;

    private static DevDbException ChangedAllTheWhile(string kind, string name) =>
        DevDbErrors.StateLocked($"{kind} '{name}' is busy: other requests changed it at each of {PatchAttempts} tries.", name, "Try again in a moment.");

    /// <summary>A time as the records store it (UTC, 7 decimals).</summary>
    internal static string Timestamp(DateTimeOffset at) => at.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'");

    internal static long? Seconds(TimeSpan? span) => span is { } s ? (long)Math.Ceiling(s.TotalSeconds) : null;
}
