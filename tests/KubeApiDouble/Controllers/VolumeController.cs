using System.Text.Json.Nodes;

namespace KubeApiDouble.Controllers;

/// <summary>
/// Binds PVCs at once (as a storage class with Immediate binding would); one provisioned from a VolumeSnapshot
/// (spec.dataSource or spec.dataSourceRef) stays Pending until that snapshot exists and is readyToUse. Removes the
/// kubernetes.io/pvc-protection finalizer of a deleted PVC once no running pod uses it.
/// </summary>
internal sealed class VolumeController(ObjectStore store) : IController
{
    private const string Protection = "kubernetes.io/pvc-protection";

    public void Reconcile()
    {
        foreach (var pvc in store.List(ResourceCatalog.Pvcs, null).Items)
        {
            var ns = Meta.Namespace(pvc);
            var name = Meta.Name(pvc);
            if (Meta.Deleting(pvc))
            {
                if (!Meta.Finalizers(pvc).Contains(Protection) || InUse(ns, name)) continue;
                store.Update(ResourceCatalog.Pvcs, ns, name, WriteScope.Everything, current =>
                {
                    var finalizers = (JsonArray)Meta.Of(current)["finalizers"]!;
                    foreach (var f in finalizers.Where(f => f?.GetValue<string>() == Protection).ToList()) finalizers.Remove(f);
                    return current;
                });
                continue;
            }
            if (pvc["status"]?["phase"]?.GetValue<string>() == "Bound") continue;
            var source = pvc["spec"]?["dataSourceRef"] ?? pvc["spec"]?["dataSource"];
            if (source?["kind"]?.GetValue<string>() == "VolumeSnapshot")
            {
                var snapshot = store.Get(ResourceCatalog.Snapshots, ns, source["name"]?.GetValue<string>() ?? "");
                if (snapshot?["status"]?["readyToUse"]?.GetValue<bool>() != true) continue;
            }
            store.Update(ResourceCatalog.Pvcs, ns, name, WriteScope.Everything, current =>
            {
                var spec = current["spec"] as JsonObject ?? new JsonObject();
                spec["volumeName"] ??= "pvc-" + Meta.Uid(current);
                current["spec"] = spec;
                current["status"] = new JsonObject
                {
                    ["phase"] = "Bound",
                    ["accessModes"] = spec["accessModes"]?.DeepClone(),
                    ["capacity"] = new JsonObject { ["storage"] = spec["resources"]?["requests"]?["storage"]?.DeepClone() },
                };
                return current;
            });
        }
    }

    private bool InUse(string ns, string claim) =>
        store.List(ResourceCatalog.Pods, ns).Items.Any(p => !ClusterState.IsTerminal(p) && Kubelet.ClaimNames(p).Contains(claim));
}
