using System.Globalization;
using DevDb.Core.Runtimes.Local;
using DevDb.Core.Sources;

namespace DevDb.Testing;

/// <summary>
/// A throwaway PostgreSQL server for tests: initdb in a temp folder under /tmp (as the server user
/// when root), listening on a free 127.0.0.1 port and on a unix socket in that folder, trust auth
/// for the superuser <see cref="Superuser"/>. Disposing stops it and deletes the folder, even when
/// start-up failed half way.
/// </summary>
public sealed class ScratchPostgres : IAsyncDisposable
{
    public const string Superuser = "postgres";

    private readonly TempFolder _folder;
    private readonly CommandRunner _server;
    // Client tools run as the current user, so the files they write belong to the test.
    private readonly CommandRunner _client = new(ServerUser.Current);

    private ScratchPostgres(TempFolder folder, CommandRunner server, PostgresInstallation installation)
    {
        _folder = folder;
        _server = server;
        Installation = installation;
    }

    public PostgresInstallation Installation { get; }
    public int Port { get; private set; }
    public string DataDirectory => _folder.Combine("data");
    public string SocketDirectory => _folder.Path;

    /// <summary>An Npgsql connection string for <paramref name="database"/> over TCP.</summary>
    public string ConnectionString(string database = "postgres") =>
        $"Host=127.0.0.1;Port={Port};Username={Superuser};Database={database};Pooling=false";

    public static async Task<ScratchPostgres> StartAsync(CancellationToken cancellationToken = default)
    {
        var server = new CommandRunner(ServerUser.Resolve());
        var scratch = new ScratchPostgres(new TempFolder("devdb-pg"), server, PostgresInstallation.Find(null));
        try
        {
            server.ServerUser.Own(scratch.SocketDirectory);
            await scratch.RunCheckedAsync(server, "initdb",
                ["-D", scratch.DataDirectory, "-U", Superuser, "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync"],
                cancellationToken);
            await scratch.StartServerAsync(cancellationToken);
            return scratch;
        }
        catch
        {
            await scratch.DisposeAsync();
            throw;
        }
    }

    private async Task StartServerAsync(CancellationToken cancellationToken)
    {
        // A free port can be taken by someone else before the server binds it: try a few.
        for (var attempt = 1; ; attempt++)
        {
            Port = FreePort.Next();
            var options = $"-p {Port} -k {SocketDirectory} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off";
            var result = await _server.RunAsync(Installation.Tool("pg_ctl"),
                ["start", "-D", DataDirectory, "-w", "-t", "60", "-l", _folder.Combine("server.log"), "-o", options],
                cancellationToken);
            if (result.ExitCode == 0) return;
            var log = File.Exists(_folder.Combine("server.log")) ? File.ReadAllText(_folder.Combine("server.log")) : "";
            if (attempt < 3 && log.Contains("could not bind", StringComparison.Ordinal)) continue;
            throw new InvalidOperationException($"pg_ctl start failed ({result.ExitCode}): {result.Tail()}\n{log}");
        }
    }

    /// <summary>Runs psql with ON_ERROR_STOP against <paramref name="database"/>; throws with psql's words on failure.</summary>
    public Task<CommandResult> PsqlAsync(string database, IEnumerable<string> arguments, CancellationToken cancellationToken = default) =>
        RunCheckedAsync(_client, "psql",
            ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", SocketDirectory, "-p", Port.ToString(CultureInfo.InvariantCulture),
             "-U", Superuser, "-d", database, .. arguments],
            cancellationToken);

    public Task CreateDatabaseAsync(string name, CancellationToken cancellationToken = default) =>
        PsqlAsync("postgres", ["-c", $"CREATE DATABASE \"{name}\""], cancellationToken);

    public Task RunSqlAsync(string sql, string database = "app", CancellationToken cancellationToken = default) =>
        PsqlAsync(database, ["-c", sql], cancellationToken);

    public Task RunSqlFileAsync(string path, string database = "app", CancellationToken cancellationToken = default) =>
        PsqlAsync(database, ["-f", path], cancellationToken);

    /// <summary>The first column of the first row of <paramref name="sql"/>, as text.</summary>
    public async Task<string> QueryScalarAsync(string sql, string database = "app", CancellationToken cancellationToken = default) =>
        (await PsqlAsync(database, ["-A", "-t", "-c", sql], cancellationToken)).StandardOutput.Trim();

    /// <summary>Dumps <paramref name="database"/> with pg_dump in <paramref name="format"/> to <paramref name="path"/> (a folder for Directory).</summary>
    /// <param name="keepOwnersAndGrants">Dump ownership and privileges too, as pg_dump does by default.</param>
    public Task DumpAsync(DumpFormat format, string path, string database = "app", CancellationToken cancellationToken = default,
        bool keepOwnersAndGrants = false)
    {
        string[] formatArguments = format switch
        {
            DumpFormat.Custom => ["-Fc"],
            DumpFormat.Tar => ["-Ft"],
            DumpFormat.Directory => ["-Fd"],
            DumpFormat.PlainSql => ["-Fp"],
            // pg_dump -Fp -Z gzips the whole script, as if piped through gzip.
            DumpFormat.GzipPlainSql => ["-Fp", "-Z", "6"],
            _ => throw new ArgumentOutOfRangeException(nameof(format), format, null),
        };
        return RunCheckedAsync(_client, "pg_dump",
            ["-h", SocketDirectory, "-p", Port.ToString(CultureInfo.InvariantCulture), "-U", Superuser, "-d", database,
             .. (keepOwnersAndGrants ? Array.Empty<string>() : ["--no-owner", "--no-acl"]), .. formatArguments, "-f", path],
            cancellationToken);
    }

    /// <summary>Restores a custom, tar or directory dump into an existing <paramref name="database"/> with pg_restore.</summary>
    public Task RestoreAsync(string dumpPath, string database, CancellationToken cancellationToken = default) =>
        RunCheckedAsync(_client, "pg_restore",
            ["-h", SocketDirectory, "-p", Port.ToString(CultureInfo.InvariantCulture), "-U", Superuser, "-d", database,
             "--no-owner", "--no-acl", "--exit-on-error", dumpPath],
            cancellationToken);

    private async Task<CommandResult> RunCheckedAsync(CommandRunner runner, string tool, IEnumerable<string> arguments,
        CancellationToken cancellationToken)
    {
        var result = await runner.RunAsync(Installation.Tool(tool), arguments, cancellationToken);
        if (result.ExitCode != 0)
            throw new InvalidOperationException($"{tool} failed with exit code {result.ExitCode}: {result.Tail()}");
        return result;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (File.Exists(Path.Combine(DataDirectory, "postmaster.pid")))
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                var stop = await _server.RunAsync(Installation.Tool("pg_ctl"),
                    ["stop", "-D", DataDirectory, "-m", "immediate", "-w"], timeout.Token);
                if (stop.ExitCode != 0) KillPostmaster();
            }
        }
        catch (Exception e) when (e is OperationCanceledException or InvalidOperationException or IOException)
        {
            KillPostmaster();
        }
        finally
        {
            _folder.Dispose();
        }
    }

    private void KillPostmaster()
    {
        try
        {
            var pidLine = File.ReadLines(Path.Combine(DataDirectory, "postmaster.pid")).First();
            using var postmaster = System.Diagnostics.Process.GetProcessById(int.Parse(pidLine, CultureInfo.InvariantCulture));
            postmaster.Kill(entireProcessTree: true);
            postmaster.WaitForExit(5000);
        }
        catch (Exception e) when (e is IOException or ArgumentException or InvalidOperationException or FormatException)
        {
            // No pid file or no such process: nothing is running.
        }
    }
}
