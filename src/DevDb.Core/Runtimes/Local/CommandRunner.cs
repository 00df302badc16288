using System.Diagnostics;
using System.Text;

namespace DevDb.Core.Runtimes.Local;

/// <summary>What a finished command printed and how it ended.</summary>
public sealed record CommandResult(int ExitCode, string StandardOutput, string StandardError)
{
    /// <summary>The last lines of standard error (else output): the tool's own words for an error message.</summary>
    public string Tail(int lines = 12)
    {
        var text = string.IsNullOrWhiteSpace(StandardError) ? StandardOutput : StandardError;
        var all = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return string.Join(Environment.NewLine, all.TakeLast(lines));
    }
}

/// <summary>
/// Runs Postgres' command-line tools as a <see cref="ServerUser"/> (through setpriv, with no
/// supplementary groups and no way to gain privileges, when DevDb runs as root). The tools get a
/// minimal environment: none of DevDb's own variables (AWS credentials, DEVDB_TOKEN, PG*) reach
/// them. Cancelling kills the whole process tree.
/// </summary>
public sealed class CommandRunner(ServerUser serverUser)
{
    /// <summary>Variables passed through to the tools; every other one is left out.</summary>
    private static readonly string[] KeptVariables = ["PATH", "LANG", "TZ", "TMPDIR", "SystemRoot", "windir", "TEMP", "TMP", "ComSpec"];

    public ServerUser ServerUser { get; } = serverUser;

    public async Task<CommandResult> RunAsync(string file, IEnumerable<string> arguments,
        CancellationToken cancellationToken, Func<Stream, CancellationToken, Task>? writeInput = null,
        Action<string>? onErrorLine = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = writeInput is not null,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        if (ServerUser.RunsAsOtherUser)
        {
            start.FileName = "setpriv";
            foreach (var option in new[] { $"--reuid={ServerUser.Uid}", $"--regid={ServerUser.Gid}", "--clear-groups", "--no-new-privs", file })
                start.ArgumentList.Add(option);
        }
        else
        {
            start.FileName = file;
        }
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        var inherited = start.Environment.Where(v => KeptVariables.Contains(v.Key, StringComparer.OrdinalIgnoreCase)).ToList();
        start.Environment.Clear();
        foreach (var (name, value) in inherited) start.Environment[name] = value;
        if (!ServerUser.RunsAsOtherUser && Environment.GetEnvironmentVariable("HOME") is { } home) start.Environment["HOME"] = home;
        // Postgres tools print in the C locale so messages are stable; PGCONNECT_TIMEOUT bounds connection attempts.
        start.Environment["LC_MESSAGES"] = "C";
        start.Environment["PGCONNECT_TIMEOUT"] = "10";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;

        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw DevDbErrors.ProgramNotFound(start.FileName, e.Message,
                ServerUser.RunsAsOtherUser
                    ? "Install util-linux (setpriv), which DevDb uses to run Postgres as an unprivileged user."
                    : "Install PostgreSQL's server and client tools, or set DEVDB_PG_BIN to their bin folder.", e);
        }

        var output = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var error = ReadErrorLinesAsync(process.StandardError, onErrorLine);
        try
        {
            if (writeInput is not null)
            {
                try
                {
                    await using var input = process.StandardInput.BaseStream;
                    await writeInput(input, cancellationToken);
                }
                catch (IOException)
                {
                    // The tool stopped reading (it failed, and is exiting): its exit code and stderr say why.
                    await process.WaitForExitAsync(cancellationToken);
                }
            }
            await process.WaitForExitAsync(cancellationToken);
        }
        catch
        {
            // Cancelled, or feeding its input failed: never leave the tool running.
            Kill(process);
            throw;
        }
        return new CommandResult(process.ExitCode, await output, await error);
    }

    /// <summary>Keeps the last lines of standard error (verbose tools print a lot) and reports each line as it comes.</summary>
    private static async Task<string> ReadErrorLinesAsync(StreamReader reader, Action<string>? onLine)
    {
        const int KeepLines = 400;
        var kept = new Queue<string>();
        while (await reader.ReadLineAsync() is { } line)
        {
            onLine?.Invoke(line);
            kept.Enqueue(line);
            if (kept.Count > KeepLines) kept.Dequeue();
        }
        return string.Join('\n', kept);
    }

    private static void Kill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(5000);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }
}
