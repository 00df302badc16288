namespace DevDb.Core.Model;

public enum CheckpointStatus
{
    /// <summary>Being taken (Kubernetes: its VolumeSnapshot is not ready to use yet).</summary>
    Creating,
    /// <summary>Can be restored and branched from.</summary>
    Ready,
    /// <summary>Taking it failed; <see cref="Checkpoint.Error"/> says why. Remove it and take it again.</summary>
    Failed,
}

/// <summary>
/// A database's data saved under a name (Checkpoint-DevDbDatabase). It belongs to its database and
/// goes with it; restoring it (Restore-DevDbDatabase) puts that data back, keeping the database's
/// name, host, port, user and password; a branch (New-DevDbDatabase -FromDatabase -Checkpoint)
/// starts from it.
/// </summary>
public sealed record Checkpoint
{
    public required string Database { get; init; }
    public required string Name { get; init; }
    public required string Project { get; init; }
    /// <summary>The image the checkpointed data descends from (it is kept while the checkpoint is).</summary>
    public required int ImageRevision { get; init; }
    public CheckpointStatus Status { get; init; }
    public DateTimeOffset Created { get; init; }
    /// <summary>How long the database did not answer while the checkpoint was taken (local runtime: a fast stop, a clone, a start); null where it never stops (Kubernetes).</summary>
    public double? InterruptionSeconds { get; init; }
    public string? Error { get; init; }
}
