using System.Text.Json.Nodes;

namespace KubeApiDouble.Controllers;

/// <summary>
/// Makes a VolumeSnapshot of a Bound PVC readyToUse (at once, or in <see cref="SnapshotReadiness.Manual"/> mode
/// when the test says so), with creationTime, restoreSize (the PVC's request) and a content name; a snapshot whose
/// source PVC is missing gets status.error.message (cleared if the PVC appears), and so does one the test fails
/// (<see cref="KubeApiServer.FailSnapshot"/>). Ready snapshots never change back.
/// </summary>
internal sealed class SnapshotController(ObjectStore store, ClusterState state) : IController
{
    public void Reconcile()
    {
        foreach (var snapshot in store.List(ResourceCatalog.Snapshots, null).Items)
        {
            if (Meta.Deleting(snapshot) || snapshot["status"]?["readyToUse"]?.GetValue<bool>() == true) continue;
            var ns = Meta.Namespace(snapshot);
            var claim = snapshot["spec"]?["source"]?["persistentVolumeClaimName"]?.GetValue<string>();
            var pvc = claim is null ? null : store.Get(ResourceCatalog.Pvcs, ns, claim);
            var contentName = "snapcontent-" + Meta.Uid(snapshot);
            JsonObject? status;
            if (state.FailedSnapshots.TryGetValue(Meta.Uid(snapshot), out var failure))
            {
                if (snapshot["status"]?["error"]?["message"]?.GetValue<string>() == failure) continue;
                status = new JsonObject
                {
                    ["readyToUse"] = false,
                    ["error"] = new JsonObject { ["message"] = failure, ["time"] = ObjectStore.Now() },
                };
            }
            else if (pvc is null)
            {
                var message = claim is null
                    ? "spec.source.persistentVolumeClaimName is required (pre-provisioned snapshots are not emulated)"
                    : $"failed to get input parameters to create snapshot {Meta.Name(snapshot)}: \"failed to retrieve PVC {claim} from the lister: \\\"persistentvolumeclaim \\\\\\\"{claim}\\\\\\\" not found\\\"\"";
                if (snapshot["status"]?["error"]?["message"]?.GetValue<string>() == message) continue;
                status = new JsonObject
                {
                    ["readyToUse"] = false,
                    ["error"] = new JsonObject { ["message"] = message, ["time"] = ObjectStore.Now() },
                };
            }
            else if (pvc["status"]?["phase"]?.GetValue<string>() != "Bound"
                     || (state.Options.SnapshotReadiness == SnapshotReadiness.Manual && !state.ReadySnapshots.ContainsKey(Meta.Uid(snapshot))))
            {
                if (snapshot["status"] is JsonObject pending && pending["error"] is null && pending["readyToUse"] is not null) continue;
                status = new JsonObject { ["boundVolumeSnapshotContentName"] = contentName, ["readyToUse"] = false };
            }
            else
            {
                status = new JsonObject
                {
                    ["boundVolumeSnapshotContentName"] = contentName,
                    ["creationTime"] = ObjectStore.Now(),
                    ["readyToUse"] = true,
                    ["restoreSize"] = pvc["spec"]?["resources"]?["requests"]?["storage"]?.DeepClone(),
                };
            }
            store.Update(ResourceCatalog.Snapshots, ns, Meta.Name(snapshot), WriteScope.Everything, current =>
            {
                current["status"] = status;
                return current;
            });
        }
    }
}
