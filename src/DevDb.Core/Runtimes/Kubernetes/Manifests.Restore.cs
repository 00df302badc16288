using k8s.Models;

namespace DevDb.Core.Runtimes.Kubernetes;

/// <summary>An image build's objects: the restore volume, the restore Job (fetch, then restore) and the VolumeSnapshot that is the image.</summary>
public sealed partial class Manifests
{
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
                                // A namespace's ResourceQuota refuses pods with any container lacking them; the restore's, as it runs before it.
                                Resources = Resources(options.RestoreCpuRequest, options.RestoreMemoryRequest, options.RestoreMemoryLimit),
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
}
