using System.Text.Json;
using System.Text.Json.Serialization;
using DevDb.Core.Model;

namespace DevDb.Core.Catalog;

public sealed record ProjectRecord(Project Project, PendingOperation? Pending = null);

/// <param name="ServerUid">The OS user id its server runs as, when DevDb runs as root (null: the build user, or the current user).</param>
public sealed record DatabaseRecord(Database Database, PendingOperation? Pending = null, int? ServerUid = null);

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

    public static TimeSpan LockTimeout { get; set; } = TimeSpan.FromSeconds(60);

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
                throw new DevDbException(ErrorCodes.StateLocked, DevDbErrorCategory.ResourceBusy,
                    $"Another DevDb session has held the state lock '{LockPath}' for over {LockTimeout.TotalSeconds:0} s.",
                    "Wait for the other session's command to finish, then try again.", LockPath, e);
            }
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

    private static IEnumerable<T> ReadAll<T>(string directory) where T : class =>
        Directory.Exists(directory)
            ? Directory.EnumerateFiles(directory, "*.json").Select(Read<T>).OfType<T>()
            : [];

    private static T? Read<T>(string path) where T : class
    {
        try
        {
            return JsonSerializer.Deserialize<T>(File.ReadAllBytes(path), Json);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }
    }

    private static void Write<T>(string path, T record) => Engine.LocalLayout.WritePrivateFile(path, JsonSerializer.SerializeToUtf8Bytes(record, Json));
}
