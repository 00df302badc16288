using k8s.Models;

namespace DevDb.Kubernetes.Tests.Double;

/// <summary>Workloads shaped like the ones DevDb's runtime creates.</summary>
internal static class StatefulSets
{
    public static V1StatefulSet Make(string name, int replicas = 1, string image = "postgres:16", string? claimName = null)
    {
        var labels = new Dictionary<string, string> { ["app"] = name, ["devdb.io/database"] = name };
        var spec = new V1PodSpec
        {
            InitContainers = [new V1Container { Name = "set-password", Image = image }],
            Containers = [new V1Container { Name = "postgres", Image = image, Ports = [new V1ContainerPort { Name = "postgres", ContainerPort = 5432 }] }],
        };
        if (claimName is not null)
            spec.Volumes = [new V1Volume { Name = "data", PersistentVolumeClaim = new V1PersistentVolumeClaimVolumeSource { ClaimName = claimName } }];
        return new V1StatefulSet
        {
            Metadata = new V1ObjectMeta { Name = name, Labels = new Dictionary<string, string>(labels) },
            Spec = new V1StatefulSetSpec
            {
                Replicas = replicas,
                ServiceName = name,
                Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string>(labels) },
                Template = new V1PodTemplateSpec { Metadata = new V1ObjectMeta { Labels = labels }, Spec = spec },
            },
        };
    }
}

internal static class Jobs
{
    public static V1Job Restore(string name, int backoffLimit = 0) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, Labels = new Dictionary<string, string> { ["app.kubernetes.io/managed-by"] = "devdb" } },
        Spec = new V1JobSpec
        {
            BackoffLimit = backoffLimit,
            Template = new V1PodTemplateSpec
            {
                Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string> { ["devdb.io/project"] = "shop" } },
                Spec = new V1PodSpec
                {
                    RestartPolicy = "Never",
                    InitContainers = [new V1Container { Name = "fetch", Image = "devdb-api", Args = ["fetch"] }],
                    Containers = [new V1Container { Name = "restore", Image = "postgres:16" }],
                },
            },
        },
    };
}

internal static class Volumes
{
    public static V1PersistentVolumeClaim Claim(string name, string size = "1Gi", string? fromSnapshot = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = name },
        Spec = new V1PersistentVolumeClaimSpec
        {
            AccessModes = ["ReadWriteOnce"],
            Resources = new V1VolumeResourceRequirements { Requests = new Dictionary<string, ResourceQuantity> { ["storage"] = new ResourceQuantity(size) } },
            DataSource = fromSnapshot is null ? null : new V1TypedLocalObjectReference { ApiGroup = "snapshot.storage.k8s.io", Kind = "VolumeSnapshot", Name = fromSnapshot },
        },
    };

    public static object Snapshot(string name, string pvc) => new Dictionary<string, object>
    {
        ["apiVersion"] = "snapshot.storage.k8s.io/v1",
        ["kind"] = "VolumeSnapshot",
        ["metadata"] = new Dictionary<string, object> { ["name"] = name },
        ["spec"] = new Dictionary<string, object> { ["source"] = new Dictionary<string, object> { ["persistentVolumeClaimName"] = pvc } },
    };
}
