using System.Net;
using DevDb.Core.Client;
using DevDb.Core.Engine;
using DevDb.Core.Model;
using DevDb.Core.Rules;
using DevDb.Core.Sources;
using k8s.Autorest;
using k8s.Models;

namespace DevDb.Core.Runtimes.Kubernetes;

/// <summary>The engine's projects: a request recorded as a DevDbProject (its image as Building), then waited on until the reconciler built it.</summary>
public sealed partial class KubernetesEngine
{
    public async Task<Project> NewProjectAsync(NewProjectRequest request, IProgress<DevDbProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var (project, refresh) = await RecordNewProjectAsync(request, cancellationToken);
        return await WaitImageAsync(project.Name(), refresh, progress, cancellationToken);
    }

    public async Task<Project> BeginNewProjectAsync(NewProjectRequest request, CancellationToken cancellationToken = default) =>
        ToProject((await RecordNewProjectAsync(request, cancellationToken)).Project);

    private async Task<(ProjectResource Project, int Refresh)> RecordNewProjectAsync(NewProjectRequest request, CancellationToken cancellationToken)
    {
        RequestLimits.Check(request);
        if (request.SuperuserLogins && !_options.AllowSuperuserLogins) throw DevDbErrors.SuperuserLoginsNotAllowed(request.Name);
        LifetimeRules.CheckProjectSettings(request.Name, request.DefaultTimeToLive, request.MaxTimeToLive, _options.MaxTimeToLive);
        IdleRules.CheckShape(request.Name, request.IdleTimeout);
        RefreshRules.CheckNew(request);
        var schedule = RefreshRules.OfNew(request, _engineOptions.Clock.GetUtcNow(), new Project { Name = request.Name, PostgresVersion = 0, Source = request.Source });
        var version = request.PostgresVersion ?? _options.DefaultPostgresVersion;
        // A taken name is the answer whatever the source: no need to reach it.
        if (await _projects.FindAsync(request.Name, cancellationToken) is { } taken && ToProject(taken) is var takenProject
            && ProjectRules.ClassifyNew(takenProject, ProjectDefinition.Of(request, version), busyWithOtherWork: false) == NewProjectDecision.Conflict)
            throw DevDbErrors.ProjectExists(takenProject.Name, takenProject.Source, takenProject.PostgresVersion);
        await CheckSourceAsync(request.Source, cancellationToken);
        var spec = new ProjectResourceSpec
        {
            PostgresVersion = version, Source = request.Source, DatabaseName = request.DatabaseName, PostRestoreSql = request.PostRestoreSql,
            SuperuserLogins = request.SuperuserLogins, DefaultTimeToLiveSeconds = Seconds(request.DefaultTimeToLive),
            MaxTimeToLiveSeconds = Seconds(request.MaxTimeToLive), Protected = request.Protected, IdleTimeoutSeconds = Seconds(request.IdleTimeout),
            RefreshSchedule = schedule.RefreshSchedule, RefreshTimeZone = schedule.RefreshTimeZone,
        };
        try
        {
            var created = await _projects.CreateAsync(new ProjectResource
            {
                Metadata = new V1ObjectMeta { Name = request.Name, Labels = new Dictionary<string, string> { [KubeNames.ManagedBy] = KubeNames.Devdb } },
                Spec = spec,
            }, cancellationToken);
            await RecordBuildAsync(request.Name, 0, cancellationToken);
            await RecordProjectAsync(request.Name, Entry(HistoryAction.Created), cancellationToken);
            return (await RecordScheduleAsync(request.Name, cancellationToken), 0);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
        {
        }
        var existing = await RequireProjectAsync(request.Name, cancellationToken);
        var recorded = ToProject(existing);
        switch (ProjectRules.ClassifyNew(recorded, ProjectDefinition.Of(request, version), busyWithOtherWork: false))
        {
            case NewProjectDecision.Identical:
                return (existing, existing.Spec.Refresh);
            case NewProjectDecision.Conflict:
                throw DevDbErrors.ProjectExists(recorded.Name, recorded.Source, recorded.PostgresVersion);
        }
        // A project whose builds all failed is rebuilt from the new definition, as in local mode.
        var refresh = existing.Spec.Refresh + 1;
        var rebuilt = await _projects.PatchAsync(request.Name, new
        {
            metadata = new { resourceVersion = existing.Metadata.ResourceVersion },
            spec = new
            {
                spec.PostgresVersion, spec.Source, spec.DatabaseName, spec.PostRestoreSql, spec.SuperuserLogins, refresh,
                defaultTimeToLiveSeconds = spec.DefaultTimeToLiveSeconds, maxTimeToLiveSeconds = spec.MaxTimeToLiveSeconds, @protected = spec.Protected,
                idleTimeoutSeconds = spec.IdleTimeoutSeconds,
                refreshSchedule = spec.RefreshSchedule, refreshTimeZone = spec.RefreshTimeZone,
            },
        }, cancellationToken);
        await RecordBuildAsync(rebuilt.Name(), refresh, cancellationToken);
        await RecordProjectAsync(request.Name, Entry(HistoryAction.Created, detail: "rebuilt from a new definition"), cancellationToken);
        return (await RecordScheduleAsync(rebuilt.Name(), cancellationToken), refresh);
    }

    /// <summary>A path on the caller's machine means nothing in the cluster; remote sources are probed when configured.</summary>
    private async Task CheckSourceAsync(string location, CancellationToken cancellationToken)
    {
        var source = DumpSources.Open(location, _engineOptions.Sources);
        if (!Uri.TryCreate(location, UriKind.Absolute, out var uri) || uri.Scheme is not ("s3" or "https" or "http"))
            throw DevDbErrors.SourceInvalid(location, "it is a path on this machine, and restore Jobs in the cluster cannot read it.",
                "Upload the dump to S3 or an HTTPS server and give that address (s3://bucket/key or https://...).");
        if (_engineOptions.ProbeSources) await source.ProbeAsync(cancellationToken);
    }

    /// <summary>Records are custom resources: the API server never hands out one it cannot read.</summary>
    public Task<IReadOnlyList<string>> GetDamagedRecordsAsync(CancellationToken cancellationToken = default) => Task.FromResult<IReadOnlyList<string>>([]);

    public async Task<IReadOnlyList<Project>> GetProjectsAsync(CancellationToken cancellationToken = default) =>
        (await _projects.ListAsync(null, cancellationToken)).OrderBy(p => p.Name(), StringComparer.Ordinal).Select(ToProject).ToList();

    public async Task<Project> GetProjectAsync(string name, CancellationToken cancellationToken = default) =>
        ToProject(await RequireProjectAsync(name, cancellationToken));

    public async Task<Project> UpdateProjectAsync(UpdateProjectRequest request, IProgress<DevDbProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var (_, refresh) = await RecordUpdateAsync(request, cancellationToken);
        return await WaitImageAsync(request.Name, refresh, progress, cancellationToken);
    }

    public async Task<Project> BeginUpdateProjectAsync(UpdateProjectRequest request, CancellationToken cancellationToken = default) =>
        ToProject((await RecordUpdateAsync(request, cancellationToken)).Project);

    private async Task<(ProjectResource Project, int Refresh)> RecordUpdateAsync(UpdateProjectRequest request, CancellationToken cancellationToken)
    {
        RequestLimits.Check(request);
        var current = await RequireProjectAsync(request.Name, cancellationToken);
        if (request.Source is not null) await CheckSourceAsync(request.Source, cancellationToken);
        if (IsBuilding(current))
            throw DevDbErrors.StateLocked($"Project '{request.Name}' is busy: an image of it is being built.", request.Name,
                "Wait for the build to finish (Wait-DevDbProject), then try again.");
        var refresh = current.Spec.Refresh + 1;
        var updated = await _projects.PatchAsync(request.Name, new
        {
            // The resourceVersion makes a concurrent change fail (409) rather than be overwritten.
            metadata = new { resourceVersion = current.Metadata.ResourceVersion },
            spec = new { source = request.Source ?? current.Spec.Source, postRestoreSql = request.PostRestoreSql ?? current.Spec.PostRestoreSql, refresh },
        }, cancellationToken);
        var building = await RecordBuildAsync(updated.Name(), refresh, cancellationToken);
        var action = request.Source is not null || request.PostRestoreSql is not null ? HistoryAction.Updated : HistoryAction.Refreshed;
        return (await RecordProjectAsync(request.Name, Entry(action), cancellationToken) ?? building, refresh);
    }

    /// <summary>
    /// Records the image the request asked for as Building, as the embedded engine does before it
    /// works, so the caller gets its revision at once. The reconciler may have recorded it first
    /// (it would for a refresh made with kubectl): then this changes nothing.
    /// </summary>
    private async Task<ProjectResource> RecordBuildAsync(string name, int refresh, CancellationToken cancellationToken)
    {
        while (true)
        {
            var project = await RequireProjectAsync(name, cancellationToken);
            var status = project.Status ??= new ProjectState();
            if ((status.ObservedRefresh ?? -1) >= refresh) return project;
            status.StartImage(refresh, _engineOptions.Clock.GetUtcNow());
            if (!status.Images.Any(i => i.Status == ImagePhase.Ready)) status.Phase = ProjectPhase.Building;
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

    private static bool IsBuilding(ProjectResource project) =>
        (project.Status?.ObservedRefresh ?? -1) != project.Spec.Refresh || project.Status!.Images.Any(i => i.Status == ImagePhase.Building);

    /// <summary>Waits until the image asked for by <paramref name="refresh"/> is ready; a failed build throws its recorded error.</summary>
    private async Task<Project> WaitImageAsync(string name, int refresh, IProgress<DevDbProgress>? progress, CancellationToken cancellationToken)
    {
        var seen = "Waiting for the DevDb reconciler to pick it up";
        return await Polling.UntilAsync(async token =>
        {
            var project = await RequireProjectAsync(name, token);
            var status = project.Status;
            if (status is null || (status.ObservedRefresh ?? -1) < refresh) return null;
            var image = status.Images.FirstOrDefault(i => i.Refresh == refresh);
            if (image?.Status == ImagePhase.Ready) return ToProject(project);
            if (image is null)
            {
                var failed = ToProject(project);
                throw RecordedErrors.BuildFailed(failed, failed.Images.Select(i => i.Revision).DefaultIfEmpty(0).Max() + 1);
            }
            seen = $"Restoring image r{image.Revision} in the cluster";
            return null;
        }, progress, elapsed => new DevDbProgress($"Building an image of {name}", $"{seen} ({Polling.Elapsed(elapsed)})"), cancellationToken, _engineOptions.PollInterval);
    }

    public Task<Project> WaitProjectAsync(string name, IProgress<DevDbProgress>? progress = null, CancellationToken cancellationToken = default) =>
        Polling.UntilAsync(async token =>
        {
            var record = await RequireProjectAsync(name, token);
            if (IsBuilding(record)) return null;
            var project = ToProject(record);
            return project.Error is null ? project : throw RecordedErrors.BuildFailed(project, project.Images.Select(i => i.Revision).DefaultIfEmpty(0).Max() + 1);
        }, progress, elapsed => new DevDbProgress($"Building an image of {name}", $"Restoring in the cluster ({Polling.Elapsed(elapsed)})"), cancellationToken, _engineOptions.PollInterval);

    public async Task RemoveProjectAsync(string name, bool force = false, CancellationToken cancellationToken = default)
    {
        var project = await RequireProjectAsync(name, cancellationToken);
        var databases = await _databases.ListAsync($"{KubeNames.Project}={name}", cancellationToken);
        LifetimeRules.CheckProjectRemovable(ToProject(project), databases.Select(ToDatabase), force);
        ProjectRules.CheckRemovable(name, databases.Select(d => d.Name()).ToList(), force);
        foreach (var database in databases)
            if (await _databases.DeleteAsync(database.Name(), cancellationToken))
                RemovalLog.Write(_engineOptions.Log, ToDatabase(database), Entry(HistoryAction.Removed, detail: $"with project {name}"));
        // Its snapshots, and any restore Job and volume, are owned by the record: Kubernetes deletes them.
        await _projects.DeleteAsync(name, cancellationToken);
    }
}
