using DevDb.Core.Rules;
using DevDb.Core.Model;
using System.Text.Json;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace DevDb.Core.Runtimes.Kubernetes;

/// <summary>The reconciler's image builds: restore volume, restore Job, snapshot; failures from the Job's termination messages; pruning.</summary>
public sealed partial class Reconciler
{
    // ---- projects -------------------------------------------------------------------------------

    private async Task ReconcileProjectAsync(ProjectResource project, IReadOnlyList<DatabaseResource> databases, ClusterView view, CancellationToken cancellationToken)
    {
        var before = Fingerprint(project.Status);
        var status = project.Status ??= new ProjectState();
        // The engine records the image a request asks for; a refresh made another way (kubectl edit) is recorded here.
        if ((status.ObservedRefresh ?? -1) != project.Spec.Refresh) status.StartImage(project.Spec.Refresh, _clock.GetUtcNow());
        await StartScheduledRefreshAsync(project, cancellationToken);
        foreach (var image in status.Images.Where(i => i.Status == ImagePhase.Building).ToList())
            await AdvanceBuildAsync(project, image, view, cancellationToken);
        await PruneImagesAsync(project, databases, view, cancellationToken);
        status.Phase = status.Images.Any(i => i.Status == ImagePhase.Ready) ? ProjectPhase.Ready
            : status.Images.Any(i => i.Status == ImagePhase.Building) ? ProjectPhase.Building
            : ProjectPhase.Failed;
        if (Fingerprint(status) != before) await _projects.ReplaceStatusAsync(project, cancellationToken);
    }

    /// <summary>Restore volume, then the restore Job, then a snapshot of the volume once the Job succeeded; the image is ready when the snapshot is.</summary>
    private async Task AdvanceBuildAsync(ProjectResource project, ImageState image, ClusterView view, CancellationToken cancellationToken)
    {
        var name = project.Name();
        var snapshotName = KubeNames.ImageSnapshot(name, image.Revision);
        var jobName = KubeNames.RestoreJob(name, image.Revision);
        var snapshot = view.Snapshots.GetValueOrDefault(snapshotName);
        if (snapshot?.Status?.ReadyToUse == true)
        {
            image.Status = ImagePhase.Ready;
            image.Snapshot = snapshotName;
            image.SizeBytes = snapshot.Status.RestoreSize?.ToInt64();
            image.BuildSeconds = Math.Round((_clock.GetUtcNow() - image.Created).TotalSeconds, 1);
            project.Status!.Error = null;
            project.Status.ErrorCode = null;
            if (image.Refresh == project.Status.LastRefreshRequest) RecordRefreshOutcome(project.Status, null, null);
            await DeleteBuildObjectsAsync(name, image.Revision, keepVolume: _options.KeepRestoreVolume, cancellationToken);
            _log.LogInformation("Image {Project} r{Revision} is ready (snapshot {Snapshot})", name, image.Revision, snapshotName);
            await RecordEventAsync(project, "Normal", "ImageReady", $"Image r{image.Revision} is ready: snapshot {snapshotName}.", cancellationToken);
            return;
        }
        if (snapshot?.Status?.Error?.Message is { } snapshotError)
        {
            await FailBuildAsync(project, image, ErrorCodes.RestoreFailed,
                $"Building image r{image.Revision} of project '{name}' failed: the snapshot of the restored volume failed: {snapshotError}", cancellationToken);
            return;
        }
        if (snapshot is not null) return;

        var job = view.Jobs.GetValueOrDefault(jobName);
        if (job is null)
        {
            if (view.Volume(KubeNames.RestoreVolume(name, image.Revision)) is null)
                await CreateIfMissingAsync(() => _client.CoreV1.CreateNamespacedPersistentVolumeClaimAsync(_manifests.RestoreVolume(project, image.Revision), Namespace, cancellationToken: cancellationToken));
            await CreateIfMissingAsync(() => _client.BatchV1.CreateNamespacedJobAsync(_manifests.RestoreJob(project, image.Revision), Namespace, cancellationToken: cancellationToken));
            return;
        }
        if (job.Status?.Succeeded > 0)
        {
            var fetched = await TerminationMessageOfAsync(view, jobName, "fetch", cancellationToken);
            if (fetched?.Format is { } format) image.SourceFormat = format;
            if (fetched?.Bytes is { } bytes) image.SourceBytes = bytes;
            if (fetched?.Dump is { } dump) image.Dump = dump;
            await CreateIfMissingAsync(() => _snapshots.CreateAsync(_manifests.ImageSnapshot(project, image.Revision), cancellationToken));
            return;
        }
        var failed = job.Status?.Conditions?.FirstOrDefault(c => c.Type == "Failed" && c.Status == "True");
        if (failed?.Reason == "DeadlineExceeded")
        {
            await FailBuildAsync(project, image, ErrorCodes.RestoreFailed,
                $"Building image r{image.Revision} of project '{name}' failed: the restore Job ran longer than its deadline " +
                $"({job.Spec.ActiveDeadlineSeconds} s, restore.deadlineSeconds) and was stopped.", cancellationToken);
            return;
        }
        if (view.Volume(KubeNames.RestoreVolume(name, image.Revision)) is { Status.Phase: "Pending" } pending
            && pending.Metadata.CreationTimestamp is { } created
            && _clock.GetUtcNow() - new DateTimeOffset(DateTime.SpecifyKind(created, DateTimeKind.Utc)) > _options.RestoreVolumeBindTimeout)
        {
            await FailBuildAsync(project, image, ErrorCodes.RestoreFailed,
                $"Building image r{image.Revision} of project '{name}' failed: its restore volume {pending.Metadata.Name} stayed Pending for more than " +
                $"{_options.RestoreVolumeBindTimeout.TotalMinutes:0.#} min, so the restore never started. " +
                (_options.StorageClass is null
                    ? "No StorageClass is set (storage.storageClass) and the cluster may have no default one (EKS 1.30+ has none): set storage.storageClass."
                    : $"Check StorageClass '{_options.StorageClass}' exists and can provision a volume of {_options.RestoreVolumeSize} (kubectl describe pvc {pending.Metadata.Name})."),
                cancellationToken);
            return;
        }
        if (job.Status?.Failed > 0 || failed is not null)
        {
            var failure = await FailureOfJobAsync(view, jobName, cancellationToken);
            await FailBuildAsync(project, image, failure.Code, $"Building image r{image.Revision} of project '{name}' failed: {failure.Message}", cancellationToken);
        }
    }

    private async Task FailBuildAsync(ProjectResource project, ImageState image, string code, string message, CancellationToken cancellationToken)
    {
        // A failed build leaves nothing behind but the error on the record, as in local mode.
        project.Status!.Images.Remove(image);
        project.Status.Error = message;
        project.Status.ErrorCode = code;
        if (image.Refresh == project.Status.LastRefreshRequest) RecordRefreshOutcome(project.Status, code, message);
        // Written with the status this pass writes (on the read's resourceVersion, as every status write).
        project.Status.History = HistoryItem.Appended(project.Status.History, Rules.HistoryRules.Failed(
            image.Revision == 1 ? Model.HistoryAction.Created : Model.HistoryAction.Refreshed, _clock.GetUtcNow(), code, $"image r{image.Revision}", Model.Actor.DevDb));
        await DeleteBuildObjectsAsync(project.Name(), image.Revision, keepVolume: false, cancellationToken);
        await DeleteIfPresentAsync(() => _snapshots.DeleteAsync(KubeNames.ImageSnapshot(project.Name(), image.Revision), cancellationToken));
        _log.LogWarning("Image {Project} r{Revision} failed: {Code}: {Message}", project.Name(), image.Revision, code, message);
        await RecordEventAsync(project, "Warning", "ImageBuildFailed", $"{code}: {message}", cancellationToken);
    }

    /// <param name="keepVolume">Keep the restore volume (KeepRestoreVolume: the snapshot depends on it); it goes with the image.</param>
    private async Task DeleteBuildObjectsAsync(string project, int revision, bool keepVolume, CancellationToken cancellationToken)
    {
        var name = KubeNames.RestoreJob(project, revision);
        await DeleteIfPresentAsync(() => _client.BatchV1.DeleteNamespacedJobAsync(name, Namespace, propagationPolicy: "Background", cancellationToken: cancellationToken));
        if (keepVolume) return;
        await DeleteIfPresentAsync(() => _client.CoreV1.DeleteNamespacedPersistentVolumeClaimAsync(KubeNames.RestoreVolume(project, revision), Namespace, cancellationToken: cancellationToken));
    }

    /// <summary>Image retention (ProjectRules.PrunableImages): drops the ready images beyond the newest ImagesToKeep that no database uses.</summary>
    private async Task PruneImagesAsync(ProjectResource project, IReadOnlyList<DatabaseResource> databases, ClusterView view, CancellationToken cancellationToken)
    {
        var status = project.Status!;
        var mine = databases.Where(d => d.Spec.Project == project.Name()).ToList();
        // A database not yet given its image, or mid-reset, may still take any: wait for it.
        if (mine.Any(d => d.Status?.ImageRevision is null || (d.Status.ObservedReset ?? 0) != d.Spec.Reset)) return;
        // A database holds its own image, its checkpoints' and (a branch) its origin's.
        var held = mine.SelectMany(d => Rules.CheckpointRules.RevisionsHeld(KubernetesEngine.ToDatabase(d),
            KubernetesEngine.CheckpointsOf(d).Where(c => c.Status != Model.CheckpointStatus.Failed), d.Status!.OriginRevision));
        var prunable = ProjectRules.PrunableImages(KubernetesEngine.ToProject(project).Images, held, _options.ImagesToKeep);
        foreach (var image in status.Images.Where(i => prunable.Contains(i.Revision)).ToList())
        {
            var snapshot = KubeNames.ImageSnapshot(project.Name(), image.Revision);
            if (view.Snapshots.ContainsKey(snapshot)) await DeleteIfPresentAsync(() => _snapshots.DeleteAsync(snapshot, cancellationToken));
            // A kept restore volume (KeepRestoreVolume) goes with its snapshot, never before it.
            if (view.Volume(KubeNames.RestoreVolume(project.Name(), image.Revision)) is not null)
                await DeleteIfPresentAsync(() => _client.CoreV1.DeleteNamespacedPersistentVolumeClaimAsync(KubeNames.RestoreVolume(project.Name(), image.Revision), Namespace, cancellationToken: cancellationToken));
            status.Images.Remove(image);
        }
    }

    // ---- scheduled refresh (RefreshRules) -------------------------------------------------------

    /// <summary>
    /// When the project's scheduled refresh has come and no image of it is being built, asks for the
    /// next image exactly as Update-DevDbProject does (spec.refresh + 1) and records when, and the next
    /// occurrence. Its image's build decides the outcome; a failed one leaves the previous image serving.
    /// </summary>
    private async Task StartScheduledRefreshAsync(ProjectResource project, CancellationToken cancellationToken)
    {
        var status = project.Status!;
        var now = _clock.GetUtcNow();
        status.ObserveSchedule(project.Spec, project.Name(), now);
        if (!RefreshRules.IsDue(KubernetesEngine.ToProject(project), now) || status.Images.Any(i => i.Status == ImagePhase.Building)) return;
        var refresh = project.Spec.Refresh + 1;
        // The resourceVersion makes a concurrent change (an Update from the API) fail this pass rather than be doubled.
        var patched = await _projects.PatchAsync(project.Name(), new { metadata = new { resourceVersion = project.Metadata.ResourceVersion }, spec = new { refresh } }, cancellationToken);
        project.Metadata.ResourceVersion = patched.Metadata.ResourceVersion;
        project.Spec.Refresh = refresh;
        status.StartImage(refresh, now);
        var started = RefreshRules.Started(KubernetesEngine.ToProject(project), now);
        status.LastRefresh = now;
        status.LastRefreshRequest = refresh;
        status.LastRefreshOutcome = nameof(RefreshOutcome.Running);
        status.LastRefreshError = null;
        status.LastRefreshErrorCode = null;
        status.NextRefresh = started.NextRefresh;
        _log.LogInformation("Scheduled refresh of project {Project}: building image r{Revision}; the next one at {Next:o}", project.Name(), status.LastRevision, started.NextRefresh);
        await RecordEventAsync(project, "Normal", "RefreshStarted", $"Scheduled refresh: building image r{status.LastRevision} from {Sources.SourceAddress.Redacted(project.Spec.Source)}.", cancellationToken);
    }

    private static void RecordRefreshOutcome(ProjectState status, string? code, string? message)
    {
        status.LastRefreshOutcome = code is null ? nameof(RefreshOutcome.Succeeded) : nameof(RefreshOutcome.Failed);
        status.LastRefreshError = message;
        status.LastRefreshErrorCode = code;
    }

    // ---- failures of restore Jobs ---------------------------------------------------------------

    private sealed record TerminationMessage(string? Code, string? Message, string? Format, long? Bytes, string? Dump = null);

    /// <summary>What a container of the Job's pod wrote to its termination log (fetch and restore write JSON).</summary>
    private async Task<TerminationMessage?> TerminationMessageOfAsync(ClusterView view, string job, string container, CancellationToken cancellationToken) =>
        (await TerminatedContainersAsync(view, job, cancellationToken))
            .Where(c => c.Name == container && c.Terminated.Message is not null)
            .Select(c => ParseTermination(c.Terminated.Message)).FirstOrDefault();

    private async Task<(string Code, string Message)> FailureOfJobAsync(ClusterView view, string job, CancellationToken cancellationToken)
    {
        foreach (var state in await TerminatedContainersAsync(view, job, cancellationToken))
        {
            if (state.Terminated.ExitCode == 0) continue;
            var parsed = state.Terminated.Message is { } text ? ParseTermination(text) : null;
            if (parsed?.Code is { } code && parsed.Message is { } message) return (code, message);
            return (ErrorCodes.RestoreFailed, $"the {state.Name} step exited with {state.Terminated.ExitCode}: {state.Terminated.Message?.Trim()}".TrimEnd(' ', ':'));
        }
        return (ErrorCodes.RestoreFailed, "the restore Job failed and its pod left no message (it may have been evicted or deleted).");
    }

    /// <summary>
    /// The finished containers of a Job's pods. The pass's pods may be older than its Jobs (they are
    /// listed side by side), so a Job seen finished whose pod is not yet seen finished is read again.
    /// </summary>
    private async Task<List<(string Name, V1ContainerStateTerminated Terminated)>> TerminatedContainersAsync(ClusterView view, string job, CancellationToken cancellationToken)
    {
        var pods = view.Pods.Where(p => Label(p.Metadata, "job-name") == job).ToList();
        if (!pods.Any(p => p.Status?.Phase is "Succeeded" or "Failed"))
            pods = (await _client.CoreV1.ListNamespacedPodAsync(Namespace, labelSelector: $"job-name={job}", cancellationToken: cancellationToken)).Items.ToList();
        return pods
            .SelectMany(p => (p.Status?.InitContainerStatuses ?? []).Concat(p.Status?.ContainerStatuses ?? []))
            .Where(c => c.State?.Terminated is not null)
            .Select(c => (c.Name, c.State.Terminated))
            .ToList();
    }

    private static TerminationMessage? ParseTermination(string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            var root = document.RootElement;
            string? Text(string property) => root.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
            long? Number(string property) => root.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetInt64() : null;
            return new TerminationMessage(Text("code"), Text("message"), Text("format"), Number("bytes"), Text("dump"));
        }
        catch (JsonException)
        {
            return new TerminationMessage(null, text.Trim(), null, null);
        }
    }
}
