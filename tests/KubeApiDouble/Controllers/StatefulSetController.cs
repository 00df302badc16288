using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace KubeApiDouble.Controllers;

/// <summary>
/// Keeps pods <c>&lt;sts&gt;-0..replicas-1</c> from spec.template (OrderedReady: the next pod only once the previous is
/// Ready; Parallel: all at once), PVCs from volumeClaimTemplates, deletes pods beyond replicas, recreates deleted and
/// failed ones, replaces pods whose template changed (all at once, not one by one; with OrderedReady only pods that
/// are Ready, as the real controller), and keeps status counts.
/// </summary>
internal sealed class StatefulSetController(ObjectStore store, ClusterState state) : IController
{
    public void Reconcile()
    {
        foreach (var sts in store.List(ResourceCatalog.StatefulSets, null).Items)
        {
            if (Meta.Deleting(sts)) continue;
            var ns = Meta.Namespace(sts);
            var name = Meta.Name(sts);
            var uid = Meta.Uid(sts);
            var replicas = sts["spec"]?["replicas"]?.GetValue<int>() ?? 1;
            var ordered = sts["spec"]?["podManagementPolicy"]?.GetValue<string>() != "Parallel";
            var revision = $"{name}-{Hash(sts["spec"]?["template"])}";

            var owned = store.List(ResourceCatalog.Pods, ns).Items.Where(p => ClusterState.IsControlledBy(p, uid)).ToList();
            foreach (var extra in owned.Where(p => Ordinal(name, p) is not { } i || i >= replicas))
                Delete(ns, extra);
            for (var i = 0; i < replicas; i++)
            {
                var podName = $"{name}-{i}";
                var pod = store.Get(ResourceCatalog.Pods, ns, podName);
                if (pod is null)
                {
                    CreateClaims(sts, i);
                    store.Create(ResourceCatalog.Pods, ns, NewPod(sts, i, revision));
                    if (ordered) break;
                    continue;
                }
                if (!ClusterState.IsControlledBy(pod, uid)) continue;
                if (ClusterState.Phase(pod) == "Failed" && !Meta.Deleting(pod))
                {
                    // A failed pod is deleted and made again, whatever the policy.
                    Delete(ns, pod);
                    if (ordered) break;
                    continue;
                }
                // OrderedReady makes no progress past a pod that is terminating or not Ready, not even to replace it
                // with a new template: the documented "forced rollback" case (Parallel replaces it).
                if (ordered && (Meta.Deleting(pod) || !ClusterState.IsReady(pod))) break;
                if (Meta.Label(pod, "controller-revision-hash") != revision && !Meta.Deleting(pod))
                {
                    Delete(ns, pod);
                    if (ordered) break;
                    continue;
                }
                if (ordered && !ClusterState.IsReady(pod)) break;
            }

            owned = store.List(ResourceCatalog.Pods, ns).Items.Where(p => ClusterState.IsControlledBy(p, uid)).ToList();
            var ready = owned.Count(ClusterState.IsReady);
            var current = owned.Count(p => Meta.Label(p, "controller-revision-hash") == revision);
            var generation = sts["metadata"]?["generation"]?.GetValue<long>() ?? 1;
            store.Update(ResourceCatalog.StatefulSets, ns, name, WriteScope.Everything, stored =>
            {
                stored["status"] = new JsonObject
                {
                    ["observedGeneration"] = generation,
                    ["replicas"] = owned.Count,
                    ["readyReplicas"] = ready,
                    ["currentReplicas"] = current,
                    ["updatedReplicas"] = current,
                    ["availableReplicas"] = ready,
                    ["currentRevision"] = revision,
                    ["updateRevision"] = revision,
                    ["collisionCount"] = 0,
                };
                return stored;
            });
        }
    }

    private void Delete(string ns, JsonObject pod)
    {
        try { store.Delete(ResourceCatalog.Pods, ns, Meta.Name(pod), orphan: false); }
        catch (ApiError error) when (error.Code == 404) { }
    }

    private static int? Ordinal(string stsName, JsonObject pod)
    {
        var podName = Meta.Name(pod);
        return podName.StartsWith(stsName + "-", StringComparison.Ordinal) && int.TryParse(podName[(stsName.Length + 1)..], out var i) ? i : null;
    }

    private static string Hash(JsonNode? template) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(template?.ToJsonString() ?? "")))[..10];

    private static JsonObject NewPod(JsonObject sts, int ordinal, string revision)
    {
        var name = Meta.Name(sts);
        var podName = $"{name}-{ordinal}";
        var template = sts["spec"]?["template"] as JsonObject ?? new JsonObject();
        var labels = template["metadata"]?["labels"]?.DeepClone() as JsonObject ?? new JsonObject();
        labels["controller-revision-hash"] = revision;
        labels["statefulset.kubernetes.io/pod-name"] = podName;
        labels["apps.kubernetes.io/pod-index"] = ordinal.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var metadata = new JsonObject
        {
            ["name"] = podName,
            ["labels"] = labels,
            ["ownerReferences"] = new JsonArray(Meta.OwnerReference(sts)),
        };
        if (template["metadata"]?["annotations"] is JsonObject annotations) metadata["annotations"] = annotations.DeepClone();
        var spec = template["spec"]?.DeepClone() as JsonObject ?? new JsonObject();
        spec["hostname"] = podName;
        if (sts["spec"]?["serviceName"]?.GetValue<string>() is { Length: > 0 } serviceName) spec["subdomain"] = serviceName;
        foreach (var claim in ClaimTemplates(sts))
        {
            var volumes = spec["volumes"] as JsonArray ?? [];
            var volumeName = Meta.Name(claim);
            if (!volumes.Any(v => v?["name"]?.GetValue<string>() == volumeName))
                volumes.Add(new JsonObject { ["name"] = volumeName, ["persistentVolumeClaim"] = new JsonObject { ["claimName"] = $"{volumeName}-{podName}" } });
            spec["volumes"] = volumes;
        }
        var pod = new JsonObject { ["metadata"] = metadata, ["spec"] = spec };
        Defaults.OnCreate(ResourceCatalog.Pods, pod, pvcProtection: false);
        return pod;
    }

    private static IEnumerable<JsonObject> ClaimTemplates(JsonObject sts) => (sts["spec"]?["volumeClaimTemplates"] as JsonArray ?? []).OfType<JsonObject>();

    /// <summary>volumeClaimTemplates PVCs are created once and kept (the real default retention policy).</summary>
    private void CreateClaims(JsonObject sts, int ordinal)
    {
        var ns = Meta.Namespace(sts);
        foreach (var claim in ClaimTemplates(sts))
        {
            var claimName = $"{Meta.Name(claim)}-{Meta.Name(sts)}-{ordinal}";
            if (store.Get(ResourceCatalog.Pvcs, ns, claimName) is not null) continue;
            var pvc = new JsonObject
            {
                ["metadata"] = new JsonObject
                {
                    ["name"] = claimName,
                    ["labels"] = sts["spec"]?["selector"]?["matchLabels"]?.DeepClone() ?? new JsonObject(),
                },
                ["spec"] = claim["spec"]?.DeepClone() ?? new JsonObject(),
            };
            Defaults.OnCreate(ResourceCatalog.Pvcs, pvc, pvcProtection: state.Options.Volumes);
            store.Create(ResourceCatalog.Pvcs, ns, pvc);
        }
    }
}
