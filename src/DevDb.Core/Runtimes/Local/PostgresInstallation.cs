using System.Text.RegularExpressions;

namespace DevDb.Core.Runtimes.Local;

/// <summary>
/// One installed Postgres major version: the folder holding initdb, pg_ctl, postgres, pg_restore and psql.
/// Found through DEVDB_PG_BIN, then PATH, then the platforms' usual folders.
/// </summary>
public sealed partial class PostgresInstallation
{
    private static readonly string[] RequiredTools = ["initdb", "pg_ctl", "postgres", "pg_restore", "psql"];

    private PostgresInstallation(int majorVersion, string binDirectory)
    {
        MajorVersion = majorVersion;
        BinDirectory = binDirectory;
    }

    public int MajorVersion { get; }
    public string BinDirectory { get; }

    public string Tool(string name) =>
        Path.Combine(BinDirectory, OperatingSystem.IsWindows() ? name + ".exe" : name);

    /// <summary>The installation for <paramref name="majorVersion"/>, or the newest one when null.</summary>
    public static PostgresInstallation Find(int? majorVersion)
    {
        var found = Discover();
        if (found.Count == 0)
            throw DevDbErrors.PostgresNotFound();
        if (majorVersion is null) return found.MaxBy(i => i.MajorVersion)!;
        return found.FirstOrDefault(i => i.MajorVersion == majorVersion)
            ?? throw DevDbErrors.PostgresVersionNotInstalled(majorVersion.Value, found.Select(i => i.MajorVersion));
    }

    // A reference, so sessions on other threads see either the old answer or the new one whole.
    private sealed record Discovery(string Key, IReadOnlyList<PostgresInstallation> Found);
    private static Discovery? s_discovered;

    /// <summary>
    /// Every usable installation, first found first, one per major version. Finding them runs
    /// "postgres --version" per candidate, so the answer is kept until DEVDB_PG_BIN or PATH changes.
    /// </summary>
    public static IReadOnlyList<PostgresInstallation> Discover()
    {
        var key = Environment.GetEnvironmentVariable("DEVDB_PG_BIN") + "\0" + Environment.GetEnvironmentVariable("PATH");
        if (s_discovered is { } cached && cached.Key == key) return cached.Found;
        var found = Search();
        s_discovered = new Discovery(key, found);
        return found;
    }

    private static IReadOnlyList<PostgresInstallation> Search()
    {
        var result = new List<PostgresInstallation>();
        foreach (var folder in CandidateFolders())
        {
            if (!RequiredTools.All(t => File.Exists(Path.Combine(folder, OperatingSystem.IsWindows() ? t + ".exe" : t))))
                continue;
            var major = ReadMajorVersion(folder);
            if (major is not null && result.All(i => i.MajorVersion != major))
                result.Add(new PostgresInstallation(major.Value, Path.GetFullPath(folder)));
        }
        return result;
    }

    private static IEnumerable<string> CandidateFolders()
    {
        var pinned = Environment.GetEnvironmentVariable("DEVDB_PG_BIN");
        if (!string.IsNullOrEmpty(pinned)) yield return pinned;
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            yield return dir;
        // One folder per version: Debian/Ubuntu, RHEL, Homebrew (Apple silicon and Intel), Postgres.app, the Windows installer.
        (string Parent, string Pattern)[] versioned =
        [
            ("/usr/lib/postgresql", "*"), ("/usr", "pgsql-*"), ("/opt/homebrew/opt", "postgresql@*"),
            ("/usr/local/opt", "postgresql@*"), ("/Applications/Postgres.app/Contents/Versions", "*"),
            (Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.ProgramFiles), "PostgreSQL"), "*"),
        ];
        foreach (var (parent, pattern) in versioned)
        {
            if (!Directory.Exists(parent)) continue;
            foreach (var dir in Directory.GetDirectories(parent, pattern).OrderDescending(StringComparer.Ordinal))
                yield return Path.Combine(dir, "bin");
        }
        yield return "/usr/local/pgsql/bin";
    }

    [GeneratedRegex(@"\(PostgreSQL\)\s+(\d+)")]
    private static partial Regex VersionPattern();

    private static int? ReadMajorVersion(string folder)
    {
        try
        {
            using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(
                Path.Combine(folder, OperatingSystem.IsWindows() ? "postgres.exe" : "postgres"), "--version")
            { RedirectStandardOutput = true, UseShellExecute = false })!;
            var text = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            var match = VersionPattern().Match(text);
            return match.Success ? int.Parse(match.Groups[1].Value) : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }
}
