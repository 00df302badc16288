using DevDb.Core.Client;
using DevDb.Core.Model;

namespace DevDb.Core.Engine;

/// <summary>Options of the embedded (local) engine.</summary>
public sealed record LocalEngineOptions
{
    /// <summary>State folder; null uses DEVDB_HOME, else the user's local app-data folder (or /var/lib/devdb as root).</summary>
    public string? Home { get; init; }
    public Sources.DumpSourceOptions Sources { get; init; } = new();
}

/// <summary>The engine: orchestration of catalog, dump sources and runtime behind <see cref="IDevDbClient"/>.</summary>
public sealed class DevDbEngine : IDevDbClient
{
    // PLACEHOLDER until the engine lands: signatures only, so the module can build against them.
    public static DevDbEngine OpenLocal(LocalEngineOptions? options = null) => throw new NotImplementedException();
    public string Home => throw new NotImplementedException();
    public Task<Project> NewProjectAsync(NewProjectRequest request, IProgress<DevDbProgress>? progress = null, CancellationToken cancellationToken = default) => throw new NotImplementedException();
    public Task<IReadOnlyList<Project>> GetProjectsAsync(CancellationToken cancellationToken = default) => throw new NotImplementedException();
    public Task<Project> GetProjectAsync(string name, CancellationToken cancellationToken = default) => throw new NotImplementedException();
    public Task<Project> UpdateProjectAsync(UpdateProjectRequest request, IProgress<DevDbProgress>? progress = null, CancellationToken cancellationToken = default) => throw new NotImplementedException();
    public Task RemoveProjectAsync(string name, bool force = false, CancellationToken cancellationToken = default) => throw new NotImplementedException();
    public Task<Database> NewDatabaseAsync(NewDatabaseRequest request, IProgress<DevDbProgress>? progress = null, CancellationToken cancellationToken = default) => throw new NotImplementedException();
    public Task<IReadOnlyList<Database>> GetDatabasesAsync(string? project = null, CancellationToken cancellationToken = default) => throw new NotImplementedException();
    public Task<Database> GetDatabaseAsync(string name, CancellationToken cancellationToken = default) => throw new NotImplementedException();
    public Task<ConnectionInfo> GetConnectionAsync(string name, CancellationToken cancellationToken = default) => throw new NotImplementedException();
    public Task RemoveDatabaseAsync(string name, CancellationToken cancellationToken = default) => throw new NotImplementedException();
    public Task<Database> ResetDatabaseAsync(string name, IProgress<DevDbProgress>? progress = null, CancellationToken cancellationToken = default) => throw new NotImplementedException();
    public Task<Database> StopDatabaseAsync(string name, CancellationToken cancellationToken = default) => throw new NotImplementedException();
    public Task<Database> StartDatabaseAsync(string name, CancellationToken cancellationToken = default) => throw new NotImplementedException();
    public void Dispose() { }
}
