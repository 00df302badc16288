using DevDb.Core.Model;
using DevDb.Core.Rules;
using Xunit;

namespace DevDb.Core.Tests.Rules;

/// <summary>The quota rules on their own (the conformance suite holds every engine to them).</summary>
public sealed class QuotaRulesTests
{
    private static readonly Actor Dave = new("dave", IsAdmin: false);
    private static readonly Actor Ada = new("ada", IsAdmin: true);

    private static Database Db(string name, DatabaseStatus status = DatabaseStatus.Running, string owner = "dave", string project = "shop") => new()
    {
        Name = name, Project = project, ImageRevision = 1, Host = "h", Port = 1, DatabaseName = "app", Username = name, Owner = owner, Status = status,
    };

    [Fact]
    public void A_failed_create_holds_no_place_and_a_crashed_or_busy_database_counts_as_running()
    {
        var usage = QuotaRules.UsageOf("dave", false,
            [Db("a"), Db("b", DatabaseStatus.Failed), Db("c", DatabaseStatus.Crashed), Db("d", DatabaseStatus.Stopped), Db("e", DatabaseStatus.Resetting), Db("f", owner: "erin")],
            name => name == "a" ? 2 : 0, QuotaLimits.None);
        Assert.Equal((4, 3, 2), (usage.Databases, usage.RunningDatabases, usage.Checkpoints));
        Assert.Equal(["a", "c", "d", "e"], usage.DatabaseNames);
    }

    [Fact]
    public void A_create_at_a_limit_is_refused_naming_the_limit_the_count_and_the_users_databases()
    {
        var limits = new QuotaLimits { DatabasesPerUser = 2 };
        var refused = Assert.Throws<DevDbException>(() => QuotaRules.CheckNew(Dave, "c", "dave", "shop", [Db("a"), Db("b", DatabaseStatus.Stopped)], limits));
        Assert.Equal((ErrorCodes.QuotaExceeded, DevDbErrorCategory.QuotaExceeded), (refused.Code, refused.Category));
        Assert.Contains("DatabasesPerUser = 2", refused.Message);
        Assert.Contains("user 'dave' owns 2 databases", refused.Message);
        Assert.Contains("a, b", refused.Message);
        Assert.Contains("Remove-DevDbDatabase", refused.RecommendedAction);
        // One place left: allowed.
        QuotaRules.CheckNew(Dave, "b", "dave", "shop", [Db("a")], limits);
    }

    [Fact]
    public void Administrators_are_never_refused_for_themselves_or_for_others()
    {
        var none = new QuotaLimits { DatabasesPerUser = 0, RunningDatabasesPerUser = 0, DatabasesPerProject = 0, CheckpointsPerUser = 0 };
        QuotaRules.CheckNew(Ada, "x", "dave", "shop", [Db("a")], none);
        QuotaRules.CheckStart(Ada, Db("a", DatabaseStatus.Stopped), [Db("b")], none);
        QuotaRules.CheckCheckpoint(Ada, "dave", "a", 5, none);
        // A limit of 0 lets a developer have none.
        Assert.Throws<DevDbException>(() => QuotaRules.CheckNew(Dave, "x", "dave", "shop", [], none));
    }

    [Fact]
    public void A_project_at_its_limit_refuses_whoever_owns_the_others()
    {
        var limits = new QuotaLimits { DatabasesPerProject = 2 };
        var refused = Assert.Throws<DevDbException>(() =>
            QuotaRules.CheckNew(Dave, "c", "dave", "shop", [Db("a", owner: "erin"), Db("b", owner: "erin"), Db("z", project: "other")], limits));
        Assert.Contains("DatabasesPerProject = 2", refused.Message);
        Assert.Contains("project 'shop' has 2 databases", refused.Message);
        QuotaRules.CheckNew(Dave, "c", "dave", "other", [Db("a", owner: "erin"), Db("b", owner: "erin"), Db("z", project: "other")], limits);
    }

    [Fact]
    public void Starting_counts_the_others_running_and_a_running_database_is_never_refused()
    {
        var limits = new QuotaLimits { RunningDatabasesPerUser = 1 };
        var stopped = Db("a", DatabaseStatus.Stopped);
        var refused = Assert.Throws<DevDbException>(() => QuotaRules.CheckStart(Dave, stopped, [stopped, Db("b")], limits));
        Assert.Contains("Stop-DevDbDatabase", refused.RecommendedAction);
        QuotaRules.CheckStart(Dave, stopped, [stopped, Db("b", DatabaseStatus.Stopped)], limits);
        QuotaRules.CheckStart(Dave, Db("a", DatabaseStatus.Crashed), [Db("a", DatabaseStatus.Crashed), Db("b")], limits);
    }

    [Fact]
    public void A_checkpoint_past_the_users_limit_is_refused()
    {
        var limits = new QuotaLimits { CheckpointsPerUser = 3 };
        QuotaRules.CheckCheckpoint(Dave, "dave", "a", 2, limits);
        var refused = Assert.Throws<DevDbException>(() => QuotaRules.CheckCheckpoint(Dave, "dave", "a", 3, limits));
        Assert.Contains("CheckpointsPerUser = 3", refused.Message);
        Assert.Contains("Remove-DevDbCheckpoint", refused.RecommendedAction);
    }

    [Fact]
    public void A_hostile_name_is_shown_short_in_the_refusal()
    {
        var refused = Assert.Throws<DevDbException>(() => QuotaRules.CheckNew(Dave, new string('x', 100_000), "dave", "shop", [], new QuotaLimits { DatabasesPerUser = 0 }));
        Assert.True(refused.Message.Length < 400, refused.Message);
    }
}
