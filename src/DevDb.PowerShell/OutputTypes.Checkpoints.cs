using DevDb.Core.Model;

namespace DevDb.Commands;

/// <summary>A checkpoint as the cmdlets return it: a database's data saved under a name.</summary>
public sealed class DevDbCheckpoint
{
    /// <summary>The database it belongs to (it goes when the database goes).</summary>
    public required string Database { get; init; }
    /// <summary>The checkpoint's name: a DNS label, unique within its database.</summary>
    public required string Name { get; init; }
    /// <summary>The database's project.</summary>
    public required string Project { get; init; }
    /// <summary>Ready, or Creating while it is taken, or Failed.</summary>
    public required string Status { get; init; }
    /// <summary>The image revision its data descends from (kept while the checkpoint is).</summary>
    public int ImageRevision { get; init; }
    /// <summary>When it was taken.</summary>
    public DateTimeOffset Created { get; init; }
    /// <summary>How long the database did not answer while it was taken (local engine), in seconds.</summary>
    public double? InterruptionSeconds { get; init; }

    internal static DevDbCheckpoint From(Checkpoint checkpoint) => new()
    {
        Database = checkpoint.Database, Name = checkpoint.Name, Project = checkpoint.Project, Status = checkpoint.Status.ToString(),
        ImageRevision = checkpoint.ImageRevision, Created = checkpoint.Created, InterruptionSeconds = checkpoint.InterruptionSeconds,
    };

    /// <summary>database/checkpoint.</summary>
    public override string ToString() => $"{Database}/{Name}";
}
