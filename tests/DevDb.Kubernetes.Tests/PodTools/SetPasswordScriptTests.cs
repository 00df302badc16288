using Npgsql;
using Xunit;

namespace DevDb.Kubernetes.Tests.PodTools;

/// <summary>
/// set-password.sh, a database pod's init container, run for real on a data folder restore.sh made,
/// then the server started as the pod's postgres container would and logged in to over TCP.
/// </summary>
[Collection(DumpCollection.Name)]
public sealed class SetPasswordScriptTests(DumpFixture dumps)
{
    // Needs quoting in SQL (', ", \, $$) and in sh ($, `, spaces, ;).
    private const string TrickyPassword = "It's \"q\" \\ $$ `x` $HOME; --end";

    [Fact]
    public async Task The_user_logs_in_over_tcp_with_the_password_and_owns_the_database()
    {
        using var volume = await RestoredVolumeAsync();

        var result = await volume.SetPasswordAsync("dave", "s3cret-Pa55word");

        Assert.True(result.ExitCode == 0, result.Output);
        await using var server = await volume.StartServerAsync();
        await using var connection = await OpenAsync(server, "dave", "s3cret-Pa55word");
        Assert.Equal("15000", await ScalarAsync(connection, "SELECT count(*) FROM order_items"));
        Assert.Equal("dave", await ScalarAsync(connection, "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'app'"));
        // The same login rule as the local runtime: it owns what was restored and is no superuser.
        Assert.Equal("False", await ScalarAsync(connection, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"));
        Assert.Equal("0", await ScalarAsync(connection, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner <> current_user"));
        await ExecuteAsync(connection, "ALTER TABLE customers ADD COLUMN nickname text; CREATE EXTENSION pgcrypto");
        var refused = await Assert.ThrowsAsync<PostgresException>(() => ExecuteAsync(connection, "COPY (SELECT 1) TO PROGRAM 'true'"));
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, refused.SqlState);
        // Stored as a SCRAM verifier, never in clear or md5.
        Assert.StartsWith("SCRAM-SHA-256$", await server.QueryAsync("SELECT rolpassword FROM pg_authid WHERE rolname = 'dave'"));
    }

    [Fact]
    public async Task A_project_that_asks_for_superuser_logins_gets_them()
    {
        using var volume = await RestoredVolumeAsync();

        var result = await volume.SetPasswordAsync("dave", "s3cret-Pa55word", superuser: true);

        Assert.True(result.ExitCode == 0, result.Output);
        await using var server = await volume.StartServerAsync();
        await using var connection = await OpenAsync(server, "dave", "s3cret-Pa55word");
        Assert.Equal("True", await ScalarAsync(connection, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"));
    }

    [Fact]
    public async Task DevDbs_admin_is_refused_over_tcp_and_no_rule_trusts_anyone()
    {
        using var volume = await RestoredVolumeAsync();
        Assert.Equal(0, (await volume.SetPasswordAsync("dave", "right-password")).ExitCode);
        Assert.DoesNotContain("trust", string.Join('\n', File.ReadAllLines(Path.Combine(volume.PgData, "pg_hba.conf")).Where(l => !l.StartsWith('#'))));
        await using var server = await volume.StartServerAsync();

        var admin = await Assert.ThrowsAsync<PostgresException>(() => OpenAsync(server, "devdb_admin", "anything"));
        Assert.Equal(PostgresErrorCodes.InvalidAuthorizationSpecification, admin.SqlState);
    }

    [Fact]
    public async Task A_wrong_password_and_the_passwordless_postgres_superuser_are_refused_over_tcp()
    {
        using var volume = await RestoredVolumeAsync();
        Assert.Equal(0, (await volume.SetPasswordAsync("dave", "right-password")).ExitCode);
        await using var server = await volume.StartServerAsync();

        var wrong = await Assert.ThrowsAsync<PostgresException>(() => OpenAsync(server, "dave", "wrong-password"));
        Assert.Equal(PostgresErrorCodes.InvalidPassword, wrong.SqlState);
        var superuser = await Assert.ThrowsAsync<PostgresException>(() => OpenAsync(server, "postgres", "anything"));
        Assert.Equal(PostgresErrorCodes.InvalidPassword, superuser.SqlState);
    }

    [Fact]
    public async Task The_password_appears_in_no_output_and_no_server_log_even_when_it_needs_quoting()
    {
        using var volume = await RestoredVolumeAsync();
        const string username = "Dave O'Hara \"dev\"";

        var result = await volume.SetPasswordAsync(username, TrickyPassword);

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.DoesNotContain(TrickyPassword, result.Output);
        await using (var server = await volume.StartServerAsync())
        {
            await using var connection = await OpenAsync(server, username, TrickyPassword);
            Assert.Equal(username, await ScalarAsync(connection, "SELECT current_user"));
            await Assert.ThrowsAsync<PostgresException>(() => OpenAsync(server, username, TrickyPassword + "x"));
            await Assert.ThrowsAsync<PostgresException>(() => OpenAsync(server, "postgres", TrickyPassword));
            var log = await File.ReadAllTextAsync(server.LogFile);
            Assert.DoesNotContain("It's", log);
        }
    }

    [Fact]
    public async Task Running_it_again_on_every_pod_start_replaces_the_password()
    {
        using var volume = await RestoredVolumeAsync();
        Assert.Equal(0, (await volume.SetPasswordAsync("dave", "first-password")).ExitCode);

        var again = await volume.SetPasswordAsync("dave", "second-password");

        Assert.True(again.ExitCode == 0, again.Output);
        await using var server = await volume.StartServerAsync();
        await using (await OpenAsync(server, "dave", "second-password")) { }
        await Assert.ThrowsAsync<PostgresException>(() => OpenAsync(server, "dave", "first-password"));
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task After_the_kubelets_fsGroup_pass_made_PGDATA_2770_it_puts_it_back_to_0700_so_postgres_starts()
    {
        using var volume = await RestoredVolumeAsync();
        // What the kubelet's ownership pass leaves on a folder: group rwx and setgid (Postgres refuses to start on it).
        File.SetUnixFileMode(volume.PgData, (UnixFileMode)Convert.ToInt32("2770", 8));

        var result = await volume.SetPasswordAsync("dave", "s3cret-Pa55word");

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(volume.PgData));
        await using var server = await volume.StartServerAsync();
        await using var connection = await OpenAsync(server, "dave", "s3cret-Pa55word");
        Assert.Equal("15000", await ScalarAsync(connection, "SELECT count(*) FROM order_items"));
    }

    [Fact]
    public async Task A_volume_cloned_from_a_snapshot_of_a_running_server_starts_although_its_postmaster_pid_names_a_live_process()
    {
        using var volume = await RestoredVolumeAsync();
        // A checkpoint or a branch is a snapshot of a running server's volume: its postmaster.pid is in it, and in the new
        // pod's PID namespace that pid may be a live process of the same user (here: a sleep of the server's user), so
        // Postgres would take it for a server running on the volume.
        var start = new System.Diagnostics.ProcessStartInfo(PodShell.PostgresUser.RunsAsOtherUser ? "runuser" : "sh") { RedirectStandardOutput = true };
        foreach (var argument in (PodShell.PostgresUser.RunsAsOtherUser ? ["-u", PodShell.PostgresUser.Name!, "--", "sh"] : Array.Empty<string>())
                 .Concat(["-c", "echo $$; exec sleep 120"])) start.ArgumentList.Add(argument);
        using var live = System.Diagnostics.Process.Start(start)!;
        var livePid = (await live.StandardOutput.ReadLineAsync())!.Trim();
        await File.WriteAllTextAsync(Path.Combine(volume.PgData, "postmaster.pid"),
            $"{livePid}\n{volume.PgData}\n1700000000\n5432\n/var/run/postgresql\n*\n  5432001         0\nready   \n");

        var result = await volume.SetPasswordAsync("dave", "s3cret-Pa55word");
        live.Kill(entireProcessTree: true);

        Assert.True(result.ExitCode == 0, result.Output);
        await using var server = await volume.StartServerAsync();
        await using var connection = await OpenAsync(server, "dave", "s3cret-Pa55word");
        Assert.Equal("15000", await ScalarAsync(connection, "SELECT count(*) FROM order_items"));
    }

    [Fact]
    public async Task A_password_with_a_line_break_is_refused_without_printing_it()
    {
        using var volume = await RestoredVolumeAsync();

        var result = await volume.SetPasswordAsync("dave", "line-one\nline-two");

        Assert.Equal(1, result.ExitCode);
        Assert.DoesNotContain("line-one", result.Output);
        var (code, message, _) = volume.ReadTerminationLog();
        Assert.Equal("ServerSetupFailed", code);
        Assert.Contains("DEVDB_PASSWORD", message);
    }

    [Fact]
    public async Task A_database_missing_from_the_cluster_fails_with_the_reason_and_no_password()
    {
        using var volume = await RestoredVolumeAsync();

        var result = await volume.SetPasswordAsync("dave", "s3cret-Pa55word", databaseName: "shop");

        Assert.Equal(1, result.ExitCode);
        Assert.DoesNotContain("s3cret-Pa55word", result.Output);
        var (code, message, _) = volume.ReadTerminationLog();
        Assert.Equal("ServerSetupFailed", code);
        Assert.Contains("the database shop does not exist", message);
        Assert.DoesNotContain("s3cret-Pa55word", message);
    }

    private async Task<PodVolume> RestoredVolumeAsync()
    {
        var volume = new PodVolume();
        volume.PutDump(dumps.CustomDump, "Custom");
        var restore = await volume.RestoreAsync();
        Assert.True(restore.ExitCode == 0, restore.Output);
        return volume;
    }

    private static async Task<NpgsqlConnection> OpenAsync(PodShell.RunningServer server, string username, string password)
    {
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1", Port = server.Port, Database = "app", Username = username, Password = password,
            Pooling = false, Timeout = 10, SslMode = SslMode.Disable,
        }.ConnectionString);
        try
        {
            await connection.OpenAsync();
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<string> ScalarAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToString(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture)!;
    }
}
