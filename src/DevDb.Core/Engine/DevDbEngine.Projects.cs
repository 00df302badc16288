using DevDb.Core.Catalog;
using DevDb.Core.Client;
using DevDb.Core.Model;
using DevDb.Core.Rules;
using DevDb.Core.Runtimes.Local;
using DevDb.Core.Sources;

namespace DevDb.Core.Engine;

/// <summary>Projects: recording them, building their images, removing them.</summary>
public sealed partial class DevDbEngine
{
    /// <summary>An image build recorded and ready to run: the project's lock (held until the build ends) and its source.</summary>
    private sealed record PendingBuild(IDisposable Lock, int Revision, IDumpSource Source);

    public async Task<Project> NewProjectAsync(NewProjectRequest request, IProgress<DevDbProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var (project, build) = await RecordNewProjectAsync(request, accepted: false, cancellationToken);
        if (build is null) return project.Status == ProjectStatus.Building ? await WaitImageAsync(project.Name, 1, cancellationToken) : project;
        using (build.Lock)
            return await BuildImageAsync(project, build, isNewProject: true, accepted: false, progress, cancellationToken);
    }

    /// <summary>Records the project and builds image revision 1 in the background; returns it Building (or the identical project as it is).</summary>
    public async Task<Project> BeginNewProjectAsync(NewProjectRequest request, CancellationToken cancellationToken = default)
    {
        var (project, build) = await RecordNewProjectAsync(request, accepted: true, cancellationToken);
        if (build is not null)
            RunInBackground(build.Lock, token => BuildImageAsync(project, build, isNewProject: true, accepted: true, progress: null, token));
        return project;
    }

    /// <summary>
    /// Checks the request and its source, and records the project Building under its lock. Returns
    /// no build when an identical project exists already (ready, or being built): nothing to do.
    /// </summary>
    private async Task<(Project Project, PendingBuild? Build)> RecordNewProjectAsync(NewProjectRequest request, bool accepted, CancellationToken cancellationToken)
    {
        RequestLimits.Check(request);
        if (request.SuperuserLogins && !_options.AllowSuperuserLogins) throw DevDbErrors.SuperuserLoginsNotAllowed(request.Name);
        LifetimeRules.CheckProjectSettings(request.Name, request.DefaultTimeToLive, request.MaxTimeToLive, _options.MaxTimeToLive);
        IdleRules.CheckShape(request.Name, request.IdleTimeout);
        RefreshRules.CheckNew(request);
        var definition = ProjectDefinition.Of(request, PostgresInstallation.Find(request.PostgresVersion).MajorVersion);
        if (_catalog.FindProject(request.Name) is { } seen)
        {
            var decision = ProjectRules.ClassifyNew(seen.Project, definition, false);
            // A repeated request is answered at once, even while the first one's build runs.
            if (decision == NewProjectDecision.Identical
                && (seen.Pending is null || seen.Pending is { Kind: OperationKind.BuildImage } pending && pending.OwnerIsAlive()))
                return (seen.Project, null);
            // A taken name is the answer whatever the source: no need to reach it.
            if (decision == NewProjectDecision.Conflict)
                throw DevDbErrors.ProjectExists(seen.Project.Name, seen.Project.Source, seen.Project.PostgresVersion);
        }
        await PrepareChangeAsync(cancellationToken);
        var source = await OpenAndProbeAsync(request.Source, cancellationToken);

        var held = await LockProjectAsync(request.Name, cancellationToken);
        try
        {
            await RepairProjectAsync(request.Name, cancellationToken);
            using (await _catalog.LockAsync(cancellationToken))
            {
                var existing = _catalog.FindProject(request.Name);
                switch (ProjectRules.ClassifyNew(existing?.Project, definition, busyWithOtherWork: existing?.Pending is not null))
                {
                    case NewProjectDecision.Identical:
                        held.Dispose();
                        return (existing!.Project, null);
                    case NewProjectDecision.Conflict:
                        throw DevDbErrors.ProjectExists(existing!.Project.Name, existing.Project.Source, existing.Project.PostgresVersion);
                    case NewProjectDecision.Busy:
                        throw Busy("Project", request.Name, existing!.Pending!);
                }
                // New, or a project whose builds all failed, rebuilt from this definition.
                var project = RefreshRules.OfNew(request, _options.Clock.GetUtcNow(), new Project
                {
                    Name = request.Name, PostgresVersion = definition.PostgresVersion, Source = request.Source, DatabaseName = request.DatabaseName,
                    PostRestoreSql = request.PostRestoreSql, SuperuserLogins = request.SuperuserLogins, Status = ProjectStatus.Building,
                    DefaultTimeToLive = request.DefaultTimeToLive, MaxTimeToLive = request.MaxTimeToLive, Protected = request.Protected,
                    IdleTimeout = request.IdleTimeout,
                    Created = _options.Clock.GetUtcNow(), Images = [NewImage(request.Name, 1)],
                    // A project whose builds all failed, rebuilt: its history goes on.
                    History = existing?.Project.History ?? [],
                });
                _catalog.Save(new ProjectRecord(project, PendingOperation.Begin(OperationKind.BuildImage, 1, accepted)));
                FaultPoints.Reach("new-project:recorded");
                return (project, new PendingBuild(held, 1, source));
            }
        }
        catch
        {
            held.Dispose();
            throw;
        }
    }

    public Task<IReadOnlyList<Project>> GetProjectsAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<Project>>(_catalog.Projects().Select(Observed).ToList());

    public Task<Project> GetProjectAsync(string name, CancellationToken cancellationToken = default) =>
        Task.FromResult(Observed(RequireProject(name)));

    /// <summary>The project as it is now, without changing its record: an image whose build's process died is not shown as building.</summary>
    private static Project Observed(ProjectRecord record) => WithRefreshObserved(ObservedBuild(record), record.Pending);

    private static Project ObservedBuild(ProjectRecord record) =>
        record.Pending is { Kind: OperationKind.BuildImage } pending && !pending.OwnerIsAlive()
            ? ProjectRules.Settled(record.Project with { Images = record.Project.Images.Where(i => i.Revision != pending.Revision).ToList() },
                InterruptedBuild(record.Project.Name, pending), ErrorCodes.RestoreFailed)
            : record.Project;

    private static string InterruptedBuild(string project, PendingOperation pending) =>
        $"Building image r{pending.Revision} was interrupted: the process building it (process {pending.ProcessId}) stopped. Run Update-DevDbProject -Name {project} to try again.";

    public async Task<Project> UpdateProjectAsync(UpdateProjectRequest request, IProgress<DevDbProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var (project, build) = await RecordUpdateAsync(request, accepted: false, cancellationToken);
        using (build.Lock)
        {
            var updated = await BuildImageAsync(project, build, isNewProject: false, accepted: false, progress, cancellationToken);
            return await PruneImagesAsync(updated.Name) ?? updated;
        }
    }

    /// <summary>Records the next image revision and builds it in the background; returns the project with that image Building.</summary>
    public async Task<Project> BeginUpdateProjectAsync(UpdateProjectRequest request, CancellationToken cancellationToken = default)
    {
        var (project, build) = await RecordUpdateAsync(request, accepted: true, cancellationToken);
        RunInBackground(build.Lock, async token =>
        {
            await BuildImageAsync(project, build, isNewProject: false, accepted: true, progress: null, token);
            await PruneImagesAsync(project.Name);
        });
        return project;
    }

    private async Task<(Project Project, PendingBuild Build)> RecordUpdateAsync(UpdateProjectRequest request, bool accepted, CancellationToken cancellationToken)
    {
        RequestLimits.Check(request);
        await PrepareChangeAsync(cancellationToken);
        var current = RequireProject(request.Name).Project;
        var source = await OpenAndProbeAsync(request.Source ?? current.Source, cancellationToken);
        var held = await LockProjectAsync(request.Name, cancellationToken);
        try
        {
            await RepairProjectAsync(request.Name, cancellationToken);
            using (await _catalog.LockAsync(cancellationToken))
            {
                var record = RequireProject(request.Name);
                var revision = record.Project.Images.Select(i => i.Revision).DefaultIfEmpty(0).Max() + 1;
                var project = record.Project with
                {
                    Source = request.Source ?? record.Project.Source,
                    PostRestoreSql = request.PostRestoreSql ?? record.Project.PostRestoreSql,
                    Status = record.Project.LatestImage is null ? ProjectStatus.Building : record.Project.Status,
                    Images = [.. record.Project.Images, NewImage(request.Name, revision)],
                };
                _catalog.Save(new ProjectRecord(project, PendingOperation.Begin(OperationKind.BuildImage, revision, accepted)));
                FaultPoints.Reach("update-project:recorded");
                return (project, new PendingBuild(held, revision, source));
            }
        }
        catch
        {
            held.Dispose();
            throw;
        }
    }

    /// <summary>Waits until no image of the project is being built; a build that failed (or whose process died) throws its error.</summary>
    public Task<Project> WaitProjectAsync(string name, IProgress<DevDbProgress>? progress = null, CancellationToken cancellationToken = default) =>
        Polling.UntilAsync(_ =>
            {
                var record = RequireProject(name);
                var project = Observed(record);
                if (project.Images.Any(i => i.Status == ImageStatus.Building)) return Task.FromResult<Project?>(null);
                return Task.FromResult<Project?>(project.Error is null
                    ? project
                    : throw RecordedErrors.BuildFailed(project, record.Pending?.Revision ?? project.Images.Select(i => i.Revision).DefaultIfEmpty(0).Max() + 1));
            }, progress, elapsed => new DevDbProgress($"Building an image of project {name}", $"Restoring ({Polling.Elapsed(elapsed)})"), cancellationToken, PollInterval);

    /// <summary>Waits until image <paramref name="revision"/> of a project is no longer being built; a failed build throws its error.</summary>
    private Task<Project> WaitImageAsync(string name, int revision, CancellationToken cancellationToken) =>
        Polling.UntilAsync(_ =>
            {
                var project = Observed(RequireProject(name));
                return Task.FromResult(project.Images.FirstOrDefault(i => i.Revision == revision) switch
                {
                    { Status: ImageStatus.Ready } => project,
                    null => throw RecordedErrors.BuildFailed(project, revision),
                    _ => null,
                });
            }, progress: null, elapsed => new DevDbProgress($"Building image {name} r{revision}", Polling.Elapsed(elapsed)), cancellationToken, PollInterval);

    /// <summary>
    /// Removes a project under its lock: first it is recorded as being removed (no database can be
    /// created in it from then on), then each of its databases under that database's lock, then its
    /// images and its record. A process that dies half way leaves the rest to the next one.
    /// </summary>
    public async Task RemoveProjectAsync(string name, bool force = false, CancellationToken cancellationToken = default)
    {
        await PrepareChangeAsync(cancellationToken);
        using var held = await LockProjectAsync(name, cancellationToken);
        await RepairProjectAsync(name, cancellationToken);
        using (await _catalog.LockAsync(cancellationToken))
        {
            var record = RequireProject(name);
            var databases = _catalog.Databases().Where(d => d.Database.Project == name).Select(d => d.Database).ToList();
            LifetimeRules.CheckProjectRemovable(record.Project, databases, force);
            ProjectRules.CheckRemovable(name, databases.Select(d => d.Name).ToList(), force);
            _catalog.Save(record with { Pending = PendingOperation.Begin(OperationKind.RemoveProject) });
        }
        FaultPoints.Reach("remove-project:recorded");
        await FinishProjectRemovalAsync(name, cancellationToken);
    }

    /// <summary>The rest of a removal recorded before: the project's databases, its images, its record.</summary>
    private async Task FinishProjectRemovalAsync(string name, CancellationToken cancellationToken)
    {
        foreach (var database in _catalog.Databases().Where(d => d.Database.Project == name).Select(d => d.Database.Name))
        {
            using (await LockDatabaseAsync(database, cancellationToken))
                await RemoveDatabaseUnderLockAsync(database, cancellationToken);
            FaultPoints.Reach("remove-project:database-removed");
        }
        foreach (var image in RequireProject(name).Project.Images) await _runtime.DeleteImageAsync(name, image.Revision, cancellationToken);
        FaultPoints.Reach("remove-project:images-deleted");
        using (await _catalog.LockAsync(CancellationToken.None))
            _catalog.DeleteProject(name);
    }

    private async Task<Project> BuildImageAsync(Project project, PendingBuild build, bool isNewProject, bool accepted,
        IProgress<DevDbProgress>? progress, CancellationToken cancellationToken)
    {
        var started = _options.Clock.GetUtcNow();
        var revision = build.Revision;
        try
        {
            var built = await _runtime.BuildImageAsync(project, revision, build.Source, progress, cancellationToken);
            FaultPoints.Reach(isNewProject ? "new-project:published" : "update-project:published");
            var done = Entry(isNewProject ? HistoryAction.Created : HistoryAction.Refreshed, detail: $"image r{revision}");
            return await SaveImageAsync(project.Name, revision, p => ProjectRules.Settled(p, error: null, errorCode: null) with { History = HistoryRules.Append(p.History, done) },
                image => image with
                {
                    Status = ImageStatus.Ready, SourceFormat = built.SourceFormat.ToString(), SourceBytes = built.SourceBytes, Dump = build.Source.Dump,
                    SizeBytes = built.SizeBytes, BuildDuration = _options.Clock.GetUtcNow() - started,
                });
        }
        catch (OperationCanceledException) when (!(accepted && HostIsStopping))
        {
            // Stopped by the user: leave things as they were before the command.
            if (isNewProject)
            {
                using (await _catalog.LockAsync(CancellationToken.None))
                    _catalog.DeleteProject(project.Name);
            }
            else
            {
                var stopped = Entry(HistoryAction.Refreshed, new OperationCanceledException(), $"image r{revision}: stopped by its caller");
                await SaveImageAsync(project.Name, revision, p => ProjectRules.Settled(p, p.Error, p.ErrorCode) with { History = HistoryRules.Append(p.History, stopped) }, image: null);
            }
            throw;
        }
        catch (Exception e)
        {
            // Accepted work the host had to stop is recorded as failed, never dropped.
            var error = e as DevDbException ?? DevDbErrors.RestoreFailed(
                e is OperationCanceledException
                    ? $"Building image r{revision} of project '{project.Name}' was stopped: the DevDb server shut down before it finished."
                    : $"Building image r{revision} of project '{project.Name}' failed: {e.Message}",
                $"Fix the cause, then run Update-DevDbProject -Name {project.Name} to try again.", project.Name, e);
            var failed = Entry(isNewProject ? HistoryAction.Created : HistoryAction.Refreshed, error, $"image r{revision}");
            await SaveImageAsync(project.Name, revision, p => ProjectRules.Settled(p, error.Message, error.Code) with { History = HistoryRules.Append(p.History, failed) }, image: null);
            if (error == e) throw;
            throw error;
        }
    }

    /// <summary>Records the outcome of an image build: the image updated (or dropped when null), the pending mark cleared.</summary>
    private async Task<Project> SaveImageAsync(string name, int revision, Func<Project, Project> updateProject, Func<Image, Image>? image)
    {
        using (await _catalog.LockAsync(CancellationToken.None))
        {
            var record = RequireProject(name);
            var images = image is null
                ? record.Project.Images.Where(i => i.Revision != revision).ToList()
                : record.Project.Images.Select(i => i.Revision == revision ? image(i) : i).ToList();
            var project = updateProject(record.Project with { Images = images });
            _catalog.Save(new ProjectRecord(project));
            return project;
        }
    }

    /// <summary>
    /// Deletes a project's images that can never be cloned again (<see cref="ProjectRules.PrunableImages"/>).
    /// Skipped while anything of the project is in flight (a reset may be cloning any image).
    /// Returns the project as recorded afterwards, or null when nothing was pruned.
    /// </summary>
    private async Task<Project?> PruneImagesAsync(string projectName)
    {
        Project pruned;
        IReadOnlyList<int> unused;
        using (await _catalog.LockAsync(CancellationToken.None))
        {
            if (_catalog.FindProject(projectName) is not { Pending: null } record) return null;
            var databases = _catalog.Databases().Where(d => d.Database.Project == projectName).ToList();
            if (databases.Any(d => d.Pending is not null)) return null;
            unused = ProjectRules.PrunableImages(record.Project.Images,
                databases.SelectMany(d => CheckpointRules.RevisionsHeld(d.Database, d.Checkpoints, d.OriginRevision)), _options.ImagesToKeep);
            if (unused.Count == 0) return null;
            pruned = record.Project with { Images = record.Project.Images.Where(i => !unused.Contains(i.Revision)).ToList() };
            _catalog.Save(record with { Project = pruned });
        }
        // Unrecorded first, deleted second: a crash in between leaves a folder the next recovery sweeps.
        foreach (var revision in unused) await _runtime.DeleteImageAsync(projectName, revision, CancellationToken.None);
        return pruned;
    }

    private async Task<IDumpSource> OpenAndProbeAsync(string location, CancellationToken cancellationToken)
    {
        var source = DumpSources.Open(location, _options.Sources);
        await source.ProbeAsync(cancellationToken);
        return source;
    }

    private Image NewImage(string project, int revision) =>
        new() { Project = project, Revision = revision, Status = ImageStatus.Building, Created = _options.Clock.GetUtcNow() };
}
