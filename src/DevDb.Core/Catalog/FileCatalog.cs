using System.Text.Json;
using System.Text.Json.Serialization;
using DevDb.Core.Model;

namespace DevDb.Core.Catalog;

public sealed record ProjectRecord(Project Project, PendingOperation? Pending = null);

/// <summary>What an item lock (<see cref="FileCatalog.LockItemAsync"/>) is for.</summary>
public enum ItemKind { Project, Database }

/// <param name="ServerUid">The OS user id its server runs as, when DevDb runs as root (null: the build user, or the current user).</param>
public sealed record DatabaseRecord(Database Database, PendingOperation? Pending = null, int? ServerUid = null)
{
    /// <summary>Its checkpoints (their data lives in the database's folder and goes with it).</summary>
    public IReadOnlyList<Checkpoint> Checkpoints { get; init; } = [];
    /// <summary>A branch: the image revision the data it was branched from descends from (that data is what a reset goes back to).</summary>
    public int? OriginRevision { get; init; }
    /// <summary>The client sessions its server had ever opened at the last idle pass (to see a client that came and went in between); null: not sampled since it started.</summary>
    public long? IdleSessions { get; init; }
}

/// <summary>
/// The local catalog: one JSON file per project and per database, readable by its
/// owner alone and replaced atomically (write a temporary file, then rename). Changes that must
/// not interleave with another session's are made inside <see cref="LockAsync"/>, an exclusive lock on a file that the OS
/// releases if the process dies.
/// </summary>
public sealed class FileCatalog(string folder)
{
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private string ProjectsFolder => Path.Combine(folder, "projects");
    private string DatabasesFolder => Path.Combine(folder, "databases");
    private string LockPath => Path.Combine(folder, ".lock");

    private static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(60);

    /// <summary>Waits for the catalog lock; throws StateLocked after <see cref="LockTimeout"/>.</summary>
    public async Task<IDisposable> LockAsync(CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + LockTimeout;
        while (true)
        {
            try
            {
                var options = new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.None };
                if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
                return new FileStream(LockPath, options);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(25, cancellationToken);
            }
            catch (IOException e)
            {
                throw DevDbErrors.StateLocked($"Another DevDb session has held the state lock '{LockPath}' for over {LockTimeout.TotalSeconds:0} s.",
                    LockPath, "Wait for the other session's command to finish, then try again.", e);
            }
        }
    }

    /// <summary>
    /// The lock of one project or database, held for the whole of an operation on it (a build, a
    /// clone, a reset, a removal...), so racing requests run one after the other. Waits up to
    /// <paramref name="wait"/>, then StateLocked naming what holds it. The OS releases it when its
    /// process dies. Order: a project's, then its databases' (by name), then <see cref="LockAsync"/>.
    /// Released with no record of the item (never created, rolled back, removed), its file goes too.
    /// </summary>
    public async Task<IDisposable> LockItemAsync(ItemKind kind, string name, TimeSpan wait, Func<string> busy, CancellationToken cancellationToken)
    {
        var locks = Path.Combine(folder, "locks");
        Directory.CreateDirectory(locks);
        var path = Path.Combine(locks, $"{kind.ToString().ToLowerInvariant()}-{name}.lock");
        var deadline = DateTime.UtcNow + wait;
        while (true)
        {
            try
            {
                var options = new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.None };
                if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
                var held = new FileStream(path, options);
                if (IsStillAt(held, path)) return new ItemLock(held, path, RecordPath(kind, name));
                // Its holder deleted the file (the item is gone) between our open and our lock: the lock is on nothing.
                held.Dispose();
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(20, cancellationToken);
            }
            catch (IOException e)
            {
                throw DevDbErrors.StateLocked($"{busy()} (waited {wait.TotalSeconds:0} s).", name, inner: e);
            }
        }
    }

    /// <summary>Whether the file a lock was taken on is still the one at <paramref name="path"/> (not deleted by the item's last holder).</summary>
    private static bool IsStillAt(FileStream held, string path)
    {
        if (!File.Exists(path)) return false;
        // Linux names an open file's path in /proc, marked " (deleted)" once unlinked, even if another file took the name since.
        var link = $"/proc/self/fd/{held.SafeFileHandle.DangerousGetHandle()}";
        return !OperatingSystem.IsLinux() || File.ResolveLinkTarget(link, returnFinalTarget: false)?.FullName == Path.GetFullPath(path);
    }

    private string RecordPath(ItemKind kind, string name) =>
        Path.Combine(kind == ItemKind.Project ? ProjectsFolder : DatabasesFolder, name + ".json");

    /// <summary>A held item lock. Only its holder can create or delete the item's record, so its check at release is not racing anyone.</summary>
    private sealed class ItemLock(FileStream held, string path, string recordPath) : IDisposable
    {
        public void Dispose()
        {
            if (!File.Exists(recordPath)) File.Delete(path);
            held.Dispose();
        }
    }

    public ProjectRecord? FindProject(string name) => Read<ProjectRecord>(Path.Combine(ProjectsFolder, name + ".json"));
    public DatabaseRecord? FindDatabase(string name) => Read<DatabaseRecord>(Path.Combine(DatabasesFolder, name + ".json"));
    public IReadOnlyList<ProjectRecord> Projects() => ReadAll<ProjectRecord>(ProjectsFolder).OrderBy(r => r.Project.Name, StringComparer.Ordinal).ToList();
    public IReadOnlyList<DatabaseRecord> Databases() => ReadAll<DatabaseRecord>(DatabasesFolder).OrderBy(r => r.Database.Name, StringComparer.Ordinal).ToList();

    public void Save(ProjectRecord record) => Write(Path.Combine(ProjectsFolder, record.Project.Name + ".json"), record);
    public void Save(DatabaseRecord record) => Write(Path.Combine(DatabasesFolder, record.Database.Name + ".json"), record);
    public void DeleteProject(string name) => File.Delete(Path.Combine(ProjectsFolder, name + ".json"));
    public void DeleteDatabase(string name) => File.Delete(Path.Combine(DatabasesFolder, name + ".json"));

    private string PassesPath => Path.Combine(folder, "passes.json");

    /// <summary>When a command last ran the idle pass (by the engine's clock), so a burst of commands samples the servers once.</summary>
    public DateTimeOffset? LastIdlePass
    {
        get => Read<PassTimes>(PassesPath)?.LastIdlePass;
        set => Write(PassesPath, new PassTimes(value));
    }

    private sealed record PassTimes(DateTimeOffset? LastIdlePass);

    /// <summary>Where records that could not be read are moved, so that everything else keeps working.</summary>
    private string DamagedFolder => Path.Combine(folder, "damaged");

    /// <summary>The records moved aside because they could not be read (file names under catalog/damaged), oldest first.</summary>
    public IReadOnlyList<string> DamagedRecords() =>
        Directory.Exists(DamagedFolder)
            ? Directory.EnumerateFiles(DamagedFolder).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToList()
            : [];

    private IEnumerable<T> ReadAll<T>(string directory) where T : class =>
        Directory.Exists(directory)
            ? Directory.EnumerateFiles(directory, "*.json").Select(Read<T>).OfType<T>()
            : [];

    private T? Read<T>(string path) where T : class
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        try
        {
            return JsonSerializer.Deserialize<T>(bytes, Json) ?? throw new JsonException("the record is null");
        }
        catch (JsonException)
        {
            MoveAside(path);
            return null;
        }
    }

    /// <summary>A damaged record (e.g. left empty by a crash of an older DevDb) goes to catalog/damaged, named after what it was.</summary>
    private void MoveAside(string path)
    {
        Directory.CreateDirectory(DamagedFolder);
        var kind = Path.GetFileName(Path.GetDirectoryName(path));
        var target = Path.Combine(DamagedFolder, $"{kind}-{Path.GetFileNameWithoutExtension(path)}-{DateTime.UtcNow:yyyyMMddTHHmmssfff}.json");
        try
        {
            File.Move(path, target);
        }
        catch (FileNotFoundException)
        {
            // Another session moved it first.
        }
    }

    private static void Write<T>(string path, T record) => IO.PrivateFiles.Write(path, JsonSerializer.SerializeToUtf8Bytes(record, Json));
}
