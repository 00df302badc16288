using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace DevDb.Core.Runtimes.Kubernetes;

/// <summary>The reconciler's databases: image and addresses assigned once, then Secret, Service, route, volume and StatefulSet made or repaired; resets, stops and failures.</summary>
public sealed partial class Reconciler
{
    private async Task ReconcileDatabaseAsync(DatabaseResource database, IReadOnlyDictionary<string, ProjectResource> projects,
        IReadOnlyList<DatabaseResource> all, ClusterView view, V1Service? loadBalancer, CancellationToken cancellationToken)
    {
        var before = Fingerprint(database.Status);
        var status = database.Status ??= new DatabaseState();
        // A new record's status may hold only the history the engine wrote at the request: no phase yet is Creating.
        status.Phase ??= DatabasePhase.Creating;
        var phaseAtStart = status.Phase;
        var objectName = KubeNames.DatabaseObject(database.Name());
        if (status.Phase == DatabasePhase.Failed)
        {
            await DeleteFailedServerAsync(database, view, cancellationToken);
            return;
        }
        var name = database.Name();
        projects.TryGetValue(database.Spec.Project, out var project);

        // Every way out of this pass: record what changed; a database that just failed is told and cleared away.
        async Task SettleAsync()
        {
            if (Fingerprint(status) == before) return;
            // A create or reset that failed: its history says so (devdb found out), in the same write.
            if (status.Phase == DatabasePhase.Failed && phaseAtStart != DatabasePhase.Failed)
                status.History = HistoryItem.Appended(status.History, Rules.HistoryRules.Failed(
                    database.Spec.Reset == 0 ? Model.HistoryAction.Created : database.Spec.RestoreCheckpoint is null ? Model.HistoryAction.Reset : Model.HistoryAction.Restored,
                    _clock.GetUtcNow(), status.ErrorCode, actor: Model.Actor.DevDb));
            await _databases.ReplaceStatusAsync(database, cancellationToken);
            if (status.Phase != DatabasePhase.Failed) return;
            await RecordEventAsync(database, "Warning", "DatabaseFailed", $"{status.ErrorCode}: {status.Error}", cancellationToken);
            await DeleteFailedServerAsync(database, view, cancellationToken);
        }

        var isNew = status.ImageRevision is null;
        if (isNew && !await AssignImageAsync(database, project, all, view, loadBalancer, cancellationToken))
        {
            await SettleAsync();
            return;
        }
        if (project is null)
        {
            Fail(status, ErrorCodes.ProjectNotFound, $"Database '{name}' belongs to project '{database.Spec.Project}', which no longer exists.");
            await SettleAsync();
            return;
        }

        // The engine writes a new database's Secret just after its record: only a Secret missing later is remade.
        // Nothing that needs it is made before a pass has seen it (the pod would fail to start without it).
        if (!view.Secrets.ContainsKey(objectName))
        {
            if (!isNew) await RemakeSecretAsync(database, cancellationToken);
            await SettleAsync();
            return;
        }
        if (!view.Services.ContainsKey(objectName))
            await CreateIfMissingAsync(() => _client.CoreV1.CreateNamespacedServiceAsync(_manifests.DatabaseService(database), Namespace, cancellationToken: cancellationToken));
        if (_options.Traefik.Enabled && !view.Routes.ContainsKey(objectName))
            await CreateIfMissingAsync(() => _routes.CreateAsync(_manifests.DatabaseRoute(database), cancellationToken));

        // Checkpoints asked for before a reset are of the data before it.
        if (view.Volume(status.Volume) is not null) await TakeCheckpointsAsync(database, view, cancellationToken);
        if ((status.ObservedReset ?? 0) != database.Spec.Reset)
        {
            var (ready, refusal) = await ChooseResetSourceAsync(database, project, view, cancellationToken);
            if (refusal is not null)
            {
                // A restore whose checkpoint was removed by hand meanwhile: refused; the server keeps its data.
                status.ObservedReset = database.Spec.Reset;
                (status.Error, status.ErrorCode) = (refusal, ErrorCodes.CheckpointNotFound);
                status.History = HistoryItem.Appended(status.History, Rules.HistoryRules.Failed(Model.HistoryAction.Restored, _clock.GetUtcNow(),
                    ErrorCodes.CheckpointNotFound, database.Spec.RestoreCheckpoint, Model.Actor.DevDb));
                await SettleAsync();
                return;
            }
            // Nothing to reset to (all builds failed): the request stays pending, the server keeps running.
            if (!ready)
            {
                await SettleAsync();
                return;
            }
            (status.Error, status.ErrorCode) = (null, null);
            status.Volume = KubeNames.DatabaseVolume(name, database.Spec.Reset);
            status.ObservedReset = database.Spec.Reset;
            status.Phase = DatabasePhase.Creating;
        }

        // A load balancer the cloud gave its address after this database was made: the connection details follow.
        if (_options.LoadBalancer.Enabled && !_options.Traefik.Enabled && status.LoadBalancerPort is not null)
            status.Host = LoadBalancerHost(name, loadBalancer);

        var image = project.Status?.Images.FirstOrDefault(i => i.Revision == status.ImageRevision);
        if (view.Volume(status.Volume) is null)
        {
            // Records made before data states name no snapshot: theirs is the image's.
            if ((status.VolumeSnapshot ?? image?.Snapshot) is not { } source)
            {
                Fail(status, ErrorCodes.DatabaseCreateFailed, $"The data volume of database '{name}' is gone and image r{status.ImageRevision} it was cloned from no longer exists.");
                await SettleAsync();
                return;
            }
            var restoreSize = view.Snapshots.GetValueOrDefault(source)?.Status?.RestoreSize;
            await CreateIfMissingAsync(() => _client.CoreV1.CreateNamespacedPersistentVolumeClaimAsync(
                _manifests.DatabaseVolume(database, status.Volume!, source, restoreSize), Namespace, cancellationToken: cancellationToken));
        }

        var desired = _manifests.DatabaseServer(database, _manifests.PostgresImage(project), status.Volume!, status.LoadBalancerPort, project.Spec.SuperuserLogins);
        var server = view.Servers.GetValueOrDefault(objectName);
        if (server is null)
            await CreateIfMissingAsync(() => _client.AppsV1.CreateNamespacedStatefulSetAsync(desired, Namespace, cancellationToken: cancellationToken));
        else if (server.Spec.Replicas != desired.Spec.Replicas || ClaimOf(server) != status.Volume)
        {
            await _client.AppsV1.PatchNamespacedStatefulSetAsync(new V1Patch(new
            {
                spec = new { replicas = desired.Spec.Replicas, template = desired.Spec.Template },
            }, V1Patch.PatchType.MergePatch), desired.Metadata.Name, Namespace, cancellationToken: cancellationToken);
        }
        await ReplaceStuckPodAsync(database, view, status, cancellationToken);
        await DeleteOldVolumesAsync(database, status.Volume!, view, cancellationToken);
        await DropRemovedCheckpointsAsync(database, all, view, cancellationToken);

        status.Phase = ObservePhase(database, view.Pod(KubeNames.DatabasePod(name)), status);
        // Running again (created, started, reset): its idle time starts from now.
        if (status.Phase == DatabasePhase.Running && phaseAtStart != DatabasePhase.Running)
        {
            status.LastActiveAt = _clock.GetUtcNow();
            status.Sessions = null;
        }
        await SettleAsync();
    }

    /// <summary>A Failed database keeps its record and error, nothing else: no server, volume, Secret, Service, route or port.</summary>
    private async Task DeleteFailedServerAsync(DatabaseResource database, ClusterView view, CancellationToken cancellationToken)
    {
        var name = KubeNames.DatabaseObject(database.Name());
        if (view.Servers.ContainsKey(name))
            await DeleteIfPresentAsync(() => _client.AppsV1.DeleteNamespacedStatefulSetAsync(name, Namespace, propagationPolicy: "Background", cancellationToken: cancellationToken));
        if (view.Services.ContainsKey(name))
            await DeleteIfPresentAsync(() => _client.CoreV1.DeleteNamespacedServiceAsync(name, Namespace, cancellationToken: cancellationToken));
        if (view.Secrets.ContainsKey(name))
            await DeleteIfPresentAsync(() => _client.CoreV1.DeleteNamespacedSecretAsync(name, Namespace, cancellationToken: cancellationToken));
        if (view.Routes.ContainsKey(name)) await DeleteIfPresentAsync(() => _routes.DeleteAsync(name, cancellationToken));
        await DeleteOldVolumesAsync(database, current: null, view, cancellationToken);
    }

    /// <summary>Chooses the image, the volume name and the addresses of a new database; false while its project has no image yet.</summary>
    private async Task<bool> AssignImageAsync(DatabaseResource database, ProjectResource? project, IReadOnlyList<DatabaseResource> all, ClusterView view,
        V1Service? loadBalancer, CancellationToken cancellationToken)
    {
        var status = database.Status!;
        var name = database.Name();
        if (project is null)
        {
            Fail(status, ErrorCodes.ProjectNotFound, $"There is no project named '{database.Spec.Project}'.");
            return false;
        }
        if (database.Spec.Parent is not null)
        {
            if (!await AssignOriginAsync(database, all, view, cancellationToken)) return false;
            (status.ImageRevision, status.VolumeSnapshot) = (status.OriginRevision, status.OriginSnapshot);
        }
        else
        {
            var newest = project.Status?.Images.Where(i => i.Status == ImagePhase.Ready).MaxBy(i => i.Revision);
            if (newest is null)
            {
                if (project.Status?.Phase == ProjectPhase.Failed)
                    Fail(status, ErrorCodes.ProjectNotReady, $"Project '{project.Name()}' has no image to clone: its build failed: {project.Status.Error}");
                return false;
            }
            (status.ImageRevision, status.VolumeSnapshot) = (newest.Revision, newest.Snapshot);
        }
        status.ObservedReset = database.Spec.Reset;
        status.Volume = KubeNames.DatabaseVolume(name, database.Spec.Reset);
        status.DatabaseName = project.Spec.DatabaseName;
        status.Username = name;
        status.SecretName = KubeNames.DatabaseObject(name);
        if (_options.Traefik.Enabled) status.SniHost = _manifests.SniHost(name);
        if (_options.LoadBalancer.Enabled)
        {
            status.LoadBalancerPort = AllocatePort(all.Where(d => d.Name() != name).Select(d => d.Status?.LoadBalancerPort));
            if (status.LoadBalancerPort is null)
            {
                Fail(status, ErrorCodes.NoFreePort,
                    $"Every port of the load balancer's range {_options.LoadBalancer.PortRangeStart}-{_options.LoadBalancer.PortRangeEnd} is taken.");
                return false;
            }
        }
        (status.Host, status.Port) = _options.Traefik.Enabled ? (status.SniHost, Manifests.PostgresPort)
            : _options.LoadBalancer.Enabled ? (LoadBalancerHost(name, loadBalancer), status.LoadBalancerPort)
            : (_manifests.ServiceHost(name), Manifests.PostgresPort);
        // Recorded before any object is made, so the port is taken even if the pass stops here.
        await _databases.ReplaceStatusAsync(database, cancellationToken);
        return true;
    }

    private int? AllocatePort(IEnumerable<int?> taken)
    {
        var used = taken.OfType<int>().ToHashSet();
        for (var port = _options.LoadBalancer.PortRangeStart; port <= _options.LoadBalancer.PortRangeEnd; port++)
            if (!used.Contains(port)) return port;
        return null;
    }

    /// <summary>The Secret holds the password (the engine writes it first); one that was deleted is made again with a new password, and the server restarted to take it.</summary>
    private async Task RemakeSecretAsync(DatabaseResource database, CancellationToken cancellationToken)
    {
        var secret = _manifests.DatabaseSecret(database, database.Status!.Username!, Passwords.New());
        if (!await CreateIfMissingAsync(() => _client.CoreV1.CreateNamespacedSecretAsync(secret, Namespace, cancellationToken: cancellationToken))) return;
        await RecordEventAsync(database, "Warning", "CredentialsRemade",
            $"Secret {secret.Metadata.Name} was missing: made again with a new password; the server restarts to take it.", cancellationToken);
        // The init container sets the password when the pod starts: a running pod must start again.
        await DeleteIfPresentAsync(() => _client.CoreV1.DeleteNamespacedPodAsync(KubeNames.DatabasePod(database.Name()), Namespace, cancellationToken: cancellationToken));
    }

    /// <summary>After a reset, the volumes of earlier clones go (Kubernetes keeps one in use until its pod is gone); with no current one, all go.</summary>
    private async Task DeleteOldVolumesAsync(DatabaseResource database, string? current, ClusterView view, CancellationToken cancellationToken)
    {
        var mine = view.Volumes.Where(v => Label(v.Metadata, KubeNames.Database) == database.Name() && v.Metadata.DeletionTimestamp is null);
        foreach (var old in mine.Where(v => v.Metadata.Name != current).ToList())
            await DeleteIfPresentAsync(() => _client.CoreV1.DeleteNamespacedPersistentVolumeClaimAsync(old.Metadata.Name, Namespace, cancellationToken: cancellationToken));
    }

    private static string? ClaimOf(V1StatefulSet server) =>
        server.Spec.Template.Spec.Volumes?.FirstOrDefault(v => v.Name == "data")?.PersistentVolumeClaim?.ClaimName;

    private static DatabasePhase ObservePhase(DatabaseResource database, V1Pod? pod, DatabaseState status)
    {
        if (!database.Spec.Running) return pod is null ? DatabasePhase.Stopped : status.Phase ?? DatabasePhase.Creating;
        // During a reset the old pod may still answer: only a pod on the current volume counts.
        if (pod is not null && pod.Spec.Volumes?.FirstOrDefault(v => v.Name == "data")?.PersistentVolumeClaim?.ClaimName != status.Volume) pod = null;
        if (pod?.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true) return DatabasePhase.Running;
        if (FailedContainer(pod) is { } failure && status.Phase == DatabasePhase.Creating)
        {
            Fail(status, ErrorCodes.ServerStartFailed, $"The server of database '{database.Name()}' did not start: {failure}");
            return DatabasePhase.Failed;
        }
        // A server that answered and does not now (its container died or hangs, a node went away) is Crashed until it
        // answers again (the kubelet restarts it); one being started stays Stopped, which the engine shows as Starting.
        return status.Phase switch
        {
            DatabasePhase.Creating => DatabasePhase.Creating,
            DatabasePhase.Running or DatabasePhase.Crashed => DatabasePhase.Crashed,
            _ => DatabasePhase.Stopped,
        };
    }

    /// <summary>
    /// Why a container of the pod does not run. A kubelet restarts a failed container of a StatefulSet's pod, so
    /// its exit is often seen only as CrashLoopBackOff with the exit (and termination message) in lastState.
    /// </summary>
    private static string? FailedContainer(V1Pod? pod) =>
        (pod?.Status?.InitContainerStatuses ?? []).Concat(pod?.Status?.ContainerStatuses ?? [])
            .Select(c => c.State?.Terminated is { ExitCode: not 0 } terminated
                    ? $"container {c.Name} exited with {terminated.ExitCode}: {terminated.Message}".TrimEnd(' ', ':')
                    : c.State?.Waiting is { Reason: "CrashLoopBackOff" } && c.LastState?.Terminated is { ExitCode: not 0 } last
                        ? $"container {c.Name} exited with {last.ExitCode}: {last.Message}".TrimEnd(' ', ':')
                    : c.State?.Waiting is { Reason: "CrashLoopBackOff" or "ImagePullBackOff" or "ErrImagePull" } waiting
                        ? $"container {c.Name}: {waiting.Reason}: {waiting.Message}".TrimEnd(' ', ':')
                        : null)
            .FirstOrDefault(m => m is not null);

    /// <summary>
    /// A reset (or a repaired volume) moves the StatefulSet to a new volume; a StatefulSet never replaces a pod
    /// that is not Ready while its policy is OrderedReady (the documented "forced rollback" case; databases made
    /// before podManagementPolicy Parallel keep it, the field is immutable), so such a pod is deleted here.
    /// </summary>
    private async Task ReplaceStuckPodAsync(DatabaseResource database, ClusterView view, DatabaseState status, CancellationToken cancellationToken)
    {
        var pod = view.Pod(KubeNames.DatabasePod(database.Name()));
        if (pod is null || pod.Metadata.DeletionTimestamp is not null) return;
        if (pod.Spec.Volumes?.FirstOrDefault(v => v.Name == "data")?.PersistentVolumeClaim?.ClaimName == status.Volume) return;
        if (pod.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true) return;
        _log.LogInformation("Deleting pod {Pod}: it is not Ready and runs on the old volume, so its StatefulSet would not replace it", pod.Metadata.Name);
        await DeleteIfPresentAsync(() => _client.CoreV1.DeleteNamespacedPodAsync(pod.Metadata.Name, Namespace, cancellationToken: cancellationToken));
    }

    private static void Fail(DatabaseState status, string code, string message)
    {
        status.Phase = DatabasePhase.Failed;
        status.LoadBalancerPort = null;
        status.Error = message;
        status.ErrorCode = code;
    }
}
