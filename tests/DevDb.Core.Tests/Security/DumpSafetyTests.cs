using System.IO.Compression;
using System.Text;
using DevDb.Core.Client;
using DevDb.Core.Sources;
using DevDb.Core.Tests.Engine;
using Xunit;

namespace DevDb.Core.Tests.Security;

/// <summary>
/// A dump is data, never commands: hostile dumps and post-restore SQL, restored for real. Each
/// attack would have run a shell command as DevDb's user (root) or the server's before.
/// </summary>
[Collection(DumpCollection.Name)]
public sealed class DumpSafetyTests(DumpFixture dumps) : IAsyncLifetime
{
    private readonly EngineHome _home = new();
    private readonly TempFolder _folder = new("devdb-hostile");
    private readonly string _marker = $"/tmp/devdb-marker-{Guid.NewGuid():N}";

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        File.Delete(_marker);
        _folder.Dispose();
        await _home.DisposeAsync();
    }

    public static TheoryData<string, DumpFormat> MetaCommands()
    {
        var data = new TheoryData<string, DumpFormat>();
        foreach (var format in new[] { DumpFormat.PlainSql, DumpFormat.GzipPlainSql })
        {
            data.Add("\\! touch {marker}", format);
            data.Add("\\copy (SELECT 1) TO PROGRAM 'touch {marker}'", format);
            data.Add("\\o |touch {marker}", format);
            data.Add("SELECT 'SELECT 1' \\gexec", format);
            data.Add("\\include {include}", format);
        }
        return data;
    }

    /// <summary>The real pg_dump script of the sample with a line put in the middle, after the first table's data.</summary>
    private async Task<(string Path, int Line)> HostileDumpAsync(string inserted, DumpFormat format)
    {
        var lines = (await File.ReadAllTextAsync(dumps.PlainDump)).Split('\n').ToList();
        var at = lines.FindIndex(l => l == "\\.") + 1;
        lines.Insert(at, inserted);
        var path = _folder.Combine($"hostile-{Guid.NewGuid():N}.sql");
        var bytes = Encoding.UTF8.GetBytes(string.Join('\n', lines));
        if (format == DumpFormat.GzipPlainSql)
        {
            await using var file = File.Create(path);
            await using var gzip = new GZipStream(file, CompressionLevel.Fastest);
            await gzip.WriteAsync(bytes);
        }
        else
        {
            await File.WriteAllBytesAsync(path, bytes);
        }
        return (path, at + 1);
    }

    [Theory]
    [MemberData(nameof(MetaCommands))]
    public async Task A_plain_dump_with_a_psql_command_is_refused_naming_its_line_and_nothing_runs_or_is_left(string command, DumpFormat format)
    {
        var include = _folder.Combine("included.sql");
        await File.WriteAllTextAsync(include, $"\\! touch {_marker}\n");
        var (path, line) = await HostileDumpAsync(command.Replace("{marker}", _marker).Replace("{include}", include), format);

        var refused = await Assert.ThrowsAsync<DevDbException>(() => _home.Engine.NewProjectAsync(new NewProjectRequest { Name = "shop", Source = path }));

        Assert.Equal(ErrorCodes.DumpUnsafe, refused.Code);
        Assert.True(refused.Message.Contains($"line {line} "), refused.Message);
        Assert.False(File.Exists(_marker));
        await AssertNothingLeftAsync(failedRecord: true);
    }

    [Fact]
    public async Task A_script_that_fools_the_reading_is_still_stopped_by_psqls_restricted_mode()
    {
        // With standard_conforming_strings off, psql reads \' as a quote inside a string, which
        // DevDb's reading (on, as pg_dump writes) does not: the command is hidden from DevDb, not from psql.
        var path = _folder.Combine("evasive.sql");
        await File.WriteAllTextAsync(path, $"SET standard_conforming_strings = off;\nSELECT 'a\\' AS x, '  \\! touch {_marker} #';\nCREATE TABLE t (a int);\n");

        var refused = await Assert.ThrowsAsync<DevDbException>(() => _home.Engine.NewProjectAsync(new NewProjectRequest { Name = "shop", Source = path }));

        Assert.Equal(ErrorCodes.DumpUnsafe, refused.Code);
        Assert.True(refused.Message.Contains("restricted mode"), refused.Message);
        Assert.False(File.Exists(_marker));
        await AssertNothingLeftAsync(failedRecord: true);
    }

    [Theory]
    [InlineData("COPY (SELECT 1) TO PROGRAM 'touch {marker}';", "must be superuser or have privileges of the pg_execute_server_program role")]
    [InlineData("CREATE TABLE public.stolen AS SELECT pg_read_file('/etc/passwd') AS body;", "permission denied for function pg_read_file")]
    [InlineData("SELECT lo_import('/etc/passwd');", "permission denied for function lo_import")]
    public async Task SQL_in_a_dump_runs_as_the_owner_that_cannot_reach_the_servers_programs_or_files(string statement, string refusal)
    {
        var (path, _) = await HostileDumpAsync(statement.Replace("{marker}", _marker), DumpFormat.PlainSql);

        var refused = await Assert.ThrowsAsync<DevDbException>(() => _home.Engine.NewProjectAsync(new NewProjectRequest { Name = "shop", Source = path }));

        Assert.Equal(ErrorCodes.RestoreFailed, refused.Code);
        Assert.True(refused.Message.Contains(refusal), refused.Message);
        Assert.False(File.Exists(_marker));
        await AssertNothingLeftAsync(failedRecord: true);
    }

    [Fact]
    public async Task An_archive_whose_materialized_view_reads_a_server_file_is_refused()
    {
        const string database = "hostile_archive";
        await dumps.Postgres.CreateDatabaseAsync(database);
        await dumps.Postgres.RunSqlAsync("CREATE MATERIALIZED VIEW secrets AS SELECT pg_read_file('/etc/hostname') AS body", database);
        var path = _folder.Combine("hostile.dump");
        await dumps.Postgres.DumpAsync(DumpFormat.Custom, path, database);

        var refused = await Assert.ThrowsAsync<DevDbException>(() =>
            _home.Engine.NewProjectAsync(new NewProjectRequest { Name = "shop", Source = path, DatabaseName = database }));

        Assert.Equal(ErrorCodes.RestoreFailed, refused.Code);
        Assert.True(refused.Message.Contains("permission denied for function pg_read_file"), refused.Message);
        await AssertNothingLeftAsync(failedRecord: true);
    }

    [Theory]
    [InlineData("\\! touch {marker}", "42601")]
    [InlineData("SELECT 1;\n\\! touch {marker}", "42601")]
    [InlineData("COPY (SELECT 1) TO PROGRAM 'touch {marker}'", "42501")]
    [InlineData("ALTER ROLE devdb_owner SUPERUSER", "42501")]
    public async Task Post_restore_SQL_is_SQL_run_as_the_owner_without_psql(string sql, string sqlState)
    {
        var refused = await Assert.ThrowsAsync<DevDbException>(() => _home.Engine.NewProjectAsync(new NewProjectRequest
        {
            Name = "shop", Source = dumps.CustomDump, PostRestoreSql = sql.Replace("{marker}", _marker),
        }));

        Assert.Equal(ErrorCodes.PostRestoreSqlFailed, refused.Code);
        Assert.True(refused.Message.Contains(sqlState), refused.Message);
        Assert.False(File.Exists(_marker));
        await AssertNothingLeftAsync(failedRecord: true);
    }

    [Fact]
    public async Task Post_restore_SQL_that_masks_data_still_works_and_is_one_transaction()
    {
        await _home.Engine.NewProjectAsync(new NewProjectRequest
        {
            Name = "shop", Source = dumps.CustomDump,
            PostRestoreSql = "UPDATE customers SET email = 'user' || customer_id || '@example.com';\nDO $$ BEGIN RAISE NOTICE 'masked'; END $$;",
        });
        await _home.Engine.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "masked" });
        var connection = await _home.Engine.GetConnectionAsync("masked");
        Assert.Equal(0L, await Clients.ScalarAsync<long>(connection, "SELECT count(*) FROM customers WHERE email NOT LIKE 'user%@example.com'"));

        var failed = await Assert.ThrowsAsync<DevDbException>(() => _home.Engine.UpdateProjectAsync(new UpdateProjectRequest
        {
            Name = "shop", PostRestoreSql = "UPDATE customers SET email = 'half'; SELECT 1/0;",
        }));
        Assert.Equal(ErrorCodes.PostRestoreSqlFailed, failed.Code);
    }

    [Theory]
    [InlineData(DumpFormat.PlainSql)]
    [InlineData(DumpFormat.GzipPlainSql)]
    public async Task Real_pg_dump_scripts_with_their_restrict_lines_restore(DumpFormat format)
    {
        var script = format == DumpFormat.PlainSql
            ? await File.ReadAllTextAsync(dumps.PlainDump)
            : await new StreamReader(new GZipStream(File.OpenRead(dumps.GzipPlainDump), CompressionMode.Decompress)).ReadToEndAsync();
        Assert.Contains("\n\\restrict ", script);
        Assert.Contains("\n\\unrestrict ", script);

        await _home.Engine.NewProjectAsync(new NewProjectRequest { Name = "shop", Source = dumps.DumpPath(format) });
        await _home.Engine.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "plain" });
        var connection = await _home.Engine.GetConnectionAsync("plain");
        Assert.Equal(DumpFixture.SampleRowCounts["orders"], await Clients.ScalarAsync<long>(connection, "SELECT count(*) FROM orders"));
    }

    /// <summary>No image, build folder, download, socket or server is left; only the Failed project record that says why.</summary>
    private async Task AssertNothingLeftAsync(bool failedRecord)
    {
        var project = Assert.Single(await _home.Engine.GetProjectsAsync());
        Assert.True(failedRecord);
        Assert.Equal(Model.ProjectStatus.Failed, project.Status);
        Assert.Empty(project.Images);
        Assert.Empty(_home.Entries("images"));
        Assert.Empty(_home.Entries("work"));
        Assert.Empty(_home.Entries("run"));
        EngineHome.AssertNoPostgresUnder(_home.Path);
    }
}
