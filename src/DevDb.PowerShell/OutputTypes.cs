using System.Management.Automation;
using System.Net;
using DevDb.Core.Client;
using DevDb.Core.Model;

namespace DevDb.Commands;

/// <summary>
/// A database as the cmdlets return it: everything needed to connect, with the password only
/// inside <see cref="Credential"/> (a SecureString), so no default view or log ever shows it.
/// </summary>
public sealed class DevDbDatabase
{
    public required string Name { get; init; }
    public required string Project { get; init; }
    /// <summary>Creating, Running, Stopped or Failed. A string, not Core's enum: see ModuleInitializer.</summary>
    public required string Status { get; init; }
    public required string Host { get; init; }
    public int Port { get; init; }
    public required string DatabaseName { get; init; }
    public required string Username { get; init; }
    /// <summary>User name and password; null for a Failed database, which has none.</summary>
    public PSCredential? Credential { get; init; }
    public int ImageRevision { get; init; }
    public required string Owner { get; init; }
    public DateTimeOffset Created { get; init; }
    /// <summary>Why a create that ran in the background (New-DevDbDatabase -NoWait) failed.</summary>
    public string? Error { get; init; }
    public string? ErrorCode { get; init; }

    internal static DevDbDatabase From(Database database, ConnectionInfo? connection) => new()
    {
        Name = database.Name,
        Project = database.Project,
        Status = database.Status.ToString(),
        Host = database.Host,
        Port = database.Port,
        DatabaseName = database.DatabaseName,
        Username = database.Username,
        Credential = connection is null
            ? null
            : new PSCredential(connection.Username, new NetworkCredential(string.Empty, connection.Password).SecurePassword),
        ImageRevision = database.ImageRevision,
        Owner = database.Owner,
        Created = database.Created,
        Error = database.Error,
        ErrorCode = database.ErrorCode,
    };

    public override string ToString() => Name;
}

/// <summary>A project as the cmdlets return it.</summary>
public sealed class DevDbProject
{
    public required string Name { get; init; }
    public required string Engine { get; init; }
    public int PostgresVersion { get; init; }
    public required string Source { get; init; }
    public required string DatabaseName { get; init; }
    public string? PostRestoreSql { get; init; }
    /// <summary>Building, Ready or Failed. A string, not Core's enum: see ModuleInitializer.</summary>
    public required string Status { get; init; }
    /// <summary>The revision of the newest ready image (what new databases are cloned from); null if none is ready.</summary>
    public int? ImageRevision { get; init; }
    public string? Error { get; init; }
    public DateTimeOffset Created { get; init; }
    public required IReadOnlyList<Image> Images { get; init; }

    internal static DevDbProject From(Project project) => new()
    {
        Name = project.Name,
        Engine = project.Engine,
        PostgresVersion = project.PostgresVersion,
        Source = project.Source,
        DatabaseName = project.DatabaseName,
        PostRestoreSql = project.PostRestoreSql,
        Status = project.Status.ToString(),
        ImageRevision = project.LatestImage?.Revision,
        Error = project.Error,
        Created = project.Created,
        Images = project.Images,
    };

    public override string ToString() => Name;
}

/// <summary>What the cmdlets talk to: the local engine, or a DevDb API with the user and role its token has there.</summary>
public sealed class DevDbContext
{
    public required string Name { get; init; }
    /// <summary>Local (the embedded engine on this machine), Server (a DevDb API) or Kubernetes (the cluster's records, with a kubeconfig).</summary>
    public required string Mode { get; init; }
    public string? Server { get; init; }
    public required string User { get; init; }
    public required string Role { get; init; }
    /// <summary>Where the token is kept: Dpapi, File or Environment; null for the local engine.</summary>
    public string? TokenStore { get; init; }
    public bool IsCurrent { get; init; }

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

    public override string ToString() => Name;
}
