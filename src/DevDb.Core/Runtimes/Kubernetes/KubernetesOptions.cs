using DevDb.Core.Model;

namespace DevDb.Core.Runtimes.Kubernetes;

/// <summary>
/// How DevDb runs in a Kubernetes namespace. The Helm chart sets these for the API (configuration
/// section <c>DevDb:Kubernetes</c>); names of the chart's objects derive from <see cref="InstanceName"/>.
/// </summary>
public sealed record KubernetesOptions
{
    /// <summary>Where every record and object lives.</summary>
    public string Namespace { get; init; } = "devdb";
    /// <summary>The Helm release's full name: the Lease, the shared load balancer Service and the restore ServiceAccount are named after it.</summary>
    public string InstanceName { get; init; } = "devdb";
    /// <summary>The DevDb API image; restore Jobs run it as their <c>fetch</c> tool.</summary>
    public string ApiImage { get; init; } = "devdb/api:latest";
    /// <summary>
    /// The Postgres image of a major version; {0} is the major. A project may name its own (spec.postgresImage),
    /// e.g. a PostGIS or pgvector image, or the same image from a registry mirror.
    /// </summary>
    public string PostgresImage { get; init; } = "postgres:{0}";
    /// <summary>Secrets (kubernetes.io/dockerconfigjson) restore Jobs and database pods pull their images with.</summary>
    public IReadOnlyList<string> ImagePullSecrets { get; init; } = [];
    public int DefaultPostgresVersion { get; init; } = 17;
    /// <summary>
    /// Whether a project may make its databases' logins superusers (chart value databases.allowSuperuserLogins).
    /// Off by default; each database is a pod of its own, so a superuser reaches only its own volume and
    /// whatever the pod's network allows (the chart's egress NetworkPolicy denies database pods all egress).
    /// </summary>
    public bool AllowSuperuserLogins { get; init; }
    /// <summary>The installation's longest database lifetime, from now at create and at each extension (chart value databases.maxTimeToLive); null: none.</summary>
    public TimeSpan? MaxTimeToLive { get; init; }
    /// <summary>What one user may hold (chart values quotas.*); administrators are not limited.</summary>
    public QuotaLimits Quotas { get; init; } = QuotaLimits.None;
    /// <summary>The installation's idle timeout (chart value databases.idleTimeout): databases created without one, in projects without one, stop after this long with no client; null: none.</summary>
    public TimeSpan? IdleTimeout { get; init; }
    /// <summary>Storage class of restore and database volumes; null uses the cluster's default.</summary>
    public string? StorageClass { get; init; }
    /// <summary>VolumeSnapshotClass of images; null uses the cluster's default.</summary>
    public string? VolumeSnapshotClass { get; init; }
    /// <summary>Size of the volume a dump is fetched and restored into; clones inherit it.</summary>
    public string RestoreVolumeSize { get; init; } = "20Gi";
    /// <summary>pg_restore -j.</summary>
    public int RestoreJobs { get; init; } = 2;
    /// <summary>The restore Job's activeDeadlineSeconds: a restore that runs longer fails (it never hangs a project in Building).</summary>
    public TimeSpan RestoreDeadline { get; init; } = TimeSpan.FromHours(6);
    /// <summary>How long a restore volume may stay Pending (no StorageClass, no capacity) before the build fails with a clear error.</summary>
    public TimeSpan RestoreVolumeBindTimeout { get; init; } = TimeSpan.FromMinutes(10);
    /// <summary>
    /// Keep each image's restore volume as long as its snapshot: for CSI drivers whose snapshots depend on their
    /// source volume (Ceph RBD, ZFS, LVM, TopoLVM). False deletes it once the snapshot is ready (EBS, GCE PD, Azure Disk).
    /// </summary>
    public bool KeepRestoreVolume { get; init; }
    /// <summary>Image retention (chart value restore.imagesToKeep): how many of a project's newest ready images (snapshots) are kept, plus any a database uses. At least 1.</summary>
    public int ImagesToKeep { get; init; } = Rules.ProjectRules.DefaultImagesToKeep;
    /// <summary>
    /// The database pods' terminationGracePeriodSeconds. Their preStop hook asks Postgres for a fast shutdown
    /// (sessions are cut, a checkpoint is written), which must fit in it; SIGKILL comes after it.
    /// </summary>
    public int DatabaseStopGracePeriodSeconds { get; init; } = (int)Rules.DatabaseRules.StopGracePeriod.TotalSeconds;
    public string DatabaseCpuRequest { get; init; } = "50m";
    public string DatabaseMemoryRequest { get; init; } = "128Mi";
    public string DatabaseMemoryLimit { get; init; } = "512Mi";
    public string RestoreCpuRequest { get; init; } = "500m";
    public string RestoreMemoryRequest { get; init; } = "512Mi";
    public string RestoreMemoryLimit { get; init; } = "2Gi";
    /// <summary>Databases are reached at &lt;name&gt;.&lt;BaseDomain&gt; (a wildcard DNS record); null reports in-cluster Service names.</summary>
    public string? BaseDomain { get; init; }
    public TraefikOptions Traefik { get; init; } = new();
    public LoadBalancerOptions LoadBalancer { get; init; } = new();
    public S3Options S3 { get; init; } = new();
    /// <summary>How often the reconcile loop looks at everything even when no watch event came.</summary>
    public TimeSpan ResyncInterval { get; init; } = TimeSpan.FromSeconds(10);
    public LeaderElectionOptions LeaderElection { get; init; } = new();

    public string LeaseName => $"{InstanceName}-reconciler";
    /// <summary>The Lease held while a quota is checked and the write it allows is made (KubernetesEngine.WithQuotaLockAsync).</summary>
    public string QuotaLeaseName => $"{InstanceName}-quota";
    public string LoadBalancerService => $"{InstanceName}-databases";
    public string RestoreServiceAccount => $"{InstanceName}-restore";

    public string PostgresImageOf(int major) => PostgresImageOf(major, null);

    /// <summary>The image of a project: its own (spec.postgresImage) or the installation's, with {0} as the major.</summary>
    public string PostgresImageOf(int major, string? projectImage) =>
        string.Format(System.Globalization.CultureInfo.InvariantCulture, string.IsNullOrWhiteSpace(projectImage) ? PostgresImage : projectImage, major);
}

/// <summary>SNI routing: Traefik answers Postgres' SSLRequest and routes by server name to each database.</summary>
public sealed record TraefikOptions
{
    public bool Enabled { get; init; }
    /// <summary>The Traefik entry point listening on 5432.</summary>
    public string EntryPoint { get; init; } = "postgres";
    /// <summary>The wildcard certificate's Secret for *.&lt;BaseDomain&gt;.</summary>
    public string? TlsSecret { get; init; }
}

/// <summary>The fallback for clients without SNI: one port per database on the shared load balancer Service.</summary>
public sealed record LoadBalancerOptions
{
    public bool Enabled { get; init; }
    /// <summary>The name clients use for the shared load balancer; null uses BaseDomain.</summary>
    public string? Host { get; init; }
    /// <summary>
    /// The Service ports databases get. The chart's default, 15432-15479, is 48 ports: with the API's port that
    /// stays under an AWS Network Load Balancer's default limit of 50 listeners.
    /// </summary>
    public int PortRangeStart { get; init; } = 15432;
    public int PortRangeEnd { get; init; } = 15479;
}

/// <summary>How restore Jobs reach S3; credentials come from a Secret or the restore ServiceAccount (IRSA).</summary>
public sealed record S3Options
{
    public string? Endpoint { get; init; }
    public string? Region { get; init; }
    /// <summary>A Secret with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, given to the fetch step.</summary>
    public string? CredentialsSecret { get; init; }
}

/// <summary>Timings of the Lease that makes one API replica the reconciler (client-go's defaults).</summary>
public sealed record LeaderElectionOptions
{
    public TimeSpan LeaseDuration { get; init; } = TimeSpan.FromSeconds(15);
    public TimeSpan RenewDeadline { get; init; } = TimeSpan.FromSeconds(10);
    public TimeSpan RetryPeriod { get; init; } = TimeSpan.FromSeconds(2);
}
