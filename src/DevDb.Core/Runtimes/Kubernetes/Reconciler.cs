using System.Net;
using System.Text.Json;
using DevDb.Core.Engine;
using DevDb.Core.Model;
using k8s;
using k8s.Autorest;
using k8s.LeaderElection;
using k8s.LeaderElection.ResourceLock;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace DevDb.Core.Runtimes.Kubernetes;

/// <summary>
/// The Kubernetes runtime: drives every DevDbProject and DevDbDatabase record in the namespace
/// to what its spec asks for, and repairs what drifted (a deleted pod, Service or Secret, a build
/// interrupted by a crash). It is level-triggered: each pass reads the records and the objects
/// as they are now and takes the next step, so a pass can stop anywhere and the next one goes on.
/// Only the holder of the namespace's Lease reconciles, so several API replicas are safe.
/// </summary>
public sealed partial class Reconciler
{
    private readonly IKubernetes _client;
    private readonly KubernetesOptions _options;
    private readonly Manifests _manifests;
    private readonly CustomResources<ProjectResource> _projects;
    private readonly CustomResources<DatabaseResource> _databases;
    private readonly CustomResources<VolumeSnapshot> _snapshots;
    private readonly CustomResources<IngressRouteTcp> _routes;
    private readonly ILogger _log;
    private readonly SemaphoreSlim _kick = new(0);
    private readonly TimeProvider _time;

    public Reconciler(IKubernetes client, KubernetesOptions options, ILogger<Reconciler>? log = null, TimeProvider? time = null)
    {
        _client = client;
        _options = options;
        _manifests = new Manifests(options);
        _projects = new CustomResources<ProjectResource>(client, options.Namespace);
        _databases = new CustomResources<DatabaseResource>(client, options.Namespace);
        _snapshots = new CustomResources<VolumeSnapshot>(client, options.Namespace);
        _routes = new CustomResources<IngressRouteTcp>(client, options.Namespace);
        _log = log ?? NullLogger<Reconciler>.Instance;
        _time = time ?? TimeProvider.System;
    }

    private string Namespace => _options.Namespace;

    /// <summary>True while this replica holds the Lease and reconciles.</summary>
    public bool IsLeading { get; private set; }

    /// <summary>
    /// Campaigns for the Lease and, while holding it, reconciles on every watch event and at least
    /// every <see cref="KubernetesOptions.ResyncInterval"/>. Returns when cancelled.
    /// </summary>
    public async Task RunAsync(string identity, CancellationToken cancellationToken)
    {
        var election = _options.LeaderElection;
        using var elector = new LeaderElector(new LeaderElectionConfig(new LeaseLock(_client, Namespace, _options.LeaseName, identity))
        {
            LeaseDuration = election.LeaseDuration, RenewDeadline = election.RenewDeadline, RetryPeriod = election.RetryPeriod,
        });
        CancellationTokenSource? leading = null;
        Task work = Task.CompletedTask;
        elector.OnStartedLeading += () =>
        {
            _log.LogInformation("{Identity} holds lease {Lease}: reconciling namespace {Namespace}", identity, _options.LeaseName, Namespace);
            leading = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            IsLeading = true;
            work = LeadAsync(leading.Token);
        };
        elector.OnStoppedLeading += () =>
        {
            _log.LogWarning("{Identity} lost lease {Lease}: stopped reconciling", identity, _options.LeaseName);
            IsLeading = false;
            leading?.Cancel();
        };
        try
        {
            await elector.RunAndTryToHoldLeadershipForeverAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            IsLeading = false;
            leading?.Cancel();
            await work.ContinueWith(_ => { }, TaskScheduler.Default);
            leading?.Dispose();
        }
    }

    private async Task LeadAsync(CancellationToken cancellationToken)
    {
        var watches = new[]
        {
            WatchAsync(() => _client.CustomObjects.WatchListNamespacedCustomObjectAsync(DevDbGroup.Name, DevDbGroup.Version, Namespace, DevDbGroup.Projects, cancellationToken: cancellationToken), cancellationToken),
            WatchAsync(() => _client.CustomObjects.WatchListNamespacedCustomObjectAsync(DevDbGroup.Name, DevDbGroup.Version, Namespace, DevDbGroup.Databases, cancellationToken: cancellationToken), cancellationToken),
            WatchAsync(() => _client.CoreV1.WatchListNamespacedPodAsync(Namespace, labelSelector: ManagedSelector, cancellationToken: cancellationToken), cancellationToken),
            WatchAsync(() => _client.BatchV1.WatchListNamespacedJobAsync(Namespace, labelSelector: ManagedSelector, cancellationToken: cancellationToken), cancellationToken),
            WatchAsync(() => _client.CustomObjects.WatchListNamespacedCustomObjectAsync("snapshot.storage.k8s.io", "v1", Namespace, "volumesnapshots", labelSelector: ManagedSelector, cancellationToken: cancellationToken), cancellationToken),
        };
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await ReconcileOnceAsync(cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                _log.LogError(e, "Reconcile pass failed; retrying");
            }
            try
            {
                await _kick.WaitAsync(_options.ResyncInterval, cancellationToken);
                // Coalesce a burst of events into one pass.
                while (_kick.CurrentCount > 0) await _kick.WaitAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
        await Task.WhenAll(watches);
    }

    private static string ManagedSelector => $"{KubeNames.ManagedBy}={KubeNames.Devdb}";

    /// <summary>Wakes the loop on every change of the watched kind; a watch that ends is opened again.</summary>
    private async Task WatchAsync<T>(Func<IAsyncEnumerable<(WatchEventType, T)>> open, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await foreach (var _ in open().WithCancellation(cancellationToken))
                    _kick.Release();
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                _log.LogDebug(e, "Watch ended; opening it again");
            }
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>
    /// One pass over every record: the unit the tests drive. It reads the records and DevDb's objects
    /// once (a list per kind), so a pass costs the same few reads however many databases there
    /// are, and writes only what must change.
    /// </summary>
    public async Task ReconcileOnceAsync(CancellationToken cancellationToken)
    {
        var projectsRead = _projects.ListAsync(null, cancellationToken);
        var databasesRead = _databases.ListAsync(null, cancellationToken);
        var viewRead = ObserveAsync(cancellationToken);
        var (projects, databases, view) = (await projectsRead, await databasesRead, await viewRead);
        foreach (var project in projects)
            await Guarded(() => ReconcileProjectAsync(project, databases, view, cancellationToken), "project", project.Name());
        var projectsByName = projects.ToDictionary(p => p.Name());
        var loadBalancer = _options.LoadBalancer.Enabled ? await ReadLoadBalancerAsync(cancellationToken) : null;
        foreach (var database in databases)
            await Guarded(() => ReconcileDatabaseAsync(database, projectsByName, databases, view, loadBalancer, cancellationToken), "database", database.Name());
        if (_options.LoadBalancer.Enabled)
            await Guarded(() => ReconcileLoadBalancerAsync(databases, loadBalancer, cancellationToken), "service", _options.LoadBalancerService);
    }

    /// <summary>DevDb's objects in the namespace as one pass sees them (objects made during the pass are not in it).</summary>
    private sealed record ClusterView(
        IReadOnlyDictionary<string, V1Secret> Secrets,
        IReadOnlyDictionary<string, V1Service> Services,
        IReadOnlyList<V1PersistentVolumeClaim> Volumes,
        IReadOnlyDictionary<string, V1StatefulSet> Servers,
        IReadOnlyList<V1Pod> Pods,
        IReadOnlyDictionary<string, V1Job> Jobs,
        IReadOnlyDictionary<string, VolumeSnapshot> Snapshots,
        IReadOnlyDictionary<string, IngressRouteTcp> Routes)
    {
        public V1PersistentVolumeClaim? Volume(string? name) => Volumes.FirstOrDefault(v => v.Metadata.Name == name);
        public V1Pod? Pod(string name) => Pods.FirstOrDefault(p => p.Metadata.Name == name);
    }

    private async Task<ClusterView> ObserveAsync(CancellationToken cancellationToken)
    {
        var selector = ManagedSelector;
        var secrets = _client.CoreV1.ListNamespacedSecretAsync(Namespace, labelSelector: selector, cancellationToken: cancellationToken);
        var services = _client.CoreV1.ListNamespacedServiceAsync(Namespace, labelSelector: selector, cancellationToken: cancellationToken);
        var volumes = _client.CoreV1.ListNamespacedPersistentVolumeClaimAsync(Namespace, labelSelector: selector, cancellationToken: cancellationToken);
        var servers = _client.AppsV1.ListNamespacedStatefulSetAsync(Namespace, labelSelector: selector, cancellationToken: cancellationToken);
        var pods = _client.CoreV1.ListNamespacedPodAsync(Namespace, labelSelector: selector, cancellationToken: cancellationToken);
        var jobs = _client.BatchV1.ListNamespacedJobAsync(Namespace, labelSelector: selector, cancellationToken: cancellationToken);
        var snapshots = _snapshots.ListAsync(selector, cancellationToken);
        var routes = _options.Traefik.Enabled ? _routes.ListAsync(selector, cancellationToken) : Task.FromResult<IReadOnlyList<IngressRouteTcp>>([]);
        return new ClusterView(
            (await secrets).Items.ToDictionary(o => o.Metadata.Name),
            (await services).Items.ToDictionary(o => o.Metadata.Name),
            (await volumes).Items.ToList(),
            (await servers).Items.ToDictionary(o => o.Metadata.Name),
            (await pods).Items.ToList(),
            (await jobs).Items.ToDictionary(o => o.Metadata.Name),
            (await snapshots).ToDictionary(o => o.Metadata.Name),
            (await routes).ToDictionary(o => o.Metadata.Name));
    }

    /// <summary>One record's failure must not stop the others; a conflict just means the next pass sees newer data.</summary>
    private async Task Guarded(Func<Task> step, string kind, string name)
    {
        try
        {
            await step();
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
        {
            _log.LogDebug("The {Kind} {Name} changed during the pass; the next pass takes it up", kind, name);
        }
        catch (HttpOperationException e)
        {
            _log.LogError("Reconciling {Kind} {Name} failed: {Status} {Body}", kind, name, (int)e.Response.StatusCode, e.Response.Content);
        }
        catch (DevDbException e)
        {
            _log.LogError("Reconciling {Kind} {Name} failed: {Code}: {Message}", kind, name, e.Code, e.Message);
        }
    }

    // ---- databases ------------------------------------------------------------------------------

    private async Task ReconcileDatabaseAsync(DatabaseResource database, IReadOnlyDictionary<string, ProjectResource> projects,
        IReadOnlyList<DatabaseResource> all, ClusterView view, V1Service? loadBalancer, CancellationToken cancellationToken)
    {
        var before = Fingerprint(database.Status);
        var status = database.Status ??= new DatabaseState { Phase = DatabasePhase.Creating };
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
            await _databases.ReplaceStatusAsync(database, cancellationToken);
            if (status.Phase != DatabasePhase.Failed) return;
            await RecordEventAsync(database, "Warning", "DatabaseFailed", $"{status.ErrorCode}: {status.Error}", cancellationToken);
            await DeleteFailedServerAsync(database, view, cancellationToken);
        }

        var isNew = status.ImageRevision is null;
        if (isNew && !await AssignImageAsync(database, project, all, loadBalancer, cancellationToken))
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

        if ((status.ObservedReset ?? 0) != database.Spec.Reset)
        {
            if (project.Status?.Images.Where(i => i.Status == ImagePhase.Ready).MaxBy(i => i.Revision) is not { } newest)
            {
                // Nothing to reset to (all builds failed): the request stays pending, the server keeps running.
                await SettleAsync();
                return;
            }
            status.ImageRevision = newest.Revision;
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
            if (image?.Snapshot is null)
            {
                Fail(status, ErrorCodes.DatabaseCreateFailed, $"The data volume of database '{name}' is gone and image r{status.ImageRevision} it was cloned from no longer exists.");
                await SettleAsync();
                return;
            }
            var restoreSize = view.Snapshots.GetValueOrDefault(image.Snapshot)?.Status?.RestoreSize;
            await CreateIfMissingAsync(() => _client.CoreV1.CreateNamespacedPersistentVolumeClaimAsync(
                _manifests.DatabaseVolume(database, status.Volume!, image.Snapshot, restoreSize), Namespace, cancellationToken: cancellationToken));
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

        status.Phase = ObservePhase(database, view.Pod(KubeNames.DatabasePod(name)), status);
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
    private async Task<bool> AssignImageAsync(DatabaseResource database, ProjectResource? project, IReadOnlyList<DatabaseResource> all, V1Service? loadBalancer, CancellationToken cancellationToken)
    {
        var status = database.Status!;
        var name = database.Name();
        if (project is null)
        {
            Fail(status, ErrorCodes.ProjectNotFound, $"There is no project named '{database.Spec.Project}'.");
            return false;
        }
        var newest = project.Status?.Images.Where(i => i.Status == ImagePhase.Ready).MaxBy(i => i.Revision);
        if (newest is null)
        {
            if (project.Status?.Phase == ProjectPhase.Failed)
                Fail(status, ErrorCodes.ProjectNotReady, $"Project '{project.Name()}' has no image to clone: its build failed: {project.Status.Error}");
            return false;
        }
        status.ImageRevision = newest.Revision;
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
        // A server that ran before and is coming back (a deleted pod, a node drained) shows as Stopped until it answers.
        return status.Phase == DatabasePhase.Creating ? DatabasePhase.Creating : DatabasePhase.Stopped;
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

    // ---- events ---------------------------------------------------------------------------------

    /// <summary>
    /// Tells what happened to a record where `kubectl describe` and `kubectl get events` show it.
    /// Best effort: a refused event is logged, never a reason to stop reconciling.
    /// </summary>
    private async Task RecordEventAsync(IKubernetesObject<V1ObjectMeta> record, string type, string reason, string message, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow().UtcDateTime;
        try
        {
            await _client.CoreV1.CreateNamespacedEventAsync(new Corev1Event
            {
                Metadata = new V1ObjectMeta { GenerateName = record.Metadata.Name + ".", Labels = new Dictionary<string, string> { [KubeNames.ManagedBy] = KubeNames.Devdb } },
                InvolvedObject = new V1ObjectReference
                {
                    ApiVersion = record.ApiVersion, Kind = record.Kind, Name = record.Metadata.Name,
                    NamespaceProperty = Namespace, Uid = record.Metadata.Uid, ResourceVersion = record.Metadata.ResourceVersion,
                },
                Type = type, Reason = reason, Message = message.Length > 1024 ? message[..1021] + "..." : message,
                FirstTimestamp = now, LastTimestamp = now, Count = 1,
                Source = new V1EventSource { Component = "devdb" }, ReportingComponent = "devdb.io/reconciler",
            }, Namespace, cancellationToken: cancellationToken);
        }
        catch (Exception e) when (e is HttpOperationException or HttpRequestException)
        {
            _log.LogWarning("Could not record event {Reason} on {Kind} {Name}: {Error}", reason, record.Kind, record.Metadata.Name, e.Message);
        }
    }

    // ---- small helpers --------------------------------------------------------------------------

    /// <summary>A status as text, to write it back only when a pass changed it.</summary>
    private static string Fingerprint(object? status) => status is null ? "" : KubernetesJson.Serialize(status);

    private static string? Label(V1ObjectMeta metadata, string key) =>
        metadata.Labels is { } labels && labels.TryGetValue(key, out var value) ? value : null;

    /// <summary>Creates an object; true if this call made it, false if it existed already.</summary>
    private static async Task<bool> CreateIfMissingAsync<T>(Func<Task<T>> create)
    {
        try
        {
            await create();
            return true;
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
        {
            return false;
        }
    }

    private static async Task DeleteIfPresentAsync<T>(Func<Task<T>> delete)
    {
        try
        {
            await delete();
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
        }
    }
}
