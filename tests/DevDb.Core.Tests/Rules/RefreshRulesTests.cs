using DevDb.Core.Model;
using DevDb.Core.Rules;
using Xunit;

namespace DevDb.Core.Tests.Rules;

/// <summary>RefreshRules: cron with a time zone (Cronos), daylight-saving edges, and what is refused.</summary>
public sealed class RefreshRulesTests
{
    private static readonly Project Shop = new() { Name = "shop", PostgresVersion = 15, Source = "s3://dumps/shop/" };

    private static DateTimeOffset Utc(int year, int month, int day, int hour, int minute = 0) => new(year, month, day, hour, minute, 0, TimeSpan.Zero);

    [Fact]
    public void A_daily_schedule_without_a_time_zone_is_UTC_and_the_next_occurrence_is_strictly_after()
    {
        var schedule = RefreshRules.Parse("shop", "0 3 * * *", null);
        Assert.Equal("UTC", schedule.TimeZone);
        Assert.Equal(Utc(2026, 12, 2, 3), schedule.Next(Utc(2026, 12, 2, 2, 59)));
        // At the very moment: the next day, never the same occurrence twice.
        Assert.Equal(Utc(2026, 12, 3, 3), schedule.Next(Utc(2026, 12, 2, 3)));
    }

    [Fact]
    public void A_time_zone_moves_the_occurrence_with_the_local_clock_across_summer_time()
    {
        var paris = RefreshRules.Parse("shop", "0 3 * * *", "Europe/Paris");
        Assert.Equal("Europe/Paris", paris.TimeZone);
        // Winter: 03:00 CET is 02:00 UTC; summer: 03:00 CEST is 01:00 UTC.
        Assert.Equal(Utc(2026, 1, 15, 2), paris.Next(Utc(2026, 1, 15, 0)));
        Assert.Equal(Utc(2026, 7, 15, 1), paris.Next(Utc(2026, 7, 15, 0)));
    }

    [Fact]
    public void A_time_that_does_not_exist_on_the_spring_forward_day_runs_once_just_after_the_gap()
    {
        // 29 March 2026 in Paris: 02:00 jumps to 03:00, so 02:30 never happens; Cronos runs it at 03:00 CEST (01:00 UTC).
        var schedule = RefreshRules.Parse("shop", "30 2 * * *", "Europe/Paris");
        var day = schedule.Next(Utc(2026, 3, 28, 12));
        Assert.Equal(Utc(2026, 3, 29, 1), day);
        Assert.Equal(Utc(2026, 3, 30, 0, 30), schedule.Next(day));
    }

    [Fact]
    public void A_time_that_happens_twice_on_the_fall_back_day_runs_once()
    {
        // 25 October 2026 in Paris: 02:00-03:00 happens twice (CEST then CET).
        var schedule = RefreshRules.Parse("shop", "30 2 * * *", "Europe/Paris");
        var first = schedule.Next(Utc(2026, 10, 24, 12));
        Assert.Equal(Utc(2026, 10, 25, 0, 30), first);
        Assert.Equal(Utc(2026, 10, 26, 1, 30), schedule.Next(first));
    }

    [Theory]
    [InlineData("0 3 * *", "has 4 field(s)")]
    [InlineData("0 0 3 * * *", "has 6 field(s)")]
    [InlineData("61 3 * * *", "is not a valid cron expression")]
    [InlineData("0 3 * * mon-", "is not a valid cron expression")]
    [InlineData("0 0 30 2 *", "never occurs")]
    [InlineData("   ", "is empty")]
    public void A_bad_cron_expression_is_ScheduleInvalid_naming_the_problem_and_an_example(string cron, string problem)
    {
        var error = Assert.Throws<DevDbException>(() => RefreshRules.Parse("shop", cron, null));
        Assert.Equal(ErrorCodes.ScheduleInvalid, error.Code);
        Assert.Contains(problem, error.Message);
        Assert.Contains("'shop'", error.Message);
        Assert.Contains("-RefreshSchedule '0 3 * * *'", error.RecommendedAction);
    }

    [Theory]
    [InlineData("Europe/Pariss")]
    [InlineData("Mars/Olympus_Mons")]
    [InlineData("W. Europe Standard Time")]
    public void An_unknown_or_Windows_time_zone_is_ScheduleInvalid(string zone)
    {
        var error = Assert.Throws<DevDbException>(() => RefreshRules.Parse("shop", "0 3 * * *", zone));
        Assert.Equal(ErrorCodes.ScheduleInvalid, error.Code);
        Assert.Contains("is not an IANA time zone id", error.Message);
    }

    [Fact]
    public void Input_beyond_its_bound_is_refused_and_only_a_short_prefix_is_echoed()
    {
        var error = Assert.Throws<DevDbException>(() => RefreshRules.Parse("shop", "0 3 * * *" + new string(' ', 200) + "x", null));
        Assert.Equal(ErrorCodes.ScheduleInvalid, error.Code);
        Assert.True(error.Message.Length < 400, error.Message);
    }

    [Fact]
    public void Apply_records_the_next_occurrence_keeps_what_is_not_given_and_drops_on_NoSchedule()
    {
        var now = Utc(2026, 12, 2, 5, 5);
        var set = RefreshRules.Apply(Shop, "0 3 * * *", "Europe/Paris", noSchedule: false, now);
        Assert.Equal(("0 3 * * *", "Europe/Paris", (DateTimeOffset?)Utc(2026, 12, 3, 2)), (set.RefreshSchedule, set.RefreshTimeZone, set.NextRefresh));

        // A new time zone alone keeps the expression; a new expression alone keeps the time zone.
        var utc = RefreshRules.Apply(set, null, "UTC", false, now);
        Assert.Equal(("0 3 * * *", "UTC", (DateTimeOffset?)Utc(2026, 12, 3, 3)), (utc.RefreshSchedule, utc.RefreshTimeZone, utc.NextRefresh));
        var hourly = RefreshRules.Apply(set, "15 * * * *", null, false, now);
        Assert.Equal(("Europe/Paris", (DateTimeOffset?)Utc(2026, 12, 2, 5, 15)), (hourly.RefreshTimeZone, hourly.NextRefresh));
        Assert.Same(set, RefreshRules.Apply(set, null, null, false, now));

        var dropped = RefreshRules.Apply(set, null, null, noSchedule: true, now);
        Assert.Equal((null, null, (DateTimeOffset?)null), (dropped.RefreshSchedule, dropped.RefreshTimeZone, dropped.NextRefresh));
    }

    [Fact]
    public void A_time_zone_without_a_schedule_and_a_schedule_with_NoSchedule_are_refused()
    {
        Assert.Equal(ErrorCodes.ScheduleInvalid, Assert.Throws<DevDbException>(() => RefreshRules.Apply(Shop, null, "Europe/Paris", false, DateTimeOffset.UnixEpoch)).Code);
        Assert.Equal(ErrorCodes.ScheduleInvalid, Assert.Throws<DevDbException>(() => RefreshRules.Apply(Shop, "0 3 * * *", null, true, DateTimeOffset.UnixEpoch)).Code);
        Assert.Equal(ErrorCodes.ScheduleInvalid, Assert.Throws<DevDbException>(() =>
            RefreshRules.CheckNew(new DevDb.Core.Client.NewProjectRequest { Name = "shop", Source = "x", RefreshTimeZone = "UTC" })).Code);
    }

    [Fact]
    public void A_project_is_due_when_its_next_refresh_has_come_and_a_started_refresh_moves_it_on()
    {
        var now = Utc(2026, 12, 2, 2, 0);
        var scheduled = RefreshRules.Apply(Shop, "0 3 * * *", null, false, now);
        Assert.False(RefreshRules.IsDue(scheduled, Utc(2026, 12, 2, 2, 59)));
        Assert.True(RefreshRules.IsDue(scheduled, Utc(2026, 12, 2, 3)));
        // Missed occurrences (no server ran for two days) make one refresh, then the next one after now.
        var late = Utc(2026, 12, 4, 10);
        var started = RefreshRules.Started(scheduled, late);
        Assert.Equal((late, RefreshOutcome.Running, (DateTimeOffset?)Utc(2026, 12, 5, 3)), (started.LastRefresh!.Value, started.LastRefreshOutcome!.Value, started.NextRefresh));
        Assert.False(RefreshRules.IsDue(started, late));

        var failed = RefreshRules.Finished(started, DevDbErrors.SourceNotFound("s3://dumps/shop/", "there is no object under the prefix."));
        Assert.Equal((RefreshOutcome.Failed, ErrorCodes.SourceNotFound), (failed.LastRefreshOutcome!.Value, failed.LastRefreshErrorCode));
        Assert.Contains("no object under the prefix", failed.LastRefreshError);
        Assert.Equal((RefreshOutcome.Succeeded, (string?)null), (RefreshRules.Finished(failed, null).LastRefreshOutcome!.Value, RefreshRules.Finished(failed, null).LastRefreshError));
        Assert.False(RefreshRules.IsDue(Shop with { NextRefresh = Utc(2000, 1, 1, 0) }, late));
    }

    [Fact]
    public void Retention_keeps_the_newest_N_ready_images_and_any_in_use()
    {
        Image Ready(int r) => new() { Project = "shop", Revision = r, Status = ImageStatus.Ready };
        Image[] images = [Ready(1), Ready(2), Ready(3), Ready(4), Ready(5), new() { Project = "shop", Revision = 6, Status = ImageStatus.Building }];
        Assert.Equal([1, 2], ProjectRules.PrunableImages(images, [], keep: 3));
        Assert.Equal([2], ProjectRules.PrunableImages(images, [1], keep: 3));
        Assert.Equal([1, 2, 3, 4], ProjectRules.PrunableImages(images, [], keep: 1));
        // Never fewer than the newest.
        Assert.Equal([1, 2, 3, 4], ProjectRules.PrunableImages(images, [], keep: 0));
        Assert.Empty(ProjectRules.PrunableImages(images, [], keep: 10));
        Assert.Equal(ErrorCodes.SettingInvalid, Assert.Throws<DevDbException>(() => ProjectRules.CheckImagesToKeep(0, "DevDb:ImagesToKeep")).Code);
    }
}
