using System.Diagnostics;
using DevDb.Core.Engine;
using Xunit;

namespace DevDb.Testing;

/// <summary>
/// A private DEVDB_HOME under /tmp (reachable by the postgres OS user when tests run as root)
/// and an engine opened on it. Disposing stops every server it started and deletes the folder.
/// </summary>
public sealed class EngineHome : IAsyncDisposable
{
    private readonly LocalEngineOptions _options;

    /// <param name="options">Engine options; their Home is replaced by this one's.</param>
    /// <param name="parent">Where the state folder goes (default the temp folder), e.g. a small file system of a test's own.</param>
    public EngineHome(LocalEngineOptions? options = null, string? parent = null)
    {
        Path = System.IO.Path.Combine(parent ?? System.IO.Path.GetTempPath(), "devdb-test-" + Guid.NewGuid().ToString("N")[..10]);
        _options = (options ?? new LocalEngineOptions()) with { Home = Path };
        Engine = Open();
    }

    public string Path { get; }
    public DevDbEngine Engine { get; private set; }

    /// <summary>A second engine on the same state, as another PowerShell session would open it.</summary>
    public DevDbEngine Open() => DevDbEngine.OpenLocal(_options);

    /// <summary>Folders and files left under a state sub-folder (e.g. "databases", "work").</summary>
    public IReadOnlyList<string> Entries(string folder) =>
        Directory.Exists(System.IO.Path.Combine(Path, folder))
            ? Directory.GetFileSystemEntries(System.IO.Path.Combine(Path, folder)).Select(e => System.IO.Path.GetFileName(e)).ToList()
            : [];

    public async ValueTask DisposeAsync()
    {
        await Engine.DisposeAsync();
        var engine = Open();
        foreach (var database in await engine.GetDatabasesAsync()) await engine.RemoveDatabaseAsync(database.Name);
        foreach (var project in await engine.GetProjectsAsync()) await engine.RemoveProjectAsync(project.Name, force: true);
        if (Directory.Exists(Path)) Directory.Delete(Path, recursive: true);
    }

    /// <summary>No Postgres process has a data folder under the folder.</summary>
    public static void AssertNoPostgresUnder(string folder)
    {
        var servers = Process.GetProcessesByName("postgres")
            .Select(p => { try { return File.ReadAllText($"/proc/{p.Id}/cmdline").Replace('\0', ' '); } catch (IOException) { return ""; } })
            .Where(commandLine => commandLine.Contains(folder))
            .ToList();
        Assert.Empty(servers);
    }
}
