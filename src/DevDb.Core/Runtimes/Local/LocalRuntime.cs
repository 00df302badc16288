using System.Diagnostics;
using System.IO.Compression;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using DevDb.Core.Client;
using DevDb.Core.Engine;
using DevDb.Core.Model;
using DevDb.Core.Sources;
using Npgsql;

namespace DevDb.Core.Runtimes.Local;

/// <summary>
/// Images are stopped data folders; each database is a copy-on-write copy of one (File.Copy clones
/// with FICLONE on XFS/Btrfs and clonefile on APFS, else copies) run by its own detached postmaster
/// on 127.0.0.1 (or the <see cref="DatabaseNetwork"/> given). Admin work goes through the unix socket (trust, reachable only by the owner);
/// clients use TCP with the database's password (scram-sha-256).
/// </summary>
public sealed class LocalRuntime : IRuntime
{
    private const string Superuser = "postgres";
    private const string ConfigFile = "devdb.conf";
    /// <summary>The client authentication file of a database reachable from other machines.</summary>
    private const string HbaFile = "devdb_hba.conf";

    /// <summary>Settings for the restore only, passed on the command line so none outlives it.</summary>
    private static readonly string[] RestoreSettings =
    [
        "fsync=off", "synchronous_commit=off", "full_page_writes=off", "wal_level=minimal", "max_wal_senders=0",
        "archive_mode=off", "max_wal_size=16GB", "min_wal_size=2MB", "checkpoint_timeout=1h", "autovacuum=off",
        "maintenance_work_mem=512MB", "shared_buffers=256MB",
    ];

    private readonly LocalLayout _layout;
    private readonly ServerUser _serverUser;
    private readonly CommandRunner _asServerUser;
    private readonly CommandRunner _asCurrentUser = new(ServerUser.Current);

    private readonly DatabaseNetwork _network;

    public LocalRuntime(LocalLayout layout, ServerUser serverUser, DatabaseNetwork network)
    {
        _layout = layout;
        _serverUser = serverUser;
        _network = network.Validated();
        _asServerUser = new CommandRunner(serverUser);
    }

    public string HostOf(string database) => _network.ClientHost;

    public async Task<ImageBuildResult> BuildImageAsync(Project project, int revision, IDumpSource source,
        IProgress<DevDbProgress>? progress, CancellationToken cancellationToken)
    {
        var activity = $"Building image {project.Name} r{revision}";
        var pg = PostgresInstallation.Find(project.PostgresVersion);
        var final = _layout.ImageFolder(project.Name, revision);
        var building = BuildingFolder(project.Name, revision);
        var work = WorkFolder(project.Name, revision);
        var socket = BuildSocketFolder(project.Name, revision);
        await DeleteImageAsync(project.Name, revision, cancellationToken);

        try
        {
            LocalLayout.CreateFolder(work, LocalLayout.UserOnly);
            var dump = await source.FetchAsync(work, new Progress<long>(bytes =>
                progress?.Report(new DevDbProgress(activity, $"Fetching {source.Location}: {bytes / 1048576.0:0.0} MB"))), cancellationToken);

            progress?.Report(new DevDbProgress(activity, "Creating an empty cluster"));
            var projectImages = _layout.ProjectImagesFolder(project.Name);
            LocalLayout.CreateFolder(projectImages, LocalLayout.UserOnly);
            _serverUser.Own(projectImages);
            LocalLayout.CreateFolder(socket, LocalLayout.UserOnly);
            _serverUser.Own(socket);
            await InitClusterAsync(pg, building, cancellationToken);
            // The restore server takes no TCP connections; its socket sits in a folder of its own.
            await WriteServerConfigAsync(building, $"listen_addresses = ''\nunix_socket_directories = '{socket}'\n", cancellationToken);
            await StartServerAsync(pg, $"{project.Name} r{revision} (restore)", building, Path.Combine(socket, "server.log"), RestoreSettings, cancellationToken);
            await using (var admin = await OpenAdminAsync(socket, "postgres", cancellationToken))
                await ExecuteAsync(admin, $"CREATE DATABASE {Quote(project.DatabaseName)} TEMPLATE template0 ENCODING 'UTF8'", cancellationToken);

            await RestoreAsync(pg, dump, socket, project, activity, progress, cancellationToken);

            if (!string.IsNullOrWhiteSpace(project.PostRestoreSql))
            {
                progress?.Report(new DevDbProgress(activity, "Running the post-restore SQL", 95));
                await RunPostRestoreSqlAsync(pg, socket, project, cancellationToken);
            }

            progress?.Report(new DevDbProgress(activity, "Analyzing", 97));
            await using (var admin = await OpenAdminAsync(socket, project.DatabaseName, cancellationToken))
                await ExecuteAsync(admin, "ANALYZE", cancellationToken);

            progress?.Report(new DevDbProgress(activity, "Shutting down cleanly", 99));
            await StopServerAsync(pg, building, "fast", cancellationToken);
            File.Delete(Path.Combine(building, ConfigFile));
            // The restore ran with fsync off: flush everything once before the image is published.
            await RunCheckedAsync(_asServerUser, pg.Tool("initdb"), ["--sync-only", "-D", building], "sync the image", cancellationToken);
            Directory.Move(building, final);
            return new ImageBuildResult(dump.Format, dump.Bytes, FolderSize(final));
        }
        catch
        {
            // Stops the restore server if it runs and removes every folder of this build.
            await DeleteImageAsync(project.Name, revision, CancellationToken.None);
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
        if (ServerPid(building) is not null)
            await StopServerAsync(InstallationOf(building), building, "immediate", cancellationToken);
        LocalLayout.DeleteFolder(building);
        LocalLayout.DeleteFolder(BuildSocketFolder(project, revision));
        LocalLayout.DeleteFolder(WorkFolder(project, revision));
        LocalLayout.DeleteFolder(_layout.ImageFolder(project, revision));
        var projectImages = _layout.ProjectImagesFolder(project);
        if (Directory.Exists(projectImages) && !Directory.EnumerateFileSystemEntries(projectImages).Any())
            Directory.Delete(projectImages);
    }

    public async Task CreateDatabaseAsync(DatabaseSpec spec, IProgress<DevDbProgress>? progress, CancellationToken cancellationToken)
    {
        var activity = $"Creating database {spec.Name}";
        var folder = _layout.DatabaseFolder(spec.Name);
        try
        {
            LocalLayout.CreateFolder(folder, LocalLayout.UserOnly);
            _serverUser.Own(folder);
            progress?.Report(new DevDbProgress(activity, $"Cloning image {spec.Project} r{spec.ImageRevision}", 10));
            await CloneImageAsync(spec, _layout.DatabaseData(spec.Name), cancellationToken);
            await StartAndSetPasswordAsync(spec, activity, progress, cancellationToken);
        }
        catch
        {
            await DeleteDatabaseAsync(spec.Name, CancellationToken.None);
            throw;
        }
    }

    public async Task ResetDatabaseAsync(DatabaseSpec spec, IProgress<DevDbProgress>? progress, CancellationToken cancellationToken)
    {
        var activity = $"Resetting database {spec.Name}";
        var data = _layout.DatabaseData(spec.Name);
        var fresh = data + ".new";
        var old = data + ".old";
        LocalLayout.DeleteFolder(fresh);
        LocalLayout.DeleteFolder(old);
        progress?.Report(new DevDbProgress(activity, $"Cloning image {spec.Project} r{spec.ImageRevision}", 10));
        try
        {
            // Clone first, so a failure here leaves the database as it was.
            await CloneImageAsync(spec, fresh, cancellationToken);
        }
        catch
        {
            LocalLayout.DeleteFolder(fresh);
            throw;
        }
        progress?.Report(new DevDbProgress(activity, "Stopping the server", 40));
        await StopDatabaseAsync(spec.Name, cancellationToken);
        if (Directory.Exists(data)) Directory.Move(data, old);
        Directory.Move(fresh, data);
        LocalLayout.DeleteFolder(old);
        await StartAndSetPasswordAsync(spec, activity, progress, cancellationToken);
    }

    public async Task RepairDatabaseAsync(string database, CancellationToken cancellationToken)
    {
        var data = _layout.DatabaseData(database);
        await StopEveryServerOfAsync(database, "fast", cancellationToken);
        // The swap is two renames: data -> data.old, data.new -> data. Undo a half-done one.
        if (!Directory.Exists(data) && Directory.Exists(data + ".old")) Directory.Move(data + ".old", data);
        LocalLayout.DeleteFolder(data + ".new");
        LocalLayout.DeleteFolder(data + ".old");
    }

    public async Task StartDatabaseAsync(DatabaseSpec spec, CancellationToken cancellationToken)
    {
        var data = _layout.DatabaseData(spec.Name);
        if (ServerPid(data) is not null) return;
        await StartServerAsync(InstallationOf(data), spec.Name, data, _layout.DatabaseLog(spec.Name), [], cancellationToken);
        await WaitUntilAnswersAsync(spec, cancellationToken);
    }

    public async Task StopDatabaseAsync(string database, CancellationToken cancellationToken)
    {
        var data = _layout.DatabaseData(database);
        if (ServerPid(data) is not null)
            await StopServerAsync(InstallationOf(data), data, "fast", cancellationToken);
    }

    public async Task DeleteDatabaseAsync(string database, CancellationToken cancellationToken)
    {
        await StopEveryServerOfAsync(database, "immediate", cancellationToken);
        LocalLayout.DeleteFolder(_layout.DatabaseFolder(database));
    }

    /// <summary>Stops a server running in the database's data folder or in a reset's spare one (.new, .old).</summary>
    private async Task StopEveryServerOfAsync(string database, string mode, CancellationToken cancellationToken)
    {
        var data = _layout.DatabaseData(database);
        foreach (var folder in new[] { data, data + ".new", data + ".old" })
            if (ServerPid(folder) is not null)
                await StopServerAsync(InstallationOf(folder), folder, mode, cancellationToken);
    }

    public bool IsRunning(string database) => ServerPid(_layout.DatabaseData(database)) is not null;

    private async Task StartAndSetPasswordAsync(DatabaseSpec spec, string activity, IProgress<DevDbProgress>? progress, CancellationToken cancellationToken)
    {
        var data = _layout.DatabaseData(spec.Name);
        var settings = $"port = {spec.Port}\nlisten_addresses = '{_network.ListenAddress}'\nunix_socket_directories = '{_layout.Run}'\n";
        if (!_network.IsLoopbackOnly)
        {
            // Reachable from other machines: any address may connect, but only with the password,
            // and traffic is encrypted for every client that asks (libpq and Npgsql do by default).
            var hba = Path.Combine(data, HbaFile);
            await File.WriteAllTextAsync(hba, "# Written by DevDb.\nlocal all all trust\nhost all all 0.0.0.0/0 scram-sha-256\nhost all all ::/0 scram-sha-256\n", cancellationToken);
            _serverUser.Own(hba);
            var (certificate, key) = await WriteServerCertificateAsync(data, cancellationToken);
            settings += $"hba_file = '{hba}'\nssl = on\nssl_cert_file = '{certificate}'\nssl_key_file = '{key}'\n";
        }
        await WriteServerConfigAsync(data, settings, cancellationToken);

        progress?.Report(new DevDbProgress(activity, $"Starting the server on {_network.ListenAddress}:{spec.Port}", 60));
        await StartServerAsync(InstallationOf(data), spec.Name, data, _layout.DatabaseLog(spec.Name), [], cancellationToken);

        progress?.Report(new DevDbProgress(activity, "Setting the login role's password", 80));
        await using (var admin = await OpenAdminAsync(_layout.Run, "postgres", cancellationToken, spec.Port))
        {
            // Keep the password out of the server log even if the statement fails.
            await ExecuteAsync(admin, "SET log_statement = 'none'; SET log_min_error_statement = 'panic'", cancellationToken);
            var role = Quote(spec.Username);
            var exists = await ScalarAsync(admin, "SELECT count(*) FROM pg_roles WHERE rolname = @p", spec.Username, cancellationToken);
            await ExecuteAsync(admin, (Convert.ToInt64(exists) == 0 ? "CREATE" : "ALTER")
                + $" ROLE {role} LOGIN SUPERUSER PASSWORD '{spec.Password}'", cancellationToken);
            await ExecuteAsync(admin, $"ALTER DATABASE {Quote(spec.DatabaseName)} OWNER TO {role}", cancellationToken);
        }

        progress?.Report(new DevDbProgress(activity, "Waiting for the server to answer", 90));
        await WaitUntilAnswersAsync(spec, cancellationToken);
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

    private async Task CloneImageAsync(DatabaseSpec spec, string target, CancellationToken cancellationToken)
    {
        var image = _layout.ImageFolder(spec.Project, spec.ImageRevision);
        if (!Directory.Exists(image))
            throw new DevDbException(ErrorCodes.ProjectNotReady, DevDbErrorCategory.InvalidOperation,
                $"Image r{spec.ImageRevision} of project '{spec.Project}' is missing from '{image}'.",
                $"Rebuild it with Update-DevDbProject -Name {spec.Project}.", spec.Project);
        await Task.Run(() => CopyTree(image, target, cancellationToken), cancellationToken);
    }

    /// <summary>
    /// Copies a data folder: folders first, then files in parallel (a cluster is over a thousand
    /// mostly small files). File.Copy makes copy-on-write clones where the file system can.
    /// </summary>
    private void CopyTree(string source, string target, CancellationToken cancellationToken)
    {
        var files = new List<(string From, string To)>();
        CreateFolders(source, target, files);
        Parallel.ForEach(files, new ParallelOptions { MaxDegreeOfParallelism = 2 * Environment.ProcessorCount, CancellationToken = cancellationToken },
            file =>
            {
                File.Copy(file.From, file.To);
                _serverUser.Own(file.To);
            });
    }

    /// <summary>Recreates the folder tree and its links, and lists the files to copy.</summary>
    private void CreateFolders(string source, string target, List<(string From, string To)> files)
    {
        CreateFolderLike(source, target);
        foreach (var entry in new DirectoryInfo(source).EnumerateFileSystemInfos())
        {
            var destination = Path.Combine(target, entry.Name);
            if (entry.LinkTarget is { } link)
            {
                File.CreateSymbolicLink(destination, link);
                _serverUser.Own(destination);
            }
            else if (entry is DirectoryInfo)
                CreateFolders(entry.FullName, destination, files);
            else
                files.Add((entry.FullName, destination));
        }
    }

    private void CreateFolderLike(string source, string target)
    {
        if (OperatingSystem.IsWindows()) Directory.CreateDirectory(target);
        else Directory.CreateDirectory(target, File.GetUnixFileMode(source));
        _serverUser.Own(target);
    }

    /// <summary>Writes devdb.conf, which postgresql.conf includes: where this server listens.</summary>
    private async Task WriteServerConfigAsync(string data, string settings, CancellationToken cancellationToken)
    {
        var path = Path.Combine(data, ConfigFile);
        await File.WriteAllTextAsync(path, "# Written by DevDb.\n" + settings.Replace("\\", "\\\\"), cancellationToken);
        _serverUser.Own(path);
    }

    /// <summary>
    /// A self-signed certificate for the server's TLS, made for the host clients are given. It
    /// encrypts; it cannot prove the server's identity to a client (no CA signed it).
    /// </summary>
    private async Task<(string Certificate, string Key)> WriteServerCertificateAsync(string data, CancellationToken cancellationToken)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var host = _network.ClientHost;
        var request = new CertificateRequest($"CN={host}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        if (IPAddress.TryParse(host, out var address)) names.AddIpAddress(address);
        else names.AddDnsName(host);
        request.CertificateExtensions.Add(names.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddYears(5));
        var certificatePath = Path.Combine(data, "devdb-server.crt");
        var keyPath = Path.Combine(data, "devdb-server.key");
        await File.WriteAllTextAsync(certificatePath, certificate.ExportCertificatePem(), cancellationToken);
        // Postgres refuses a key file that others can read.
        var keyOptions = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) keyOptions.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        await using (var keyFile = new StreamWriter(keyPath, keyOptions))
            await keyFile.WriteAsync(key.ExportPkcs8PrivateKeyPem());
        _serverUser.Own(certificatePath);
        _serverUser.Own(keyPath);
        return (certificatePath, keyPath);
    }

    private async Task InitClusterAsync(PostgresInstallation pg, string data, CancellationToken cancellationToken)
    {
        await RunCheckedAsync(_asServerUser, pg.Tool("initdb"),
            // 1 MB WAL segments: a clone copies the image's current segment, 1 MB instead of 16.
            ["-D", data, "-U", Superuser, "-E", "UTF8", "--locale=C", "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync", "--wal-segsize=1"],
            "create the image's cluster", cancellationToken);
        // Each clone writes its own port and addresses into devdb.conf.
        await File.AppendAllTextAsync(Path.Combine(data, "postgresql.conf"), $"\n# DevDb\ninclude_if_exists = '{ConfigFile}'\n", cancellationToken);
    }

    private async Task RestoreAsync(PostgresInstallation pg, LocalDump dump, string socket, Project project, string activity,
        IProgress<DevDbProgress>? progress, CancellationToken cancellationToken)
    {
        string[] connection = ["-h", socket, "-p", "5432", "-U", Superuser, "-d", project.DatabaseName];
        CommandResult result;
        if (dump.Format is DumpFormat.PlainSql or DumpFormat.GzipPlainSql)
        {
            progress?.Report(new DevDbProgress(activity, "Creating the roles the script names", 0));
            try
            {
                await CreateRolesOfScriptAsync(dump, socket, cancellationToken);
                progress?.Report(new DevDbProgress(activity, "Restoring with psql", 0));
                result = await RunPsqlWithDumpAsync();
            }
            catch (InvalidDataException e)
            {
                throw SourceErrors.Corrupt(project.Source, $"is corrupt or truncated: {e.Message}.",
                    "Make the dump again and check it was copied completely.", e);
            }

            Task<CommandResult> RunPsqlWithDumpAsync() => _asCurrentUser.RunAsync(pg.Tool("psql"), ["-X", "-q", "-v", "ON_ERROR_STOP=1", .. connection], cancellationToken,
                writeInput: async (input, ct) =>
                {
                    await using var file = File.OpenRead(dump.Path);
                    await using var script = OpenScript(dump, file);
                    var reported = -1;
                    await CopyWholeScriptAsync(script, input, () =>
                    {
                        // Share of the file read so far (compressed bytes for a gzipped script).
                        var percent = (int)(90 * file.Position / Math.Max(1, file.Length));
                        if (percent == reported) return;
                        reported = percent;
                        progress?.Report(new DevDbProgress(activity, "Restoring with psql", percent));
                    }, ct);
                });
        }
        else
        {
            var items = await CountArchiveItemsAsync(pg, dump.Path, cancellationToken);
            var jobs = dump.Format == DumpFormat.Tar ? 1 : Math.Clamp(Environment.ProcessorCount, 1, 8);
            var done = 0;
            progress?.Report(new DevDbProgress(activity, $"Restoring {items} items with pg_restore -j {jobs}", 0));
            result = await _asCurrentUser.RunAsync(pg.Tool("pg_restore"),
                ["--no-owner", "--no-acl", "--exit-on-error", "--verbose", "-j", jobs.ToString(), .. connection, dump.Path], cancellationToken,
                onErrorLine: line =>
                {
                    if (!line.StartsWith("pg_restore: creating ", StringComparison.Ordinal)
                        && !line.StartsWith("pg_restore: processing data", StringComparison.Ordinal)
                        && !line.StartsWith("pg_restore: launching item", StringComparison.Ordinal)) return;
                    var percent = (int)Math.Min(90, 90.0 * Interlocked.Increment(ref done) / Math.Max(1, items));
                    progress?.Report(new DevDbProgress(activity, line["pg_restore: ".Length..], percent));
                });
        }
        if (result.ExitCode == 0) return;
        var tail = ErrorLines(result);
        if (LooksCorrupt(tail))
            throw SourceErrors.Corrupt(project.Source, $"is corrupt or truncated: {tail}",
                "Make a new dump with pg_dump (e.g. pg_dump -Fc --no-owner --no-acl) and check it was copied completely.");
        throw new DevDbException(ErrorCodes.RestoreFailed, DevDbErrorCategory.InvalidData,
            $"Restoring project '{project.Name}' from '{project.Source}' failed: {tail}",
            "Fix the dump or the problem the restore tool names (often an extension that is not installed), then run Update-DevDbProject.", project.Name);
    }

    /// <summary>Creates, as NOLOGIN roles, the owners and grantees a plain SQL dump names that the cluster lacks.</summary>
    private static async Task CreateRolesOfScriptAsync(LocalDump dump, string socket, CancellationToken cancellationToken)
    {
        IReadOnlySet<string> roles;
        await using (var file = File.OpenRead(dump.Path))
        using (var reader = new StreamReader(OpenScript(dump, file), Encoding.UTF8))
            roles = await PlainSqlRoles.FindAsync(reader, cancellationToken);
        if (roles.Count == 0) return;
        await using var admin = await OpenAdminAsync(socket, "postgres", cancellationToken);
        foreach (var role in roles)
            if (Convert.ToInt64(await ScalarAsync(admin, "SELECT count(*) FROM pg_roles WHERE rolname = @p", role, cancellationToken)) == 0)
                await ExecuteAsync(admin, $"CREATE ROLE {Quote(role)} NOLOGIN", cancellationToken);
    }

    /// <summary>A plain SQL dump's text, decompressed when it is gzipped.</summary>
    private static Stream OpenScript(LocalDump dump, Stream file) =>
        dump.Format == DumpFormat.GzipPlainSql ? new GZipStream(file, CompressionMode.Decompress) : file;

    /// <summary>
    /// Feeds a plain SQL dump to psql. A script that pg_dump wrote ends with its "dump complete"
    /// footer; one cut short could otherwise restore "successfully" with part of the data.
    /// </summary>
    private static async Task CopyWholeScriptAsync(Stream script, Stream psqlInput, Action afterEachChunk, CancellationToken cancellationToken)
    {
        const string Header = "-- PostgreSQL database dump";
        const string Footer = "-- PostgreSQL database dump complete";
        var buffer = new byte[128 * 1024];
        var head = new List<byte>(64);
        var tail = new Queue<byte>(512);
        int read;
        while ((read = await script.ReadAsync(buffer, cancellationToken)) > 0)
        {
            await psqlInput.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            afterEachChunk();
            for (var i = 0; i < read && head.Count < 64; i++) head.Add(buffer[i]);
            for (var i = Math.Max(0, read - 512); i < read; i++)
            {
                if (tail.Count == 512) tail.Dequeue();
                tail.Enqueue(buffer[i]);
            }
        }
        var written = Encoding.UTF8.GetString(head.ToArray());
        if (written.Contains(Header, StringComparison.Ordinal) && !Encoding.UTF8.GetString(tail.ToArray()).Contains(Footer, StringComparison.Ordinal))
            throw new InvalidDataException("the script ends before pg_dump's \"dump complete\" footer");
    }

    private static bool LooksCorrupt(string errors) =>
        new[] { "not appear to be a valid archive", "end of file", "could not read from input file", "could not read input file",
                "did not find magic string", "could not find block", "unsupported version", "could not uncompress", "invalid distance",
                "unexpected EOF", "corrupt" }
            .Any(marker => errors.Contains(marker, StringComparison.OrdinalIgnoreCase));

    /// <summary>The tool's error lines (verbose progress lines left out).</summary>
    private static string ErrorLines(CommandResult result)
    {
        var lines = (result.StandardError + "\n" + result.StandardOutput).Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Where(l => l.Contains("error", StringComparison.OrdinalIgnoreCase) || l.Contains("FATAL") || l.Contains("ERROR")
                        || l.StartsWith("LINE ") || l.StartsWith("DETAIL") || l.StartsWith("HINT") || l.StartsWith("Command was"))
            .Take(8).ToList();
        return lines.Count > 0 ? string.Join(Environment.NewLine, lines) : result.Tail();
    }

    private async Task<int> CountArchiveItemsAsync(PostgresInstallation pg, string path, CancellationToken cancellationToken)
    {
        var list = await _asCurrentUser.RunAsync(pg.Tool("pg_restore"), ["-l", path], cancellationToken);
        return list.ExitCode != 0 ? 0 : list.StandardOutput.Split('\n').Count(l => l.Length > 0 && !l.StartsWith(';'));
    }

    private async Task RunPostRestoreSqlAsync(PostgresInstallation pg, string socket, Project project, CancellationToken cancellationToken)
    {
        var result = await _asCurrentUser.RunAsync(pg.Tool("psql"),
            ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-1", "-h", socket, "-p", "5432", "-U", Superuser, "-d", project.DatabaseName], cancellationToken,
            writeInput: async (input, ct) => await input.WriteAsync(Encoding.UTF8.GetBytes(project.PostRestoreSql!), ct));
        if (result.ExitCode != 0)
            throw new DevDbException(ErrorCodes.PostRestoreSqlFailed, DevDbErrorCategory.InvalidData,
                $"The post-restore SQL of project '{project.Name}' failed, so no image was published: {ErrorLines(result)}",
                "Fix the SQL and run Update-DevDbProject with -PostRestoreSql.", project.Name);
    }

    /// <summary>
    /// Starts a detached postmaster and returns once it accepts connections. pg_ctl's own wait
    /// (-w) polls every 100 ms, most of a clone's start-up time, so DevDb starts it without
    /// waiting (-W) and watches the server's lock file and log itself.
    /// </summary>
    /// <param name="name">What the server is for, in messages: the database, or the image being restored.</param>
    private async Task StartServerAsync(PostgresInstallation pg, string name, string data, string log, IEnumerable<string> settings,
        CancellationToken cancellationToken)
    {
        var lockFile = Path.Combine(data, "postmaster.pid");
        // A lock file left by a crash can say "ready" before the new server rewrites it.
        if (Directory.Exists(data) && ServerPid(data) is null) File.Delete(lockFile);
        var logStart = File.Exists(log) ? new FileInfo(log).Length : 0;

        var options = string.Join(' ', settings.Select(s => "-c " + s));
        List<string> arguments = ["start", "-D", data, "-l", log, "-W", "-s"];
        if (options.Length > 0) arguments.AddRange(["-o", options]);
        var result = await _asServerUser.RunAsync(pg.Tool("pg_ctl"), arguments, cancellationToken);

        var waited = Stopwatch.StartNew();
        string? problem = result.ExitCode != 0 ? result.Tail() : null;
        while (problem is null)
        {
            if (ReadLockFile(lockFile) is { Length: >= 8 } lines && lines[7].Trim() == "ready") return;
            var logged = ReadLogSince(log, logStart);
            if (logged.Contains("FATAL:", StringComparison.Ordinal) || logged.Contains("PANIC:", StringComparison.Ordinal))
                problem = "";
            else if (waited.Elapsed > TimeSpan.FromSeconds(60))
                problem = "it was not ready after 60 s.";
            else
                await Task.Delay(5, cancellationToken);
        }

        var logTail = string.Join(Environment.NewLine, ReadLogSince(log, logStart).Split('\n', StringSplitOptions.RemoveEmptyEntries).TakeLast(8));
        if (ServerPid(data) is not null) await StopServerAsync(pg, data, "immediate", CancellationToken.None);
        if (logTail.Contains("Address already in use", StringComparison.Ordinal))
            throw new DevDbException(ErrorCodes.PortInUse, DevDbErrorCategory.ResourceUnavailable,
                $"The server of '{name}' cannot listen on its port, another program holds it: {logTail}",
                "Stop the program using that port, or remove and re-create the database to get another port.", name);
        throw new DevDbException(ErrorCodes.ServerStartFailed, DevDbErrorCategory.ResourceUnavailable,
            $"The Postgres server of '{name}' did not start: {problem} {logTail}".Trim(),
            $"Read the server log '{log}' for the cause.", name);
    }

    private static string[]? ReadLockFile(string path)
    {
        try
        {
            return File.ReadAllLines(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>What the server has written to its log since <paramref name="offset"/>.</summary>
    private static string ReadLogSince(string log, long offset)
    {
        try
        {
            using var stream = new FileStream(log, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            if (stream.Length <= offset) return "";
            stream.Position = offset;
            return new StreamReader(stream).ReadToEnd();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }

    private async Task StopServerAsync(PostgresInstallation pg, string data, string mode, CancellationToken cancellationToken)
    {
        var result = await _asServerUser.RunAsync(pg.Tool("pg_ctl"), ["stop", "-D", data, "-m", mode, "-w", "-t", "60", "-s"], cancellationToken);
        if (result.ExitCode != 0 && ServerPid(data) is not null)
            throw new DevDbException(ErrorCodes.ServerStartFailed, DevDbErrorCategory.ResourceUnavailable,
                $"The Postgres server in '{data}' did not stop: {result.Tail()}", "Stop it by hand (pg_ctl stop -D <folder>) and try again.", data);
    }

    /// <summary>The postmaster's process id if one is running for this data folder.</summary>
    private static int? ServerPid(string data)
    {
        try
        {
            var first = File.ReadLines(Path.Combine(data, "postmaster.pid")).FirstOrDefault();
            if (!int.TryParse(first, out var pid)) return null;
            using var process = Process.GetProcessById(pid);
            return process.HasExited ? null : pid;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>The installation matching a data folder's PG_VERSION.</summary>
    private static PostgresInstallation InstallationOf(string data)
    {
        var version = File.Exists(Path.Combine(data, "PG_VERSION")) && int.TryParse(File.ReadAllText(Path.Combine(data, "PG_VERSION")).Trim(), out var major)
            ? major : (int?)null;
        return PostgresInstallation.Find(version);
    }

    private static async Task<NpgsqlConnection> OpenAdminAsync(string socketFolder, string database, CancellationToken cancellationToken, int port = 5432)
    {
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder
        {
            Host = socketFolder, Port = port, Username = Superuser, Database = database, Pooling = false, Timeout = 15, CommandTimeout = 0,
        }.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        return connection;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task<object?> ScalarAsync(NpgsqlConnection connection, string sql, string parameter, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("p", parameter);
        return await command.ExecuteScalarAsync(cancellationToken);
    }

    private static async Task RunCheckedAsync(CommandRunner runner, string tool, IEnumerable<string> arguments, string purpose, CancellationToken cancellationToken)
    {
        var result = await runner.RunAsync(tool, arguments, cancellationToken);
        if (result.ExitCode != 0)
            throw new DevDbException(ErrorCodes.ServerStartFailed, DevDbErrorCategory.ResourceUnavailable,
                $"Could not {purpose}: {Path.GetFileName(tool)} said: {result.Tail()}",
                "Check that the Postgres installation works and that the server user can write under DEVDB_HOME.", tool);
    }

    private static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"") + "\"";

    private static long FolderSize(string folder) =>
        new DirectoryInfo(folder).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length);

    private string BuildingFolder(string project, int revision) => _layout.ImageFolder(project, revision) + ".building";
    private string WorkFolder(string project, int revision) => Path.Combine(_layout.Work, $"image-{project}-{revision}");

    /// <summary>Socket folder of an image build's private server: short, and derived so recovery can find it.</summary>
    private string BuildSocketFolder(string project, int revision) =>
        Path.Combine(_layout.Run, "b-" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes($"{project}/{revision}")))[..10].ToLowerInvariant());
}
