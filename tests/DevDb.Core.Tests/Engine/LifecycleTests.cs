using DevDb.Core.Engine;
using System.Net.Sockets;
using DevDb.Core.Client;
using DevDb.Core.Model;
using Npgsql;
using Xunit;

namespace DevDb.Core.Tests.Engine;

/// <summary>The life of a project and its databases, end to end on real Postgres servers.</summary>
[Collection(DumpCollection.Name)]
public sealed class LifecycleTests(DumpFixture dumps) : IAsyncLifetime
{
    // Retention of the newest image only (ImagesToKeep 1), so an image nobody uses goes at once; RefreshTests cover the default.
    private readonly EngineHome _home = new(new LocalEngineOptions { ImagesToKeep = 1 });
    private Project _project = null!;

    public async Task InitializeAsync() =>
        _project = await _home.Engine.NewProjectAsync(new NewProjectRequest { Name = "shop", Source = dumps.CustomDump });

    public Task DisposeAsync() => _home.DisposeAsync().AsTask();

    [Fact]
    public void A_new_project_has_a_ready_first_image_described_from_its_dump()
    {
        Assert.Equal(ProjectStatus.Ready, _project.Status);
        var image = Assert.Single(_project.Images);
        Assert.Equal(1, image.Revision);
        Assert.Equal(ImageStatus.Ready, image.Status);
        Assert.Equal("Custom", image.SourceFormat);
        Assert.Equal(new FileInfo(dumps.CustomDump).Length, image.SourceBytes);
        Assert.True(image.SizeBytes > image.SourceBytes, "the restored folder is larger than the compressed dump");
        Assert.Null(_project.Error);
    }

    [Fact]
    public async Task A_database_holds_the_dumps_data_and_accepts_only_its_own_password()
    {
        var database = await _home.Engine.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "dave", Owner = "dave" });
        Assert.Equal(DatabaseStatus.Running, database.Status);
        Assert.Equal(("127.0.0.1", "app", "dave", 1), (database.Host, database.DatabaseName, database.Username, database.ImageRevision));

        var connection = await _home.Engine.GetConnectionAsync("dave");
        foreach (var (table, rows) in DumpFixture.SampleRowCounts)
            Assert.Equal(rows, await Clients.ScalarAsync<long>(connection, $"SELECT count(*) FROM {table}"));
        Assert.Equal(32, connection.Password.Length);

        var wrong = new ConnectionInfo(connection.Host, connection.Port, connection.DatabaseName, connection.Username, "not-the-password");
        var refused = await Assert.ThrowsAsync<PostgresException>(() => Clients.ScalarAsync<int>(wrong, "SELECT 1"));
        Assert.Equal("28P01", refused.SqlState);
    }

    [Fact]
    public async Task Every_database_gets_its_own_port_and_password()
    {
        await _home.Engine.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "one" });
        await _home.Engine.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "two" });
        var one = await _home.Engine.GetConnectionAsync("one");
        var two = await _home.Engine.GetConnectionAsync("two");
        Assert.NotEqual(one.Port, two.Port);
        Assert.NotEqual(one.Password, two.Password);

        await Clients.ExecuteAsync(one, "DELETE FROM order_items");
        Assert.Equal(0L, await Clients.ScalarAsync<long>(one, "SELECT count(*) FROM order_items"));
        Assert.Equal(DumpFixture.SampleRowCounts["order_items"], await Clients.ScalarAsync<long>(two, "SELECT count(*) FROM order_items"));
    }

    [Fact]
    public async Task Stop_refuses_connections_and_start_brings_the_same_data_back()
    {
        await _home.Engine.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "dave" });
        var connection = await _home.Engine.GetConnectionAsync("dave");
        await Clients.ExecuteAsync(connection, "CREATE TABLE notes (body text); INSERT INTO notes VALUES ('kept')");

        var stopped = await _home.Engine.StopDatabaseAsync("dave");
        Assert.Equal(DatabaseStatus.Stopped, stopped.Status);
        Assert.Equal(DatabaseStatus.Stopped, (await _home.Open().GetDatabaseAsync("dave")).Status);
        var error = await Assert.ThrowsAnyAsync<NpgsqlException>(() => Clients.ScalarAsync<int>(connection, "SELECT 1"));
        Assert.IsType<SocketException>(error.InnerException);

        var started = await _home.Engine.StartDatabaseAsync("dave");
        Assert.Equal(DatabaseStatus.Running, started.Status);
        Assert.Equal("kept", await Clients.ScalarAsync<string>(connection, "SELECT body FROM notes"));
    }

    [Fact]
    public async Task A_stopped_database_whose_port_another_program_took_does_not_start_and_says_why()
    {
        var database = await _home.Engine.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "dave" });
        await _home.Engine.StopDatabaseAsync("dave");
        using var squatter = new TcpListener(System.Net.IPAddress.Loopback, database.Port);
        squatter.Start();

        var error = await Assert.ThrowsAsync<DevDbException>(() => _home.Engine.StartDatabaseAsync("dave"));

        Assert.Equal(ErrorCodes.PortInUse, error.Code);
        Assert.Contains(database.Port.ToString(), error.Message);
        Assert.Equal(DatabaseStatus.Stopped, (await _home.Engine.GetDatabaseAsync("dave")).Status);
        squatter.Stop();
        Assert.Equal(DatabaseStatus.Running, (await _home.Engine.StartDatabaseAsync("dave")).Status);
    }

    [Fact]
    public async Task A_server_that_cannot_start_fails_at_once_quoting_its_log()
    {
        await _home.Engine.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "dave" });
        await _home.Engine.StopDatabaseAsync("dave");
        await File.AppendAllTextAsync(Path.Combine(_home.Path, "databases", "dave", "data", "postgresql.conf"), "\nshared_buffers = 'plenty'\n");
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<DevDbException>(() => _home.Engine.StartDatabaseAsync("dave"));

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
        Assert.Equal(ErrorCodes.ServerStartFailed, error.Code);
        Assert.Contains("shared_buffers", error.Message);
        Assert.Contains("server.log", error.RecommendedAction);
        Assert.Equal(DatabaseStatus.Stopped, (await _home.Engine.GetDatabaseAsync("dave")).Status);
        EngineHome.AssertNoPostgresUnder(Path.Combine(_home.Path, "databases", "dave"));
    }

    [Fact]
    public async Task Reset_brings_back_the_images_data_with_the_same_port_user_and_password()
    {
        await _home.Engine.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "dave" });
        var before = await _home.Engine.GetConnectionAsync("dave");
        await Clients.ExecuteAsync(before, "DELETE FROM order_items; DELETE FROM orders; CREATE TABLE scratch (x int)");

        var reset = await _home.Engine.ResetDatabaseAsync("dave");

        var after = await _home.Engine.GetConnectionAsync("dave");
        Assert.Equal((before.Port, before.Username, before.Password), (after.Port, after.Username, after.Password));
        Assert.Equal(DatabaseStatus.Running, reset.Status);
        Assert.Equal(DumpFixture.SampleRowCounts["orders"], await Clients.ScalarAsync<long>(after, "SELECT count(*) FROM orders"));
        Assert.Equal(0L, await Clients.ScalarAsync<long>(after, "SELECT count(*) FROM pg_tables WHERE tablename = 'scratch'"));
    }

    [Fact]
    public async Task Update_builds_the_next_image_and_databases_keep_theirs_until_reset()
    {
        await _home.Engine.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "dave" });
        var updated = await _home.Engine.UpdateProjectAsync(new UpdateProjectRequest
        {
            Name = "shop", PostRestoreSql = "UPDATE customers SET email = 'masked-' || customer_id || '@example.com';",
        });
        Assert.Equal([1, 2], updated.Images.Select(i => i.Revision));
        Assert.Equal(2, updated.LatestImage!.Revision);

        var connection = await _home.Engine.GetConnectionAsync("dave");
        Assert.Equal(1, (await _home.Engine.GetDatabaseAsync("dave")).ImageRevision);
        Assert.Equal(0L, await Clients.ScalarAsync<long>(connection, "SELECT count(*) FROM customers WHERE email LIKE 'masked-%'"));

        Assert.Equal(2, (await _home.Engine.ResetDatabaseAsync("dave")).ImageRevision);
        Assert.Equal(DumpFixture.SampleRowCounts["customers"],
            await Clients.ScalarAsync<long>(connection, "SELECT count(*) FROM customers WHERE email LIKE 'masked-%'"));
        var fresh = await _home.Engine.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "fresh" });
        Assert.Equal(2, fresh.ImageRevision);
    }

    [Fact]
    public async Task Images_no_database_can_use_again_are_deleted_and_those_in_use_are_kept()
    {
        await _home.Engine.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "dave" });
        await _home.Engine.UpdateProjectAsync(new UpdateProjectRequest { Name = "shop" });
        var third = await _home.Engine.UpdateProjectAsync(new UpdateProjectRequest { Name = "shop" });

        // r1 is dave's, r3 the newest; r2 was never used and never will be.
        Assert.Equal([1, 3], third.Images.Select(i => i.Revision));
        Assert.Equal(["1", "3"], _home.Entries("images/shop").Order());

        await _home.Engine.ResetDatabaseAsync("dave");
        Assert.Equal([3], (await _home.Engine.GetProjectAsync("shop")).Images.Select(i => i.Revision));
        Assert.Equal(["3"], _home.Entries("images/shop"));
    }

    [Fact]
    public async Task An_image_folder_the_catalog_does_not_know_is_deleted_by_the_next_change()
    {
        var orphan = Path.Combine(_home.Path, "images", "shop", "7");
        Directory.CreateDirectory(orphan);
        File.WriteAllText(Path.Combine(orphan, "PG_VERSION"), "15");

        var next = _home.Open();
        await next.GetProjectsAsync();
        Assert.True(Directory.Exists(orphan), "reading repairs nothing");
        await next.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "dave" });

        Assert.False(Directory.Exists(orphan));
        Assert.Equal(["1"], _home.Entries("images/shop"));
    }

    [Fact]
    public async Task Remove_database_stops_its_server_and_leaves_nothing()
    {
        await _home.Engine.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "dave" });
        var connection = await _home.Engine.GetConnectionAsync("dave");

        await _home.Engine.RemoveDatabaseAsync("dave");

        await Assert.ThrowsAnyAsync<NpgsqlException>(() => Clients.ScalarAsync<int>(connection, "SELECT 1"));
        Assert.Empty(await _home.Engine.GetDatabasesAsync());
        Assert.Empty(_home.Entries("databases"));
        Assert.Empty(_home.Entries("secrets"));
        var missing = await Assert.ThrowsAsync<DevDbException>(() => _home.Engine.GetDatabaseAsync("dave"));
        Assert.Equal(ErrorCodes.DatabaseNotFound, missing.Code);
    }

    [Fact]
    public async Task Remove_project_refuses_while_databases_exist_and_force_removes_everything()
    {
        await _home.Engine.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "dave" });

        var refused = await Assert.ThrowsAsync<DevDbException>(() => _home.Engine.RemoveProjectAsync("shop"));
        Assert.Equal(ErrorCodes.ProjectHasDatabases, refused.Code);
        Assert.Contains("dave", refused.Message);
        Assert.Equal(DatabaseStatus.Running, (await _home.Engine.GetDatabaseAsync("dave")).Status);

        await _home.Engine.RemoveProjectAsync("shop", force: true);
        Assert.Empty(await _home.Engine.GetProjectsAsync());
        Assert.Empty(await _home.Engine.GetDatabasesAsync());
        Assert.Empty(_home.Entries("images"));
        Assert.Empty(_home.Entries("databases"));
    }

    [Fact]
    public async Task Creating_an_identical_project_again_returns_it_and_a_different_one_is_refused()
    {
        var again = await _home.Engine.NewProjectAsync(new NewProjectRequest { Name = "shop", Source = dumps.CustomDump });
        Assert.Equal(_project.Created, again.Created);
        Assert.Single(again.Images);

        var conflict = await Assert.ThrowsAsync<DevDbException>(() =>
            _home.Engine.NewProjectAsync(new NewProjectRequest { Name = "shop", Source = dumps.TarDump }));
        Assert.Equal(ErrorCodes.ProjectExists, conflict.Code);
    }

    [Fact]
    public async Task Repeating_a_create_returns_the_same_database_untouched()
    {
        var first = await _home.Engine.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "dave", Owner = "dave" });
        var password = (await _home.Engine.GetConnectionAsync("dave")).Password;
        await Clients.ExecuteAsync(await _home.Engine.GetConnectionAsync("dave"), "CREATE TABLE kept (id int)");

        var again = await _home.Engine.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "dave", Owner = "dave" });

        Assert.Equal(first, again);
        Assert.Equal(password, (await _home.Engine.GetConnectionAsync("dave")).Password);
        Assert.Equal(0, await Clients.ScalarAsync<long>(await _home.Engine.GetConnectionAsync("dave"), "SELECT count(*) FROM kept"));
    }

    [Fact]
    public async Task A_database_name_taken_by_another_owner_is_refused_and_the_first_database_is_untouched()
    {
        await _home.Engine.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "dave", Owner = "dave" });
        var duplicate = await Assert.ThrowsAsync<DevDbException>(() =>
            _home.Engine.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "dave", Owner = "erin" }));
        Assert.Equal(ErrorCodes.DatabaseExists, duplicate.Code);
        Assert.Contains("owner 'dave'", duplicate.Message);
        Assert.Equal("dave", (await _home.Engine.GetDatabaseAsync("dave")).Owner);
        Assert.Equal(1, await Clients.ScalarAsync<int>(await _home.Engine.GetConnectionAsync("dave"), "SELECT 1"));
    }

    [Fact]
    public async Task The_password_is_kept_out_of_the_catalog_and_the_server_log_and_its_file_is_private()
    {
        await _home.Engine.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "dave" });
        var password = (await _home.Engine.GetConnectionAsync("dave")).Password;

        foreach (var file in Directory.EnumerateFiles(Path.Combine(_home.Path, "catalog"), "*", SearchOption.AllDirectories))
            Assert.DoesNotContain(password, await File.ReadAllTextAsync(file));
        Assert.DoesNotContain(password, await File.ReadAllTextAsync(Path.Combine(_home.Path, "databases", "dave", "server.log")));
        Assert.DoesNotContain(password, (await _home.Engine.GetDatabaseAsync("dave")).ToString());
        Assert.DoesNotContain(password, (await _home.Engine.GetConnectionAsync("dave")).ToString());
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_home.Path, "secrets", "dave")));
    }
}
