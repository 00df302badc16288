using System.Text.Json;
using DevDb.Core.Postgres;
using DevDb.Core.Runtimes.Kubernetes;
using Xunit;

namespace DevDb.Kubernetes.Tests.PodTools;

/// <summary>
/// A restore Job's volume on this machine: <c>volume/dump</c> (what fetch leaves), <c>volume/pgdata</c>,
/// a private /tmp and a termination log, all owned by the postgres user as in the pod.
/// </summary>
internal sealed class PodVolume : IDisposable
{
    private readonly TempFolder _folder = new("devdb-k8s-pod");

    public PodVolume()
    {
        Directory.CreateDirectory(Tmp);
        Directory.CreateDirectory(DumpDirectory);
        PodShell.OwnRecursively(_folder.Path);
    }

    public string Folder => _folder.Path;
    public string PgData => _folder.Combine("volume", "pgdata");
    public string DumpDirectory => _folder.Combine("volume", "dump");
    public string Tmp => _folder.Combine("tmp");
    public string TerminationLog => _folder.Combine("termination-log");

    /// <summary>
    /// Puts a dump where the fetch init container leaves it, as it leaves it: <c>dump</c> and
    /// <c>format</c>; a plain SQL dump read whole and written for psql's restricted mode, with <c>roles.sql</c>
    /// (by the same Core code the fetch tool runs, <see cref="PsqlScript.PrepareFileAsync"/>).
    /// </summary>
    public void PutDump(string file, string format)
    {
        Directory.CreateDirectory(DumpDirectory);
        var dump = Path.Combine(DumpDirectory, "dump");
        if (format is "PlainSql" or "GzipPlainSql")
        {
            PsqlScript.PrepareFileAsync(file, format == "GzipPlainSql", file, dump, Path.Combine(DumpDirectory, "roles.sql"), CancellationToken.None)
                .GetAwaiter().GetResult();
            format = PsqlScript.PreparedFormat;
        }
        else
        {
            File.Copy(file, dump, overwrite: true);
        }
        File.WriteAllText(Path.Combine(DumpDirectory, "format"), format);
        PodShell.OwnRecursively(Path.Combine(_folder.Path, "volume"));
    }

    /// <summary>What the pod spec gives both pod scripts: the cluster's client authentication files.</summary>
    private static void AddClientAuthentication(Dictionary<string, string> environment)
    {
        environment["DEVDB_HBA"] = ClientAuthentication.PodHbaFile;
        environment["DEVDB_IDENT"] = ClientAuthentication.PodIdentFile;
    }

    public Task<PodShell.Result> RestoreAsync(string? postRestoreSql = null, string? maintenanceWorkMem = null)
    {
        var environment = new Dictionary<string, string>
        {
            ["PGDATA"] = PgData,
            ["DEVDB_DUMP_DIR"] = DumpDirectory,
            ["DEVDB_DATABASE_NAME"] = "app",
            ["DEVDB_RESTORE_JOBS"] = "2",
            ["DEVDB_TERMINATION_LOG"] = TerminationLog,
            ["TMPDIR"] = Tmp,
        };
        if (postRestoreSql is not null) environment["DEVDB_POST_RESTORE_SQL"] = postRestoreSql;
        AddClientAuthentication(environment);
        if (maintenanceWorkMem is not null) environment["DEVDB_MAINTENANCE_WORK_MEM"] = maintenanceWorkMem;
        return PodShell.RunScriptAsync(PodScripts.Restore, environment);
    }

    public Task<PodShell.Result> SetPasswordAsync(string username, string password, string databaseName = "app", bool superuser = false)
    {
        var environment = new Dictionary<string, string>
        {
            ["PGDATA"] = PgData,
            ["DEVDB_USERNAME"] = username,
            ["DEVDB_PASSWORD"] = password,
            ["DEVDB_DATABASE_NAME"] = databaseName,
            ["DEVDB_SUPERUSER"] = superuser ? "on" : "off",
            ["DEVDB_TERMINATION_LOG"] = TerminationLog,
        };
        AddClientAuthentication(environment);
        return PodShell.RunScriptAsync(PodScripts.SetPassword, environment);
    }

    /// <summary>The termination message, parsed: it must be valid JSON with a code and a message.</summary>
    public (string Code, string Message, string? RecommendedAction) ReadTerminationLog()
    {
        Assert.True(File.Exists(TerminationLog), "no termination message was written");
        using var json = JsonDocument.Parse(File.ReadAllText(TerminationLog));
        var root = json.RootElement;
        return (root.GetProperty("code").GetString()!, root.GetProperty("message").GetString()!,
            root.TryGetProperty("recommendedAction", out var action) ? action.GetString() : null);
    }

    public Task<PodShell.RunningServer> StartServerAsync() => PodShell.StartAsync(PgData, Tmp);

    public void Dispose()
    {
        // A server a failed assertion left running must not outlive the test.
        if (File.Exists(Path.Combine(PgData, "postmaster.pid")))
            PodShell.RunAsUserAsync(Path.Combine(PodShell.PgBin, "pg_ctl"), ["stop", "-D", PgData, "-m", "immediate", "-w"])
                .GetAwaiter().GetResult();
        _folder.Dispose();
    }
}
