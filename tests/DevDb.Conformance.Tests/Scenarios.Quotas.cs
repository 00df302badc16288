using DevDb.Core;
using DevDb.Core.Model;
using Xunit;

namespace DevDb.Conformance.Tests;

/// <summary>
/// Quotas (Configuration.Quotas: 2 databases and 1 running per developer). The developer here,
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
}
