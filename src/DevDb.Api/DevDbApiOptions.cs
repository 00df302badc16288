using DevDb.Core.Model;
using DevDb.Core.Engine;
using DevDb.Core.Runtimes.Kubernetes;
using DevDb.Core.Runtimes.Local;

namespace DevDb.Api;

/// <summary>Configuration section <c>DevDb</c> (environment: <c>DEVDB__HOME</c>, <c>DEVDB__TOKENSFILE</c>, <c>DEVDB__RUNTIME</c>, <c>DEVDB__KUBERNETES__*</c>, ...).</summary>
public sealed class DevDbApiOptions
{
    public const string Section = "DevDb";

    /// <summary>Local: databases are Postgres processes on this machine. Kubernetes: records and objects in a namespace (the Helm chart sets this).</summary>
    public DevDbRuntime Runtime { get; set; } = DevDbRuntime.Local;

    /// <summary>The Kubernetes runtime's settings (section <c>DevDb:Kubernetes</c>).</summary>
    public KubernetesOptions Kubernetes { get; set; } = new();

    /// <summary>The engine's state folder; null uses the engine's default (DEVDB_HOME, else the platform's).</summary>
    public string? Home { get; set; }

    /// <summary>The tokens file; null is <c>&lt;Home&gt;/api-tokens.json</c>.</summary>
    public string? TokensFile { get; set; }

    /// <summary>Where database servers listen: 127.0.0.1 (default, this machine only), an address of this machine, or * for all.</summary>
    public string? DatabaseListenAddress { get; set; }

    /// <summary>The host name engineers connect to, given in connection details; null: the listen address, or this machine's name.</summary>
    public string? DatabaseHost { get; set; }

    /// <summary>
    /// Whether a project may make its databases' logins superusers (New-DevDbProject -SuperuserLogins).
    /// Off by default: a superuser can run programs and read files as its server's OS user. Turn it
    /// on only where each database has OS-level isolation of its own (a Kubernetes pod; the local
    /// runtime as root, where each server has its own OS user).
    /// </summary>
    public bool AllowSuperuserLogins { get; set; }

    /// <summary>At start-up, start again the databases whose servers died while meant to run (after a crash or a reboot). Local runtime; default on.</summary>
    public bool RestartCrashedDatabases { get; set; } = true;

    /// <summary>
    /// The installation's longest database lifetime, from now at create and at each extension (local runtime; the
    /// Kubernetes runtime's is DevDb:Kubernetes:MaxTimeToLive, chart value databases.maxTimeToLive). Null: none.
    /// </summary>
    public TimeSpan? MaxTimeToLive { get; set; }

    /// <summary>
    /// What one user may hold (DevDb:Quotas:DatabasesPerUser, RunningDatabasesPerUser, DatabasesPerProject,
    /// CheckpointsPerUser; local runtime: the Kubernetes runtime's are DevDb:Kubernetes:Quotas, chart values quotas.*).
    /// Unset: the state folder's settings.json, if any. Administrators are not limited.
    /// </summary>
    public QuotaLimits? Quotas { get; set; }

    /// <summary>
    /// The installation's idle timeout (local runtime; the Kubernetes runtime's is DevDb:Kubernetes:IdleTimeout, chart value
    /// databases.idleTimeout): databases created without one, in projects without one, are stopped after this long with no
    /// client connection. Null: none.
    /// </summary>
    public TimeSpan? IdleTimeout { get; set; }

    /// <summary>How often the local runtime's background pass looks for databases whose expiry has come, databases that are idle, and projects whose scheduled refresh has (default 1 minute).</summary>
    public TimeSpan ExpiryInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Image retention (local runtime; the Kubernetes runtime's is DevDb:Kubernetes:ImagesToKeep, chart value restore.imagesToKeep):
    /// how many of a project's newest images are kept, plus any a database or checkpoint uses. At least 1; default 3.
    /// </summary>
    public int ImagesToKeep { get; set; } = Core.Rules.ProjectRules.DefaultImagesToKeep;

    public DatabaseNetwork Network => string.IsNullOrEmpty(DatabaseListenAddress)
        ? new DatabaseNetwork { Host = DatabaseHost }
        : new DatabaseNetwork { ListenAddress = DatabaseListenAddress, Host = DatabaseHost };

    public string ResolvedHome => Path.GetFullPath(string.IsNullOrEmpty(Home) ? LocalLayout.DefaultHome() : Home);

    public string ResolvedTokensFile => Path.GetFullPath(string.IsNullOrEmpty(TokensFile) ? Path.Combine(ResolvedHome, "api-tokens.json") : TokensFile);
}

public enum DevDbRuntime { Local, Kubernetes }
