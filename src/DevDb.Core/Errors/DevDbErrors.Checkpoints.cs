namespace DevDb.Core;

/// <summary>Checkpoints and branches: the answers both engines give in the same words.</summary>
public static partial class DevDbErrors
{
    public static DevDbException CheckpointNotFound(string database, string checkpoint) =>
        new(ErrorCodes.CheckpointNotFound, $"Database '{UserInput.Shown(database)}' has no checkpoint named '{UserInput.Shown(checkpoint)}'.",
            $"List its checkpoints with Get-DevDbCheckpoint -Database {UserInput.Shown(database)}, or take one with Checkpoint-DevDbDatabase.",
            UserInput.Shown(checkpoint), null);

    public static DevDbException CheckpointExists(string database, string checkpoint) =>
        new(ErrorCodes.CheckpointExists, $"Database '{database}' already has a checkpoint named '{checkpoint}'; a checkpoint is never overwritten.",
            $"Choose another name, or remove the old one first: Remove-DevDbCheckpoint -Database {database} -Name {checkpoint}.", checkpoint, null);

    public static DevDbException CheckpointFailed(string database, string checkpoint, string reason) =>
        new(ErrorCodes.CheckpointFailed, $"Taking checkpoint '{checkpoint}' of database '{database}' failed: {UserInput.Shown(reason, 500)}",
            "Nothing of it was kept. Check the cluster's VolumeSnapshotClass and CSI driver (kubectl describe volumesnapshot), then take it again.",
            checkpoint, null);
}
