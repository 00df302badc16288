namespace KubeApiDouble;

/// <summary>A resource the double serves: where it lives in the URL space and what its objects are called.</summary>
public sealed record ResourceType(string Group, string Version, string Resource, string Kind, bool HasStatus)
{
    public string ApiVersion => Group.Length == 0 ? Version : $"{Group}/{Version}";

    /// <summary>"pods" for core resources, "statefulsets.apps" otherwise (the form Status messages use).</summary>
    public string QualifiedResource => Group.Length == 0 ? Resource : $"{Resource}.{Group}";

    public string Key => $"{Group}/{Resource}";
}

/// <summary>The resources the double knows. Anything else answers 404, as an API server without that API would.</summary>
public static class ResourceCatalog
{
    public static readonly IReadOnlyList<ResourceType> All =
    [
        new("", "v1", "pods", "Pod", true),
        new("", "v1", "services", "Service", true),
        new("", "v1", "secrets", "Secret", false),
        new("", "v1", "configmaps", "ConfigMap", false),
        new("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", true),
        new("", "v1", "events", "Event", false),
        new("", "v1", "serviceaccounts", "ServiceAccount", false),
        new("", "v1", "endpoints", "Endpoints", false),
        new("apps", "v1", "statefulsets", "StatefulSet", true),
        new("apps", "v1", "deployments", "Deployment", true),
        new("batch", "v1", "jobs", "Job", true),
        new("snapshot.storage.k8s.io", "v1", "volumesnapshots", "VolumeSnapshot", true),
        new("coordination.k8s.io", "v1", "leases", "Lease", false),
        new("devdb.io", "v1alpha1", "devdbprojects", "DevDbProject", true),
        new("devdb.io", "v1alpha1", "devdbdatabases", "DevDbDatabase", true),
        new("traefik.io", "v1alpha1", "ingressroutetcps", "IngressRouteTCP", true),
        new("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", true),
        new("discovery.k8s.io", "v1", "endpointslices", "EndpointSlice", false),
    ];

    public static ResourceType? Find(string group, string version, string resource) =>
        All.FirstOrDefault(t => t.Group == group && t.Version == version && t.Resource == resource);

    public static ResourceType? FindByApiVersion(string apiVersion, string resource)
    {
        var slash = apiVersion.IndexOf('/');
        return slash < 0 ? Find("", apiVersion, resource) : Find(apiVersion[..slash], apiVersion[(slash + 1)..], resource);
    }

    public static ResourceType Get(string apiVersion, string resource) =>
        FindByApiVersion(apiVersion, resource)
        ?? throw new ArgumentException($"The double does not serve {resource} in {apiVersion}.", nameof(resource));

    public static ResourceType Pods => Get("v1", "pods");
    public static ResourceType Pvcs => Get("v1", "persistentvolumeclaims");
    public static ResourceType StatefulSets => Get("apps/v1", "statefulsets");
    public static ResourceType Jobs => Get("batch/v1", "jobs");
    public static ResourceType Snapshots => Get("snapshot.storage.k8s.io/v1", "volumesnapshots");
}
