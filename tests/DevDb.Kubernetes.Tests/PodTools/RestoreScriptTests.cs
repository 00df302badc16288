using DevDb.Core.Sources;
using Xunit;

namespace DevDb.Kubernetes.Tests.PodTools;

/// <summary>
/// restore.sh, the restore Job's container, run for real: sh as the postgres user with Postgres 15's
/// tools, on dumps pg_dump wrote. The result is then started the way a database pod starts it.
/// </summary>
[Collection(DumpCollection.Name)]
public sealed class RestoreScriptTests(DumpFixture dumps)
{
    /// <summary>Settings that must only ever be given on the restore server's command line.</summary>
    private static readonly string[] RestoreOnlySettings =
        ["fsync=off", "synchronous_commit=off", "full_page_writes=off", "wal_level=minimal", "max_wal_senders=0", "max_wal_size=16GB",
         "checkpoint_timeout=1h", "autovacuum=off", "maintenance_work_mem=512MB", "listen_addresses=''"];

    [Theory]
    [InlineData(DumpFormat.Custom)]
    [InlineData(DumpFormat.Tar)]
    [InlineData(DumpFormat.PlainSql)]
    [InlineData(DumpFormat.GzipPlainSql)]
    public async Task Restores_every_single_file_format_into_a_cleanly_shut_down_cluster(DumpFormat format)
    {
        using var volume = new PodVolume();
        volume.PutDump(dumps.DumpPath(format), format.ToString());

        var result = await volume.RestoreAsync();

        Assert.True(result.ExitCode == 0, result.Output);
        await AssertPublishableImageAsync(volume);
        await AssertSampleRowsAsync(volume);
    }

    [Theory]
    [InlineData("64MB", "64MB")]
    [InlineData(null, "512MB")]            // without the Job's value: the old default
    [InlineData("1GB; rm -rf /", "512MB")] // anything but <digits>MB is ignored
    public async Task The_restore_server_uses_the_maintenance_work_mem_the_Job_computed_from_its_memory_limit(string? given, string expected)
    {
        using var volume = new PodVolume();
        volume.PutDump(RepoPaths.SampleDump, "Custom");

        // The post-restore SQL runs on the restore server, so it can see the setting.
        var result = await volume.RestoreAsync(
            $"DO $$ BEGIN IF current_setting('maintenance_work_mem') <> '{expected}' THEN RAISE EXCEPTION 'maintenance_work_mem is %', current_setting('maintenance_work_mem'); END IF; END $$",
            maintenanceWorkMem: given);

        Assert.True(result.ExitCode == 0, result.Output);
    }

    [Fact]
    public async Task Restores_the_committed_sample_dump_and_runs_the_post_restore_sql()
    {
        using var volume = new PodVolume();
        volume.PutDump(RepoPaths.SampleDump, "Custom");

        var result = await volume.RestoreAsync("UPDATE customers SET email = 'customer' || customer_id || '@example.invalid';");

        Assert.True(result.ExitCode == 0, result.Output);
        await AssertPublishableImageAsync(volume);
        await using var server = await volume.StartServerAsync();
        Assert.Equal("1000", await server.QueryAsync("SELECT count(*) FROM customers WHERE email LIKE '%@example.invalid'"));
        Assert.Equal("15000", await server.QueryAsync("SELECT count(*) FROM order_items"));
        // ANALYZE ran: the planner has statistics for the restored tables.
        Assert.NotEqual("0", await server.QueryAsync("SELECT count(*) FROM pg_stats WHERE tablename = 'orders'"));
    }

    [Fact]
    public async Task Restores_the_plain_sample_script()
    {
        using var volume = new PodVolume();
        volume.PutDump(RepoPaths.SampleSql, "PlainSql");

        var result = await volume.RestoreAsync();

        Assert.True(result.ExitCode == 0, result.Output);
        await AssertPublishableImageAsync(volume);
        await AssertSampleRowsAsync(volume);
    }

    [Fact]
    public async Task Creates_the_roles_a_plain_script_names_as_nologin_roles_first()
    {
        using var volume = new PodVolume();
        var script = Path.Combine(volume.Folder, "owned.sql");
        await File.WriteAllTextAsync(script, """
            CREATE TABLE public.prices (id integer PRIMARY KEY, amount numeric);
            INSERT INTO public.prices VALUES (1, 9.5), (2, 12);
            CREATE SCHEMA reporting AUTHORIZATION reporting_owner;
            ALTER TABLE public.prices OWNER TO "Shop Owner";
            GRANT SELECT ON TABLE public.prices TO reader;
            REVOKE ALL ON TABLE public.prices FROM PUBLIC;
            """);
        volume.PutDump(script, "PlainSql");

        var result = await volume.RestoreAsync();

        Assert.True(result.ExitCode == 0, result.Output);
        await using var server = await volume.StartServerAsync();
        Assert.Equal("Shop Owner", await server.QueryAsync("SELECT tableowner FROM pg_tables WHERE tablename = 'prices'"));
        Assert.Equal("Shop Owner|false,reader|false,reporting_owner|false", await server.QueryAsync(
            "SELECT string_agg(rolname || '|' || rolcanlogin, ',' ORDER BY rolname) FROM pg_roles WHERE rolname IN ('Shop Owner', 'reader', 'reporting_owner')"));
        Assert.Equal("2", await server.QueryAsync("SELECT count(*) FROM prices"));
    }

    [Fact]
    public async Task A_truncated_custom_dump_is_reported_as_DumpCorrupt()
    {
        using var volume = new PodVolume();
        volume.PutDump(dumps.TruncatedCustomDump, "Custom");

        var result = await volume.RestoreAsync();

        Assert.Equal(1, result.ExitCode);
        var (code, message, action) = volume.ReadTerminationLog();
        Assert.Equal("DumpCorrupt", code);
        Assert.Contains("corrupt or truncated", message);
        Assert.False(string.IsNullOrWhiteSpace(action));
        AssertServerStopped(volume);
    }

    [Theory]
    [InlineData(DumpFormat.PlainSql)]
    [InlineData(DumpFormat.GzipPlainSql)]
    public async Task A_plain_script_cut_short_is_refused_as_DumpCorrupt_before_anything_is_restored(DumpFormat format)
    {
        using var volume = new PodVolume();
        var whole = await File.ReadAllBytesAsync(dumps.DumpPath(format));
        var cut = Path.Combine(volume.Folder, "cut");
        await File.WriteAllBytesAsync(cut, whole[..(whole.Length * 2 / 3)]);

        // The fetch step reads a plain script whole (FetchCommandTests run the tool itself): it never reaches psql.
        var refused = Assert.Throws<DevDb.Core.DevDbException>(() => volume.PutDump(cut, format.ToString()));

        Assert.Equal("DumpCorrupt", refused.Code);
        Assert.False(Directory.Exists(volume.PgData));
    }

    [Theory]
    [InlineData("\\! touch {marker}")]
    [InlineData("SELECT 'x' \\gexec")]
    public async Task A_plain_script_with_a_psql_command_is_refused_as_DumpUnsafe_and_nothing_runs(string command)
    {
        using var volume = new PodVolume();
        var marker = Path.Combine(volume.Tmp, "marker");
        var script = Path.Combine(volume.Folder, "hostile.sql");
        await File.WriteAllTextAsync(script, $"CREATE TABLE t (a int);\n{command.Replace("{marker}", marker)}\n");

        var refused = Assert.Throws<DevDb.Core.DevDbException>(() => volume.PutDump(script, "PlainSql"));

        Assert.Equal("DumpUnsafe", refused.Code);
        Assert.Contains("line 2 ", refused.Message);
        Assert.False(File.Exists(marker));
    }

    [Fact]
    public async Task A_script_that_fools_the_reading_is_stopped_by_psqls_restricted_mode_in_the_pod()
    {
        using var volume = new PodVolume();
        var marker = Path.Combine(volume.Tmp, "marker");
        var script = Path.Combine(volume.Folder, "evasive.sql");
        await File.WriteAllTextAsync(script, $"SET standard_conforming_strings = off;\nSELECT 'a\\' AS x, '  \\! touch {marker} #';\n");
        volume.PutDump(script, "PlainSql");

        var result = await volume.RestoreAsync();

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("DumpUnsafe", volume.ReadTerminationLog().Code);
        Assert.False(File.Exists(marker));
        AssertServerStopped(volume);
    }

    [Theory]
    [InlineData("COPY (SELECT 1) TO PROGRAM 'touch {marker}'", "RestoreFailed")]
    [InlineData("SELECT pg_read_file('/etc/passwd')", "RestoreFailed")]
    public async Task The_dumps_sql_runs_as_the_owner_that_cannot_reach_the_pods_programs_or_files(string statement, string code)
    {
        using var volume = new PodVolume();
        var marker = Path.Combine(volume.Tmp, "marker");
        var script = Path.Combine(volume.Folder, "hostile.sql");
        await File.WriteAllTextAsync(script, $"CREATE TABLE t (a int);\n{statement.Replace("{marker}", marker)};\n");
        volume.PutDump(script, "PlainSql");

        var result = await volume.RestoreAsync();

        Assert.Equal(1, result.ExitCode);
        var (written, message, _) = volume.ReadTerminationLog();
        Assert.Equal(code, written);
        Assert.True(message.Contains("superuser") || message.Contains("permission denied"), message);
        Assert.False(File.Exists(marker));
    }

    [Theory]
    [InlineData("\\! touch {marker}")]
    [InlineData("COPY (SELECT 1) TO PROGRAM 'touch {marker}'")]
    public async Task Post_restore_sql_is_sent_as_sql_by_the_owner_and_runs_no_command(string sql)
    {
        using var volume = new PodVolume();
        var marker = Path.Combine(volume.Tmp, "marker");
        volume.PutDump(RepoPaths.SampleDump, "Custom");

        var result = await volume.RestoreAsync(sql.Replace("{marker}", marker));

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("PostRestoreSqlFailed", volume.ReadTerminationLog().Code);
        Assert.False(File.Exists(marker));
    }

    [Fact]
    public async Task A_failing_post_restore_sql_is_reported_as_PostRestoreSqlFailed_with_the_error()
    {
        using var volume = new PodVolume();
        volume.PutDump(dumps.CustomDump, "Custom");

        var result = await volume.RestoreAsync("UPDATE \"no_such_table\" SET x = 1;");

        Assert.Equal(1, result.ExitCode);
        var (code, message, _) = volume.ReadTerminationLog();
        Assert.Equal("PostRestoreSqlFailed", code);
        // Quotes and line breaks from psql arrive intact through the JSON.
        Assert.Contains("relation \"no_such_table\" does not exist", message);
        AssertServerStopped(volume);
    }

    [Fact]
    public async Task A_dump_that_does_not_match_its_format_is_reported_as_DumpCorrupt()
    {
        using var volume = new PodVolume();
        volume.PutDump(dumps.GarbageFile, "Custom");

        var result = await volume.RestoreAsync();

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("DumpCorrupt", volume.ReadTerminationLog().Code);
    }

    [Fact]
    public async Task A_retry_over_a_half_made_data_folder_starts_over_and_succeeds()
    {
        using var volume = new PodVolume();
        volume.PutDump(dumps.TruncatedCustomDump, "Custom");
        Assert.Equal(1, (await volume.RestoreAsync()).ExitCode);
        Assert.True(File.Exists(Path.Combine(volume.PgData, "PG_VERSION")), "the failed attempt should have left a half-made cluster");
        // A pod killed mid-restore also leaves a lock file and stray files behind.
        await File.WriteAllTextAsync(Path.Combine(volume.PgData, "postmaster.pid"), "999999\n");
        await File.WriteAllTextAsync(Path.Combine(volume.PgData, "half-written"), "x");
        PodShell.OwnRecursively(volume.PgData);
        volume.PutDump(dumps.CustomDump, "Custom");
        // The retry is a new container, with a new, empty termination log.
        File.Delete(volume.TerminationLog);

        var result = await volume.RestoreAsync();

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.False(File.Exists(Path.Combine(volume.PgData, "half-written")));
        await AssertPublishableImageAsync(volume);
        await AssertSampleRowsAsync(volume);
    }

    [Fact]
    public async Task A_missing_dump_fails_with_RestoreFailed_naming_the_folder()
    {
        using var volume = new PodVolume();

        var result = await volume.RestoreAsync();

        Assert.Equal(1, result.ExitCode);
        var (code, message, _) = volume.ReadTerminationLog();
        Assert.Equal("RestoreFailed", code);
        Assert.Contains(volume.DumpDirectory, message);
    }

    /// <summary>What the snapshot needs: a clean shutdown, no dump, no restore settings, nothing left in /tmp.</summary>
    private static async Task AssertPublishableImageAsync(PodVolume volume)
    {
        Assert.Equal("shut down", await PodShell.ClusterStateAsync(volume.PgData));
        Assert.False(Directory.Exists(volume.DumpDirectory), "the dump folder should be removed");
        Assert.Empty(Directory.EnumerateFileSystemEntries(volume.Tmp));
        Assert.False(File.Exists(volume.TerminationLog), "a successful restore writes no termination message");

        var settings = (await File.ReadAllLinesAsync(Path.Combine(volume.PgData, "postgresql.conf")))
            .Select(line => line.Split('#')[0].Replace(" ", "")).Where(line => line.Length > 0).ToList();
        foreach (var setting in RestoreOnlySettings) Assert.DoesNotContain(setting, settings);
        Assert.Contains("listen_addresses='*'", settings);
        Assert.DoesNotContain(await File.ReadAllLinesAsync(Path.Combine(volume.PgData, "postgresql.auto.conf")),
            line => line.Length > 0 && !line.StartsWith('#'));
        // DevDb's one rule of client authentication (no trust), the same the local runtime writes.
        Assert.Equal(DevDb.Core.Postgres.ClientAuthentication.PodHbaFile, await File.ReadAllTextAsync(Path.Combine(volume.PgData, "pg_hba.conf")));
    }

    private static async Task AssertSampleRowsAsync(PodVolume volume)
    {
        await using var server = await volume.StartServerAsync();
        foreach (var (table, rows) in DumpFixture.SampleRowCounts)
            Assert.Equal(rows.ToString(), await server.QueryAsync($"SELECT count(*) FROM {table}"));
        // The restore server's settings did not survive into the image.
        Assert.Equal("on", await server.QueryAsync("SHOW fsync"));
        Assert.Equal("replica", await server.QueryAsync("SHOW wal_level"));
        Assert.Equal("*", await server.QueryAsync("SHOW listen_addresses"));
    }

    private static void AssertServerStopped(PodVolume volume) =>
        Assert.False(File.Exists(Path.Combine(volume.PgData, "postmaster.pid")), "the restore server should be stopped after a failure");
}
