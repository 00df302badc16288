using k8s.Models;

namespace DevDb.Core.Runtimes.Kubernetes;

/// <summary>A database's objects: its credentials Secret, its data volume (a clone of the image's snapshot) and its server (a StatefulSet of one).</summary>
public sealed partial class Manifests
{
    public V1Secret DatabaseSecret(DatabaseResource database, string username, string password) => new()
    {
        ApiVersion = "v1", Kind = "Secret",
        Metadata = Meta(KubeNames.DatabaseObject(database.Name()), DatabaseLabels(database), database),
        Type = "Opaque",
        StringData = new Dictionary<string, string> { ["username"] = username, ["password"] = password },
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

    /// <summary>
    /// A VolumeSnapshot of one of a database's volumes, owned by the database: a checkpoint (<paramref name="checkpoint"/>)
    /// or a branch's origin. A CSI snapshot is crash-consistent (the volume as at one instant), which Postgres recovers from
    /// as from a power cut: its WAL is on the same volume.
    /// </summary>
    public VolumeSnapshot DatabaseSnapshot(DatabaseResource database, string snapshotName, string volumeName, string? checkpoint) => new()
    {
        Metadata = Meta(snapshotName, new Dictionary<string, string>(DatabaseLabels(database))
        {
            [KubeNames.Component] = checkpoint is null ? "origin" : "checkpoint",
            [KubeNames.Checkpoint] = checkpoint ?? "",
        }, database),
        Spec = new VolumeSnapshotSpec
        {
            VolumeSnapshotClassName = options.VolumeSnapshotClass,
            Source = new VolumeSnapshotSource { PersistentVolumeClaimName = volumeName },
        },
    };

    private static ResourceQuantity LargerOf(ResourceQuantity? first, ResourceQuantity second) =>
        first is not null && first.ToDecimal() > second.ToDecimal() ? first : second;

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
                                // A namespace's ResourceQuota refuses pods with any container lacking them; the server's, as it runs before it.
                                Resources = Resources(options.DatabaseCpuRequest, options.DatabaseMemoryRequest, options.DatabaseMemoryLimit),
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

    /// <summary>The preStop command: a fast shutdown that waits, leaving the last seconds of the grace period for the kubelet.</summary>
    internal static string StopCommand(int gracePeriodSeconds) =>
        $"pg_ctl stop -D \"$PGDATA\" -m fast -w -t {Math.Max(1, gracePeriodSeconds - 10)} || true";
}
