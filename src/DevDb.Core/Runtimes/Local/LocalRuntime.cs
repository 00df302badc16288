using System.Diagnostics;
using DevDb.Core.Client;
using DevDb.Core.Engine;
using DevDb.Core.IO;
using DevDb.Core.Model;
using DevDb.Core.Postgres;
using DevDb.Core.Sources;
using Npgsql;

namespace DevDb.Core.Runtimes.Local;

/// <summary>
/// Images are stopped data folders; each database is a copy-on-write copy of one (File.Copy clones
/// with FICLONE on XFS/Btrfs and clonefile on APFS, else copies) run by its own detached postmaster
/// on 127.0.0.1 (or the <see cref="DatabaseNetwork"/> given). When DevDb runs as root, each
/// database's server runs as an OS user id of its own that owns its folders alone. DevDb's admin
/// work goes through the server's private socket folder, authenticated by the OS (peer); clients
/// use TCP with the database's password (scram-sha-256). Nothing trusts anything.
/// </summary>
public sealed partial class LocalRuntime : IRuntime
{
    private readonly LocalLayout _layout;
    private readonly ServerUser _builder;
    private readonly DatabaseNetwork _network;

    public LocalRuntime(LocalLayout layout, ServerUser builder, DatabaseNetwork network)
    {
        if (OperatingSystem.IsWindows())
            throw DevDbErrors.PlatformNotSupported();
        _layout = layout;
        _builder = builder;
        _network = network.Validated();
    }

    public string HostOf(string database) => _network.ClientHost;

    public int? ChooseServerUid(IEnumerable<int> taken) => ServerUids.Allocate(taken);

    // ---- images -----------------------------------------------------------------------------

    public async Task<ImageBuildResult> BuildImageAsync(Project project, int revision, IDumpSource source,
        IProgress<DevDbProgress>? progress, CancellationToken cancellationToken)
    {
        var activity = $"Building image {project.Name} r{revision}";
        var final = _layout.ImageFolder(project.Name, revision);
        var building = BuildingFolder(project.Name, revision);
        var work = WorkFolder(project.Name, revision);
        var socket = _layout.BuildSocket(project.Name, revision);
        await DeleteImageAsync(project.Name, revision, cancellationToken);

        try
        {
            LocalLayout.CreatePrivateFolder(work, ServerUser.Current);
            var dump = await source.FetchAsync(work, new Progress<long>(bytes =>
                progress?.Report(new DevDbProgress(activity, $"Fetching {DevDbErrors.ShownSource(source.Location)}: {bytes / 1048576.0:0.0} MB"))), cancellationToken);

            LocalLayout.EnsureFolder(_layout.ProjectImagesFolder(project.Name), LocalLayout.PassThrough);
            LocalLayout.CreatePrivateFolder(building, _builder);
            LocalLayout.CreatePrivateFolder(socket, _builder);
            await new ImageBuilder(_builder).BuildAsync(project, revision, dump, building, socket, work, activity, progress, cancellationToken);
            FaultPoints.Reach(revision == 1 ? "new-project:restored" : "update-project:restored");
            var marker = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows()) marker.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            await using (var file = new StreamWriter(Path.Combine(building, ImageMarker), marker)) await file.WriteAsync(revision.ToString());
            // Published as DevDb's own: no server user, not even the one that built it, can change an image.
            ServerUser.Current.OwnTree(building);
            Directory.Move(building, final);
            return new ImageBuildResult(dump.Format, dump.Bytes, DataFolders.Size(final));
        }
        catch (Exception e)
        {
            // Stops the restore server if it runs and removes every folder of this build.
            await DeleteImageAsync(project.Name, revision, CancellationToken.None);
            if (DiskSpace.IsFull(e) && e is not DevDbException { Code: ErrorCodes.DiskFull })
                throw DiskSpace.Full(_layout.Images, $"building image {project.Name} r{revision}", neededBytes: null, e);
            throw;
        }
        finally
        {
            LocalLayout.DeleteFolder(work);
            LocalLayout.DeleteFolder(socket);
        }
    }

    public IReadOnlyList<(string Project, int Revision)> ListImages() =>
        Directory.Exists(_layout.Images)
            ? Directory.EnumerateDirectories(_layout.Images)
                .SelectMany(project => Directory.EnumerateDirectories(project)
                    .Select(revision => (Project: Path.GetFileName(project), Name: Path.GetFileName(revision))))
                .Select(image => (image.Project, Revision: int.TryParse(image.Name.Split('.')[0], out var number) ? number : 0))
                .Distinct()
                .ToList()
            : [];

    public async Task DeleteImageAsync(string project, int revision, CancellationToken cancellationToken)
    {
        var building = BuildingFolder(project, revision);
        await Postmaster.StopIfRunningAsync(building, "immediate", cancellationToken);
        LocalLayout.DeleteFolder(building);
        LocalLayout.DeleteFolder(_layout.BuildSocket(project, revision));
        LocalLayout.DeleteFolder(WorkFolder(project, revision));
        LocalLayout.DeleteFolder(_layout.ImageFolder(project, revision));
        var projectImages = _layout.ProjectImagesFolder(project);
        try
        {
            if (Directory.Exists(projectImages) && !Directory.EnumerateFileSystemEntries(projectImages).Any())
                Directory.Delete(projectImages);
        }
        catch (IOException) when (!Directory.Exists(projectImages) || Directory.EnumerateFileSystemEntries(projectImages).Any())
        {
            // Another session removed it, or began a new image in it, at the same moment.
        }
    }

    // ---- databases ----------------------------------------------------------------------------

    public async Task CreateDatabaseAsync(DatabaseSpec spec, IProgress<DevDbProgress>? progress, CancellationToken cancellationToken)
    {
        var activity = $"Creating database {spec.Name}";
        var owner = ServerUser.ForUid(spec.ServerUid);
        try
        {
            LocalLayout.CreatePrivateFolder(_layout.DatabaseFolder(spec.Name), owner);
            progress?.Report(new DevDbProgress(activity, $"Cloning image {spec.Project} r{spec.ImageRevision}", 10));
            await CloneImageAsync(spec, _layout.DatabaseData(spec.Name), owner, cancellationToken);
            FaultPoints.Reach("new-database:cloned");
            await StartAsync(spec, owner, activity, progress, cancellationToken);
            FaultPoints.Reach("new-database:started");
        }
        catch (Exception e)
        {
            await DeleteDatabaseAsync(spec.Name, CancellationToken.None);
            if (DiskSpace.IsFull(e) && e is not DevDbException { Code: ErrorCodes.DiskFull }) throw CloneDiskFull(spec, e);
            throw;
        }
    }

    public async Task ResetDatabaseAsync(DatabaseSpec spec, IProgress<DevDbProgress>? progress, CancellationToken cancellationToken)
    {
        var activity = $"Resetting database {spec.Name}";
        var owner = ServerUser.ForUid(spec.ServerUid);
        var fresh = _layout.DatabaseData(spec.Name) + ".new";
        progress?.Report(new DevDbProgress(activity, $"Cloning image {spec.Project} r{spec.ImageRevision}", 10));
        await ReplaceDataAsync(spec, activity, "reset-database", token => CloneImageAsync(spec, fresh, owner, token), progress, cancellationToken);
    }

    /// <summary>Clones new data beside the old (<paramref name="clone"/> writes data.new), stops the server, swaps the two and starts it again.</summary>
    /// <param name="operation">The operation's name in its fault points (reset-database, restore-database).</param>
    private async Task ReplaceDataAsync(DatabaseSpec spec, string activity, string operation, Func<CancellationToken, Task> clone, IProgress<DevDbProgress>? progress,
        CancellationToken cancellationToken)
    {
        var owner = ServerUser.ForUid(spec.ServerUid);
        var data = _layout.DatabaseData(spec.Name);
        var fresh = data + ".new";
        var old = data + ".old";
        LocalLayout.DeleteFolder(fresh);
        LocalLayout.DeleteFolder(old);
        try
        {
            // Clone first, so a failure here leaves the database as it was.
            await clone(cancellationToken);
        }
        catch (Exception e)
        {
            LocalLayout.DeleteFolder(fresh);
            if (DiskSpace.IsFull(e)) throw CloneDiskFull(spec, e);
            throw;
        }
        FaultPoints.Reach($"{operation}:cloned");
        progress?.Report(new DevDbProgress(activity, "Stopping the server", 40));
        // Immediate, not fast: the data it would flush and checkpoint is about to be thrown away (and should a
        // crash bring it back, Postgres recovers it from its WAL), so the database is down for the swap alone.
        await Postmaster.StopIfRunningAsync(data, "immediate", cancellationToken);
        FaultPoints.Reach($"{operation}:stopped");
        if (Directory.Exists(data)) Directory.Move(data, old);
        Directory.Move(fresh, data);
        FaultPoints.Reach($"{operation}:swapped");
        await StartAsync(spec, owner, activity, progress, cancellationToken);
        FaultPoints.Reach($"{operation}:started");
        // After the start: deleting gigabytes of the old data need not keep the database down (a crash here leaves data.old, which repair deletes).
        LocalLayout.DeleteFolder(old);
    }

    public async Task<int?> RepairDatabaseAsync(string database, CancellationToken cancellationToken)
    {
        var data = _layout.DatabaseData(database);
        await StopEveryServerOfAsync(database, "fast", cancellationToken);
        // The swap is two renames: data -> data.old, data.new -> data. Undo a half-done one.
        if (!Directory.Exists(data) && Directory.Exists(data + ".old")) Directory.Move(data + ".old", data);
        LocalLayout.DeleteFolder(data + ".new");
        LocalLayout.DeleteFolder(data + ".old");
        DeleteUnfinishedCopies(database);
        return ImageRevisionOf(data);
    }

    public async Task StartDatabaseAsync(DatabaseSpec spec, CancellationToken cancellationToken)
    {
        var owner = ServerUser.ForUid(spec.ServerUid);
        if (Postmaster.Pid(_layout.DatabaseData(spec.Name)) is null)
        {
            await StartAsync(spec, owner, $"Starting database {spec.Name}", progress: null, cancellationToken);
            return;
        }
        await SetUpLoginAsync(spec, cancellationToken);
        await WaitUntilAnswersAsync(spec, cancellationToken);
    }

    public string LastLogLines(string database)
    {
        try
        {
            var lines = File.ReadLines(_layout.DatabaseLog(database)).TakeLast(5).Select(l => l.Length > 300 ? l[..300] : l);
            return string.Join(" | ", lines);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "(no log)";
        }
    }

    /// <summary>Each image carries its revision in a file of its own, so a clone's data tells which image it came from.</summary>
    private const string ImageMarker = "devdb-image-revision";

    private static int? ImageRevisionOf(string data) =>
        File.Exists(Path.Combine(data, ImageMarker)) && int.TryParse(File.ReadAllText(Path.Combine(data, ImageMarker)).Trim(), out var revision)
            ? revision : null;

    public async Task StopDatabaseAsync(string database, CancellationToken cancellationToken)
    {
        var data = _layout.DatabaseData(database);
        await Postmaster.StopIfRunningAsync(data, "fast", cancellationToken);
    }

    public async Task DeleteDatabaseAsync(string database, CancellationToken cancellationToken)
    {
        await StopEveryServerOfAsync(database, "immediate", cancellationToken);
        LocalLayout.DeleteFolder(_layout.DatabaseFolder(database));
        LocalLayout.DeleteFolder(_layout.DatabaseSocket(database));
    }

    public bool IsRunning(string database) => Postmaster.Pid(_layout.DatabaseData(database)) is not null;

    public async Task<ClientSample> SampleClientsAsync(string database, int port, CancellationToken cancellationToken)
    {
        await using var admin = await AdminSql.OpenAsync(_layout.DatabaseSocket(database), port, ClusterRoles.Admin, "postgres", cancellationToken,
            Rules.IdleRules.SamplerApplicationName, timeoutSeconds: 5);
        await using var command = new Npgsql.NpgsqlCommand(Rules.IdleRules.SampleSql, admin) { CommandTimeout = 5 };
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new ClientSample(reader.GetInt64(0), reader.GetInt64(1));
    }

    /// <summary>Stops a server running in the database's data folder or in a reset's spare one (.new, .old).</summary>
    private async Task StopEveryServerOfAsync(string database, string mode, CancellationToken cancellationToken)
    {
        var data = _layout.DatabaseData(database);
        foreach (var folder in new[] { data, data + ".new", data + ".old" })
            await Postmaster.StopIfRunningAsync(folder, mode, cancellationToken);
    }

    /// <summary>
    /// Writes the server's settings and client authentication (every start, so a database made by
    /// an older DevDb loses its old rules too), starts it as its own user and makes the cluster's
    /// owner the database's login with its password (every start: a clone, a reset or a repair
    /// can never leave a server its own credentials do not open).
    /// </summary>
    private async Task StartAsync(DatabaseSpec spec, ServerUser owner, string activity, IProgress<DevDbProgress>? progress, CancellationToken cancellationToken)
    {
        var data = _layout.DatabaseData(spec.Name);
        var socket = _layout.DatabaseSocket(spec.Name);
        LocalLayout.CreatePrivateFolder(socket, owner);
        var settings = $"port = {spec.Port}\nlisten_addresses = '{_network.ListenAddress}'\nunix_socket_directories = '{socket}'\n";
        // Reachable from other machines: encrypted for every client that asks (libpq and Npgsql do by default).
        if (!_network.IsLoopbackOnly) settings += await ServerFiles.WriteCertificateAsync(data, owner, _network.ClientHost, cancellationToken);
        await ServerFiles.WriteConfigAsync(data, owner, settings, cancellationToken);
        await ServerFiles.WriteAccessAsync(data, owner, [new(ServerUser.Current.PeerName, ClusterRoles.Admin)], tcp: true,
            anyAddress: !_network.IsLoopbackOnly, cancellationToken);

        progress?.Report(new DevDbProgress(activity, $"Starting the server on {_network.ListenAddress}:{spec.Port}", 60));
        await Postmaster.StartAsync(owner, Postmaster.InstallationOf(data), spec.Name, data, _layout.DatabaseLog(spec.Name), [], cancellationToken);

        progress?.Report(new DevDbProgress(activity, "Setting the login role's password", 80));
        await SetUpLoginAsync(spec, cancellationToken);

        progress?.Report(new DevDbProgress(activity, "Waiting for the server to answer", 90));
        await WaitUntilAnswersAsync(spec, cancellationToken);
    }

    /// <summary>The cluster's owner becomes the database's login with its password (<see cref="LoginRole"/>); safe to repeat.</summary>
    private async Task SetUpLoginAsync(DatabaseSpec spec, CancellationToken cancellationToken)
    {
        try
        {
            await using var admin = await AdminSql.OpenAsync(_layout.DatabaseSocket(spec.Name), spec.Port, ClusterRoles.Admin, "postgres", cancellationToken);
            await AdminSql.SetUpLoginAsync(admin, spec.Username, spec.Password, spec.DatabaseName, spec.Superuser, cancellationToken);
        }
        catch (PostgresException e)
        {
            // MessageText only: the statement's context would quote the password.
            throw DevDbErrors.ServerSetupFailed($"set up the login of database '{spec.Name}'", e.MessageText,
                $"Refresh the project (Update-DevDbProject -Name {spec.Project}) and reset the database.", spec.Name);
        }
    }

    /// <summary>Connects over TCP exactly as a user would, until SELECT 1 answers (30 s at most).</summary>
    private async Task WaitUntilAnswersAsync(DatabaseSpec spec, CancellationToken cancellationToken)
    {
        var connectionString = new NpgsqlConnectionStringBuilder
        {
            Host = _network.ProbeAddress, Port = spec.Port, Database = spec.DatabaseName, Username = spec.Username,
            Password = spec.Password, Pooling = false, Timeout = 5,
        }.ConnectionString;
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await using var connection = new NpgsqlConnection(connectionString);
                await connection.OpenAsync(cancellationToken);
                await using var command = new NpgsqlCommand("SELECT 1", connection);
                await command.ExecuteScalarAsync(cancellationToken);
                return;
            }
            catch (Exception e) when (e is NpgsqlException or IOException && deadline.Elapsed < TimeSpan.FromSeconds(30))
            {
                await Task.Delay(100, cancellationToken);
            }
        }
    }

    private async Task CloneImageAsync(DatabaseSpec spec, string target, ServerUser owner, CancellationToken cancellationToken)
    {
        var image = _layout.ImageFolder(spec.Project, spec.ImageRevision);
        if (!Directory.Exists(image))
            throw DevDbErrors.ImageMissing(spec.Project, spec.ImageRevision, $"'{image}'");
        await Task.Run(() => DataFolders.Copy(image, target, owner, cancellationToken), cancellationToken);
    }

    private DevDbException CloneDiskFull(DatabaseSpec spec, Exception e)
    {
        var image = _layout.ImageFolder(spec.Project, spec.ImageRevision);
        return DiskSpace.Full(_layout.Databases, $"cloning image {spec.Project} r{spec.ImageRevision} into database '{spec.Name}'",
            Directory.Exists(image) ? DataFolders.Size(image) : null, e);
    }

    private string BuildingFolder(string project, int revision) => _layout.ImageFolder(project, revision) + ".building";
    private string WorkFolder(string project, int revision) => Path.Combine(_layout.Work, $"image-{project}-{revision}");
}
