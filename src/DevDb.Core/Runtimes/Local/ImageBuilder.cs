using System.IO.Compression;
using System.Text.RegularExpressions;
using DevDb.Core.Client;
using DevDb.Core.Engine;
using DevDb.Core.Model;
using DevDb.Core.Postgres;
using DevDb.Core.Sources;
using Npgsql;

namespace DevDb.Core.Runtimes.Local;

/// <summary>
/// Restores a dump into a new cluster with the least privilege that works. The restore server
/// and its tools (pg_restore, psql) run as the build user, never root, with none of DevDb's
/// environment; the dump's SQL and the post-restore SQL run as <see cref="ClusterRoles.Owner"/>,
/// which is no superuser, so neither can run programs or read files on this machine. A plain SQL
/// dump is read whole first and refused if it holds a psql command (<see cref="PsqlScript"/>).
/// </summary>
internal sealed partial class ImageBuilder(ServerUser builder)
{
    /// <summary>Settings for the restore only, passed on the command line so none outlives it.</summary>
    private static readonly string[] RestoreSettings =
    [
        "fsync=off", "synchronous_commit=off", "full_page_writes=off", "wal_level=minimal", "max_wal_senders=0",
        "archive_mode=off", "max_wal_size=16GB", "min_wal_size=2MB", "checkpoint_timeout=1h", "autovacuum=off",
        "maintenance_work_mem=512MB", "shared_buffers=256MB",
    ];

    private const int Port = 5432;
    private readonly CommandRunner _asBuilder = new(builder);

    /// <summary>
    /// DevDb's own identity may use the socket as admin and as owner (for the post-restore SQL);
    /// the build user, which runs pg_restore and psql, only as owner.
    /// </summary>
    private IReadOnlyList<ClientAuthentication.PeerLogin> Peers =>
    [
        new(ServerUser.Current.PeerName, ClusterRoles.Admin),
        new(ServerUser.Current.PeerName, ClusterRoles.Owner),
        new(builder.PeerName, ClusterRoles.Owner),
    ];

    /// <summary>Restores <paramref name="dump"/> into <paramref name="data"/> and leaves it cleanly shut down and synced.</summary>
    public async Task BuildAsync(Project project, int revision, LocalDump dump, string data, string socket, string work, string activity,
        IProgress<DevDbProgress>? progress, CancellationToken cancellationToken)
    {
        var pg = PostgresInstallation.Find(project.PostgresVersion);
        dump = GiveToBuilder(dump, work);

        progress?.Report(new DevDbProgress(activity, "Creating an empty cluster"));
        await RunCheckedAsync(pg.Tool("initdb"),
            // 1 MB WAL segments: a clone copies the image's current segment, 1 MB instead of 16.
            ["-D", data, "-U", ClusterRoles.Admin, "-E", "UTF8", "--locale=C", "--auth=reject", "--no-sync", "--wal-segsize=1"],
            "create the image's cluster", cancellationToken);
        await File.AppendAllTextAsync(Path.Combine(data, "postgresql.conf"), ServerFiles.IncludeLine, cancellationToken);
        // The restore server takes no TCP connections; its socket sits in a folder of its own.
        await ServerFiles.WriteConfigAsync(data, builder, $"listen_addresses = ''\nunix_socket_directories = '{socket}'\n", cancellationToken);
        await ServerFiles.WriteAccessAsync(data, builder, Peers, tcp: false, anyAddress: false, cancellationToken);
        await Postmaster.StartAsync(builder, pg, $"{project.Name} r{revision} (restore)", data, Path.Combine(socket, "server.log"), RestoreSettings, cancellationToken);
        await using (var admin = await AdminSql.OpenAsync(socket, Port, ClusterRoles.Admin, "postgres", cancellationToken))
        {
            // LOGIN for the restore only, through the socket (no password exists); the image keeps it NOLOGIN.
            await AdminSql.ExecuteAsync(admin, $"CREATE ROLE {ClusterRoles.Owner} LOGIN", cancellationToken);
            await AdminSql.ExecuteAsync(admin,
                $"CREATE DATABASE {AdminSql.Quote(project.DatabaseName)} OWNER {ClusterRoles.Owner} TEMPLATE template0 ENCODING 'UTF8'", cancellationToken);
        }

        if (dump.Format is DumpFormat.PlainSql or DumpFormat.GzipPlainSql)
            await RestoreScriptAsync(pg, dump, socket, project, activity, progress, cancellationToken);
        else
            await RestoreArchiveAsync(pg, dump, socket, project, activity, progress, cancellationToken);

        if (!string.IsNullOrWhiteSpace(project.PostRestoreSql))
        {
            progress?.Report(new DevDbProgress(activity, "Running the post-restore SQL", 95));
            await RunPostRestoreSqlAsync(socket, project, cancellationToken);
        }

        progress?.Report(new DevDbProgress(activity, "Analyzing", 97));
        await using (var admin = await AdminSql.OpenAsync(socket, Port, ClusterRoles.Admin, project.DatabaseName, cancellationToken))
        {
            await AdminSql.ExecuteAsync(admin, "ANALYZE", cancellationToken);
            await AdminSql.ExecuteAsync(admin, $"ALTER ROLE {ClusterRoles.Owner} NOLOGIN", cancellationToken);
        }

        progress?.Report(new DevDbProgress(activity, "Shutting down cleanly", 99));
        await Postmaster.StopAsync(pg, data, "fast", cancellationToken);
        File.Delete(Path.Combine(data, ServerFiles.ConfigFile));
        // The restore ran with fsync off: flush everything once before the image is published.
        await RunCheckedAsync(pg.Tool("initdb"), ["--sync-only", "-D", data], "sync the image", cancellationToken);
    }

    /// <summary>
    /// The build user reads archives by path; DevDb's work folder is given to it, and a dump on
    /// this machine that only DevDb's user may read is copied in first (a clone where the file
    /// system can). psql reads a script from DevDb through its input, so scripts are never copied.
    /// </summary>
    private LocalDump GiveToBuilder(LocalDump dump, string work)
    {
        if (!builder.RunsAsOtherUser) return dump;
        if (!dump.IsDownload && dump.Format is not (DumpFormat.PlainSql or DumpFormat.GzipPlainSql))
        {
            var copy = Path.Combine(work, "dump" + (dump.Format == DumpFormat.Directory ? ".dir" : ""));
            if (dump.Format == DumpFormat.Directory) DataFolders.Copy(dump.Path, copy, ServerUser.Current, CancellationToken.None);
            else File.Copy(dump.Path, copy);
            dump = dump with { Path = copy };
        }
        builder.OwnTree(work);
        return dump;
    }

    private async Task RestoreArchiveAsync(PostgresInstallation pg, LocalDump dump, string socket, Project project, string activity,
        IProgress<DevDbProgress>? progress, CancellationToken cancellationToken)
    {
        var items = await CountArchiveItemsAsync(pg, dump.Path, cancellationToken);
        var jobs = dump.Format == DumpFormat.Tar ? 1 : Math.Clamp(Environment.ProcessorCount, 1, 8);
        var done = 0;
        progress?.Report(new DevDbProgress(activity, $"Restoring {items} items with pg_restore -j {jobs}", 0));
        var result = await _asBuilder.RunAsync(pg.Tool("pg_restore"),
            ["--no-owner", "--no-acl", "--exit-on-error", "--verbose", "-j", jobs.ToString(), .. Connection(socket, project), dump.Path], cancellationToken,
            onErrorLine: line =>
            {
                if (!line.StartsWith("pg_restore: creating ", StringComparison.Ordinal)
                    && !line.StartsWith("pg_restore: processing data", StringComparison.Ordinal)
                    && !line.StartsWith("pg_restore: launching item", StringComparison.Ordinal)) return;
                var percent = (int)Math.Min(90, 90.0 * Interlocked.Increment(ref done) / Math.Max(1, items));
                progress?.Report(new DevDbProgress(activity, line["pg_restore: ".Length..], percent));
            });
        if (result.ExitCode != 0) throw RestoreFailure(project, result);
    }

    private async Task RestoreScriptAsync(PostgresInstallation pg, LocalDump dump, string socket, Project project, string activity,
        IProgress<DevDbProgress>? progress, CancellationToken cancellationToken)
    {
        progress?.Report(new DevDbProgress(activity, "Reading the script before anything of it runs", 0));
        PsqlScriptFacts facts;
        try
        {
            await using var file = File.OpenRead(dump.Path);
            await using var script = OpenScript(dump, file);
            facts = await PsqlScript.InspectAsync(script, project.Source, cancellationToken);
        }
        catch (InvalidDataException e)
        {
            throw DevDbErrors.DumpCorrupt(project.Source, $"is corrupt or truncated: {e.Message}.", "Make the dump again and check it was copied completely.", e);
        }

        progress?.Report(new DevDbProgress(activity, "Creating the roles the script names", 0));
        await CreateRolesAsync(facts.Roles, socket, project, cancellationToken);

        progress?.Report(new DevDbProgress(activity, "Restoring with psql", 0));
        var result = await _asBuilder.RunAsync(pg.Tool("psql"), ["-X", "-q", "-v", "ON_ERROR_STOP=1", .. Connection(socket, project)], cancellationToken,
            writeInput: async (input, ct) =>
            {
                await using var file = File.OpenRead(dump.Path);
                await using var script = OpenScript(dump, file);
                var reported = -1;
                await PsqlScript.WriteRestrictedAsync(script, input, project.Source, () =>
                {
                    // Share of the file read so far (compressed bytes for a gzipped script).
                    var percent = (int)(90 * file.Position / Math.Max(1, file.Length));
                    if (percent == reported) return;
                    reported = percent;
                    progress?.Report(new DevDbProgress(activity, "Restoring with psql", percent));
                }, ct);
            });
        if (result.ExitCode == 0) return;
        if (result.StandardError.Contains(PsqlScript.RestrictedModeRefusal, StringComparison.Ordinal))
        {
            // The reading above found nothing, yet psql was asked to run a command (e.g. SQL that changed how psql reads strings).
            throw DevDbErrors.DumpUnsafe(project.Source, line: null, "a psql command, which psql's restricted mode refused before it ran");
        }
        throw RestoreFailure(project, result);
    }

    /// <summary>Creates the roles a script names (<see cref="ScriptRoles"/>), as the admin, in the project's database.</summary>
    private static async Task CreateRolesAsync(IReadOnlySet<string> roles, string socket, Project project, CancellationToken cancellationToken)
    {
        if (roles.Count == 0) return;
        await using var admin = await AdminSql.OpenAsync(socket, Port, ClusterRoles.Admin, project.DatabaseName, cancellationToken);
        await AdminSql.ExecuteAsync(admin, ScriptRoles.SetUpSql(roles), cancellationToken);
    }

    /// <summary>Post-restore SQL is SQL: sent by DevDb as one transaction of the owner's, never through psql.</summary>
    private static async Task RunPostRestoreSqlAsync(string socket, Project project, CancellationToken cancellationToken)
    {
        await using var owner = await AdminSql.OpenAsync(socket, Port, ClusterRoles.Owner, project.DatabaseName, cancellationToken);
        try
        {
            await using var transaction = await owner.BeginTransactionAsync(cancellationToken);
            await using (var command = new NpgsqlCommand(project.PostRestoreSql, owner, transaction))
                await command.ExecuteNonQueryAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        catch (PostgresException e)
        {
            throw DevDbErrors.PostRestoreSqlFailed(project.Name, $"{e.SqlState}: {e.MessageText}" + (e.Position > 0 ? $" (at character {e.Position})" : ""), e);
        }
    }

    private static string[] Connection(string socket, Project project) =>
        ["-h", socket, "-p", Port.ToString(), "-U", ClusterRoles.Owner, "-d", project.DatabaseName];

    /// <summary>A plain SQL dump's text, decompressed when it is gzipped.</summary>
    private static Stream OpenScript(LocalDump dump, Stream file) =>
        dump.Format == DumpFormat.GzipPlainSql ? new GZipStream(file, CompressionMode.Decompress) : file;

    private static DevDbException RestoreFailure(Project project, CommandResult result)
    {
        var tail = ErrorLines(result);
        if (ArchiveVersion().Match(tail) is { Success: true } version)
            return DumpVersionUnsupported(project, version.Groups[1].Value);
        if (LooksCorrupt(tail))
            return DevDbErrors.DumpCorrupt(project.Source, $"is corrupt or truncated: {tail}",
                "Make a new dump with pg_dump (e.g. pg_dump -Fc --no-owner --no-acl) and check it was copied completely.");
        return DevDbErrors.RestoreFailed(
            $"Restoring project '{project.Name}' from '{DevDbErrors.ShownSource(project.Source)}' failed: {tail}",
            "Fix the dump or the problem the restore tool names, then run Update-DevDbProject. The restore runs as the database's owner, not a superuser: " +
            "objects that need one (untrusted extensions or languages, event triggers, C functions) cannot be restored.", project.Name);
    }

    [GeneratedRegex(@"unsupported version \((\d+\.\d+)\) in file header")]
    private static partial Regex ArchiveVersion();

    /// <summary>pg_dump's archive format versions and the first PostgreSQL whose pg_dump writes each (pg_backup_archiver.h).</summary>
    private static readonly Dictionary<string, int> FirstPostgresWriting = new() { ["1.14"] = 12, ["1.15"] = 16, ["1.16"] = 17 };

    private static DevDbException DumpVersionUnsupported(Project project, string archiveVersion)
    {
        var made = FirstPostgresWriting.TryGetValue(archiveVersion, out var major) ? $"PostgreSQL {major} or later" : "a PostgreSQL newer than 17";
        var reads = FirstPostgresWriting.Where(v => v.Value <= project.PostgresVersion).Select(v => v.Key).DefaultIfEmpty("1.14").Max();
        return DevDbErrors.DumpVersionUnsupported(project.Name,
            $"The dump '{DevDbErrors.ShownSource(project.Source)}' was made by the pg_dump of {made} (archive format {archiveVersion}); " +
            $"project '{project.Name}' restores with PostgreSQL {project.PostgresVersion}'s pg_restore, which reads archive formats up to {reads}.",
            FirstPostgresWriting.TryGetValue(archiveVersion, out var needed)
                ? $"Install PostgreSQL {needed} (server and client) and create the project with -PostgresVersion {needed}, or dump again with the pg_dump of PostgreSQL {project.PostgresVersion}."
                : $"Dump again with the pg_dump of PostgreSQL {project.PostgresVersion}, or install the PostgreSQL that made the dump.");
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
            .Take(8).Select(l => l.Length > 300 ? l[..300] + "..." : l).ToList();
        return lines.Count > 0 ? string.Join(Environment.NewLine, lines) : result.Tail();
    }

    private async Task<int> CountArchiveItemsAsync(PostgresInstallation pg, string path, CancellationToken cancellationToken)
    {
        var list = await _asBuilder.RunAsync(pg.Tool("pg_restore"), ["-l", path], cancellationToken);
        return list.ExitCode != 0 ? 0 : list.StandardOutput.Split('\n').Count(l => l.Length > 0 && !l.StartsWith(';'));
    }

    private async Task RunCheckedAsync(string tool, IEnumerable<string> arguments, string purpose, CancellationToken cancellationToken)
    {
        var result = await _asBuilder.RunAsync(tool, arguments, cancellationToken);
        if (result.ExitCode != 0)
            throw DevDbErrors.ServerSetupFailed(purpose, $"{Path.GetFileName(tool)} said: {result.Tail()}",
                "Check that the Postgres installation works and that the server user can write under DEVDB_HOME.", tool);
    }
}
