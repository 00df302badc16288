using DevDb.Core;
using DevDb.Core.Model;
using Xunit;

namespace DevDb.Conformance.Tests;

/// <summary>
/// Quotas (Configuration.Quotas: 2 databases, 1 running and 1 checkpoint per developer). The developer here,
/// quinn, owns nothing else in any scenario; the administrator who runs the others is past them.
/// </summary>
public abstract partial class Scenarios<TConfiguration>
{
    [Fact]
    public async Task A_developer_past_a_quota_gets_QuotaExceeded_naming_the_limit_and_their_databases_and_an_admin_creates_past_it()
    {
        using var quinn = Configuration.ClientAs("quinn");
        var before = await quinn.GetQuotaAsync();
        Assert.Equal(("quinn", 0, 0, (int?)2, (int?)1, false), (before.User, before.Databases, before.RunningDatabases,
            before.Limits.DatabasesPerUser, before.Limits.RunningDatabasesPerUser, before.Exempt));

        await quinn.NewDatabaseAsync(Request("quota-one", owner: "quinn"));
        // One running is the most: a second is refused, waited for or begun, and nothing of it is left.
        var running = await Refused(ErrorCodes.QuotaExceeded, () => quinn.NewDatabaseAsync(Request("quota-two", owner: "quinn")));
        Assert.Contains("RunningDatabasesPerUser = 1", running.Message);
        Assert.Contains("quota-one", running.Message);
        await Refused(ErrorCodes.QuotaExceeded, () => quinn.BeginNewDatabaseAsync(Request("quota-two", owner: "quinn")));
        Assert.DoesNotContain(await Client.GetDatabasesAsync(), d => d.Name == "quota-two");

        // Stopped, it still counts as owned but no longer as running.
        await quinn.StopDatabaseAsync("quota-one");
        await quinn.NewDatabaseAsync(Request("quota-two", owner: "quinn"));
        // Repeating the request that made it is answered, not counted again.
        Assert.Equal(DatabaseStatus.Running, (await quinn.NewDatabaseAsync(Request("quota-two", owner: "quinn"))).Status);
        var owned = await Refused(ErrorCodes.QuotaExceeded, () => quinn.NewDatabaseAsync(Request("quota-three", owner: "quinn")));
        Assert.Contains("DatabasesPerUser = 2", owned.Message);
        Assert.Contains("quota-one, quota-two", owned.Message);
        // Starting the stopped one would make two running.
        await Refused(ErrorCodes.QuotaExceeded, () => quinn.StartDatabaseAsync("quota-one"));
        Assert.Equal(DatabaseStatus.Stopped, (await quinn.GetDatabaseAsync("quota-one")).Status);

        // The administrator creates for quinn, and starts quinn's database, past quinn's limits.
        await Client.NewDatabaseAsync(Request("quota-three", owner: "quinn"));
        await Client.StartDatabaseAsync("quota-one");
        var after = await quinn.GetQuotaAsync();
        Assert.Equal((3, 3), (after.Databases, after.RunningDatabases));
        Assert.Equal(["quota-one", "quota-three", "quota-two"], after.DatabaseNames);
        Assert.Equal(after.Databases, (await Client.GetQuotaAsync("quinn")).Databases);
        Assert.True((await Client.GetQuotaAsync()).Exempt);

        foreach (var name in after.DatabaseNames) await quinn.RemoveDatabaseAsync(name);
        Assert.Equal(0, (await quinn.GetQuotaAsync()).Databases);
    }

    [Fact]
    public async Task Creates_racing_for_a_developers_last_place_land_one_and_refuse_the_others_with_QuotaExceeded()
    {
        using var quinn = Configuration.ClientAs("quinn");
        string[] names = ["quota-race-a", "quota-race-b", "quota-race-c", "quota-race-d"];
        // One running database is quinn's limit: four creates at once, as four CI jobs of one user would start them.
        var outcomes = await Task.WhenAll(names.Select(name => Task.Run(async () =>
        {
            try
            {
                await quinn.NewDatabaseAsync(Request(name, owner: "quinn"));
                return null;
            }
            catch (DevDbException e)
            {
                return e.Code;
            }
        })));

        Assert.Equal(1, outcomes.Count(code => code is null));
        Assert.All(outcomes.Where(code => code is not null), code => Assert.Equal(ErrorCodes.QuotaExceeded, code));
        var landed = Assert.Single(await Client.GetDatabasesAsync(), d => d.Name.StartsWith("quota-race-", StringComparison.Ordinal));
        Assert.Equal(DatabaseStatus.Running, landed.Status);
        Assert.Equal((1, 1), ((await quinn.GetQuotaAsync()).Databases, (await quinn.GetQuotaAsync()).RunningDatabases));
        await quinn.RemoveDatabaseAsync(landed.Name);
    }

    [Fact]
    public async Task A_checkpoint_past_the_users_limit_is_QuotaExceeded_and_leaves_nothing_and_an_admin_takes_it_past_the_limit()
    {
        using var quinn = Configuration.ClientAs("quinn");
        await quinn.NewDatabaseAsync(Request("quota-cp", owner: "quinn"));
        await quinn.CheckpointDatabaseAsync("quota-cp", "first");
        Assert.Equal((1, (int?)1), ((await quinn.GetQuotaAsync()).Checkpoints, (await quinn.GetQuotaAsync()).Limits.CheckpointsPerUser));

        var refused = await Refused(ErrorCodes.QuotaExceeded, () => quinn.CheckpointDatabaseAsync("quota-cp", "second"));
        Assert.Contains("CheckpointsPerUser = 1", refused.Message);
        Assert.Equal(["first"], (await quinn.GetCheckpointsAsync("quota-cp")).Select(c => c.Name));

        // Removing one makes room; the administrator takes one for quinn past the limit.
        await quinn.RemoveCheckpointAsync("quota-cp", "first");
        await quinn.CheckpointDatabaseAsync("quota-cp", "second");
        await Client.CheckpointDatabaseAsync("quota-cp", "third");
        Assert.Equal(["second", "third"], (await quinn.GetCheckpointsAsync("quota-cp")).Select(c => c.Name));
        Assert.Equal(2, (await quinn.GetQuotaAsync()).Checkpoints);
        await quinn.RemoveDatabaseAsync("quota-cp");
        Assert.Equal(0, (await quinn.GetQuotaAsync()).Checkpoints);
    }
}
