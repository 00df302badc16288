using System.Text.Json;
using DevDb.Core.Client;
using DevDb.Core.Model;
using DevDb.Core.Rules;
using DevDb.Core.Runtimes.Kubernetes;
using Xunit;

namespace DevDb.Core.Tests.Rules;

/// <summary>The history rule both engines use: the newest fifty changes, oldest first, each naming its actor.</summary>
public sealed class HistoryRulesTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 2, 5, 0, 0, TimeSpan.Zero);

    private static HistoryEntry At(int minute) =>
        HistoryRules.Entry(HistoryAction.LifetimeSet, Start.AddMinutes(minute), detail: minute.ToString(), actor: new Actor("ada", true, $"req-{minute}"));

    [Fact]
    public void The_cap_of_fifty_keeps_the_newest_oldest_first()
    {
        IReadOnlyList<HistoryEntry> history = [];
        for (var i = 1; i <= 60; i++) history = HistoryRules.Append(history, At(i));

        Assert.Equal(HistoryRules.Capacity, history.Count);
        Assert.Equal(Enumerable.Range(11, 50).Select(i => i.ToString()), history.Select(e => e.Detail));
        Assert.Equal("req-60", history[^1].RequestId);
    }

    [Fact]
    public void A_projects_database_removals_are_capped_apart_so_a_churn_of_databases_keeps_its_own_changes()
    {
        IReadOnlyList<HistoryEntry> history = [];
        for (var i = 1; i <= 5; i++) history = HistoryRules.Append(history, At(i));
        for (var i = 1; i <= 70; i++)
            history = HistoryRules.Append(history, HistoryRules.Entry(HistoryAction.Removed, Start.AddHours(1).AddMinutes(i), actor: new Actor("ci", false)) with { Database = $"ci-{i}" });

        Assert.Equal(["1", "2", "3", "4", "5"], history.Where(e => e.Database is null).Select(e => e.Detail));
        Assert.Equal(Enumerable.Range(21, 50).Select(i => $"ci-{i}"), history.Where(e => e.Database is not null).Select(e => e.Database));
        Assert.Equal(55, history.Count);
        Assert.Equal("ci-70", history[^1].Database);

        for (var i = 6; i <= 60; i++) history = HistoryRules.Append(history, At(i));
        Assert.Equal(HistoryRules.MaxEntries, history.Count);
        Assert.Equal(Enumerable.Range(11, 50).Select(i => i.ToString()), history.Where(e => e.Database is null).Select(e => e.Detail));
    }

    [Fact]
    public void Appending_leaves_the_list_it_was_given_alone_and_takes_a_missing_one()
    {
        IReadOnlyList<HistoryEntry> one = [At(1)];
        var two = HistoryRules.Append(one, At(2));
        Assert.Single(one);
        Assert.Equal(2, two.Count);
        Assert.Single(HistoryRules.Append(null, At(3)));
    }

    [Fact]
    public void An_entry_names_the_ambient_actor_and_a_failure_its_code()
    {
        using (Actor.Use(new Actor("erin", false, "req-9")))
        {
            var failed = HistoryRules.Entry(HistoryAction.Reset, Start, DevDbErrors.DatabaseProtected("dave", "reset"));
            Assert.Equal(("erin", "req-9", HistoryOutcome.Failed, ErrorCodes.DatabaseProtected), (failed.User, failed.RequestId, failed.Outcome, failed.ErrorCode));
            var cancelled = HistoryRules.Entry(HistoryAction.Stopped, Start, new OperationCanceledException());
            Assert.Equal(ErrorCodes.OperationInterrupted, cancelled.ErrorCode);
        }
        Assert.Equal(Actor.Local.User, HistoryRules.Entry(HistoryAction.Started, Start).User);
        using (Actor.Use(Actor.DevDb)) Assert.Equal("devdb", HistoryRules.Entry(HistoryAction.Expired, Start).User);
    }

    [Fact]
    public void A_set_that_changes_nothing_leaves_no_entry_and_one_that_changes_both_leaves_two()
    {
        var database = new Database
        {
            Name = "dave", Project = "shop", ImageRevision = 1, Host = "h", Port = 1, DatabaseName = "app", Username = "dave", Owner = "dave",
            ExpiresAt = Start.AddHours(1),
        };
        Assert.Empty(HistoryRules.OfSet(database, database.ExpiresAt, false, Start));
        Assert.Equal([HistoryAction.Protected, HistoryAction.LifetimeSet],
            HistoryRules.OfSet(database, null, true, Start).Select(e => e.Action));
        Assert.Equal("no expiry", HistoryRules.OfSet(database, null, false, Start).Single().Detail);
    }

    [Fact]
    public void The_api_and_the_custom_resource_carry_every_field_and_an_unknown_action_is_not_shown()
    {
        var entry = HistoryRules.Failed(HistoryAction.Created, Start, ErrorCodes.ServerStartFailed, "image r2", new Actor("ada", true, "req-1"))
            with { Database = "dave", Owner = "bob" };
        Assert.Equal(entry, JsonSerializer.Deserialize<HistoryEntry>(JsonSerializer.Serialize(entry, ApiContract.Json), ApiContract.Json));
        Assert.Contains("\"action\":\"Created\"", JsonSerializer.Serialize(entry, ApiContract.Json));

        var stored = HistoryItem.Appended(null, entry);
        var json = k8s.KubernetesJson.Serialize(stored);
        Assert.Contains("\"outcome\":\"Failed\"", json);
        var read = k8s.KubernetesJson.Deserialize<List<HistoryItem>>(json);
        Assert.Equal(entry, Assert.Single(HistoryItem.ToEntries(read)));
        read.Add(new HistoryItem { At = Start, Action = "Teleported", User = "zoe" });
        Assert.Single(HistoryItem.ToEntries(read));
    }
}
