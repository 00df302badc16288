using System.Text.Json.Nodes;

namespace KubeApiDouble.Controllers;

/// <summary>
/// Runs pods: a pod whose PVCs are all Bound becomes Running with Ready=True, a pod IP and ready container statuses
/// (at once, or in <see cref="PodReadiness.Manual"/> mode when the test says so; pods of Jobs always run). A pod with
/// an unbound or missing PVC stays Pending (Unschedulable). Terminal pods are left alone; the Job controller ends them.
/// </summary>
internal sealed class Kubelet(ObjectStore store, ClusterState state) : IController
{
    public void Reconcile()
    {
        foreach (var pod in store.List(ResourceCatalog.Pods, null).Items)
        {
            if (Meta.Deleting(pod) || ClusterState.IsTerminal(pod)) continue;
            var ns = Meta.Namespace(pod);
            var unbound = ClaimNames(pod).FirstOrDefault(claim =>
                store.Get(ResourceCatalog.Pvcs, ns, claim)?["status"]?["phase"]?.GetValue<string>() != "Bound");
            if (unbound is not null)
            {
                if (pod["status"]?["conditions"]?[0]?["reason"]?.GetValue<string>() == "Unschedulable") continue;
                SetStatus(pod, _ => Unschedulable(unbound));
                continue;
            }
            var runs = state.Options.PodReadiness == PodReadiness.Auto || IsJobPod(pod) || state.ReadyPods.ContainsKey(Meta.Uid(pod));
            if (!runs)
            {
                if (pod["status"]?["containerStatuses"] is not null) continue;
                SetStatus(pod, p => Waiting(p));
                continue;
            }
            if (ClusterState.Phase(pod) == "Running") continue;
            SetStatus(pod, p => Running(p, state.PodIp(Meta.Uid(p))));
        }
    }

    public static IEnumerable<string> ClaimNames(JsonObject pod) =>
        (pod["spec"]?["volumes"] as JsonArray ?? [])
        .Select(v => v?["persistentVolumeClaim"]?["claimName"]?.GetValue<string>())
        .OfType<string>();

    private static bool IsJobPod(JsonObject pod) =>
        (pod["metadata"]?["ownerReferences"] as JsonArray)?.Any(r => r?["kind"]?.GetValue<string>() == "Job") == true;

    private void SetStatus(JsonObject pod, Func<JsonObject, JsonObject> status) =>
        store.Update(ResourceCatalog.Pods, Meta.Namespace(pod), Meta.Name(pod), WriteScope.Everything, current =>
        {
            current["status"] = status(current);
            return current;
        });

    public static JsonObject Condition(string type, bool status, string? reason = null, string? message = null)
    {
        var condition = new JsonObject
        {
            ["type"] = type,
            ["status"] = status ? "True" : "False",
            ["lastProbeTime"] = null,
            ["lastTransitionTime"] = ObjectStore.Now(),
        };
        if (reason is not null) condition["reason"] = reason;
        if (message is not null) condition["message"] = message;
        return condition;
    }

    private static JsonObject Unschedulable(string claim) => new()
    {
        ["phase"] = "Pending",
        ["conditions"] = new JsonArray(Condition("PodScheduled", false, "Unschedulable",
            $"0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims. persistentvolumeclaim \"{claim}\" not bound")),
        ["qosClass"] = "BestEffort",
    };

    private static JsonObject Waiting(JsonObject pod) => new()
    {
        ["phase"] = "Pending",
        ["conditions"] = new JsonArray(Condition("PodScheduled", true), Condition("Ready", false, "ContainersNotReady", "containers with unready status")),
        ["hostIP"] = "10.0.0.10",
        ["startTime"] = ObjectStore.Now(),
        ["containerStatuses"] = new JsonArray(Containers(pod, "containers").Select(c => (JsonNode)ContainerStatus(c,
            new JsonObject { ["waiting"] = new JsonObject { ["reason"] = "ContainerCreating" } }, ready: false)).ToArray()),
        ["qosClass"] = "BestEffort",
    };

    private static JsonObject Running(JsonObject pod, string ip)
    {
        var now = ObjectStore.Now();
        return new JsonObject
        {
            ["phase"] = "Running",
            ["conditions"] = new JsonArray(
                Condition("PodReadyToStartContainers", true), Condition("Initialized", true), Condition("Ready", true),
                Condition("ContainersReady", true), Condition("PodScheduled", true)),
            ["hostIP"] = "10.0.0.10",
            ["hostIPs"] = new JsonArray(new JsonObject { ["ip"] = "10.0.0.10" }),
            ["podIP"] = ip,
            ["podIPs"] = new JsonArray(new JsonObject { ["ip"] = ip }),
            ["startTime"] = now,
            ["initContainerStatuses"] = new JsonArray(Containers(pod, "initContainers").Select(c => (JsonNode)ContainerStatus(c, Terminated(0, null), ready: true)).ToArray()),
            ["containerStatuses"] = new JsonArray(Containers(pod, "containers").Select(c => (JsonNode)ContainerStatus(c,
                new JsonObject { ["running"] = new JsonObject { ["startedAt"] = now } }, ready: true)).ToArray()),
            ["qosClass"] = "BestEffort",
        };
    }

    public static IEnumerable<JsonObject> Containers(JsonObject pod, string kind) => (pod["spec"]?[kind] as JsonArray ?? []).OfType<JsonObject>();

    public static JsonObject ContainerStatus(JsonObject container, JsonObject containerState, bool ready) => new()
    {
        ["name"] = container["name"]?.GetValue<string>(),
        ["state"] = containerState,
        ["lastState"] = new JsonObject(),
        ["ready"] = ready,
        ["restartCount"] = 0,
        ["image"] = container["image"]?.GetValue<string>(),
        ["imageID"] = "",
        ["containerID"] = "containerd://" + Guid.NewGuid().ToString("N"),
        ["started"] = containerState["running"] is not null,
    };

    public static JsonObject Terminated(int exitCode, string? message)
    {
        var terminated = new JsonObject
        {
            ["exitCode"] = exitCode,
            ["reason"] = exitCode == 0 ? "Completed" : "Error",
            ["startedAt"] = ObjectStore.Now(),
            ["finishedAt"] = ObjectStore.Now(),
        };
        if (message is not null) terminated["message"] = message;
        return new JsonObject { ["terminated"] = terminated };
    }
}
