using DevDb.Core.Client;
using DevDb.Core.Model;
using DevDb.Core.Rules;
using Xunit;

namespace DevDb.Core.Tests.Rules;

/// <summary>The lifetime rules on their own (the conformance suite holds every engine to them).</summary>
public sealed class LifetimeRulesTests
{
    private static readonly DateTimeOffset Now = new(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);

    private static Project Shop(TimeSpan? defaultTtl = null, TimeSpan? max = null) =>
        new() { Name = "shop", PostgresVersion = 15, Source = "s3://b/k", DefaultTimeToLive = defaultTtl, MaxTimeToLive = max };

    private static NewDatabaseRequest New(TimeSpan? ttl = null, DateTimeOffset? at = null) =>
        new() { Project = "shop", Name = "dave", TimeToLive = ttl, ExpiresAt = at };

    private static Database Dave(DateTimeOffset? expiresAt, bool isProtected = false, DatabaseStatus status = DatabaseStatus.Running) => new()
    {
        Name = "dave", Project = "shop", ImageRevision = 1, Host = "h", Port = 1, DatabaseName = "app", Username = "dave", Owner = "dave",
        ExpiresAt = expiresAt, Protected = isProtected, Status = status,
    };

    [Fact]
    public void A_new_database_takes_its_own_lifetime_else_the_projects_default_else_the_maximum_else_none()
    {
        Assert.Equal(Now.AddMinutes(30), LifetimeRules.ExpiresAtOfNew(New(TimeSpan.FromMinutes(30)), Shop(TimeSpan.FromHours(8)), null, Now));
        Assert.Equal(Now.AddHours(8), LifetimeRules.ExpiresAtOfNew(New(), Shop(TimeSpan.FromHours(8)), null, Now));
        Assert.Equal(Now.AddHours(3), LifetimeRules.ExpiresAtOfNew(New(), Shop(max: TimeSpan.FromHours(3)), null, Now));
        Assert.Equal(Now.AddHours(2), LifetimeRules.ExpiresAtOfNew(New(), Shop(TimeSpan.FromHours(8)), TimeSpan.FromHours(2), Now));
        Assert.Null(LifetimeRules.ExpiresAtOfNew(New(), Shop(), null, Now));
    }

    [Fact]
    public void The_smaller_maximum_of_project_and_installation_bounds_creates_and_extensions()
    {
        var error = Assert.Throws<DevDbException>(() => LifetimeRules.ExpiresAtOfNew(New(TimeSpan.FromHours(5)), Shop(max: TimeSpan.FromHours(9)), TimeSpan.FromHours(4), Now));
        Assert.Equal((ErrorCodes.LifetimeInvalid, DevDbErrorCategory.InvalidArgument), (error.Code, error.Category));
        Assert.Contains("4h", error.Message);
        Assert.Throws<DevDbException>(() => LifetimeRules.Apply(new SetDatabaseRequest { Name = "dave", NoExpiry = true }, Dave(Now.AddHours(1)), Shop(max: TimeSpan.FromDays(1)), null, Now));
        Assert.Equal((Now.AddDays(1), false),
            LifetimeRules.Apply(new SetDatabaseRequest { Name = "dave", TimeToLive = TimeSpan.FromDays(1) }, Dave(Now.AddHours(1)), Shop(max: TimeSpan.FromDays(1)), null, Now));
    }

    [Fact]
    public void Set_keeps_what_it_does_not_give()
    {
        var dave = Dave(Now.AddHours(1), isProtected: true);
        Assert.Equal((Now.AddHours(1), false), LifetimeRules.Apply(new SetDatabaseRequest { Name = "dave", Protected = false }, dave, Shop(), null, Now));
        Assert.Equal(((DateTimeOffset?)null, true), LifetimeRules.Apply(new SetDatabaseRequest { Name = "dave", NoExpiry = true }, dave, Shop(), null, Now));
    }

    [Theory]
    [InlineData(-1, false)]
    [InlineData(0, true)]
    [InlineData(1, true)]
    public void A_database_expires_once_its_time_has_come(int secondsPast, bool expired) =>
        Assert.Equal(expired, LifetimeRules.IsExpired(Dave(Now.AddSeconds(-secondsPast)), Now));

    [Fact]
    public void Protected_busy_and_never_expiring_databases_are_not_expired()
    {
        Assert.False(LifetimeRules.IsExpired(Dave(Now.AddHours(-1), isProtected: true), Now));
        Assert.False(LifetimeRules.IsExpired(Dave(Now.AddHours(-1), status: DatabaseStatus.Resetting), Now));
        Assert.False(LifetimeRules.IsExpired(Dave(null), Now));
        Assert.True(LifetimeRules.IsExpired(Dave(Now.AddHours(-1), status: DatabaseStatus.Stopped), Now));
    }

    [Fact]
    public void Protection_refuses_remove_reset_and_a_forced_project_removal_with_DatabaseProtected()
    {
        var kept = Dave(null, isProtected: true);
        Assert.Equal(ErrorCodes.DatabaseProtected, Assert.Throws<DevDbException>(() => LifetimeRules.CheckRemovable(kept)).Code);
        Assert.Equal(ErrorCodes.DatabaseProtected, Assert.Throws<DevDbException>(() => LifetimeRules.CheckResettable(kept)).Code);
        Assert.Equal(ErrorCodes.DatabaseProtected, Assert.Throws<DevDbException>(() => LifetimeRules.CheckProjectRemovable(Shop(), [kept], force: true)).Code);
        var project = Assert.Throws<DevDbException>(() => LifetimeRules.CheckProjectRemovable(Shop() with { Protected = true }, [], force: false));
        Assert.Contains("Update-DevDbProject -Name shop -Protected:$false", project.RecommendedAction);
        LifetimeRules.CheckProjectRemovable(Shop(), [kept], force: false);
    }

    [Theory]
    [InlineData(90, "1m30s")]
    [InlineData(7200, "2h")]
    [InlineData(93600, "1d2h")]
    [InlineData(0, "0s")]
    public void Spans_are_shown_as_people_write_them(int seconds, string shown) =>
        Assert.Equal(shown, LifetimeRules.Shown(TimeSpan.FromSeconds(seconds)));

    [Fact]
    public void A_lifetime_past_100_years_is_refused_and_100_years_is_taken()
    {
        foreach (var tooLong in new[] { TimeSpan.MaxValue, LifetimeRules.Longest + TimeSpan.FromSeconds(1) })
        {
            var refused = Assert.Throws<DevDbException>(() => LifetimeRules.ExpiresAtOfNew(New(tooLong), Shop(), null, Now));
            Assert.Equal(ErrorCodes.LifetimeInvalid, refused.Code);
            Assert.Contains("100 years", refused.Message);
        }
        Assert.Equal(Now + LifetimeRules.Longest, LifetimeRules.ExpiresAtOfNew(New(LifetimeRules.Longest), Shop(), null, Now));
    }
}
