using System.Security.Cryptography;
using System.Text;
using DevDb.Core.IO;
using DevDb.Core.Runtimes.Local;

namespace DevDb.Core.Engine;

/// <summary>
/// Where the embedded engine keeps its state. Catalog and secrets belong to the current user
/// (0700); image and database folders belong to the server user, which must be able to reach them.
/// </summary>
public sealed class LocalLayout
{
    public LocalLayout(string home)
    {
        Home = Path.GetFullPath(home);
        // Unix socket paths are limited to ~107 bytes; keep them short even for a long home path.
        Run = Home.Length <= 70
            ? Path.Combine(Home, "run")
            : Path.Combine(Path.GetTempPath(), "devdb-" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(Home)))[..12].ToLowerInvariant());
    }

    public string Home { get; }
    public string Catalog => Path.Combine(Home, "catalog");
    public string Secrets => Path.Combine(Home, "secrets");
    public string Images => Path.Combine(Home, "images");
    public string Databases => Path.Combine(Home, "databases");
    public string Work => Path.Combine(Home, "work");
    /// <summary>Folder of the servers' unix sockets (admin connections use it, with peer-only access).</summary>
    public string Run { get; }

    public string ImageFolder(string project, int revision) => Path.Combine(Images, project, revision.ToString());
    public string ProjectImagesFolder(string project) => Path.Combine(Images, project);
    public string DatabaseFolder(string name) => Path.Combine(Databases, name);
    public string DatabaseData(string name) => Path.Combine(DatabaseFolder(name), "data");
    public string DatabaseLog(string name) => Path.Combine(DatabaseFolder(name), "server.log");
    /// <summary>A database's checkpoints: copy-on-write copies of its data folder, inside its folder so they go with it.</summary>
    public string CheckpointsFolder(string name) => Path.Combine(DatabaseFolder(name), "checkpoints");
    public string CheckpointData(string name, string checkpoint) => Path.Combine(CheckpointsFolder(name), checkpoint);
    /// <summary>A branch's copy of the data it was branched from (what a reset goes back to).</summary>
    public string OriginData(string name) => Path.Combine(DatabaseFolder(name), "origin");
    /// <summary>The folder of a database server's socket: its own, reachable by its server's user (and DevDb) alone.</summary>
    public string DatabaseSocket(string name) => Path.Combine(Run, "d-" + ShortHash(name));
    /// <summary>The folder of an image build's socket: short, and derived so recovery can find it.</summary>
    public string BuildSocket(string project, int revision) => Path.Combine(Run, "b-" + ShortHash($"{project}/{revision}"));

    private static string ShortHash(string text) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..10].ToLowerInvariant();

    /// <summary>DEVDB_HOME, else the user's local app-data folder; /var/lib/devdb as root, whose home other users cannot enter.</summary>
    public static string DefaultHome()
    {
        var configured = Environment.GetEnvironmentVariable("DEVDB_HOME");
        if (!string.IsNullOrEmpty(configured)) return configured;
        if (!OperatingSystem.IsWindows() && Environment.IsPrivilegedProcess) return "/var/lib/devdb";
        return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create), "devdb");
    }

    /// <summary>
    /// Creates the state folders and sets their owner and mode every time (an older DevDb gave some
    /// to the server user): catalog and secrets are DevDb's alone; the folders that hold servers'
    /// own folders may be passed through, never listed, by the servers' users.
    /// </summary>
    public void EnsureCreated()
    {
        RequireReachableByServers();
        EnsureFolder(Home, PassThrough);
        foreach (var folder in new[] { Catalog, Path.Combine(Catalog, "projects"), Path.Combine(Catalog, "databases"), Secrets })
            EnsureFolder(folder, UserOnly);
        foreach (var folder in new[] { Work, Images, Databases, Run })
            EnsureFolder(folder, PassThrough);
    }

    /// <summary>
    /// As root, database servers run as users of their own, which must pass through every folder
    /// above the state folder: a home under a private folder (e.g. made by mktemp -d) cannot work.
    /// </summary>
    private void RequireReachableByServers()
    {
        if (OperatingSystem.IsWindows() || !ServerUser.DevDbIsRoot) return;
        for (var folder = Path.GetDirectoryName(Home); folder is not null; folder = Path.GetDirectoryName(folder))
        {
            if (!Directory.Exists(folder)) continue;
            var mode = File.GetUnixFileMode(folder);
            if (mode.HasFlag(UnixFileMode.OtherExecute)) continue;
            throw DevDbErrors.HomeNotAccessible(folder,
                $"The state folder '{Home}' is inside '{folder}' (mode {Convert.ToString((int)mode, 8)}), which the database servers' OS users cannot pass through.",
                $"Let others pass through it without listing it (chmod o+x '{folder}'), or set DEVDB_HOME to a folder such as /var/lib/devdb.");
        }
    }

    public const UnixFileMode UserOnly = PrivateFiles.UserOnlyFolder;
    /// <summary>rwx--x--x: others may reach what is inside by name, not list it.</summary>
    public const UnixFileMode PassThrough = UserOnly | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;

    /// <summary>A folder of DevDb's own (owned by the current user) with exactly this mode.</summary>
    public static void EnsureFolder(string path, UnixFileMode mode)
    {
        CreateFolder(path, mode);
        if (OperatingSystem.IsWindows()) return;
        ServerUser.Current.Own(path);
        File.SetUnixFileMode(path, mode);
    }

    /// <summary>A folder only <paramref name="owner"/> (and DevDb) may enter: a server's data, socket or work folder.</summary>
    public static void CreatePrivateFolder(string path, ServerUser owner)
    {
        CreateFolder(path, UserOnly);
        if (OperatingSystem.IsWindows()) return;
        File.SetUnixFileMode(path, UserOnly);
        owner.Own(path);
    }

    private static void CreateFolder(string path, UnixFileMode mode) => PrivateFiles.CreateFolder(path, mode);

    /// <summary>Deletes a folder tree if it exists; the engine's one way to remove server folders.</summary>
    public static void DeleteFolder(string path)
    {
        try
        {
            if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
            // Another session deleted it (or part of it) at the same moment: it is gone either way.
            if (Directory.Exists(path)) throw;
        }
    }
}
