using DevDb.Core.Model;
using DevDb.Core.Rules;

namespace DevDb.Core.Client;

/// <summary>Checkpoints, restores and branches over the API (a branch is a NewDatabaseRequest with FromDatabase).</summary>
public sealed partial class HttpDevDbClient
{
    public async Task<Database> ResetDatabaseAsync(string name, bool toImage, IProgress<DevDbProgress>? progress = null, CancellationToken cancellationToken = default) =>
        await SettledAsync(await BeginResetDatabaseAsync(name, toImage, cancellationToken), progress, cancellationToken);

    public Task<Database> BeginResetDatabaseAsync(string name, bool toImage, CancellationToken cancellationToken = default) =>
        SendAsync<Database>(HttpMethod.Post, ApiContract.DatabaseAction(name, "reset") + (toImage ? "?toImage=true" : ""), body: null, cancellationToken);

    public Task<Checkpoint> CheckpointDatabaseAsync(string name, string checkpoint, CancellationToken cancellationToken = default)
    {
        CheckpointRules.ValidateName(checkpoint);
        return SendAsync<Checkpoint>(HttpMethod.Post, ApiContract.Checkpoints(name), new NewCheckpointRequest(checkpoint), cancellationToken);
    }

    public Task<IReadOnlyList<Checkpoint>> GetCheckpointsAsync(string? database = null, CancellationToken cancellationToken = default) =>
        SendAsync<IReadOnlyList<Checkpoint>>(HttpMethod.Get, database is null ? ApiContract.AllCheckpoints : ApiContract.Checkpoints(database), body: null, cancellationToken);

    public Task RemoveCheckpointAsync(string database, string checkpoint, CancellationToken cancellationToken = default)
    {
        CheckpointRules.ValidateName(checkpoint);
        return SendAsync<object?>(HttpMethod.Delete, ApiContract.Checkpoint(database, checkpoint), body: null, cancellationToken);
    }

    public async Task<Database> RestoreDatabaseAsync(string name, string checkpoint, IProgress<DevDbProgress>? progress = null, CancellationToken cancellationToken = default) =>
        await SettledAsync(await BeginRestoreDatabaseAsync(name, checkpoint, cancellationToken), progress, cancellationToken);

    public Task<Database> BeginRestoreDatabaseAsync(string name, string checkpoint, CancellationToken cancellationToken = default)
    {
        CheckpointRules.ValidateName(checkpoint);
        return SendAsync<Database>(HttpMethod.Post, ApiContract.DatabaseAction(name, "restore"), new RestoreDatabaseRequest(checkpoint), cancellationToken);
    }
}
