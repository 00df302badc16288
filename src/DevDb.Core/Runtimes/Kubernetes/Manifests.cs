using k8s;
using k8s.Models;

namespace DevDb.Core.Runtimes.Kubernetes;

/// <summary>
/// The objects DevDb creates for an image build and for a database, as plain values: the
/// reconciler creates them, tests compare them. Every object is owned by its record, so deleting
/// a record deletes its objects (Kubernetes' garbage collector does it).
/// </summary>
public sealed class Manifests(KubernetesOptions options)
{
    /// <summary>Where the volume is mounted in every pod; PGDATA is a sub-folder so a file system's lost+found is harmless.</summary>
    public const string DataMount = "/var/lib/postgresql/data";
    public const string DataFolder = DataMount + "/pgdata";
    public const string DumpFolder = DataMount + "/dump";
    public const int PostgresPort = 5432;
    /// <summary>The postgres user of the official image.</summary>
    private const long PostgresUid = 999;

    // ---- image build ------------------------------------------------------------------------

    public V1PersistentVolumeClaim RestoreVolume(ProjectResource project, int revision) => new()
    {
        ApiVersion = "v1", Kind = "PersistentVolumeClaim",
        Metadata = Meta(KubeNames.RestoreVolume(project.Name(), revision), ImageLabels(project, revision, "restore"), project),
        Spec = new V1PersistentVolumeClaimSpec
        {
            AccessModes = ["ReadWriteOnce"],
            StorageClassName = options.StorageClass,
            Resources = new V1VolumeResourceRequirements { Requests = new Dictionary<string, ResourceQuantity> { ["storage"] = new(options.RestoreVolumeSize) } },
        },
    };

    public V1Job RestoreJob(ProjectResource project, int revision)
    {
        var name = KubeNames.RestoreJob(project.Name(), revision);
        var labels = ImageLabels(project, revision, "restore");
        var fetchEnvironment = new List<V1EnvVar>();
        if (options.S3.Endpoint is { } endpoint) fetchEnvironment.Add(Variable("AWS_ENDPOINT_URL_S3", endpoint));
        if (options.S3.Region is { } region) fetchEnvironment.Add(Variable("AWS_REGION", region));
        List<V1EnvVar> restoreEnvironment =
        [
            Variable("PGDATA", DataFolder),
            Variable("DEVDB_DUMP_DIR", DumpFolder),
            Variable("DEVDB_DATABASE_NAME", project.Spec.DatabaseName),
            Variable("DEVDB_RESTORE_JOBS", options.RestoreJobs.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            Variable("DEVDB_MAINTENANCE_WORK_MEM", $"{RestoreMaintenanceWorkMemMegabytes(options.RestoreMemoryLimit, options.RestoreJobs)}MB"),
            .. ClientAuthenticationVariables(),
        ];
        if (!string.IsNullOrWhiteSpace(project.Spec.PostRestoreSql)) restoreEnvironment.Add(Variable("DEVDB_POST_RESTORE_SQL", project.Spec.PostRestoreSql));
        return new V1Job
        {
            ApiVersion = "batch/v1", Kind = "Job",
            Metadata = Meta(name, labels, project),
            Spec = new V1JobSpec
            {
                // A failed restore is reported, not retried: the dump or the SQL needs fixing first.
                BackoffLimit = 0,
                // A restore never hangs its project in Building: past the deadline the Job fails (DeadlineExceeded).
                ActiveDeadlineSeconds = (long)options.RestoreDeadline.TotalSeconds,
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = labels },
                    Spec = new V1PodSpec
                    {
                        RestartPolicy = "Never",
                        ServiceAccountName = options.RestoreServiceAccount,
                        ImagePullSecrets = PullSecrets(),
                        AutomountServiceAccountToken = false,
                        EnableServiceLinks = false,
                        SecurityContext = PodSecurity(),
                        InitContainers =
                        [
                            new V1Container
                            {
                                Name = "fetch", Image = options.ApiImage,
                                Args = ["fetch", "--source", project.Spec.Source, "--output", DumpFolder],
                                Env = fetchEnvironment,
                                EnvFrom = options.S3.CredentialsSecret is { } secret ? [new V1EnvFromSource { SecretRef = new V1SecretEnvSource { Name = secret } }] : null,
                                SecurityContext = ContainerSecurity(),
                                TerminationMessagePolicy = "FallbackToLogsOnError",
                                VolumeMounts = [new V1VolumeMount { Name = "data", MountPath = DataMount }, new V1VolumeMount { Name = "tmp", MountPath = "/tmp" }],
                            },
                        ],
                        Containers =
                        [
                            new V1Container
                            {
                                Name = "restore", Image = PostgresImage(project),
                                Command = ["sh", "-c", PodScripts.Restore],
                                Env = restoreEnvironment,
                                Resources = Resources(options.RestoreCpuRequest, options.RestoreMemoryRequest, options.RestoreMemoryLimit),
                                SecurityContext = ContainerSecurity(),
                                TerminationMessagePolicy = "FallbackToLogsOnError",
                                VolumeMounts = PostgresMounts(),
                            },
                        ],
                        Volumes =
                        [
                            new V1Volume { Name = "data", PersistentVolumeClaim = new V1PersistentVolumeClaimVolumeSource { ClaimName = KubeNames.RestoreVolume(project.Name(), revision) } },
                            .. ScratchVolumes(),
                        ],
                    },
                },
            },
        };
    }

    public VolumeSnapshot ImageSnapshot(ProjectResource project, int revision) => new()
    {
        Metadata = Meta(KubeNames.ImageSnapshot(project.Name(), revision), ImageLabels(project, revision, "image"), project),
        Spec = new VolumeSnapshotSpec
        {
            VolumeSnapshotClassName = options.VolumeSnapshotClass,
            Source = new VolumeSnapshotSource { PersistentVolumeClaimName = KubeNames.RestoreVolume(project.Name(), revision) },
        },
    };

    // ---- database -----------------------------------------------------------------------------

    public V1Secret DatabaseSecret(DatabaseResource database, string username, string password) => new()
    {
        ApiVersion = "v1", Kind = "Secret",
        Metadata = Meta(KubeNames.DatabaseObject(database.Name()), DatabaseLabels(database), database),
        Type = "Opaque",
        StringData = new Dictionary<string, string> { ["username"] = username, ["password"] = password },
    };

    public V1Service DatabaseService(DatabaseResource database) => new()
    {
        ApiVersion = "v1", Kind = "Service",
        Metadata = Meta(KubeNames.DatabaseObject(database.Name()), DatabaseLabels(database), database),
        Spec = new V1ServiceSpec
        {
            Type = "ClusterIP",
            Selector = PodSelector(database),
            Ports = [new V1ServicePort { Name = "postgres", Port = PostgresPort, TargetPort = PostgresPort, Protocol = "TCP" }],
        },
    };

    /// <param name="snapshotSize">The snapshot's restoreSize: the clone may not be smaller; it is never smaller than a restore volume either.</param>
    public V1PersistentVolumeClaim DatabaseVolume(DatabaseResource database, string volumeName, string snapshot, ResourceQuantity? snapshotSize) => new()
    {
        ApiVersion = "v1", Kind = "PersistentVolumeClaim",
        Metadata = Meta(volumeName, DatabaseLabels(database), database),
        Spec = new V1PersistentVolumeClaimSpec
        {
            AccessModes = ["ReadWriteOnce"],
            StorageClassName = options.StorageClass,
            DataSource = new V1TypedLocalObjectReference { ApiGroup = "snapshot.storage.k8s.io", Kind = "VolumeSnapshot", Name = snapshot },
            Resources = new V1VolumeResourceRequirements { Requests = new Dictionary<string, ResourceQuantity> { ["storage"] = LargerOf(snapshotSize, new ResourceQuantity(options.RestoreVolumeSize)) } },
        },
    };

    private static ResourceQuantity LargerOf(ResourceQuantity? first, ResourceQuantity second) =>
        first is not null && first.ToDecimal() > second.ToDecimal() ? first : second;

    /// <summary>The Postgres image a project's restore Job and databases run: its own, or the installation's.</summary>
    public string PostgresImage(ProjectResource project) => options.PostgresImageOf(project.Spec.PostgresVersion, project.Spec.PostgresImage);

    /// <param name="superuserLogins">The project asks for superuser logins (checked against the installation when it was recorded).</param>
    public V1StatefulSet DatabaseServer(DatabaseResource database, string image, string volumeName, int? loadBalancerPort, bool superuserLogins = false)
    {
        // The StatefulSet, and the Secret it reads, share the database's object name.
        var name = KubeNames.DatabaseObject(database.Name());
        var podLabels = new Dictionary<string, string>(DatabaseLabels(database))
        {
            [KubeNames.PartOf] = KubeNames.Devdb,
            [KubeNames.Instance] = options.InstanceName,
            [KubeNames.Component] = "database",
        };
        var probe = new V1Probe
        {
            Exec = new V1ExecAction { Command = ["pg_isready", "-h", "127.0.0.1", "-p", "5432"] },
            PeriodSeconds = 5, TimeoutSeconds = 3,
        };
        return new V1StatefulSet
        {
            ApiVersion = "apps/v1", Kind = "StatefulSet",
            Metadata = Meta(name, DatabaseLabels(database), database),
            Spec = new V1StatefulSetSpec
            {
                Replicas = database.Spec.Running ? 1 : 0,
                ServiceName = name,
                // OrderedReady never replaces a pod that is not Ready (the "forced rollback" case): a reset of a
                // database whose server does not come up would hang. Parallel replaces it at once.
                PodManagementPolicy = "Parallel",
                Selector = new V1LabelSelector { MatchLabels = PodSelector(database) },
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = podLabels },
                    Spec = new V1PodSpec
                    {
                        AutomountServiceAccountToken = false,
                        EnableServiceLinks = false,
                        SecurityContext = PodSecurity(),
                        ImagePullSecrets = PullSecrets(),
                        TerminationGracePeriodSeconds = options.DatabaseStopGracePeriodSeconds,
                        InitContainers =
                        [
                            new V1Container
                            {
                                Name = "set-password", Image = image,
                                Command = ["sh", "-c", PodScripts.SetPassword],
                                Env =
                                [
                                    Variable("PGDATA", DataFolder),
                                    Variable("DEVDB_DATABASE_NAME", database.Status?.DatabaseName ?? ""),
                                    SecretVariable("DEVDB_USERNAME", name, "username"),
                                    SecretVariable("DEVDB_PASSWORD", name, "password"),
                                    Variable("DEVDB_SUPERUSER", superuserLogins ? "on" : "off"),
                                    .. ClientAuthenticationVariables(),
                                ],
                                SecurityContext = ContainerSecurity(),
                                TerminationMessagePolicy = "FallbackToLogsOnError",
                                VolumeMounts = PostgresMounts(),
                            },
                        ],
                        Containers =
                        [
                            new V1Container
                            {
                                Name = "postgres", Image = image,
                                Command = ["postgres"],
                                Env = [Variable("PGDATA", DataFolder)],
                                // The named port is what the shared load balancer's port for this database targets.
                                Ports = [new V1ContainerPort { Name = loadBalancerPort is { } port ? KubeNames.LoadBalancerPortName(port) : "postgres", ContainerPort = PostgresPort, Protocol = "TCP" }],
                                ReadinessProbe = probe,
                                LivenessProbe = new V1Probe { Exec = probe.Exec, PeriodSeconds = 10, TimeoutSeconds = 5, FailureThreshold = 6 },
                                // SIGTERM is a smart shutdown (it waits for every session); the image's STOPSIGNAL
                                // may or may not say SIGINT. A fast shutdown cuts sessions and checkpoints, so the
                                // next start needs no crash recovery; it must end within the grace period.
                                Lifecycle = new V1Lifecycle
                                {
                                    PreStop = new V1LifecycleHandler
                                    {
                                        Exec = new V1ExecAction { Command = ["sh", "-c", StopCommand(options.DatabaseStopGracePeriodSeconds)] },
                                    },
                                },
                                Resources = Resources(options.DatabaseCpuRequest, options.DatabaseMemoryRequest, options.DatabaseMemoryLimit),
                                SecurityContext = ContainerSecurity(),
                                TerminationMessagePolicy = "FallbackToLogsOnError",
                                VolumeMounts = PostgresMounts(),
                            },
                        ],
                        Volumes =
                        [
                            new V1Volume { Name = "data", PersistentVolumeClaim = new V1PersistentVolumeClaimVolumeSource { ClaimName = volumeName } },
                            .. ScratchVolumes(),
                        ],
                    },
                },
            },
        };
    }

    public IngressRouteTcp DatabaseRoute(DatabaseResource database) => new()
    {
        Metadata = Meta(KubeNames.DatabaseObject(database.Name()), DatabaseLabels(database), database),
        Spec = new IngressRouteTcpSpec
        {
            EntryPoints = [options.Traefik.EntryPoint],
            Routes =
            [
                new IngressRouteTcpRoute
                {
                    Match = $"HostSNI(`{SniHost(database.Name())}`)",
                    Services = [new IngressRouteTcpService { Name = KubeNames.DatabaseObject(database.Name()), Port = PostgresPort }],
                },
            ],
            Tls = new IngressRouteTcpTls { SecretName = options.Traefik.TlsSecret },
        },
    };

    /// <summary>The name a database answers to through the SNI router.</summary>
    public string SniHost(string database) => $"{database}.{options.BaseDomain}";

    /// <summary>The in-cluster name of a database's Service, for when neither SNI routing nor the load balancer is on.</summary>
    public string ServiceHost(string database) => $"{KubeNames.DatabaseObject(database)}.{options.Namespace}.svc";

    // ---- shared pieces --------------------------------------------------------------------------

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

    /// <summary>The preStop command: a fast shutdown that waits, leaving the last seconds of the grace period for the kubelet.</summary>
    internal static string StopCommand(int gracePeriodSeconds) =>
        $"pg_ctl stop -D \"$PGDATA\" -m fast -w -t {Math.Max(1, gracePeriodSeconds - 10)} || true";

    /// <summary>
    /// maintenance_work_mem of the restore server: each of pg_restore's -j sessions may take that much to build
    /// an index, on top of shared_buffers and per-process memory. DevDb keeps jobs x maintenance_work_mem within
    /// half of (the container's memory limit - 256 MiB), between 16 MB and 512 MB (Postgres' gain stops early).
    /// </summary>
    public static long RestoreMaintenanceWorkMemMegabytes(string memoryLimit, int jobs)
    {
        var limitMegabytes = (long)(new ResourceQuantity(memoryLimit).ToDecimal() / (1024 * 1024));
        var perJob = (limitMegabytes - 256) / (2 * Math.Max(1, jobs));
        return Math.Clamp(perJob, 16, 512);
    }

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
