using DevDb.Core.Client;
using DevDb.Core.Engine;
using DevDb.Core.Model;
using Xunit;

namespace DevDb.Core.Tests.Engine;

/// <summary>
/// Folder sources (the newest file) and the embedded engine's scheduled refresh pass, on real
/// pg_restore and Postgres servers, by a clock the test moves.
/// </summary>
[Collection(DumpCollection.Name)]
public sealed class RefreshTests(DumpFixture dumps) : IAsyncLifetime
{
    private readonly ManualClock _clock = new();
    private readonly TempFolder _drop = new("devdb-drop");
    private EngineHome _home = null!;

    public Task InitializeAsync()
    {
        _home = new EngineHome(new LocalEngineOptions { Clock = _clock });
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _home.DisposeAsync();
        _drop.Dispose();
    }

    private string Put(string from, string name, DateTime modifiedUtc)
    {
        var path = _drop.Combine(name);
        File.Copy(from, path, overwrite: true);
        File.SetLastWriteTimeUtc(path, modifiedUtc);
        return path;
    }

    private string Folder => _drop.Path + Path.DirectorySeparatorChar;

    [Fact]
    public async Task A_folder_source_restores_its_newest_file_by_modification_time_whatever_the_names()
    {
        var now = DateTime.UtcNow;
        Put(dumps.GarbageFile, "z-old-garbage.dump", now.AddHours(-2));
        Put(dumps.CustomDump, "a-newest.dump", now.AddMinutes(-1));
        // Names starting with '.' are copies in progress: never picked, however new.
        Put(dumps.GarbageFile, ".partial.dump", now);

        var project = await _home.Engine.NewProjectAsync(new NewProjectRequest { Name = "shop", Source = Folder });

        var image = Assert.Single(project.Images);
        Assert.Equal(("a-newest.dump", "Custom", new FileInfo(dumps.CustomDump).Length), (image.Dump, image.SourceFormat, image.SourceBytes));
        var database = await _home.Engine.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "dave" });
        Assert.Equal(DumpFixture.SampleRowCounts["orders"],
            await Clients.ScalarAsync<long>(await _home.Engine.GetConnectionAsync(database.Name), "SELECT count(*) FROM orders"));
    }

    [Fact]
    public async Task A_folder_whose_newest_file_is_garbage_is_refused_naming_that_file_and_an_empty_folder_is_SourceNotFound()
    {
        var empty = await Assert.ThrowsAsync<DevDbException>(() => _home.Engine.NewProjectAsync(new NewProjectRequest { Name = "shop", Source = Folder }));
        Assert.Equal(ErrorCodes.SourceNotFound, empty.Code);
        Assert.Contains("holds no dump file", empty.Message);

        var now = DateTime.UtcNow;
        Put(dumps.CustomDump, "b.dump", now.AddHours(-1));
        // The same modification time: the greater name wins (dumps named by date pick the latest).
        Put(dumps.GarbageFile, "c.dump", now);
        Put(dumps.CustomDump, "a.dump", now);
        var corrupt = await Assert.ThrowsAsync<DevDbException>(() => _home.Engine.NewProjectAsync(new NewProjectRequest { Name = "shop", Source = Folder }));
        Assert.Equal(ErrorCodes.DumpCorrupt, corrupt.Code);
        Assert.Contains("c.dump", corrupt.Message);
        Assert.Empty(await _home.Engine.GetProjectsAsync());
    }

    [Fact]
    public async Task A_scheduled_refresh_runs_only_in_the_pass_when_due_builds_from_the_newest_file_and_a_failed_one_keeps_the_previous_image()
    {
        Put(dumps.CustomDump, "shop-1.dump", DateTime.UtcNow.AddHours(-1));
        var created = await _home.Engine.NewProjectAsync(new NewProjectRequest { Name = "shop", Source = Folder, RefreshSchedule = "0 3 * * *", RefreshTimeZone = "Europe/Paris" });
        var next = created.NextRefresh!.Value;
        Assert.Equal((TimeSpan.Zero, "Europe/Paris"), (next.Offset, created.RefreshTimeZone));
        Assert.InRange(next - _clock.GetUtcNow(), TimeSpan.FromSeconds(1), TimeSpan.FromDays(1));
        Assert.Null(created.LastRefresh);

        // A newer dump arrives; one second before the schedule nothing runs, and ordinary commands never run it.
        Put(dumps.PlainDump, "shop-2.sql", DateTime.UtcNow);
        _clock.Advance(next - _clock.GetUtcNow() - TimeSpan.FromSeconds(1));
        Assert.Empty(await _home.Engine.RefreshDueProjectsAsync());
        _clock.Advance(TimeSpan.FromSeconds(2));
        await _home.Engine.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "dave" });
        Assert.Equal([1], (await _home.Engine.GetProjectAsync("shop")).Images.Select(i => i.Revision));

        Assert.Equal(["shop"], await _home.Engine.RefreshDueProjectsAsync());
        var refreshed = await Poll(p => p.LastRefreshOutcome is not RefreshOutcome.Running);
        Assert.Equal((RefreshOutcome.Succeeded, (string?)null), (refreshed.LastRefreshOutcome, refreshed.LastRefreshError));
        Assert.Equal(_clock.GetUtcNow(), refreshed.LastRefresh);
        Assert.Equal(next.AddDays(1), refreshed.NextRefresh);
        Assert.Equal(("shop-2.sql", "PlainSql"), (refreshed.LatestImage!.Dump, refreshed.LatestImage.SourceFormat));
        Assert.Equal(1, (await _home.Engine.GetDatabaseAsync("dave")).ImageRevision);
        Assert.Empty(await _home.Engine.RefreshDueProjectsAsync());

        // The next day the newest file is garbage: nothing is built, r2 keeps serving, and the failure says why.
        Put(dumps.GarbageFile, "shop-3.dump", DateTime.UtcNow.AddMinutes(1));
        _clock.Advance(TimeSpan.FromDays(1));
        Assert.Equal(["shop"], await _home.Engine.RefreshDueProjectsAsync());
        var failed = await Poll(p => p.LastRefreshOutcome is not RefreshOutcome.Running);
        Assert.Equal((RefreshOutcome.Failed, ErrorCodes.DumpCorrupt, ProjectStatus.Ready), (failed.LastRefreshOutcome, failed.LastRefreshErrorCode, failed.Status));
        Assert.Contains("shop-3.dump", failed.LastRefreshError);
        Assert.Equal(next.AddDays(2), failed.NextRefresh);
        Assert.Equal(2, failed.LatestImage!.Revision);
        Assert.Equal(2, (await _home.Engine.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "erin" })).ImageRevision);

        // Dropped: no next refresh, and the pass leaves it alone.
        var dropped = await _home.Engine.SetProjectAsync(new SetProjectRequest { Name = "shop", NoRefreshSchedule = true });
        Assert.Equal((null, null, (DateTimeOffset?)null), (dropped.RefreshSchedule, dropped.RefreshTimeZone, dropped.NextRefresh));
        _clock.Advance(TimeSpan.FromDays(3));
        Assert.Empty(await _home.Engine.RefreshDueProjectsAsync());
    }

    [Fact]
    public async Task A_bad_schedule_records_nothing_and_a_set_one_is_shown_at_once()
    {
        Put(dumps.CustomDump, "shop.dump", DateTime.UtcNow);
        var error = await Assert.ThrowsAsync<DevDbException>(() =>
            _home.Engine.NewProjectAsync(new NewProjectRequest { Name = "shop", Source = Folder, RefreshSchedule = "every night" }));
        Assert.Equal(ErrorCodes.ScheduleInvalid, error.Code);
        Assert.Empty(await _home.Engine.GetProjectsAsync());

        await _home.Engine.NewProjectAsync(new NewProjectRequest { Name = "shop", Source = Folder });
        var zone = await Assert.ThrowsAsync<DevDbException>(() =>
            _home.Engine.SetProjectAsync(new SetProjectRequest { Name = "shop", RefreshSchedule = "0 3 * * *", RefreshTimeZone = "Paris" }));
        Assert.Equal(ErrorCodes.ScheduleInvalid, zone.Code);
        Assert.Null((await _home.Engine.GetProjectAsync("shop")).RefreshSchedule);

        var set = await _home.Engine.SetProjectAsync(new SetProjectRequest { Name = "shop", RefreshSchedule = "*/30 * * * *" });
        Assert.Equal(("*/30 * * * *", "UTC"), (set.RefreshSchedule, set.RefreshTimeZone));
        Assert.Equal(set.NextRefresh, (await _home.Open().GetProjectAsync("shop")).NextRefresh);
        Assert.InRange(set.NextRefresh!.Value - _clock.GetUtcNow(), TimeSpan.Zero, TimeSpan.FromMinutes(30));
    }

    [Fact]
    public async Task Retention_keeps_the_newest_three_images_by_default_and_any_a_database_uses()
    {
        Put(dumps.CustomDump, "shop.dump", DateTime.UtcNow);
        await _home.Engine.NewProjectAsync(new NewProjectRequest { Name = "shop", Source = Folder });
        await _home.Engine.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "dave" });
        for (var i = 0; i < 4; i++) await _home.Engine.UpdateProjectAsync(new UpdateProjectRequest { Name = "shop" });

        // r1 is dave's; r3-r5 are the newest three; r2 goes.
        Assert.Equal([1, 3, 4, 5], (await _home.Engine.GetProjectAsync("shop")).Images.Select(i => i.Revision));
        Assert.Equal(["1", "3", "4", "5"], _home.Entries("images/shop").Order());
    }

    private async Task<Project> Poll(Func<Project, bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            var project = await _home.Engine.GetProjectAsync("shop");
            if (done(project)) return project;
            if (DateTime.UtcNow > deadline) Assert.Fail($"The refresh did not finish in 90 s: {project.LastRefreshOutcome}");
            await Task.Delay(100);
        }
    }
}
