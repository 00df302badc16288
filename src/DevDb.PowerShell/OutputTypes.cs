using System.Collections.ObjectModel;
using System.Management.Automation;
using System.Net;
using System.Security;
using DevDb.Core.Client;
using DevDb.Core.Model;

namespace DevDb.Commands;

/// <summary>
/// A database as the cmdlets return it: everything needed to connect to it. The password is kept
/// inside the object and handed out only by <see cref="GetCredential"/>, so no view, log or
/// serializer (Export-Clixml, ConvertTo-Json, Export-Csv, Select-Object *) ever sees it.
/// </summary>
public sealed class DevDbDatabase
{
    private readonly SecureString? _password;

    private DevDbDatabase(SecureString? password) => _password = password;

    /// <summary>The database's name: a DNS label, unique in the installation.</summary>
    public required string Name { get; init; }
    /// <summary>The project it was cloned from.</summary>
    public required string Project { get; init; }
    /// <summary>Running, Stopped, Crashed (its server died unasked) or Failed (a create that failed); Creating, Resetting, Restoring, Starting or Stopping while work is under way.</summary>
    public required string Status { get; init; }
    /// <summary>The host name or address its server listens on.</summary>
    public required string Host { get; init; }
    /// <summary>The TCP port of its server.</summary>
    public int Port { get; init; }
    /// <summary>The database inside the server (the project's DatabaseName, e.g. app).</summary>
    public required string DatabaseName { get; init; }
    /// <summary>The login role to connect as; it owns the database.</summary>
    public required string Username { get; init; }
    /// <summary>The revision of the project's image it was cloned from (or last reset to).</summary>
    public int ImageRevision { get; init; }
    /// <summary>Who it belongs to: the OS user locally, the token's user on a server.</summary>
    public required string Owner { get; init; }
    /// <summary>When it was created.</summary>
    public DateTimeOffset Created { get; init; }
    /// <summary>A branch: the database it was made from (New-DevDbDatabase -FromDatabase); Reset-DevDbDatabase goes back to that data.</summary>
    public string? Parent { get; init; }
    /// <summary>A branch made from a checkpoint: the checkpoint's name.</summary>
    public string? ParentCheckpoint { get; init; }
    /// <summary>When DevDb removes it; null: never (Set-DevDbDatabase moves it). The default view shows how long is left.</summary>
    public DateTimeOffset? ExpiresAt { get; init; }
    /// <summary>Whether Remove and Reset refuse it (DatabaseProtected) and it never expires or idle-stops.</summary>
    public bool Protected { get; init; }
    /// <summary>DevDb stops it (keeping data, port and password) after this long with no client connection; null: never.</summary>
    public TimeSpan? IdleTimeout { get; init; }
    /// <summary>When a client was last seen connected (or it was started, created, reset or restored); its idle time counts from here.</summary>
    public DateTimeOffset? LastActiveAt { get; init; }
    /// <summary>Why it is Stopped: Requested (Stop-DevDbDatabase) or Idle (no client for its IdleTimeout; Start-DevDbDatabase starts it again); empty otherwise.</summary>
    public string? StopReason { get; init; }
    /// <summary>Why work that ran in the background (a create, reset, start or stop with -NoWait, or on a server) failed.</summary>
    public string? Error { get; init; }
    /// <summary>The stable id of <see cref="Error"/>, e.g. ProjectNotReady.</summary>
    public string? ErrorCode { get; init; }
    /// <summary>Its last changes (at most 50), oldest first: what, who, when, how it ended. Not in the default view: Select-Object -ExpandProperty History.</summary>
    public required DevDbHistory History { get; init; }

    /// <summary>
    /// The user name and password as a PSCredential; null for a Failed database, which has none.
    /// Get the plain password with GetCredential().GetNetworkCredential().Password, or a whole
    /// connection string with Get-DevDbConnectionString.
    /// </summary>
    public PSCredential? GetCredential() => _password is null ? null : new PSCredential(Username, _password.Copy());

    internal static DevDbDatabase From(Database database, ConnectionInfo? connection) =>
        new(connection is null ? null : new NetworkCredential(string.Empty, connection.Password).SecurePassword)
        {
            Name = database.Name,
            Project = database.Project,
            Status = database.Status.ToString(),
            Host = database.Host,
            Port = database.Port,
            DatabaseName = database.DatabaseName,
            Username = database.Username,
            ImageRevision = database.ImageRevision,
            Owner = database.Owner,
            Created = database.Created,
            Parent = database.Parent,
            ParentCheckpoint = database.ParentCheckpoint,
            ExpiresAt = database.ExpiresAt,
            Protected = database.Protected,
            IdleTimeout = database.IdleTimeout,
            LastActiveAt = database.LastActiveAt,
            StopReason = database.StopReason?.ToString(),
            Error = database.Error,
            ErrorCode = database.ErrorCode,
            History = DevDbHistory.From(database.History),
        };

    /// <summary>The name.</summary>
    public override string ToString() => Name;
}

/// <summary>A project as the cmdlets return it: a registered pg_dump and the images restored from it.</summary>
public sealed class DevDbProject
{
    /// <summary>The project's name: a DNS label.</summary>
    public required string Name { get; init; }
    /// <summary>The database engine: postgres.</summary>
    public required string Engine { get; init; }
    /// <summary>The PostgreSQL major version its images and databases run.</summary>
    public int PostgresVersion { get; init; }
    /// <summary>Where the dump comes from: a path, an http(s) URL or s3://bucket/key.</summary>
    public required string Source { get; init; }
    /// <summary>The database inside every clone's server (default app).</summary>
    public required string DatabaseName { get; init; }
    /// <summary>SQL run after each restore (e.g. masking) before an image is published; empty for developers on a DevDb server.</summary>
    public string? PostRestoreSql { get; init; }
    /// <summary>Whether its databases' logins are superusers (New-DevDbProject -SuperuserLogins); else each login owns its data and is no superuser.</summary>
    public bool SuperuserLogins { get; init; }
    /// <summary>Building (no image ready yet), Ready or Failed.</summary>
    public required string Status { get; init; }
    /// <summary>The revision of the newest ready image (what new databases are cloned from); null if none is ready.</summary>
    public int? ImageRevision { get; init; }
    /// <summary>Why the last image build failed, if it did.</summary>
    public string? Error { get; init; }
    /// <summary>The stable id of <see cref="Error"/>, e.g. DumpCorrupt.</summary>
    public string? ErrorCode { get; init; }
    /// <summary>The time-to-live of a database created without one; null: such databases do not expire (unless a maximum applies).</summary>
    public TimeSpan? DefaultTimeToLive { get; init; }
    /// <summary>The longest a database of the project may live from now; null: the installation's maximum, if any.</summary>
    public TimeSpan? MaxTimeToLive { get; init; }
    /// <summary>The idle timeout of a database created without one; null: the installation's, if any.</summary>
    public TimeSpan? IdleTimeout { get; init; }
    /// <summary>Whether Remove-DevDbProject refuses it (DatabaseProtected).</summary>
    public bool Protected { get; init; }
    /// <summary>When it was registered.</summary>
    public DateTimeOffset Created { get; init; }
    /// <summary>The cron schedule it refreshes itself on (five fields, e.g. 0 3 * * *), where a DevDb server runs; null: none.</summary>
    public string? RefreshSchedule { get; init; }
    /// <summary>The IANA time zone of <see cref="RefreshSchedule"/> (UTC unless given).</summary>
    public string? RefreshTimeZone { get; init; }
    /// <summary>When the schedule next refreshes it; null without a schedule.</summary>
    public DateTimeOffset? NextRefresh { get; init; }
    /// <summary>When the last scheduled refresh started; null: none yet.</summary>
    public DateTimeOffset? LastRefresh { get; init; }
    /// <summary>Running, Succeeded or Failed (then the previous image kept serving; <see cref="LastRefreshError"/> says why).</summary>
    public string? LastRefreshOutcome { get; init; }
    /// <summary>Why the last scheduled refresh failed.</summary>
    public string? LastRefreshError { get; init; }
    /// <summary>The stable id of <see cref="LastRefreshError"/>, e.g. SourceNotFound.</summary>
    public string? LastRefreshErrorCode { get; init; }
    /// <summary>Its images, oldest first.</summary>
    public required DevDbImageList Images { get; init; }
    /// <summary>Its last changes (at most 50), oldest first, including the removal or expiry of its databases. Not in the default view.</summary>
    public required DevDbHistory History { get; init; }

    internal static DevDbProject From(Project project) => new()
    {
        Name = project.Name,
        Engine = project.Engine,
        PostgresVersion = project.PostgresVersion,
        Source = project.Source,
        DatabaseName = project.DatabaseName,
        PostRestoreSql = project.PostRestoreSql,
        SuperuserLogins = project.SuperuserLogins,
        Status = project.Status.ToString(),
        ImageRevision = project.LatestImage?.Revision,
        Error = project.Error,
        ErrorCode = project.ErrorCode,
        Created = project.Created,
        DefaultTimeToLive = project.DefaultTimeToLive,
        MaxTimeToLive = project.MaxTimeToLive,
        IdleTimeout = project.IdleTimeout,
        Protected = project.Protected,
        RefreshSchedule = project.RefreshSchedule,
        RefreshTimeZone = project.RefreshTimeZone,
        NextRefresh = project.NextRefresh,
        LastRefresh = project.LastRefresh,
        LastRefreshOutcome = project.LastRefreshOutcome?.ToString(),
        LastRefreshError = project.LastRefreshError,
        LastRefreshErrorCode = project.LastRefreshErrorCode,
        Images = new DevDbImageList(project.Images.OrderBy(i => i.Revision).Select(DevDbImage.From).ToList()),
        History = DevDbHistory.From(project.History),
    };

    /// <summary>The name.</summary>
    public override string ToString() => Name;
}

/// <summary>One restored, cleanly shut-down copy of a project's source at a point in time.</summary>
public sealed class DevDbImage
{
    /// <summary>The project it belongs to.</summary>
    public required string Project { get; init; }
    /// <summary>1, 2, ... in the order the images were built.</summary>
    public int Revision { get; init; }
    /// <summary>Building, Ready or Failed.</summary>
    public required string Status { get; init; }
    /// <summary>When its build started.</summary>
    public DateTimeOffset Created { get; init; }
    /// <summary>The dump's format as read from its content: Custom, Tar, Directory, PlainSql or GzipPlainSql.</summary>
    public string? SourceFormat { get; init; }
    /// <summary>Size of the dump, in bytes.</summary>
    public long SourceBytes { get; init; }
    /// <summary>The dump it was restored from: the S3 key or file name (for a prefix or folder source, the newest one then).</summary>
    public string? Dump { get; init; }
    /// <summary>Size of the restored data, in bytes.</summary>
    public long SizeBytes { get; init; }
    /// <summary>How long the build took, in seconds.</summary>
    public double BuildSeconds { get; init; }
    internal static DevDbImage From(Image image) => new()
    {
        Project = image.Project,
        Revision = image.Revision,
        Status = image.Status.ToString(),
        Created = image.Created,
        SourceFormat = image.SourceFormat,
        SourceBytes = image.SourceBytes,
        Dump = image.Dump,
        SizeBytes = image.SizeBytes,
        BuildSeconds = Math.Round(image.BuildDuration.TotalSeconds, 3),
    };

    /// <summary>Short, as in a project's Images column: r1 Ready.</summary>
    public override string ToString() => $"r{Revision} {Status}";
}

/// <summary>A project's images: a list to scripts and JSON, and one readable cell in a CSV file or a table (r1 Ready, r2 Building).</summary>
public sealed class DevDbImageList(IList<DevDbImage> images) : ReadOnlyCollection<DevDbImage>(images)
{
    /// <summary>The images, short and comma-separated.</summary>
    public override string ToString() => string.Join(", ", this);
}

/// <summary>What the cmdlets talk to: the local engine, a DevDb API, or a Kubernetes namespace, with the user and role there.</summary>
public sealed class DevDbContext
{
    /// <summary>The context's name: local, a saved context's name, or (environment) for DEVDB_SERVER and DEVDB_TOKEN.</summary>
    public required string Name { get; init; }
    /// <summary>Local (the embedded engine on this machine), Server (a DevDb API) or Kubernetes (the cluster's records, with a kubeconfig).</summary>
    public required string Mode { get; init; }
    /// <summary>The API's address, or the kubeconfig context and namespace; null for the local engine.</summary>
    public string? Server { get; init; }
    /// <summary>Who the cmdlets act as.</summary>
    public required string User { get; init; }
    /// <summary>admin or developer on a server; owner locally; kubernetes with a kubeconfig.</summary>
    public required string Role { get; init; }
    /// <summary>Where the token is kept: Dpapi, File, Environment or Kubeconfig; null for the local engine.</summary>
    public string? TokenStore { get; init; }
    /// <summary>True for the context the cmdlets use now.</summary>
    public bool IsCurrent { get; init; }

    /// <summary>The name of the local engine's context.</summary>
    public const string LocalName = "local";

    internal static DevDbContext Local(bool isCurrent) => new()
    {
        Name = LocalName, Mode = "Local", User = Environment.UserName, Role = "owner", IsCurrent = isCurrent,
    };

    internal static DevDbContext From(ClientContext context, bool isCurrent) => new()
    {
        Name = context.Name, Mode = context.Kubernetes is null ? "Server" : "Kubernetes",
        Server = context.Server?.ToString() ?? $"{context.Kubernetes!.Context ?? "(current kubeconfig context)"}/{context.Kubernetes.Namespace}",
        User = context.User, Role = context.Role,
        TokenStore = context.TokenStore, IsCurrent = isCurrent,
    };

    /// <summary>The name.</summary>
    public override string ToString() => Name;
}
