using DevDb.Core.Client;

namespace DevDb.Core.Engine;

/// <summary>
/// What a host of DevDb (the API) needs beyond <see cref="IDevDbClient"/>: a graceful shutdown
/// that cancels the work started with Start* and waits until it has cleaned up. Implemented by the
/// embedded engine (work runs in this process) and by the Kubernetes engine (work is done by the
/// reconcile loop).
/// </summary>
public interface IDevDbService : IDevDbClient, IAsyncDisposable;
