using DevDb.Core.Client;
using DevDb.Core.Model;
using DevDb.Core.Rules;
using Xunit;

namespace DevDb.Core.Tests.Rules;

/// <summary>The idle-stop rules on their own (the conformance suite holds every engine to them, with real servers and clients).</summary>
public sealed class IdleRulesTests
{
    private static readonly DateTimeOffset Now = new(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);

    private static Project Shop(TimeSpan? idle = null) => new() { Name = "shop", PostgresVersion = 15, Source = "s3://b/k", IdleTimeout = idle };

    private static NewDatabaseRequest New(TimeSpan? idle = null) => new() { Project = "shop", Name = "dave", IdleTimeout = idle };

    private static Database Dave(TimeSpan? idle, DateTimeOffset? lastActive = null, bool isProtected = false, DatabaseStatus status = DatabaseStatus.Running) => new()
    {
        Name = "dave", Project = "shop", ImageRevision = 1, Host = "h", Port = 1, DatabaseName = "app", Username = "dave", Owner = "dave",
        Created = Now.AddHours(-5), IdleTimeout = idle, LastActiveAt = lastActive, Protected = isProtected, Status = status,
    };

    [Fact]
    public void A_new_database_takes_its_own_idle_timeout_else_the_projects_else_the_installations_else_none()
    {
        Assert.Equal(TimeSpan.FromMinutes(30), IdleRules.IdleTimeoutOfNew(New(TimeSpan.FromMinutes(30)), Shop(TimeSpan.FromHours(2)), TimeSpan.FromHours(8)));
        Assert.Equal(TimeSpan.FromHours(2), IdleRules.IdleTimeoutOfNew(New(), Shop(TimeSpan.FromHours(2)), TimeSpan.FromHours(8)));
        Assert.Equal(TimeSpan.FromHours(8), IdleRules.IdleTimeoutOfNew(New(), Shop(), TimeSpan.FromHours(8)));
        Assert.Null(IdleRules.IdleTimeoutOfNew(New(), Shop(), null));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-60)]
    [InlineData(59)]
    public void An_idle_timeout_under_a_minute_is_LifetimeInvalid_and_says_what_to_give(int seconds)
    {
        var error = Assert.Throws<DevDbException>(() => IdleRules.IdleTimeoutOfNew(New(TimeSpan.FromSeconds(seconds)), Shop(), null));
        Assert.Equal((ErrorCodes.LifetimeInvalid, DevDbErrorCategory.InvalidArgument), (error.Code, error.Category));
        Assert.Contains("between a minute and 100 years", error.Message);
        Assert.Contains("-IdleTimeout", error.RecommendedAction);
    }

    [Fact]
    public void Both_an_idle_timeout_and_none_or_one_past_100_years_is_LifetimeInvalid()
    {
        var both = Assert.Throws<DevDbException>(() => IdleRules.Apply(new SetDatabaseRequest { Name = "dave", IdleTimeout = TimeSpan.FromHours(1), NoIdleTimeout = true }, Dave(null)));
        Assert.Equal(ErrorCodes.LifetimeInvalid, both.Code);
        Assert.Contains("-NoIdleTimeout", both.RecommendedAction);
        Assert.Equal(ErrorCodes.LifetimeInvalid, Assert.Throws<DevDbException>(() => IdleRules.CheckShape("shop", TimeSpan.FromDays(40_000))).Code);
        Assert.Equal(ErrorCodes.LifetimeInvalid,
            Assert.Throws<DevDbException>(() => IdleRules.ProjectIdleTimeout(Shop(), new SetProjectRequest { Name = "shop", IdleTimeout = TimeSpan.FromSeconds(5) })).Code);
    }

    [Fact]
    public void Set_changes_or_drops_the_idle_timeout_and_a_new_one_restarts_the_idle_time_and_leaving_it_out_keeps_it()
    {
        var dave = Dave(TimeSpan.FromMinutes(30));
        Assert.Equal((TimeSpan.FromHours(1), true), IdleRules.Apply(new SetDatabaseRequest { Name = "dave", IdleTimeout = TimeSpan.FromHours(1) }, dave));
        Assert.Equal(((TimeSpan?)null, false), IdleRules.Apply(new SetDatabaseRequest { Name = "dave", NoIdleTimeout = true }, dave));
        Assert.Equal((TimeSpan.FromMinutes(30), false), IdleRules.Apply(new SetDatabaseRequest { Name = "dave", Protected = true }, dave));
        Assert.Equal(TimeSpan.FromHours(2), IdleRules.ProjectIdleTimeout(Shop(TimeSpan.FromHours(2)), new SetProjectRequest { Name = "shop", Protected = true }));
        Assert.Null(IdleRules.ProjectIdleTimeout(Shop(TimeSpan.FromHours(2)), new SetProjectRequest { Name = "shop", NoIdleTimeout = true }));
    }

    [Fact]
    public void Idle_time_counts_from_the_later_of_last_use_and_create_and_a_database_is_idle_once_it_reaches_its_timeout()
    {
        var thirty = TimeSpan.FromMinutes(30);
        Assert.Equal(Now.AddHours(-5), IdleRules.IdleSince(Dave(thirty)));
        Assert.Equal(Now.AddMinutes(-10), IdleRules.IdleSince(Dave(thirty, Now.AddMinutes(-10))));
        Assert.True(IdleRules.IsIdle(Dave(thirty), Now));
        Assert.False(IdleRules.IsIdle(Dave(thirty, Now.AddMinutes(-29)), Now));
        Assert.True(IdleRules.IsIdle(Dave(thirty, Now.AddMinutes(-30)), Now));
    }

    [Fact]
    public void A_protected_stopped_busy_or_timeout_less_database_is_never_idle()
    {
        Assert.False(IdleRules.IsIdle(Dave(TimeSpan.FromMinutes(1), isProtected: true), Now));
        Assert.False(IdleRules.IsIdle(Dave(null), Now));
        foreach (var status in Enum.GetValues<DatabaseStatus>().Where(s => s != DatabaseStatus.Running))
            Assert.False(IdleRules.IsIdle(Dave(TimeSpan.FromMinutes(1), status: status), Now));
    }

    [Fact]
    public void A_sample_shows_use_with_a_client_connected_or_sessions_opened_since_the_last_one()
    {
        Assert.True(IdleRules.ShowsUse(clients: 1, sessions: 7, sessionsBefore: 7));
        Assert.True(IdleRules.ShowsUse(clients: 0, sessions: 8, sessionsBefore: 7));
        // Statistics reset (a crash): counted as use, to be safe.
        Assert.True(IdleRules.ShowsUse(clients: 0, sessions: 0, sessionsBefore: 7));
        Assert.False(IdleRules.ShowsUse(clients: 0, sessions: 7, sessionsBefore: 7));
        // The first sample after a start has nothing to compare with.
        Assert.False(IdleRules.ShowsUse(clients: 0, sessions: 7, sessionsBefore: null));
    }

    [Fact]
    public void Commands_run_the_idle_pass_at_most_once_a_minute_and_again_when_the_clock_went_back()
    {
        Assert.True(IdleRules.PassDue(lastPass: null, Now));
        Assert.False(IdleRules.PassDue(Now - TimeSpan.FromSeconds(59), Now));
        Assert.True(IdleRules.PassDue(Now - TimeSpan.FromMinutes(1), Now));
        Assert.True(IdleRules.PassDue(Now + TimeSpan.FromMinutes(5), Now));
        // No idle timeout is shorter than the interval, so a stop comes at most one interval late.
        Assert.Equal(IdleRules.Shortest, IdleRules.PassInterval);
    }
}
