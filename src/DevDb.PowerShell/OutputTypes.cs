using System.Management.Automation;
using System.Net;
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
    /// <summary>Creating, Running or Stopped. A string, not Core's enum: see ModuleInitializer.</summary>
    public required string Status { get; init; }
    public required string Host { get; init; }
    public int Port { get; init; }
    public required string DatabaseName { get; init; }
    public required string Username { get; init; }
    public required PSCredential Credential { get; init; }
    public int ImageRevision { get; init; }
    public required string Owner { get; init; }
    public DateTimeOffset Created { get; init; }

    internal static DevDbDatabase From(Database database, ConnectionInfo connection) => new()
    {
        Name = database.Name,
        Project = database.Project,
        Status = database.Status.ToString(),
        Host = connection.Host,
        Port = connection.Port,
        DatabaseName = connection.DatabaseName,
        Username = connection.Username,
        Credential = new PSCredential(connection.Username, new NetworkCredential(string.Empty, connection.Password).SecurePassword),
        ImageRevision = database.ImageRevision,
        Owner = database.Owner,
        Created = database.Created,
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
