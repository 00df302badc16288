using DevDb.Core.Client;

namespace DevDb.Core.Engine;

/// <summary>
/// What a host of DevDb (the API) needs beyond <see cref="IDevDbClient"/>: a graceful shutdown
/// that cancels the work started with Start* and waits until it has recorded its outcome, and
/// the health of its records. Implemented by the embedded engine (work runs in this process) and
/// by the Kubernetes engine (work is done by the reconcile loop).
/// </summary>
public interface IDevDbService : IDevDbClient, IAsyncDisposable
{
    /// <summary>Records that could not be read and were moved aside (their names), for health checks; none on Kubernetes.</summary>
    Task<IReadOnlyList<string>> GetDamagedRecordsAsync(CancellationToken cancellationToken = default);
}
