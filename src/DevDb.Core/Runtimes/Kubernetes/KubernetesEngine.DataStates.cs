using DevDb.Core.Client;
using DevDb.Core.Model;
using DevDb.Core.Rules;

namespace DevDb.Core.Runtimes.Kubernetes;

/// <summary>
/// Data states on Kubernetes. Not built yet: checkpoints will be VolumeSnapshots of a database's
/// volume converged by the reconciler; until then every data-state call is refused with
/// RuntimeNotSupported after the same checks as the embedded engine (names, the database exists).
/// </summary>
public sealed partial class KubernetesEngine
{
    public async Task<Database> ResetDatabaseAsync(string name, bool toImage, IProgress<DevDbProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        await BeginResetDatabaseAsync(name, toImage, cancellationToken);
        return await WaitDatabaseAsync(name, progress, cancellationToken);
    }

    /// <summary>No database on Kubernetes is a branch yet, so a reset is to the image either way.</summary>
    public Task<Database> BeginResetDatabaseAsync(string name, bool toImage, CancellationToken cancellationToken = default) =>
        BeginResetDatabaseAsync(name, cancellationToken);

    public async Task<Checkpoint> CheckpointDatabaseAsync(string name, string checkpoint, CancellationToken cancellationToken = default)
    {
        CheckpointRules.ValidateName(checkpoint);
        await RequireDatabaseAsync(name, cancellationToken);
        throw NotYet("Checkpoints");
    }

    public async Task<IReadOnlyList<Checkpoint>> GetCheckpointsAsync(string? database = null, CancellationToken cancellationToken = default)
    {
        if (database is not null) await RequireDatabaseAsync(database, cancellationToken);
        return [];
    }

    public async Task RemoveCheckpointAsync(string database, string checkpoint, CancellationToken cancellationToken = default)
    {
        CheckpointRules.ValidateName(checkpoint);
        await RequireDatabaseAsync(database, cancellationToken);
        throw DevDbErrors.CheckpointNotFound(database, checkpoint);
    }

    public async Task<Database> RestoreDatabaseAsync(string name, string checkpoint, IProgress<DevDbProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        await BeginRestoreDatabaseAsync(name, checkpoint, cancellationToken);
        return await WaitDatabaseAsync(name, progress, cancellationToken);
    }

    public async Task<Database> BeginRestoreDatabaseAsync(string name, string checkpoint, CancellationToken cancellationToken = default)
    {
        CheckpointRules.ValidateName(checkpoint);
        await RequireDatabaseAsync(name, cancellationToken);
        throw DevDbErrors.CheckpointNotFound(name, checkpoint);
    }

    private static DevDbException NotYet(string what) =>
        DevDbErrors.RuntimeNotSupported(what, "Kubernetes", "Use the local engine or a DevDb server on the local runtime for checkpoints and branches.");
}
