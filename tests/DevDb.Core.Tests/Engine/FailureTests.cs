
using DevDb.Core.Client;
using DevDb.Core.Model;
using DevDb.Core.Sources;
using Xunit;

namespace DevDb.Core.Tests.Engine;

/// <summary>Bad input gets a clear error with a stable code and leaves nothing half-made.</summary>
[Collection(DumpCollection.Name)]
public sealed class FailureTests(DumpFixture dumps) : IAsyncLifetime
{
    private readonly EngineHome _home = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public Task DisposeAsync() => _home.DisposeAsync().AsTask();

    [Theory]
    [InlineData("Shop")]
    [InlineData("-shop")]
    [InlineData("shop_1")]
    [InlineData("")]
    [InlineData("a234567890123456789012345678901234567890123456789012345678901234")]
    public async Task A_name_that_is_not_a_dns_label_is_refused_before_anything_is_made(string name)
    {
        var project = await Assert.ThrowsAsync<DevDbException>(() =>
            _home.Engine.NewProjectAsync(new NewProjectRequest { Name = name, Source = dumps.CustomDump }));
        Assert.Equal(ErrorCodes.NameInvalid, project.Code);
        Assert.NotNull(project.RecommendedAction);
        Assert.Empty(await _home.Engine.GetProjectsAsync());
        Assert.Empty(_home.Entries("images"));
    }

    [Fact]
    public async Task A_database_name_that_is_not_a_dns_label_is_refused()
    {
        await _home.Engine.NewProjectAsync(new NewProjectRequest { Name = "shop", Source = dumps.CustomDump });
        var error = await Assert.ThrowsAsync<DevDbException>(() =>
            _home.Engine.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "Dave.Smith" }));
        Assert.Equal(ErrorCodes.NameInvalid, error.Code);
        Assert.Contains("uppercase", error.Message);
        Assert.Empty(await _home.Engine.GetDatabasesAsync());
    }

    [Fact]
    public async Task A_missing_dump_file_is_refused_without_recording_the_project()
    {
        var error = await Assert.ThrowsAsync<DevDbException>(() =>
            _home.Engine.NewProjectAsync(new NewProjectRequest { Name = "shop", Source = "/nonexistent/shop.dump" }));
        Assert.Equal(ErrorCodes.SourceNotFound, error.Code);
        Assert.Contains("/nonexistent/shop.dump", error.Message);
        AssertNothingLeft();
    }

    [Fact]
    public async Task A_dump_address_that_answers_404_is_refused_without_recording_the_project()
    {
        await using var server = new HttpFileServer(Path.GetDirectoryName(dumps.CustomDump)!);
        var error = await Assert.ThrowsAsync<DevDbException>(() =>
            _home.Engine.NewProjectAsync(new NewProjectRequest { Name = "shop", Source = server.UrlFor("missing.dump") }));
        Assert.Equal(ErrorCodes.SourceNotFound, error.Code);
        AssertNothingLeft();
    }

    [Fact]
    public async Task A_missing_s3_bucket_is_refused_without_recording_the_project()
    {
        await using var s3 = new S3rverFixture();
        await s3.InitializeAsync();
        var engine = DevDb.Core.Engine.DevDbEngine.OpenLocal(new DevDb.Core.Engine.LocalEngineOptions
        {
            Home = _home.Path, Sources = new DevDb.Core.Sources.DumpSourceOptions { S3ServiceUrl = s3.ServiceUrl },
        });
        var error = await Assert.ThrowsAsync<DevDbException>(() =>
            engine.NewProjectAsync(new NewProjectRequest { Name = "shop", Source = "s3://no-such-bucket/shop.dump" }));
        Assert.Equal(ErrorCodes.SourceNotFound, error.Code);
        Assert.Contains("no-such-bucket", error.Message);
        AssertNothingLeft();
    }

    [Fact]
    public async Task A_postgres_version_that_is_not_installed_is_refused_naming_the_installed_ones()
    {
        var error = await Assert.ThrowsAsync<DevDbException>(() =>
            _home.Engine.NewProjectAsync(new NewProjectRequest { Name = "shop", Source = dumps.CustomDump, PostgresVersion = 98 }));
        Assert.Equal(ErrorCodes.PostgresVersionNotInstalled, error.Code);
        Assert.Contains("15", error.Message);
        AssertNothingLeft();
    }

    [Fact]
    public async Task A_postgres_version_devdb_cannot_run_is_refused_as_the_kubernetes_engine_refuses_it()
    {
        var error = await Assert.ThrowsAsync<DevDbException>(() =>
            _home.Engine.NewProjectAsync(new NewProjectRequest { Name = "shop", Source = dumps.CustomDump, PostgresVersion = 9 }));
        Assert.Equal(ErrorCodes.PostgresVersionUnsupported, error.Code);
        Assert.Contains("10 to 99", error.Message);
        AssertNothingLeft();
    }

    [Fact]
    public async Task A_truncated_dump_fails_the_project_with_pg_restores_words_and_leaves_no_cluster()
    {
        var error = await Assert.ThrowsAsync<DevDbException>(() =>
            _home.Engine.NewProjectAsync(new NewProjectRequest { Name = "shop", Source = dumps.TruncatedCustomDump }));

        Assert.Equal(ErrorCodes.DumpCorrupt, error.Code);
        Assert.Contains("pg_restore", error.Message);
        var project = await _home.Engine.GetProjectAsync("shop");
        Assert.Equal(ProjectStatus.Failed, project.Status);
        Assert.Equal(error.Message, project.Error);
        Assert.Empty(project.Images);
        AssertNoServerFiles();
        EngineHome.AssertNoPostgresUnder(_home.Path);

        var notReady = await Assert.ThrowsAsync<DevDbException>(() =>
            _home.Engine.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "dave" }));
        Assert.Equal(ErrorCodes.ProjectNotReady, notReady.Code);
    }

    [Theory]
    [InlineData(DumpFormat.PlainSql)]
    [InlineData(DumpFormat.GzipPlainSql)]
    public async Task A_plain_sql_dump_cut_short_is_refused_as_corrupt_not_half_restored(DumpFormat format)
    {
        using var folder = new TempFolder("devdb-cut");
        var whole = await File.ReadAllBytesAsync(dumps.DumpPath(format));
        // Cut at a line break: every statement psql sees is complete, only the end is missing.
        var cut = format == DumpFormat.PlainSql ? Array.LastIndexOf(whole, (byte)'\n', whole.Length * 2 / 3) + 1 : whole.Length * 2 / 3;
        var path = folder.Combine("cut");
        await File.WriteAllBytesAsync(path, whole[..cut]);

        var error = await Assert.ThrowsAsync<DevDbException>(() =>
            _home.Engine.NewProjectAsync(new NewProjectRequest { Name = "shop", Source = path }));

        Assert.Equal(ErrorCodes.DumpCorrupt, error.Code);
        Assert.Equal(ProjectStatus.Failed, (await _home.Engine.GetProjectAsync("shop")).Status);
        AssertNoServerFiles();
        EngineHome.AssertNoPostgresUnder(_home.Path);
    }

    [Fact]
    public async Task A_file_that_is_no_dump_is_refused_as_corrupt()
    {
        var error = await Assert.ThrowsAsync<DevDbException>(() =>
            _home.Engine.NewProjectAsync(new NewProjectRequest { Name = "shop", Source = dumps.GarbageFile }));
        Assert.Equal(ErrorCodes.DumpCorrupt, error.Code);
        Assert.Empty(await _home.Engine.GetProjectsAsync());
        AssertNoServerFiles();
        EngineHome.AssertNoPostgresUnder(_home.Path);
    }

    [Fact]
    public async Task A_failed_project_can_be_fixed_by_creating_it_again_from_a_good_dump()
    {
        await Assert.ThrowsAsync<DevDbException>(() =>
            _home.Engine.NewProjectAsync(new NewProjectRequest { Name = "shop", Source = dumps.TruncatedCustomDump }));
        var fixedProject = await _home.Engine.NewProjectAsync(new NewProjectRequest { Name = "shop", Source = dumps.CustomDump });
        Assert.Equal(ProjectStatus.Ready, fixedProject.Status);
        Assert.Null(fixedProject.Error);
        Assert.Equal(1, fixedProject.LatestImage!.Revision);
    }

    [Fact]
    public async Task Failing_post_restore_sql_publishes_no_image_and_a_failed_refresh_keeps_the_old_one()
    {
        await _home.Engine.NewProjectAsync(new NewProjectRequest { Name = "shop", Source = dumps.CustomDump });
        var error = await Assert.ThrowsAsync<DevDbException>(() => _home.Engine.UpdateProjectAsync(
            new UpdateProjectRequest { Name = "shop", PostRestoreSql = "UPDATE no_such_table SET x = 1;" }));

        Assert.Equal(ErrorCodes.PostRestoreSqlFailed, error.Code);
        Assert.Contains("no_such_table", error.Message);
        var project = await _home.Engine.GetProjectAsync("shop");
        Assert.Equal(ProjectStatus.Ready, project.Status);
        Assert.Equal(1, Assert.Single(project.Images).Revision);
        Assert.Equal(["1"], _home.Entries("images/shop"));
        Assert.Equal(1, (await _home.Engine.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "dave" })).ImageRevision);
    }

    [Fact]
    public async Task Unknown_projects_and_databases_are_named_in_the_error()
    {
        var project = await Assert.ThrowsAsync<DevDbException>(() => _home.Engine.GetProjectAsync("nope"));
        Assert.Equal((ErrorCodes.ProjectNotFound, "nope"), (project.Code, project.Target));
        var database = await Assert.ThrowsAsync<DevDbException>(() => _home.Engine.RemoveDatabaseAsync("nope"));
        Assert.Equal((ErrorCodes.DatabaseNotFound, "nope"), (database.Code, database.Target));
        var newDatabase = await Assert.ThrowsAsync<DevDbException>(() =>
            _home.Engine.NewDatabaseAsync(new NewDatabaseRequest { Project = "nope", Name = "dave" }));
        Assert.Equal(ErrorCodes.ProjectNotFound, newDatabase.Code);
        Assert.Empty(_home.Entries("secrets"));
    }

    private void AssertNothingLeft()
    {
        Assert.Empty(_home.Open().GetProjectsAsync().Result);
        AssertNoServerFiles();
    }

    private void AssertNoServerFiles()
    {
        Assert.Empty(_home.Entries("images"));
        Assert.Empty(_home.Entries("databases"));
        Assert.Empty(_home.Entries("work"));
        Assert.Empty(_home.Entries("run"));
    }
}
