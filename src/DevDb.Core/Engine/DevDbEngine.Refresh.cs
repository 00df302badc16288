using DevDb.Core.Catalog;
using DevDb.Core.Client;
using DevDb.Core.Model;
using DevDb.Core.Rules;

namespace DevDb.Core.Engine;

/// <summary>
/// Scheduled refresh (RefreshRules). Only a host that keeps running calls the pass: the API's
/// background service (LocalEngineService). Ordinary commands never run it, so in local mode with no
/// server a schedule is recorded and shown (NextRefresh) but nothing refreshes.
/// </summary>
public sealed partial class DevDbEngine
{
    /// <summary>
    /// Starts the refresh of every project whose scheduled refresh has come by the engine's clock and
    /// that nothing else is working on: records when it started and the next occurrence first (so a
    /// crash never refreshes in a loop), then builds the next image in the background from the
    /// project's current source, exactly as Update-DevDbProject does, and records the outcome. A refresh
    /// that fails (the prefix is empty, the newest dump is garbage) builds nothing: the previous image
    /// keeps serving and LastRefreshError says why. Returns the projects whose refresh started.
    /// </summary>
    public async Task<IReadOnlyList<string>> RefreshDueProjectsAsync(CancellationToken cancellationToken = default)
    {
        var started = new List<string>();
        foreach (var seen in _catalog.Projects())
        {
            var name = seen.Project.Name;
            var now = _options.Clock.GetUtcNow();
            if (!RefreshRules.IsDue(seen.Project, now) || seen.Pending is not null) continue;
            await EnsureRecoveredAsync(cancellationToken);
            DateTimeOffset? due;
            using (await _catalog.LockAsync(cancellationToken))
            {
                // Looked at again under the lock: another pass (another server on this home) may have taken it.
                if (_catalog.FindProject(name) is not { Pending: null } record || !RefreshRules.IsDue(record.Project, now)) continue;
                due = record.Project.NextRefresh;
                _catalog.Save(record with { Project = RefreshRules.Started(record.Project, now) });
            }
            started.Add(name);
            try
            {
                var (project, build) = await RecordUpdateAsync(new UpdateProjectRequest { Name = name }, accepted: true, cancellationToken);
                RunInBackground(build.Lock, async token =>
                {
                    DevDbException? failure = null;
                    try
                    {
                        await BuildImageAsync(project, build, isNewProject: false, accepted: true, progress: null, token);
                    }
                    catch (DevDbException e)
                    {
                        failure = e;
                    }
                    await RecordRefreshOutcomeAsync(name, failure);
                    await PruneImagesAsync(name);
                });
            }
            catch (DevDbException e)
            {
                // Nothing was recorded (the source could not be reached, the prefix is empty, the project is busy).
                await RecordRefreshOutcomeAsync(name, e);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // The host is stopping before the build was recorded: the next start takes the refresh up again.
                using (await _catalog.LockAsync(CancellationToken.None))
                    if (_catalog.FindProject(name) is { } record)
                        _catalog.Save(record with { Project = record.Project with { NextRefresh = due, LastRefreshOutcome = null } });
                throw;
            }
        }
        return started;
    }

    private async Task RecordRefreshOutcomeAsync(string name, DevDbException? error)
    {
        using (await _catalog.LockAsync(CancellationToken.None))
            if (_catalog.FindProject(name) is { } record)
                _catalog.Save(record with { Project = RefreshRules.Finished(record.Project, error) });
    }

    /// <summary>A refresh shown Running whose build's process died: Failed, and why (the next change's repair drops the build).</summary>
    private static Project WithRefreshObserved(Project project, PendingOperation? pending) =>
        project.LastRefreshOutcome == RefreshOutcome.Running && pending is { Kind: OperationKind.BuildImage } && !pending.OwnerIsAlive()
            ? project with
            {
                LastRefreshOutcome = RefreshOutcome.Failed, LastRefreshErrorCode = ErrorCodes.OperationInterrupted,
                LastRefreshError = $"The scheduled refresh of project '{project.Name}' was interrupted: the DevDb server running it stopped. The next one runs at {project.NextRefresh:u}.",
            }
            : project;
}
