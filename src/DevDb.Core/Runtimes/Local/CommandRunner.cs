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
/// Runs Postgres' command-line tools, as the unprivileged server user when DevDb runs as root
/// (initdb and postgres refuse to run as root). Cancelling kills the whole process tree.
/// </summary>
public sealed class CommandRunner(ServerUser serverUser)
{
    public ServerUser ServerUser { get; } = serverUser;

    public async Task<CommandResult> RunAsync(string file, IEnumerable<string> arguments,
        CancellationToken cancellationToken, Func<Stream, CancellationToken, Task>? writeInput = null,
        Action<string>? onErrorLine = null)
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
            start.FileName = "runuser";
            start.ArgumentList.Add("-u");
            start.ArgumentList.Add(ServerUser.Name!);
            start.ArgumentList.Add("--");
            start.ArgumentList.Add(file);
        }
        else
        {
            start.FileName = file;
        }
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        // Postgres tools print in the C locale so messages are stable; PGCONNECT_TIMEOUT bounds connection attempts.
        start.Environment["LC_MESSAGES"] = "C";
        start.Environment["PGCONNECT_TIMEOUT"] = "10";

        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new DevDbException(ErrorCodes.PostgresNotFound, DevDbErrorCategory.NotInstalled,
                $"Could not run '{start.FileName}': {e.Message}",
                "Install PostgreSQL's server and client tools, or set DEVDB_PG_BIN to their bin folder.", file, e);
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
                catch (IOException) when (process.HasExited)
                {
                    // The tool stopped reading (it failed); its exit code and stderr say why.
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
