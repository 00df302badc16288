using DevDb.Core.Client;
using DevDb.Core.Model;

namespace DevDb.Core.Engine;

/// <summary>
/// What a host of DevDb (the API) needs beyond <see cref="IDevDbClient"/>: starting long work
/// and returning at once. Implemented by the embedded engine (work runs in this process) and by
/// the Kubernetes engine (work is done by the reconcile loop).
/// </summary>
public interface IDevDbService : IDevDbClient, IAsyncDisposable
{
    /// <summary>Records the project and starts building image revision 1; returns it Building (or an identical project as it is).</summary>
    Task<Project> StartNewProjectAsync(NewProjectRequest request, CancellationToken cancellationToken = default);

    /// <summary>Records the request for the next image revision and starts it; returns the project.</summary>
    Task<Project> StartUpdateProjectAsync(UpdateProjectRequest request, CancellationToken cancellationToken = default);

    /// <summary>Records that could not be read and were moved aside (their names), for health checks; none on Kubernetes.</summary>
    Task<IReadOnlyList<string>> GetDamagedRecordsAsync(CancellationToken cancellationToken = default);
}
