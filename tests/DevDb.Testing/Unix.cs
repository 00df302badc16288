using System.Diagnostics;
using DevDb.Core.Runtimes.Local;

namespace DevDb.Testing;

/// <summary>What the OS says about files and users, asked the way an admin would (stat, setpriv).</summary>
public static class Unix
{
    public static int OwnerOf(string path) => int.Parse(Run("stat", "-c", "%u", path).Output.Trim());

    public static string ModeOf(string path) => Run("stat", "-c", "%a", path).Output.Trim();

    /// <summary>Runs a program as another user id (as a database's server runs), returning its exit code and output.</summary>
    public static (int ExitCode, string Output) RunAs(int uid, string program, params string[] arguments) =>
        Run("setpriv", [$"--reuid={uid}", $"--regid={uid}", "--clear-groups", program, .. arguments]);

    public static (int ExitCode, string Output) Run(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output);
    }

    /// <summary>The tests run as root, as CI does: only then do servers run as users of their own.</summary>
    public static void RequireRoot() =>
        Xunit.Assert.True(ServerUser.DevDbIsRoot, "These tests check OS-level isolation, which DevDb gives when it runs as root; run them as root (CI does).");
}
