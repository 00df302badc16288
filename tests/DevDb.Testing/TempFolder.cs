namespace DevDb.Testing;

/// <summary>A private folder under /tmp (reachable by the Postgres server user) that is deleted on dispose.</summary>
public sealed class TempFolder : IDisposable
{
    public TempFolder(string prefix)
    {
        // /tmp rather than $TMPDIR: the server user must be able to reach every folder above a data directory.
        var parent = OperatingSystem.IsWindows() ? System.IO.Path.GetTempPath() : "/tmp";
        Path = System.IO.Path.Combine(parent, $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 13)]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    /// <summary>Names of everything directly inside the folder (to assert nothing was left behind).</summary>
    public IReadOnlyList<string> Entries() =>
        Directory.Exists(Path) ? Directory.EnumerateFileSystemEntries(Path).Select(e => System.IO.Path.GetFileName(e)).ToList() : [];

    public void Dispose()
    {
        try
        {
            if (Directory.Exists(Path)) Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A process still writing; /tmp is cleaned eventually and the test outcome matters more.
        }
    }
}
