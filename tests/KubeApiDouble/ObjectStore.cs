using System.Globalization;
using System.Text.Json.Nodes;
using System.Threading.Channels;

namespace KubeApiDouble;

/// <summary>One change as a watch sees it. <see cref="Old"/> is the object before (null for ADDED).</summary>
internal sealed record StoreEvent(long ResourceVersion, string Type, ResourceType ResourceType, JsonObject? Old, JsonObject Object)
{
    public string Namespace => Object["metadata"]!["namespace"]!.GetValue<string>();
}

/// <summary>How an update treats .status (the status subresource rules of the real API server).</summary>
internal enum WriteScope
{
    /// <summary>A write to the main resource: the stored .status is kept when the resource has a status subresource.</summary>
    Main,
    /// <summary>A write to /status: only .status changes.</summary>
    Status,
    /// <summary>A controller or test writing directly: everything changes.</summary>
    Everything,
}

/// <summary>
/// The in-memory etcd of the double: objects as JSON, one global resourceVersion counter, a bounded event history
/// for watches from a resourceVersion, and the live watchers. Every method is atomic (one lock).
/// </summary>
internal sealed class ObjectStore(int historyLimit)
{
    private readonly Lock gate = new();
    private readonly Dictionary<string, (ResourceType Type, JsonObject Object)> objects = [];
    private readonly Queue<StoreEvent> history = new();
    private readonly List<Watcher> watchers = [];
    private readonly HashSet<string> everSeenUids = [];
    private long resourceVersion;
    private long compactedResourceVersion;

    /// <summary>When true, a pod with spec.nodeName is deleted gracefully (see KubeApiServerOptions.GracefulPodDeletion).</summary>
    public bool GracefulPodDeletion { get; init; }

    /// <summary>Raised (outside no particular thread) after every change; the controllers listen.</summary>
    public event Action? Changed;

    public long ResourceVersion
    {
        get { lock (gate) return resourceVersion; }
    }

    public static string Now() => DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

    private static string KeyOf(ResourceType type, string ns, string name) => $"{type.Key}/{ns}/{name}";

    public JsonObject? Get(ResourceType type, string ns, string name)
    {
        lock (gate) return objects.TryGetValue(KeyOf(type, ns, name), out var entry) ? (JsonObject)entry.Object.DeepClone() : null;
    }

    /// <summary>Objects of a type, in one namespace or (ns null) all, sorted by namespace then name, plus the list's resourceVersion.</summary>
    public (List<JsonObject> Items, long ResourceVersion) List(ResourceType type, string? ns)
    {
        lock (gate)
        {
            var items = objects.Values
                .Where(e => e.Type == type && (ns is null || Meta.Namespace(e.Object) == ns))
                .Select(e => (JsonObject)e.Object.DeepClone())
                .OrderBy(Meta.Namespace, StringComparer.Ordinal).ThenBy(Meta.Name, StringComparer.Ordinal)
                .ToList();
            return (items, resourceVersion);
        }
    }

    public bool UidExists(string uid)
    {
        lock (gate) return objects.Values.Any(e => Meta.Uid(e.Object) == uid);
    }

    public bool UidWasSeen(string uid)
    {
        lock (gate) return everSeenUids.Contains(uid);
    }

    public JsonObject Create(ResourceType type, string ns, JsonObject obj)
    {
        lock (gate)
        {
            var metadata = Meta.Of(obj);
            var name = metadata["name"]!.GetValue<string>();
            var key = KeyOf(type, ns, name);
            if (objects.ContainsKey(key)) throw ApiError.AlreadyExists(type, name);
            var uid = Guid.NewGuid().ToString();
            metadata["namespace"] = ns;
            metadata["uid"] = uid;
            metadata["resourceVersion"] = (++resourceVersion).ToString(CultureInfo.InvariantCulture);
            metadata["creationTimestamp"] = Now();
            metadata["generation"] = 1;
            metadata.Remove("deletionTimestamp");
            obj["apiVersion"] = type.ApiVersion;
            obj["kind"] = type.Kind;
            obj = Normalize(obj);
            objects[key] = (type, obj);
            everSeenUids.Add(uid);
            Emit("ADDED", type, null, obj);
            return (JsonObject)obj.DeepClone();
        }
    }

    /// <summary>
    /// Replaces an object with what <paramref name="change"/> makes of (a copy of) the current one, under the lock, so
    /// resourceVersion preconditions checked inside are race-free. A write that changes nothing is not a write: no new
    /// resourceVersion, no event (as the real API server). Removing the last finalizer of a deleting object deletes it.
    /// </summary>
    public JsonObject Update(ResourceType type, string ns, string name, WriteScope scope, Func<JsonObject, JsonObject> change)
    {
        lock (gate)
        {
            var key = KeyOf(type, ns, name);
            if (!objects.TryGetValue(key, out var entry)) throw ApiError.NotFound(type, name);
            var current = entry.Object;
            var proposed = Normalize(change((JsonObject)current.DeepClone()));
            JsonObject updated;
            if (scope == WriteScope.Status)
            {
                updated = (JsonObject)current.DeepClone();
                updated["status"] = proposed["status"]?.DeepClone();
                if (updated["status"] is null) updated.Remove("status");
            }
            else
            {
                updated = proposed;
                if (scope == WriteScope.Main && type.HasStatus)
                {
                    updated.Remove("status");
                    if (current["status"] is { } status) updated["status"] = status.DeepClone();
                }
            }
            // What the server owns: identity, creation, deletion, generation.
            var metadata = Meta.Of(updated);
            var currentMeta = Meta.Of(current);
            foreach (var owned in new[] { "name", "namespace", "uid", "creationTimestamp", "deletionTimestamp", "generation", "resourceVersion" })
            {
                metadata.Remove(owned);
                if (currentMeta[owned] is { } value) metadata[owned] = value.DeepClone();
            }
            updated["apiVersion"] = type.ApiVersion;
            updated["kind"] = type.Kind;
            if (!JsonNode.DeepEquals(Spec(current), Spec(updated)))
                metadata["generation"] = (currentMeta["generation"]?.GetValue<long>() ?? 0) + 1;
            updated = Normalize(updated);
            if (JsonNode.DeepEquals(current, updated)) return (JsonObject)current.DeepClone();
            metadata = Meta.Of(updated);

            metadata["resourceVersion"] = (++resourceVersion).ToString(CultureInfo.InvariantCulture);
            if (metadata["deletionTimestamp"] is not null && Meta.Finalizers(updated).Count == 0)
            {
                objects.Remove(key);
                Emit("DELETED", type, current, updated);
            }
            else
            {
                objects[key] = (type, updated);
                Emit("MODIFIED", type, current, updated);
            }
            return (JsonObject)updated.DeepClone();
        }
    }

    /// <summary>
    /// Deletes an object: with finalizers it only gets a deletionTimestamp; otherwise it goes, and with
    /// <paramref name="orphan"/> its dependents lose their ownerReference to it first (else the garbage collector
    /// deletes them). Returns the object as last stored.
    /// </summary>
    public JsonObject Delete(ResourceType type, string ns, string name, bool orphan, Action<JsonObject>? precondition = null, bool ignoreFinalizers = false)
    {
        lock (gate)
        {
            var key = KeyOf(type, ns, name);
            if (!objects.TryGetValue(key, out var entry)) throw ApiError.NotFound(type, name);
            var current = entry.Object;
            precondition?.Invoke(current);
            var uid = Meta.Uid(current);
            if (orphan)
            {
                foreach (var (dependentType, dependent) in objects.Values.ToList())
                {
                    if (Meta.Namespace(dependent) != ns || !Meta.OwnerUids(dependent).Contains(uid)) continue;
                    Update(dependentType, ns, Meta.Name(dependent), WriteScope.Everything, d =>
                    {
                        var references = (JsonArray)Meta.Of(d)["ownerReferences"]!;
                        foreach (var reference in references.Where(r => r?["uid"]?.GetValue<string>() == uid).ToList())
                            references.Remove(reference);
                        if (references.Count == 0) Meta.Of(d).Remove("ownerReferences");
                        return d;
                    });
                }
            }
            if (!ignoreFinalizers && GracefulPodDeletion && type.Kind == "Pod" && current["spec"]?["nodeName"] is not null
                && current["status"]?["phase"]?.GetValue<string>() is not ("Succeeded" or "Failed"))
            {
                // A kubelet runs it: it stops the containers (preStop, SIGTERM, the grace period) and then removes it.
                if (Meta.Of(current)["deletionTimestamp"] is not null) return (JsonObject)current.DeepClone();
                var terminating = (JsonObject)current.DeepClone();
                Meta.Of(terminating)["deletionTimestamp"] = Now();
                Meta.Of(terminating)["deletionGracePeriodSeconds"] = current["spec"]?["terminationGracePeriodSeconds"]?.GetValue<long>() ?? 30;
                Meta.Of(terminating)["resourceVersion"] = (++resourceVersion).ToString(CultureInfo.InvariantCulture);
                terminating = Normalize(terminating);
                objects[key] = (type, terminating);
                Emit("MODIFIED", type, current, terminating);
                return (JsonObject)terminating.DeepClone();
            }
            if (!ignoreFinalizers && Meta.Finalizers(current).Count > 0)
            {
                if (Meta.Of(current)["deletionTimestamp"] is not null) return (JsonObject)current.DeepClone();
                var deleting = (JsonObject)current.DeepClone();
                Meta.Of(deleting)["deletionTimestamp"] = Now();
                Meta.Of(deleting)["deletionGracePeriodSeconds"] = 0;
                Meta.Of(deleting)["resourceVersion"] = (++resourceVersion).ToString(CultureInfo.InvariantCulture);
                deleting = Normalize(deleting);
                objects[key] = (type, deleting);
                Emit("MODIFIED", type, current, deleting);
                return (JsonObject)deleting.DeepClone();
            }
            var deleted = (JsonObject)current.DeepClone();
            Meta.Of(deleted)["resourceVersion"] = (++resourceVersion).ToString(CultureInfo.InvariantCulture);
            objects.Remove(key);
            Emit("DELETED", type, current, deleted);
            return (JsonObject)deleted.DeepClone();
        }
    }

    /// <summary>
    /// Registers a watcher and returns what it must send first: ADDED for every current object when
    /// <paramref name="sinceResourceVersion"/> is null or 0, else the kept history after it.
    /// Throws an Expired <see cref="ApiError"/> (410) when that history is gone.
    /// </summary>
    public (List<StoreEvent> Initial, Watcher Watcher) Watch(ResourceType type, string? ns, long? sinceResourceVersion)
    {
        lock (gate)
        {
            List<StoreEvent> initial;
            if (sinceResourceVersion is null or 0)
            {
                initial = objects.Values
                    .Where(e => e.Type == type && (ns is null || Meta.Namespace(e.Object) == ns))
                    .OrderBy(e => long.Parse(Meta.ResourceVersion(e.Object), CultureInfo.InvariantCulture))
                    .Select(e => new StoreEvent(resourceVersion, "ADDED", type, null, (JsonObject)e.Object.DeepClone()))
                    .ToList();
            }
            else
            {
                if (sinceResourceVersion < compactedResourceVersion)
                    throw new ApiError(410, "Expired", $"too old resource version: {sinceResourceVersion} ({compactedResourceVersion + 1})");
                initial = history.Where(e => e.ResourceVersion > sinceResourceVersion && e.ResourceType == type && (ns is null || e.Namespace == ns)).ToList();
            }
            var watcher = new Watcher(this, type, ns);
            watchers.Add(watcher);
            return (initial, watcher);
        }
    }

    private void Unsubscribe(Watcher watcher)
    {
        lock (gate) watchers.Remove(watcher);
    }

    private void Emit(string type, ResourceType resourceType, JsonObject? old, JsonObject obj)
    {
        var storeEvent = new StoreEvent(resourceVersion, type, resourceType,
            old is null ? null : (JsonObject)old.DeepClone(), (JsonObject)obj.DeepClone());
        history.Enqueue(storeEvent);
        while (history.Count > historyLimit) compactedResourceVersion = history.Dequeue().ResourceVersion;
        foreach (var watcher in watchers)
            if (watcher.Type == resourceType && (watcher.Namespace is null || watcher.Namespace == storeEvent.Namespace))
                watcher.Events.Writer.TryWrite(storeEvent);
        Changed?.Invoke();
    }

    /// <summary>
    /// Stored objects are re-parsed JSON, so numbers read back as any numeric type (an in-memory int node refuses
    /// GetValue&lt;long&gt;) and equality is JSON equality.
    /// </summary>
    private static JsonObject Normalize(JsonObject obj) => JsonNode.Parse(obj.ToJsonString())!.AsObject();

    private static JsonObject Spec(JsonObject obj)
    {
        // What metadata.generation tracks: everything but metadata and status (as for custom resources).
        var copy = new JsonObject();
        foreach (var (key, value) in obj)
            if (key is not ("metadata" or "status" or "kind" or "apiVersion")) copy[key] = value?.DeepClone();
        return copy;
    }

    internal sealed class Watcher(ObjectStore store, ResourceType type, string? ns) : IDisposable
    {
        public ResourceType Type { get; } = type;
        public string? Namespace { get; } = ns;
        public Channel<StoreEvent> Events { get; } = Channel.CreateUnbounded<StoreEvent>();

        public void Dispose() => store.Unsubscribe(this);
    }
}

/// <summary>Reading object metadata from JSON.</summary>
internal static class Meta
{
    public static JsonObject Of(JsonObject obj)
    {
        if (obj["metadata"] is JsonObject metadata) return metadata;
        metadata = new JsonObject();
        obj["metadata"] = metadata;
        return metadata;
    }

    public static string Name(JsonObject obj) => obj["metadata"]?["name"]?.GetValue<string>() ?? "";
    public static string Namespace(JsonObject obj) => obj["metadata"]?["namespace"]?.GetValue<string>() ?? "";
    public static string Uid(JsonObject obj) => obj["metadata"]?["uid"]?.GetValue<string>() ?? "";
    public static string ResourceVersion(JsonObject obj) => obj["metadata"]?["resourceVersion"]?.GetValue<string>() ?? "";
    public static bool Deleting(JsonObject obj) => obj["metadata"]?["deletionTimestamp"] is not null;

    public static IReadOnlyList<string> Finalizers(JsonObject obj) =>
        (obj["metadata"]?["finalizers"] as JsonArray)?.Select(f => f!.GetValue<string>()).ToList() ?? [];

    public static IReadOnlyList<string> OwnerUids(JsonObject obj) =>
        (obj["metadata"]?["ownerReferences"] as JsonArray)?.Select(r => r?["uid"]?.GetValue<string>() ?? "").ToList() ?? [];

    public static string? Label(JsonObject obj, string key) => obj["metadata"]?["labels"]?[key]?.GetValue<string>();

    public static JsonObject OwnerReference(JsonObject owner, bool controller = true) => new()
    {
        ["apiVersion"] = owner["apiVersion"]!.GetValue<string>(),
        ["kind"] = owner["kind"]!.GetValue<string>(),
        ["name"] = Name(owner),
        ["uid"] = Uid(owner),
        ["controller"] = controller,
        ["blockOwnerDeletion"] = true,
    };
}
