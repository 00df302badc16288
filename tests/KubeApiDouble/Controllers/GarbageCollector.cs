namespace KubeApiDouble.Controllers;

/// <summary>
/// Background cascading deletion: an object all of whose owners (by uid) existed in the double and are now gone is
/// deleted, which in turn frees its own dependents. Orphaning deletes strip the ownerReference first (in the store).
/// </summary>
internal sealed class GarbageCollector(ObjectStore store) : IController
{
    public void Reconcile()
    {
        foreach (var type in ResourceCatalog.All)
        {
            foreach (var obj in store.List(type, null).Items)
            {
                var owners = Meta.OwnerUids(obj);
                if (owners.Count == 0 || Meta.Deleting(obj)) continue;
                if (owners.Any(store.UidExists) || !owners.Any(store.UidWasSeen)) continue;
                try { store.Delete(type, Meta.Namespace(obj), Meta.Name(obj), orphan: false); }
                catch (ApiError error) when (error.Code == 404) { }
            }
        }
    }
}
