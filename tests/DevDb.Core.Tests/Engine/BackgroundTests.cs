using DevDb.Core.Engine;
using DevDb.Core.Client;
using DevDb.Core.Model;
using Xunit;

namespace DevDb.Core.Tests.Engine;

/// <summary>
/// Work started with Start* (what the API answers 202 for, and New-DevDbDatabase -NoWait): it is
/// checked and recorded at once, finishes in the background, and records its own outcome.
/// </summary>
[Collection(DumpCollection.Name)]
public sealed class BackgroundTests(DumpFixture dumps) : IAsyncLifetime
{
    // Retention of the newest image only (ImagesToKeep 1), so an image nobody uses goes at once; RefreshTests cover the default.
    private readonly EngineHome _home = new(new LocalEngineOptions { ImagesToKeep = 1 });

    public async Task InitializeAsync() =>
        await _home.Engine.NewProjectAsync(new NewProjectRequest { Name = "shop", Source = dumps.CustomDump });

    public Task DisposeAsync() => _home.DisposeAsync().AsTask();

    [Fact]
    public async Task A_started_database_is_Creating_at_once_and_Running_after_the_wait()
    {
        var started = await _home.Engine.BeginNewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "dave", Owner = "dave" });
        Assert.Equal(DatabaseStatus.Creating, started.Status);

        // Another session sees it, and waits for it as well.
        var waited = await _home.Open().WaitDatabaseAsync("dave");

        Assert.Equal(DatabaseStatus.Running, waited.Status);
        Assert.Equal(started.Port, waited.Port);
        Assert.Equal(5000L, await Clients.ScalarAsync<long>(await _home.Engine.GetConnectionAsync("dave"), "SELECT count(*) FROM orders"));
    }

    [Fact]
    public async Task Bad_input_is_refused_when_starting_before_anything_is_recorded()
    {
        var name = await Assert.ThrowsAsync<DevDbException>(() =>
            _home.Engine.BeginNewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "Not_A_Label" }));
        var project = await Assert.ThrowsAsync<DevDbException>(() =>
            _home.Engine.BeginNewDatabaseAsync(new NewDatabaseRequest { Project = "nope", Name = "dave" }));
        var source = await Assert.ThrowsAsync<DevDbException>(() =>
            _home.Engine.BeginNewProjectAsync(new NewProjectRequest { Name = "other", Source = "/nonexistent/x.dump" }));

        Assert.Equal([ErrorCodes.NameInvalid, ErrorCodes.ProjectNotFound, ErrorCodes.SourceNotFound], new[] { name.Code, project.Code, source.Code });
        Assert.Empty(await _home.Engine.GetDatabasesAsync());
        Assert.Equal(["shop"], (await _home.Engine.GetProjectsAsync()).Select(p => p.Name));
    }

    [Fact]
    public async Task A_background_create_that_fails_is_recorded_Failed_with_its_error_and_can_be_created_again()
    {
        // The image vanishes under the engine: the clone fails after the request was accepted.
        var image = Path.Combine(_home.Path, "images", "shop", "1");
        Directory.Move(image, image + ".away");
        await _home.Engine.BeginNewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "dave", Owner = "dave" });

        // The runtime's own error comes back to whoever waits, and stays on the record.
        var error = await Assert.ThrowsAsync<DevDbException>(() => _home.Engine.WaitDatabaseAsync("dave"));
        Assert.Equal(ErrorCodes.ImageMissing, error.Code);
        var failed = await _home.Engine.GetDatabaseAsync("dave");
        Assert.Equal(DatabaseStatus.Failed, failed.Status);
        Assert.Equal(error.Code, failed.ErrorCode);
        Assert.Equal(error.Message, failed.Error);
        Assert.Empty(_home.Entries("databases"));
        Assert.Empty(_home.Entries("secrets"));
        var start = await Assert.ThrowsAsync<DevDbException>(() => _home.Engine.StartDatabaseAsync("dave"));
        Assert.Equal(ErrorCodes.ImageMissing, start.Code);

        // Once the cause is gone, the same create replaces the failed record.
        Directory.Move(image + ".away", image);
        var created = await _home.Engine.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "dave", Owner = "dave" });
        Assert.Equal(DatabaseStatus.Running, created.Status);
        Assert.Null(created.Error);
        Assert.Equal(1, await Clients.ScalarAsync<int>(await _home.Engine.GetConnectionAsync("dave"), "SELECT 1"));
    }

    [Fact]
    public async Task A_failed_database_can_be_removed()
    {
        var image = Path.Combine(_home.Path, "images", "shop", "1");
        Directory.Move(image, image + ".away");
        await _home.Engine.BeginNewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "dave" });
        await Assert.ThrowsAsync<DevDbException>(() => _home.Engine.WaitDatabaseAsync("dave"));
        Directory.Move(image + ".away", image);

        await _home.Engine.RemoveDatabaseAsync("dave");

        Assert.Empty(await _home.Engine.GetDatabasesAsync());
    }

    [Fact]
    public async Task Shutting_the_engine_down_stops_a_background_create_and_records_it_failed_not_lost()
    {
        var engine = _home.Open();
        await engine.BeginNewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "dave" });
        await engine.DisposeAsync();

        var database = Assert.Single(await _home.Engine.GetDatabasesAsync());
        Assert.True(database.Status is DatabaseStatus.Failed or DatabaseStatus.Running, "accepted work ends Failed with why or, if it finished first, Running");
        if (database.Status == DatabaseStatus.Failed)
        {
            Assert.Contains("shut down before it finished", database.Error);
            Assert.Empty(_home.Entries("databases"));
            EngineHome.AssertNoPostgresUnder(Path.Combine(_home.Path, "databases"));
        }
    }

    [Fact]
    public async Task A_started_project_is_Building_at_once_and_Ready_later()
    {
        var started = await _home.Engine.BeginNewProjectAsync(new NewProjectRequest { Name = "shop2", Source = dumps.CustomDump });
        Assert.Equal(ProjectStatus.Building, started.Status);

        // Repeating the create while it builds is not an error: it is the same project.
        var repeated = await _home.Open().NewProjectAsync(new NewProjectRequest { Name = "shop2", Source = dumps.CustomDump });

        Assert.Equal(ProjectStatus.Ready, repeated.Status);
        Assert.Equal(ImageStatus.Ready, Assert.Single(repeated.Images).Status);
    }

    [Fact]
    public async Task A_started_project_whose_dump_is_corrupt_ends_Failed_with_the_code()
    {
        await _home.Engine.BeginNewProjectAsync(new NewProjectRequest { Name = "broken", Source = dumps.TruncatedCustomDump });

        // Whoever waits gets the build's own error.
        var error = await Assert.ThrowsAsync<DevDbException>(() => _home.Open().WaitProjectAsync("broken"));
        Assert.Equal(ErrorCodes.DumpCorrupt, error.Code);
        var project = await _home.Engine.GetProjectAsync("broken");

        Assert.Equal(ProjectStatus.Failed, project.Status);
        Assert.Equal(error.Message, project.Error);
        Assert.Equal(ErrorCodes.DumpCorrupt, project.ErrorCode);
        Assert.Empty(project.Images);
    }

    [Fact]
    public async Task A_started_refresh_builds_the_next_image_in_the_background()
    {
        var started = await _home.Engine.BeginUpdateProjectAsync(new UpdateProjectRequest { Name = "shop" });
        Assert.Equal(ImageStatus.Building, started.Images.Single(i => i.Revision == 2).Status);

        var project = await _home.Open().WaitProjectAsync("shop");

        Assert.Equal(2, project.LatestImage?.Revision);
        Assert.All(project.Images, i => Assert.Equal(ImageStatus.Ready, i.Status));
        // The old image is pruned right after the build; the wait may see the project just before.
        var pruned = await Poll(() => _home.Engine.GetProjectAsync("shop"), p => p.Images.Count == 1);
        Assert.Equal([2], pruned.Images.Select(i => i.Revision));
    }

    [Fact]
    public async Task Waiting_for_a_started_refresh_that_fails_raises_its_error_and_the_project_keeps_its_image()
    {
        await _home.Engine.BeginUpdateProjectAsync(new UpdateProjectRequest { Name = "shop", Source = dumps.TruncatedCustomDump });

        var error = await Assert.ThrowsAsync<DevDbException>(() => _home.Engine.WaitProjectAsync("shop"));

        Assert.Equal(ErrorCodes.DumpCorrupt, error.Code);
        var project = await _home.Engine.GetProjectAsync("shop");
        Assert.Equal(ProjectStatus.Ready, project.Status);
        Assert.Equal([1], project.Images.Select(i => i.Revision));
    }

    [Fact]
    public async Task Waiting_for_a_project_with_no_build_returns_it_as_it_is()
    {
        var project = await _home.Engine.WaitProjectAsync("shop");

        Assert.Equal(ProjectStatus.Ready, project.Status);
        Assert.Equal(1, project.LatestImage?.Revision);
        var missing = await Assert.ThrowsAsync<DevDbException>(() => _home.Engine.WaitProjectAsync("nope"));
        Assert.Equal(ErrorCodes.ProjectNotFound, missing.Code);
    }

    [Fact]
    public async Task Databases_can_be_listed_by_owner()
    {
        await _home.Engine.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "dave", Owner = "dave" });
        await _home.Engine.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "erin", Owner = "erin" });

        Assert.Equal(["erin"], (await _home.Engine.GetDatabasesAsync(owner: "erin")).Select(d => d.Name));
        Assert.Equal(["dave"], (await _home.Engine.GetDatabasesAsync("shop", "dave")).Select(d => d.Name));
        Assert.Empty(await _home.Engine.GetDatabasesAsync(owner: "nobody"));
    }

    private static async Task<T> Poll<T>(Func<Task<T>> read, Func<T, bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var value = await read();
            if (done(value) || DateTime.UtcNow > deadline) return value;
            await Task.Delay(100);
        }
    }
}
