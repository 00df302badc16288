using DevDb.Core;
using DevDb.Core.Client;
using DevDb.Core.Model;
using DevDb.Core.Rules;
using Xunit;
using static DevDb.Conformance.Tests.Configurations.Configuration;

namespace DevDb.Conformance.Tests;

/// <summary>
/// History: each change leaves an entry naming what, who, when, how it ended and the request. The
/// HTTP configurations act as the API's admin token's user, ada; the in-process ones as the ambient
/// actor the scenario sets to the same user (what the API does for each request).
/// </summary>
public abstract partial class Scenarios<TConfiguration>
{
    private const string Ada = "ada";

    private static IDisposable AsAda() => Actor.Use(new Actor(Ada, IsAdmin: true, RequestId: "req-1"));

    private static HistoryEntry Last(Database database, HistoryAction action) =>
        database.History.LastOrDefault(e => e.Action == action) ?? throw new Xunit.Sdk.XunitException(
            $"No {action} entry in the history of {database.Name}: {string.Join("; ", database.History)}");

    private static void ByAda(HistoryEntry entry, HistoryOutcome outcome = HistoryOutcome.Succeeded, string? code = null)
    {
        Assert.Equal((Ada, outcome, code), (entry.User, entry.Outcome, entry.ErrorCode));
        Assert.False(string.IsNullOrEmpty(entry.RequestId), $"The entry {entry} names no request.");
    }

    [Fact]
    public async Task History_each_change_of_a_database_leaves_an_entry_with_its_action_outcome_user_and_request()
    {
        using var _ = AsAda();
        var created = await Client.NewDatabaseAsync(Request("hist-alpha"));
        ByAda(Last(created, HistoryAction.Created));
        Assert.InRange(Last(created, HistoryAction.Created).At, Configuration.Clock.GetUtcNow() - Tolerance, Configuration.Clock.GetUtcNow() + Tolerance);

        await Configuration.AdvanceClockAsync(TimeSpan.FromMinutes(1));
        ByAda(Last(await Client.ResetDatabaseAsync("hist-alpha"), HistoryAction.Reset));
        ByAda(Last(await Client.StopDatabaseAsync("hist-alpha"), HistoryAction.Stopped));
        ByAda(Last(await Client.StartDatabaseAsync("hist-alpha"), HistoryAction.Started));
        var extended = await Client.SetDatabaseAsync(new SetDatabaseRequest { Name = "hist-alpha", TimeToLive = TimeSpan.FromHours(2) });
        ByAda(Last(extended, HistoryAction.LifetimeSet));
        Assert.Contains($"{extended.ExpiresAt!.Value.ToUniversalTime():u}", Last(extended, HistoryAction.LifetimeSet).Detail);
        ByAda(Last(await Client.SetDatabaseAsync(new SetDatabaseRequest { Name = "hist-alpha", Protected = true }), HistoryAction.Protected));

        // A refused change is a failed entry with the code the caller got.
        await Refused(ErrorCodes.DatabaseProtected, () => Client.ResetDatabaseAsync("hist-alpha"));
        await Refused(ErrorCodes.DatabaseProtected, () => Client.RemoveDatabaseAsync("hist-alpha"));
        var refused = await Client.GetDatabaseAsync("hist-alpha");
        ByAda(refused.History[^2], HistoryOutcome.Failed, ErrorCodes.DatabaseProtected);
        Assert.Equal(HistoryAction.Reset, refused.History[^2].Action);
        ByAda(refused.History[^1], HistoryOutcome.Failed, ErrorCodes.DatabaseProtected);
        Assert.Equal(HistoryAction.Removed, refused.History[^1].Action);

        ByAda(Last(await Client.SetDatabaseAsync(new SetDatabaseRequest { Name = "hist-alpha", Protected = false }), HistoryAction.Unprotected));
        var seen = await Client.GetDatabaseAsync("hist-alpha");
        Assert.Equal(
            [HistoryAction.Created, HistoryAction.Reset, HistoryAction.Stopped, HistoryAction.Started, HistoryAction.LifetimeSet, HistoryAction.Protected,
                HistoryAction.Reset, HistoryAction.Removed, HistoryAction.Unprotected],
            seen.History.Select(e => e.Action));
        // Oldest first, by the engine's clock.
        Assert.Equal(seen.History.OrderBy(e => e.At).Select(e => e.At), seen.History.Select(e => e.At));
        Assert.True(seen.History[1].At > seen.History[0].At);
        Assert.Contains(await Client.GetDatabasesAsync(), d => d.Name == "hist-alpha" && d.History.Count == seen.History.Count);

        // A removed database has no record: its project's history says who removed it.
        await Client.RemoveDatabaseAsync("hist-alpha");
        var removal = (await Client.GetProjectAsync(SharedProject)).History.Last(e => e.Database == "hist-alpha");
        Assert.Equal((HistoryAction.Removed, "dave"), (removal.Action, removal.Owner));
        ByAda(removal);
    }

    [Fact]
    public async Task History_work_begun_in_the_background_is_recorded_as_the_user_who_asked_for_it()
    {
        Database begun;
        using (AsAda()) begun = await Client.BeginStopDatabaseAsync((await Client.NewDatabaseAsync(Request("hist-bravo"))).Name);
        // Whether the request's own entry is there at once (Kubernetes records requests) or when the work ends (embedded).
        Assert.Equal(Differences.HistoryAtRequest, begun.History.LastOrDefault()?.Action == HistoryAction.Stopped);

        // Outside the scope: the work that was started keeps the actor of the request that started it.
        var stopped = await Client.WaitDatabaseAsync("hist-bravo");
        Assert.Equal(DatabaseStatus.Stopped, stopped.Status);
        ByAda(Last(stopped, HistoryAction.Stopped));
        Assert.Equal(HistoryAction.Stopped, stopped.History[^1].Action);
        using (AsAda()) await Client.RemoveDatabaseAsync("hist-bravo");
    }

    [Fact]
    public async Task History_an_expired_database_leaves_an_entry_by_devdb_in_its_projects_history()
    {
        using (AsAda()) await Client.NewDatabaseAsync(Leased("hist-charlie", TimeSpan.FromMinutes(10)));
        await Configuration.AdvanceClockAsync(TimeSpan.FromMinutes(11));
        await Refused(ErrorCodes.DatabaseNotFound, () => Client.GetDatabaseAsync("hist-charlie"));

        var expiry = (await Client.GetProjectAsync(SharedProject)).History.Last(e => e.Database == "hist-charlie");
        Assert.Equal((HistoryAction.Expired, "devdb", HistoryOutcome.Succeeded, "dave"), (expiry.Action, expiry.User, expiry.Outcome, expiry.Owner));
        Assert.InRange(expiry.At, Configuration.Clock.GetUtcNow() - Tolerance, Configuration.Clock.GetUtcNow() + Tolerance);
    }

    [Fact]
    public async Task History_sixty_changes_keep_the_newest_fifty_in_order()
    {
        using var _ = AsAda();
        await Client.NewDatabaseAsync(Request("hist-delta"));
        for (var i = 1; i <= 60; i++)
            await Client.SetDatabaseAsync(new SetDatabaseRequest { Name = "hist-delta", TimeToLive = TimeSpan.FromMinutes(100 + i) });

        var history = (await Client.GetDatabaseAsync("hist-delta")).History;
        Assert.Equal(HistoryRules.Capacity, history.Count);
        Assert.All(history, e => Assert.Equal(HistoryAction.LifetimeSet, e.Action));
        var now = Configuration.Clock.GetUtcNow();
        // The newest fifty: from the eleventh set to the sixtieth, oldest first.
        Assert.Equal(Enumerable.Range(11, 50).Select(i => $"expires {now.AddMinutes(100 + i).ToUniversalTime():u}"), history.Select(e => e.Detail));
        await Client.RemoveDatabaseAsync("hist-delta");
    }

    [Fact]
    public async Task History_two_changes_at_once_both_appear()
    {
        using var _ = AsAda();
        await Client.NewDatabaseAsync(Request("hist-echo"));
        for (var round = 0; round < 3; round++)
        {
            await Task.WhenAll(
                Client.StopDatabaseAsync("hist-echo"),
                Client.SetDatabaseAsync(new SetDatabaseRequest { Name = "hist-echo", TimeToLive = TimeSpan.FromHours(1 + round) }));
            await Task.WhenAll(
                Client.StartDatabaseAsync("hist-echo"),
                Client.SetDatabaseAsync(new SetDatabaseRequest { Name = "hist-echo", Protected = round % 2 == 0 }));
        }
        var history = (await Client.GetDatabaseAsync("hist-echo")).History;
        Assert.Equal(3, history.Count(e => e.Action == HistoryAction.Stopped));
        Assert.Equal(3, history.Count(e => e.Action == HistoryAction.Started));
        Assert.Equal(3, history.Count(e => e.Action == HistoryAction.LifetimeSet));
        Assert.Equal(3, history.Count(e => e.Action is HistoryAction.Protected or HistoryAction.Unprotected));
        Assert.All(history, e => ByAda(e));
        await Client.SetDatabaseAsync(new SetDatabaseRequest { Name = "hist-echo", Protected = false });
        await Client.RemoveDatabaseAsync("hist-echo");
    }

    [Fact]
    public async Task History_a_projects_lifetime_settings_and_protection_are_in_its_history()
    {
        using var _ = AsAda();
        try
        {
            var set = await Client.SetProjectAsync(new SetProjectRequest { Name = SharedProject, DefaultTimeToLive = TimeSpan.FromHours(1), Protected = true });
            Assert.Equal([HistoryAction.Protected, HistoryAction.LifetimeSet], set.History.TakeLast(2).Select(e => e.Action));
            Assert.All(set.History.TakeLast(2), e => ByAda(e));
            Assert.Equal("default 1h, maximum none", set.History[^1].Detail);
        }
        finally
        {
            await Client.SetProjectAsync(new SetProjectRequest { Name = SharedProject, NoDefaultTimeToLive = true, Protected = false });
        }
        Assert.Equal(HistoryAction.Unprotected, (await Client.GetProjectAsync(SharedProject)).History.TakeLast(2).First().Action);
    }
}
