namespace DevDb.Testing;

/// <summary>Well-known files of the repository the tests run from.</summary>
public static class RepoPaths
{
    private static readonly Lazy<string> Root = new(FindRoot);

    /// <summary>The folder holding DevDb.sln, found by walking up from the test's base directory.</summary>
    public static string RepoRoot => Root.Value;

    public static string SampleSql => Path.Combine(RepoRoot, "samples", "shop.sql");
    public static string SampleDump => Path.Combine(RepoRoot, "samples", "shop.dump");

    /// <summary>
    /// The s3rver executable: DEVDB_TEST_S3RVER, else .tools/node/node_modules/.bin/s3rver in the repository.
    /// Throws (failing the test, never skipping it) with the command that installs it.
    /// </summary>
    public static string S3rverExecutable
    {
        get
        {
            var pinned = Environment.GetEnvironmentVariable("DEVDB_TEST_S3RVER");
            var path = string.IsNullOrEmpty(pinned)
                ? Path.Combine(RepoRoot, ".tools", "node", "node_modules", ".bin", OperatingSystem.IsWindows() ? "s3rver.cmd" : "s3rver")
                : pinned;
            if (File.Exists(path)) return path;
            throw new InvalidOperationException(
                $"s3rver was not found at '{path}'. Install it as the README's test command does: " +
                "npm install --no-save --no-package-lock --prefix .tools/node s3rver@3.7.1 (from the repository root), " +
                "or set DEVDB_TEST_S3RVER to its path.");
        }
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "DevDb.sln"))) return dir.FullName;
        throw new InvalidOperationException($"No DevDb.sln above '{AppContext.BaseDirectory}': run the tests from the repository.");
    }
}
