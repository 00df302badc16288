using DevDb.Core;
using DevDb.Core.Client;
using DevDb.Core.Model;
using Xunit;
using static DevDb.Conformance.Tests.Configurations.Configuration;

namespace DevDb.Conformance.Tests;

/// <summary>
/// Scheduled refresh from the newest dump under an S3 prefix, by the configuration's clock (moved,
/// never slept on): when due and not before, from the newest object, a failed one keeping the
/// previous image; where no server runs (the embedded engine), ordinary commands never refresh.
/// </summary>
public abstract partial class Scenarios<TConfiguration>
{
    private const string Prefix = "nightly/";

    private async Task UploadAsync(string key, string file)
    {
        await Configuration.S3.UploadAsync(Configurations.Configuration.Bucket, Prefix + key, file);
        // s3rver's LastModified has a resolution of a second or less: keep uploads apart so their order is the time order.
        await Task.Delay(TimeSpan.FromMilliseconds(1100));
    }

    /// <summary>Waits (real time: the build runs in a server or a restore pod) until the last scheduled refresh has an outcome.</summary>
    private async Task<Project> RefreshedAsync(string name)
    {
        var deadline = DateTime.UtcNow.AddMinutes(4);
        while (true)
        {
            var project = await Client.GetProjectAsync(name);
            if (project.LastRefresh is not null && project.LastRefreshOutcome is RefreshOutcome.Succeeded or RefreshOutcome.Failed
                && !project.Images.Any(i => i.Status == ImageStatus.Building))
                return project;
            if (DateTime.UtcNow > deadline) Assert.Fail($"The scheduled refresh of {name} had no outcome within 4 minutes: {project.LastRefreshOutcome}.");
            await Task.Delay(200);
        }
    }

    [Fact]
    public async Task A_scheduled_project_on_an_S3_prefix_refreshes_from_the_newest_object_when_due_and_a_failed_refresh_keeps_the_previous_image()
    {
        // Key order is the opposite of upload order: LastModified decides, not the name.
        await UploadAsync("b-monday.dump", RepoPaths.SampleDump);
        await UploadAsync("a-tuesday.dump", RepoPaths.SampleDump);
        var created = await Client.NewProjectAsync(new NewProjectRequest
        {
            Name = "tango", Source = Configuration.Source(Prefix), PostgresVersion = Configurations.Configuration.PostgresVersion,
            RefreshSchedule = "0 3 * * *", RefreshTimeZone = "Europe/Paris",
        });
        Assert.Equal(("0 3 * * *", "Europe/Paris", Prefix + "a-tuesday.dump"), (created.RefreshSchedule, created.RefreshTimeZone, created.LatestImage!.Dump));
        var next = created.NextRefresh ?? throw new Xunit.Sdk.XunitException("No NextRefresh shown.");
        Assert.InRange(next - Configuration.Clock.GetUtcNow(), TimeSpan.FromSeconds(1), TimeSpan.FromHours(24));
        Assert.Equal(next, (await Client.GetProjectAsync("tango")).NextRefresh);
        Assert.Null(created.LastRefresh);

        // A newer dump arrives; a minute before the schedule nothing happens.
        await UploadAsync("c-wednesday.dump", RepoPaths.SampleDump);
        await Configuration.AdvanceClockAsync(next - Configuration.Clock.GetUtcNow() - TimeSpan.FromMinutes(1));
        var early = await Client.GetProjectAsync("tango");
        Assert.Equal([1], early.Images.Select(i => i.Revision));
        Assert.Equal(((DateTimeOffset?)null, (DateTimeOffset?)next), (early.LastRefresh, early.NextRefresh));

        await Configuration.AdvanceClockAsync(TimeSpan.FromMinutes(2));
        if (!Differences.ScheduledRefreshRuns)
        {
            // No server runs here: ordinary commands (a change, a read) do not refresh; the schedule stays shown, past due.
            await Client.NewDatabaseAsync(new NewDatabaseRequest { Project = "tango", Name = "tango-one" });
            var idle = await Client.GetProjectAsync("tango");
            Assert.Equal([1], idle.Images.Select(i => i.Revision));
            Assert.Equal(((DateTimeOffset?)null, (DateTimeOffset?)next), (idle.LastRefresh, idle.NextRefresh));
            await Client.RemoveProjectAsync("tango", force: true);
            return;
        }

        var refreshed = await RefreshedAsync("tango");
        Assert.Equal((RefreshOutcome.Succeeded, (string?)null), (refreshed.LastRefreshOutcome, refreshed.LastRefreshError));
        Assert.Equal((2, Prefix + "c-wednesday.dump"), (refreshed.LatestImage!.Revision, refreshed.LatestImage.Dump));
        Assert.Equal(next.AddDays(1), refreshed.NextRefresh);
        Assert.InRange(refreshed.LastRefresh!.Value, next, next.AddMinutes(2));
        var database = await Client.NewDatabaseAsync(new NewDatabaseRequest { Project = "tango", Name = "tango-one" });
        Assert.Equal(2, database.ImageRevision);

        // The next night the newest object is garbage: no image is built, r2 keeps serving, and why is recorded.
        using (var garbage = new TempFolder("devdb-garbage"))
        {
            var file = garbage.Combine("garbage.dump");
            await File.WriteAllBytesAsync(file, Enumerable.Range(0, 4096).Select(i => (byte)(i * 7 % 251)).ToArray());
            await UploadAsync("d-thursday.dump", file);
        }
        await Configuration.AdvanceClockAsync(TimeSpan.FromDays(1));
        var failed = await RefreshedAsync("tango");
        Assert.Equal((RefreshOutcome.Failed, ErrorCodes.DumpCorrupt, ProjectStatus.Ready), (failed.LastRefreshOutcome, failed.LastRefreshErrorCode, failed.Status));
        Assert.Contains("d-thursday.dump", failed.LastRefreshError);
        Assert.Equal(next.AddDays(2), failed.NextRefresh);
        Assert.Equal(2, failed.LatestImage!.Revision);
        Assert.Equal(2, (await Client.NewDatabaseAsync(new NewDatabaseRequest { Project = "tango", Name = "tango-two" })).ImageRevision);

        await Client.RemoveProjectAsync("tango", force: true);
    }

    [Fact]
    public async Task A_bad_schedule_is_ScheduleInvalid_and_changes_nothing_and_a_schedule_is_set_and_dropped_without_a_new_image()
    {
        var bad = await Refused(ErrorCodes.ScheduleInvalid, () => Client.NewProjectAsync(Configuration.Shop with { Name = "uniform", RefreshSchedule = "0 3 * *" }));
        Assert.Contains("five", bad.Message);
        await Refused(ErrorCodes.ProjectNotFound, () => Client.GetProjectAsync("uniform"));
        await Refused(ErrorCodes.ScheduleInvalid, () => Client.NewProjectAsync(Configuration.Shop with { Name = "uniform", RefreshSchedule = "0 3 * * *", RefreshTimeZone = "Europe/Pariss" }));
        await Refused(ErrorCodes.ProjectNotFound, () => Client.GetProjectAsync("uniform"));

        var before = await Client.GetProjectAsync(SharedProject);
        await Refused(ErrorCodes.ScheduleInvalid, () => Client.SetProjectAsync(new SetProjectRequest { Name = SharedProject, RefreshSchedule = "61 * * * *" }));
        var set = await Client.SetProjectAsync(new SetProjectRequest { Name = SharedProject, RefreshSchedule = "30 4 * * 1-5", RefreshTimeZone = "America/New_York" });
        Assert.Equal(("30 4 * * 1-5", "America/New_York"), (set.RefreshSchedule, set.RefreshTimeZone));
        Assert.InRange(set.NextRefresh!.Value - Configuration.Clock.GetUtcNow(), TimeSpan.Zero, TimeSpan.FromDays(4));
        Assert.Equal(set.NextRefresh, (await Client.GetProjectAsync(SharedProject)).NextRefresh);

        var dropped = await Client.SetProjectAsync(new SetProjectRequest { Name = SharedProject, NoRefreshSchedule = true });
        Assert.Equal((null, null, (DateTimeOffset?)null), (dropped.RefreshSchedule, dropped.RefreshTimeZone, dropped.NextRefresh));
        Assert.Equal(before.Images.Select(i => i.Revision), dropped.Images.Select(i => i.Revision));
    }
}
