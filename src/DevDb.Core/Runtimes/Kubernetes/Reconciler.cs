using System.Net;
using k8s;
using k8s.Autorest;
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
    private readonly TimeProvider _clock;
    private readonly DatabaseEndpointResolver? _databaseEndpoint;

    /// <param name="clock">
    /// The clock of what the reconciler records and decides by time: image creation and build times, Events, how long a
    /// restore volume has been Pending, when a database expires (default <see cref="TimeProvider.System"/>; tests use a controllable one). The Lease
    /// keeps the wall clock (KubernetesClient's LeaderElector reads it itself), and so do the resync and watch waits.
    /// </param>
    private readonly EngineCounters _counters;

    /// <param name="databaseEndpoint">Where the idle pass reaches a database's server; null: its Service's cluster DNS name on 5432.</param>
    /// <param name="counters">Where the passes count what they did (expired, idle-stopped) for the API's /metrics.</param>
    public Reconciler(IKubernetes client, KubernetesOptions options, ILogger<Reconciler>? log = null, TimeProvider? clock = null,
        DatabaseEndpointResolver? databaseEndpoint = null, EngineCounters? counters = null)
    {
        _counters = counters ?? new EngineCounters();
        _client = client;
        _options = options;
        _manifests = new Manifests(options);
        _projects = new CustomResources<ProjectResource>(client, options.Namespace);
        _databases = new CustomResources<DatabaseResource>(client, options.Namespace);
        _snapshots = new CustomResources<VolumeSnapshot>(client, options.Namespace);
        _routes = new CustomResources<IngressRouteTcp>(client, options.Namespace);
        _log = log ?? NullLogger<Reconciler>.Instance;
        _clock = clock ?? TimeProvider.System;
        _databaseEndpoint = databaseEndpoint;
    }

    private string Namespace => _options.Namespace;

    private static string ManagedSelector => $"{KubeNames.ManagedBy}={KubeNames.Devdb}";

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
        var (projects, listed, view) = (await projectsRead, await databasesRead, await viewRead);
        var databases = await StopIdleAsync(await ExpireAsync(listed, cancellationToken), view, cancellationToken);
        foreach (var project in projects)
            await Guarded(() => ReconcileProjectAsync(project, databases, view, cancellationToken), "project", project.Name());
        var projectsByName = projects.ToDictionary(p => p.Name());
        var loadBalancer = _options.LoadBalancer.Enabled ? await ReadLoadBalancerAsync(cancellationToken) : null;
        foreach (var database in databases)
            await Guarded(() => ReconcileDatabaseAsync(database, projectsByName, databases, view, loadBalancer, cancellationToken), "database", database.Name());
        if (_options.LoadBalancer.Enabled)
            await Guarded(() => ReconcileLoadBalancerAsync(databases, loadBalancer, cancellationToken), "service", _options.LoadBalancerService);
        Interlocked.Increment(ref _completedPasses);
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
