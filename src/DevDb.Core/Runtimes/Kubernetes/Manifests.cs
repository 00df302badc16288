using k8s;
using k8s.Models;

namespace DevDb.Core.Runtimes.Kubernetes;

/// <summary>
/// The objects DevDb creates for an image build (Manifests.Restore.cs) and for a database
/// (Manifests.Database.cs, Manifests.Network.cs), as plain values built from the options alone, with no
/// server: the reconciler creates them, and ManifestsTests reads them as a platform engineer would. Every
/// object is owned by its record, so deleting a record deletes its objects (Kubernetes' garbage collector does it).
/// </summary>
public sealed partial class Manifests(KubernetesOptions options)
{
    /// <summary>Where the volume is mounted in every pod; PGDATA is a sub-folder so a file system's lost+found is harmless.</summary>
    public const string DataMount = "/var/lib/postgresql/data";
    public const string DataFolder = DataMount + "/pgdata";
    public const string DumpFolder = DataMount + "/dump";
    public const int PostgresPort = 5432;
    /// <summary>The postgres user of the official image.</summary>
    private const long PostgresUid = 999;

    /// <summary>The Postgres image a project's restore Job and databases run: its own, or the installation's.</summary>
    public string PostgresImage(ProjectResource project) => options.PostgresImageOf(project.Spec.PostgresVersion, project.Spec.PostgresImage);

    // ---- shared by the restore Job and the database pods ----------------------------------------

    private static Dictionary<string, string> ImageLabels(ProjectResource project, int revision, string component) => new()
    {
        [KubeNames.ManagedBy] = KubeNames.Devdb,
        [KubeNames.Component] = component,
        [KubeNames.Project] = project.Name(),
        [KubeNames.Revision] = revision.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    private static Dictionary<string, string> DatabaseLabels(DatabaseResource database) => new()
    {
        [KubeNames.ManagedBy] = KubeNames.Devdb,
        [KubeNames.Project] = database.Spec.Project,
        [KubeNames.Database] = database.Name(),
        [KubeNames.Owner] = KubeNames.LabelValue(database.Spec.Owner),
    };

    private static Dictionary<string, string> PodSelector(DatabaseResource database) => new()
    {
        [KubeNames.ManagedBy] = KubeNames.Devdb,
        [KubeNames.Database] = database.Name(),
    };

    private static V1ObjectMeta Meta(string name, IDictionary<string, string> labels, IKubernetesObject<V1ObjectMeta> owner) => new()
    {
        Name = name,
        Labels = new Dictionary<string, string>(labels),
        OwnerReferences =
        [
            new V1OwnerReference
            {
                ApiVersion = owner.ApiVersion, Kind = owner.Kind, Name = owner.Metadata.Name, Uid = owner.Metadata.Uid,
                Controller = true, BlockOwnerDeletion = true,
            },
        ],
    };

    /// <summary>
    /// fsGroup makes the kubelet give the volume to group 999 (group rwx and setgid on every folder); the pod
    /// scripts put PGDATA back to 0700 before Postgres starts. OnRootMismatch skips the recursive pass when the
    /// volume's root already has that group, which keeps pod starts on big volumes fast.
    /// </summary>
    private static V1PodSecurityContext PodSecurity() => new()
    {
        RunAsNonRoot = true, RunAsUser = PostgresUid, RunAsGroup = PostgresUid, FsGroup = PostgresUid,
        FsGroupChangePolicy = "OnRootMismatch",
        SeccompProfile = new V1SeccompProfile { Type = "RuntimeDefault" },
    };

    private List<V1LocalObjectReference>? PullSecrets() =>
        options.ImagePullSecrets.Count == 0 ? null : options.ImagePullSecrets.Select(s => new V1LocalObjectReference { Name = s }).ToList();

    private static V1SecurityContext ContainerSecurity() => new()
    {
        AllowPrivilegeEscalation = false, ReadOnlyRootFilesystem = true,
        Capabilities = new V1Capabilities { Drop = ["ALL"] },
    };

    private static V1ResourceRequirements Resources(string cpu, string memory, string memoryLimit) => new()
    {
        Requests = new Dictionary<string, ResourceQuantity> { ["cpu"] = new(cpu), ["memory"] = new(memory) },
        Limits = new Dictionary<string, ResourceQuantity> { ["memory"] = new(memoryLimit) },
    };

    /// <summary>Postgres writes only to its data, its socket folder and /tmp; the image's file system stays read-only.</summary>
    private static List<V1VolumeMount> PostgresMounts() =>
    [
        new() { Name = "data", MountPath = DataMount },
        new() { Name = "run", MountPath = "/var/run/postgresql" },
        new() { Name = "tmp", MountPath = "/tmp" },
    ];

    private static IEnumerable<V1Volume> ScratchVolumes() =>
    [
        new() { Name = "run", EmptyDir = new V1EmptyDirVolumeSource() },
        new() { Name = "tmp", EmptyDir = new V1EmptyDirVolumeSource() },
    ];

    private static V1EnvVar Variable(string name, string value) => new() { Name = name, Value = value };

    /// <summary>The cluster's pg_hba.conf and pg_ident.conf, from DevDb's one rule (no trust), for the pod scripts to write.</summary>
    private static V1EnvVar[] ClientAuthenticationVariables() =>
        [Variable("DEVDB_HBA", Postgres.ClientAuthentication.PodHbaFile), Variable("DEVDB_IDENT", Postgres.ClientAuthentication.PodIdentFile)];

    private static V1EnvVar SecretVariable(string name, string secret, string key) =>
        new() { Name = name, ValueFrom = new V1EnvVarSource { SecretKeyRef = new V1SecretKeySelector { Name = secret, Key = key } } };
}

internal static class ResourceNames
{
    public static string Name(this IKubernetesObject<V1ObjectMeta> resource) => resource.Metadata.Name;
}
