using System.Diagnostics;

namespace DevDb.Core.Runtimes.Local;

/// <summary>
/// Starting and stopping a Postgres server of one data folder, as the user that owns it, and
/// telling whether one runs. pg_ctl's own wait (-w) polls every 100 ms, most of a clone's
/// start-up time, so DevDb starts and stops it without waiting (-W) and watches the lock file and log itself.
/// </summary>
internal static class Postmaster
{
    /// <summary>Starts a detached postmaster and returns once it accepts connections.</summary>
    /// <param name="name">What the server is for, in messages: the database, or the image being restored.</param>
    public static async Task StartAsync(ServerUser user, PostgresInstallation pg, string name, string data, string log,
        IEnumerable<string> settings, CancellationToken cancellationToken)
    {
        var lockFile = Path.Combine(data, "postmaster.pid");
        // A lock file left by a crash can say "ready" before the new server rewrites it.
        if (Directory.Exists(data) && Pid(data) is null) File.Delete(lockFile);
        var logStart = File.Exists(log) ? new FileInfo(log).Length : 0;

        var options = string.Join(' ', settings.Select(s => "-c " + s));
        List<string> arguments = ["start", "-D", data, "-l", log, "-W", "-s"];
        if (options.Length > 0) arguments.AddRange(["-o", options]);
        var result = await new CommandRunner(user).RunAsync(pg.Tool("pg_ctl"), arguments, cancellationToken);

        var waited = Stopwatch.StartNew();
        string? problem = result.ExitCode != 0 ? result.Tail() : null;
        while (problem is null)
        {
            if (ReadLockFile(lockFile) is { Length: >= 8 } lines && lines[7].Trim() == "ready") return;
            var logged = ReadLogSince(log, logStart);
            // A FATAL is the server's own only once it has gone: a client that connects while it starts up is
            // turned away with "FATAL: the database system is starting up", and the server goes on starting.
            if ((logged.Contains("FATAL:", StringComparison.Ordinal) || logged.Contains("PANIC:", StringComparison.Ordinal)) && Pid(data) is null)
                problem = "";
            else if (waited.Elapsed > TimeSpan.FromSeconds(60))
                problem = "it was not ready after 60 s.";
            else
                await Task.Delay(5, cancellationToken);
        }

        var logTail = string.Join(Environment.NewLine, ReadLogSince(log, logStart).Split('\n', StringSplitOptions.RemoveEmptyEntries).TakeLast(8));
        if (Pid(data) is not null) await StopAsync(pg, data, "immediate", CancellationToken.None);
        if (logTail.Contains("Address already in use", StringComparison.Ordinal))
            throw DevDbErrors.PortInUse(name, logTail);
        throw DevDbErrors.ServerStartFailed(name, $"{problem} {logTail}", $"Read the server log '{log}' for the cause.");
    }

    /// <summary>Stops the server of a data folder if one runs, with the installation its PG_VERSION names.</summary>
    public static Task StopIfRunningAsync(string data, string mode, CancellationToken cancellationToken, TimeSpan? gracePeriod = null) =>
        Pid(data) is null ? Task.CompletedTask : StopAsync(InstallationOf(data), data, mode, cancellationToken, gracePeriod);

    /// <summary>
    /// Stops the server of a data folder if one runs, as the user it runs as. A server that does not
    /// end within the grace period (DatabaseRules.StopGracePeriod; hung, or stopped with SIGSTOP) gets an immediate stop, then SIGKILL
    /// for it and its children; Postgres recovers from its WAL at the next start, as after a crash.
    /// </summary>
    public static async Task StopAsync(PostgresInstallation pg, string data, string mode, CancellationToken cancellationToken, TimeSpan? gracePeriod = null)
    {
        if (Pid(data) is not { } pid) return;
        ServerUser user;
        try
        {
            user = ServerUser.OfProcess(pid);
        }
        catch (IOException)
        {
            return; // It ended between the two reads.
        }
        var grace = gracePeriod ?? Rules.DatabaseRules.StopGracePeriod;
        var refusals = new List<string>();
        // An immediate stop writes nothing: when one has not ended in a sixth of the grace period, nothing will end it but SIGKILL.
        foreach (var (step, wait) in mode == "immediate" ? [("immediate", grace / 6)] : new[] { (mode, grace), ("immediate", grace / 6) })
        {
            // pg_ctl only signals (-W); its own wait would sleep 100 ms before it first looks, longer than an immediate stop takes.
            var result = await new CommandRunner(user).RunAsync(pg.Tool("pg_ctl"), ["stop", "-D", data, "-m", step, "-W", "-s"], cancellationToken);
            if (result.ExitCode != 0) refusals.Add($"pg_ctl stop -m {step}: {result.Tail()}");
            if (await EndedAsync(data, wait, cancellationToken)) return;
        }
        try
        {
            using var server = Process.GetProcessById(pid);
            server.Kill(entireProcessTree: true);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            refusals.Add($"SIGKILL: {e.Message}");
        }
        if (await EndedAsync(data, TimeSpan.FromSeconds(10), cancellationToken)) return;
        throw DevDbErrors.ServerStopFailed(data,
            $"process {pid} was still running after a {mode} stop, {(mode == "immediate" ? "" : "an immediate stop, ")}and SIGKILL. {string.Join(" ", refusals)}".TrimEnd());
    }

    /// <summary>Watches the lock file's process every 5 ms until it has gone or <paramref name="wait"/> is over.</summary>
    private static async Task<bool> EndedAsync(string data, TimeSpan wait, CancellationToken cancellationToken)
    {
        var waited = Stopwatch.StartNew();
        while (Pid(data) is not null)
        {
            if (waited.Elapsed > wait) return false;
            await Task.Delay(5, cancellationToken);
        }
        return true;
    }

    /// <summary>The postmaster's process id if one is running for this data folder.</summary>
    public static int? Pid(string data)
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
    public static PostgresInstallation InstallationOf(string data)
    {
        var version = File.Exists(Path.Combine(data, "PG_VERSION")) && int.TryParse(File.ReadAllText(Path.Combine(data, "PG_VERSION")).Trim(), out var major)
            ? major : (int?)null;
        return PostgresInstallation.Find(version);
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
}
