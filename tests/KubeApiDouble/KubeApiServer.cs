using System.Collections.Concurrent;
using System.Net;
using System.Reflection;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using KubeApiDouble.Controllers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace KubeApiDouble;

/// <summary>
/// An API-server double on 127.0.0.1: the kube-apiserver REST protocol (plain http) over an in-memory store, plus
/// emulated controllers (garbage collector, StatefulSets, kubelet, volumes, snapshots, Jobs). Not a cluster: no
/// container runs; pods only get the status a kubelet would report.
/// </summary>
public sealed class KubeApiServer : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly ObjectStore store;
    private readonly ClusterState state;
    private readonly ControllerLoop controllers;
    private readonly ConcurrentQueue<RecordedRequest> requests;

    private KubeApiServer(WebApplication app, ObjectStore store, ClusterState state, ControllerLoop controllers,
        ConcurrentQueue<RecordedRequest> requests, Uri url)
    {
        this.requests = requests;
        this.app = app;
        this.store = store;
        this.state = state;
        this.controllers = controllers;
        Url = url;
    }

    /// <summary>The base address, e.g. http://127.0.0.1:41234/.</summary>
    public Uri Url { get; }

    public KubeApiServerOptions Options => state.Options;

    /// <summary>Every request answered, in order (a watch is recorded when it starts).</summary>
    public IReadOnlyList<RecordedRequest> Requests => requests.ToArray();

    public void ClearRequests() => requests.Clear();

    public static async Task<KubeApiServer> StartAsync(KubeApiServerOptions? options = null)
    {
        options ??= new KubeApiServerOptions();
        var store = new ObjectStore(options.WatchHistoryLimit) { GracefulPodDeletion = options.GracefulPodDeletion };
        var state = new ClusterState(options);
        var requests = new ConcurrentQueue<RecordedRequest>();

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = typeof(KubeApiServer).Assembly.GetName().Name });
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var handler = new ApiHandler(store, options, requests.Enqueue);
        app.Run(handler.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

        var enabled = new List<IController>();
        if (options.GarbageCollector) enabled.Add(new GarbageCollector(store));
        if (options.StatefulSets) enabled.Add(new StatefulSetController(store, state));
        if (options.Jobs) enabled.Add(new JobController(store, state));
        if (options.Volumes) enabled.Add(new VolumeController(store));
        if (options.Snapshots) enabled.Add(new SnapshotController(store, state));
        if (options.Kubelet) enabled.Add(new Kubelet(store, state));
        var loop = new ControllerLoop(store, enabled);
        return new KubeApiServer(app, store, state, loop, requests, new Uri(address.TrimEnd('/') + "/"));
    }

    /// <summary>A KubernetesClient client for the double.</summary>
    public IKubernetes CreateClient() => new Kubernetes(new KubernetesClientConfiguration { Host = Url.ToString() });

    /// <summary>Writes a kubeconfig whose current context points at the double (a user with a dummy token).</summary>
    public void WriteKubeconfig(string path, string @namespace = "devdb", string context = "double")
    {
        var text = $"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: {context}
              cluster:
                server: {Url.ToString().TrimEnd('/')}
            users:
            - name: {context}
              user:
                token: double-token
            contexts:
            - name: {context}
              context:
                cluster: {context}
                user: {context}
                namespace: {@namespace}
            current-context: {context}

            """;
        var folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null) Directory.CreateDirectory(folder);
        File.WriteAllText(path, text);
    }

    // --- direct store access: bypasses the API (not recorded), but bumps resourceVersion and emits watch events ---

    public JsonObject? Find(string apiVersion, string resource, string ns, string name) =>
        store.Get(ResourceCatalog.Get(apiVersion, resource), ns, name);

    public IReadOnlyList<JsonObject> FindAll(string apiVersion, string resource, string ns) =>
        store.List(ResourceCatalog.Get(apiVersion, resource), ns).Items;

    public T? Find<T>(string ns, string name) where T : IKubernetesObject
    {
        var json = store.Get(TypeOf<T>(), ns, name);
        return json is null ? default : KubernetesJson.Deserialize<T>(json.ToJsonString());
    }

    /// <summary>Stores a new object as is (no validation, no defaults); like a create through the API otherwise.</summary>
    public JsonObject Add(string apiVersion, string resource, string ns, JsonObject obj) =>
        store.Create(ResourceCatalog.Get(apiVersion, resource), ns, (JsonObject)obj.DeepClone());

    /// <summary>Changes a stored object in place (status included; metadata.name/uid/creationTimestamp stay).</summary>
    public void Mutate(string apiVersion, string resource, string ns, string name, Action<JsonObject> change) =>
        store.Update(ResourceCatalog.Get(apiVersion, resource), ns, name, WriteScope.Everything, current =>
        {
            change(current);
            return current;
        });

    /// <summary>Removes an object at once, finalizers notwithstanding; the garbage collector then takes its dependents.</summary>
    public void Remove(string apiVersion, string resource, string ns, string name, string? uid = null) =>
        store.Delete(ResourceCatalog.Get(apiVersion, resource), ns, name, orphan: false, ignoreFinalizers: true, precondition: current =>
        {
            // A kubelet removes the pod it ran, never a newer one of the same name.
            if (uid is not null && Meta.Uid(current) != uid) throw new ApiError(409, "Conflict", $"{name} is another object now (uid {Meta.Uid(current)}, not {uid})");
        });

    // --- what a test tells the emulated controllers ---

    /// <summary>Lets a pod run and become Ready (<see cref="PodReadiness.Manual"/>); it still waits for its PVCs.</summary>
    public void SetPodReady(string ns, string name)
    {
        var pod = store.Get(ResourceCatalog.Pods, ns, name) ?? throw ApiError.NotFound(ResourceCatalog.Pods, name);
        state.ReadyPods[Meta.Uid(pod)] = true;
        controllers.Poke();
    }

    /// <summary>Makes the emulated CSI driver fail a VolumeSnapshot that is not ready yet: status.error.message says <paramref name="message"/>.</summary>
    public void FailSnapshot(string ns, string name, string message)
    {
        var snapshot = store.Get(ResourceCatalog.Snapshots, ns, name) ?? throw ApiError.NotFound(ResourceCatalog.Snapshots, name);
        state.FailedSnapshots[Meta.Uid(snapshot)] = message;
        controllers.Poke();
    }

    /// <summary>Lets a VolumeSnapshot become readyToUse (<see cref="SnapshotReadiness.Manual"/>); its PVC must be Bound.</summary>
    public void MakeSnapshotReady(string ns, string name)
    {
        var snapshot = store.Get(ResourceCatalog.Snapshots, ns, name) ?? throw ApiError.NotFound(ResourceCatalog.Snapshots, name);
        state.ReadySnapshots[Meta.Uid(snapshot)] = true;
        controllers.Poke();
    }

    /// <summary>Ends a held Job's pod successfully (or decides the outcome of its next pod).</summary>
    public void CompleteJob(string ns, string name) => DecideJob(ns, name, JobOutcome.Succeed);

    /// <summary>Fails a held Job's pod: the named container exits 1 with the termination message.</summary>
    public void FailJob(string ns, string name, string containerName, string terminationMessage) =>
        DecideJob(ns, name, JobOutcome.Fail(containerName, 1, terminationMessage));

    private void DecideJob(string ns, string name, JobOutcome outcome)
    {
        var job = store.Get(ResourceCatalog.Jobs, ns, name) ?? throw ApiError.NotFound(ResourceCatalog.Jobs, name);
        var uid = Meta.Uid(job);
        var active = store.List(ResourceCatalog.Pods, ns).Items
            .Where(p => ClusterState.IsControlledBy(p, uid) && !ClusterState.IsTerminal(p) && !Meta.Deleting(p)).ToList();
        if (active.Count == 0) state.JobOverrides[uid] = outcome;
        foreach (var pod in active) state.PodOutcomes[Meta.Uid(pod)] = outcome;
        controllers.Poke();
    }

    /// <summary>Deletes a pod as <c>kubectl delete pod</c> does (its controller recreates it).</summary>
    public void DeletePod(string ns, string name) => store.Delete(ResourceCatalog.Pods, ns, name, orphan: false);

    /// <summary>Waits until every emulated controller is at rest (nothing left to do for the current state).</summary>
    public Task SettleAsync(TimeSpan? timeout = null) => controllers.SettleAsync(timeout ?? TimeSpan.FromSeconds(10));

    public async ValueTask DisposeAsync()
    {
        await controllers.DisposeAsync();
        await app.StopAsync();
        await app.DisposeAsync();
    }

    private static ResourceType TypeOf<T>()
    {
        var entity = typeof(T).GetCustomAttribute<KubernetesEntityAttribute>()
            ?? throw new ArgumentException($"{typeof(T).Name} has no [KubernetesEntity] attribute.");
        var apiVersion = string.IsNullOrEmpty(entity.Group) ? entity.ApiVersion : $"{entity.Group}/{entity.ApiVersion}";
        return ResourceCatalog.Get(apiVersion, entity.PluralName);
    }
}
