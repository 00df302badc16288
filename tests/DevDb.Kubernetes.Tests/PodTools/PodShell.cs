using System.Diagnostics;
using System.Globalization;
using DevDb.Core.Runtimes.Local;

namespace DevDb.Kubernetes.Tests.PodTools;

/// <summary>
/// Runs the pod scripts the way their containers do: <c>sh</c> as the unprivileged postgres OS user,
/// with the Postgres 15 bin folder first on PATH (as in the official postgres image) and only the
/// environment the pod would give. Also starts a finished data folder on a free TCP port, as a database pod would.
/// </summary>
internal static class PodShell
{
    public const string PgBin = "/usr/lib/postgresql/15/bin";

    public static readonly ServerUser PostgresUser = ServerUser.Resolve();

    public sealed record Result(int ExitCode, string StandardOutput, string StandardError)
    {
        public string Output => StandardOutput + StandardError;
    }

    /// <summary>Runs <paramref name="script"/> (the text a container gets) exactly as the pod spec does: <c>sh -c &lt;script&gt;</c>.</summary>
    public static Task<Result> RunScriptAsync(string script, IReadOnlyDictionary<string, string> environment) =>
        RunAsUserAsync("sh", ["-c", script], environment);

    public static async Task<Result> RunAsUserAsync(string file, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null,
        string? standardInput = null)
    {
        var start = new ProcessStartInfo
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = standardInput is not null,
            UseShellExecute = false,
        };
        if (PostgresUser.RunsAsOtherUser)
        {
            start.FileName = "runuser";
            foreach (var argument in new[] { "-u", PostgresUser.Name!, "--", file }) start.ArgumentList.Add(argument);
        }
        else
        {
            start.FileName = file;
        }
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        // A pod's environment, not the test host's (no AWS_* or DEVDB_* leaking in).
        start.Environment.Clear();
        start.Environment["PATH"] = $"{PgBin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
        start.Environment["LANG"] = "C.UTF-8";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (standardInput is not null)
        {
            await process.StandardInput.WriteAsync(standardInput);
            process.StandardInput.Close();
        }
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', start.ArgumentList)} did not finish within 3 minutes.");
        }
        return new Result(process.ExitCode, await output, await error);
    }

    /// <summary>Gives <paramref name="folder"/> and everything in it to the postgres user (the pod's volume is owned by uid 999).</summary>
    public static void OwnRecursively(string folder)
    {
        PostgresUser.Own(folder);
        foreach (var entry in Directory.EnumerateFileSystemEntries(folder, "*", SearchOption.AllDirectories)) PostgresUser.Own(entry);
    }

    /// <summary>The cluster state pg_controldata reports, e.g. "shut down".</summary>
    public static async Task<string> ClusterStateAsync(string pgdata)
    {
        var result = await RunAsUserAsync(Path.Combine(PgBin, "pg_controldata"), [pgdata]);
        var line = result.StandardOutput.Split('\n').FirstOrDefault(l => l.StartsWith("Database cluster state:", StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"pg_controldata printed no state: {result.Output}");
        return line["Database cluster state:".Length..].Trim();
    }

    /// <summary>
    /// Starts <paramref name="pgdata"/> the way the database pod's postgres container does (its own
    /// postgresql.conf and pg_hba.conf), on a free 127.0.0.1 port, with the socket and log in <paramref name="runFolder"/>.
    /// </summary>
    public static async Task<RunningServer> StartAsync(string pgdata, string runFolder)
    {
        var port = FreePort.Next();
        var log = Path.Combine(runFolder, $"server-{port}.log");
        var started = await RunAsUserAsync(Path.Combine(PgBin, "pg_ctl"),
            ["start", "-D", pgdata, "-w", "-t", "60", "-l", log, "-o", $"-p {port} -k {runFolder}"]);
        if (started.ExitCode != 0)
            throw new InvalidOperationException($"pg_ctl start failed: {started.Output}\n{(File.Exists(log) ? File.ReadAllText(log) : "")}");
        return new RunningServer(pgdata, runFolder, port, log);
    }

    public sealed class RunningServer(string pgdata, string socketFolder, int port, string log) : IAsyncDisposable
    {
        public int Port { get; } = port;
        public string LogFile { get; } = log;

        /// <summary>psql as DevDb's admin over the local socket (peer: the pod's postgres OS user), one value.</summary>
        public async Task<string> QueryAsync(string sql, string database = "app")
        {
            var result = await RunAsUserAsync(Path.Combine(PgBin, "psql"),
                ["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", socketFolder, "-p", Port.ToString(CultureInfo.InvariantCulture),
                 "-U", DevDb.Core.Postgres.ClusterRoles.Admin, "-d", database, "-c", sql]);
            if (result.ExitCode != 0) throw new InvalidOperationException($"psql failed: {result.Output}");
            return result.StandardOutput.Trim();
        }

        public async ValueTask DisposeAsync()
        {
            await RunAsUserAsync(Path.Combine(PgBin, "pg_ctl"), ["stop", "-D", pgdata, "-m", "fast", "-w"]);
        }
    }
}
