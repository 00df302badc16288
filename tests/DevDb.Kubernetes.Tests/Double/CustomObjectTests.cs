using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using k8s.LeaderElection;
using k8s.LeaderElection.ResourceLock;
using k8s.Models;
using Xunit;

namespace DevDb.Kubernetes.Tests.Double;

/// <summary>DevDb's own records (devdb.io/v1alpha1) through the CustomObjects API and GenericClient, and the Lease.</summary>
public sealed class CustomObjectTests : DoubleTestBase
{
    private const string Group = "devdb.io";
    private const string Version = "v1alpha1";

    private static JsonObject Database(string name, string owner = "alice") => new()
    {
        ["apiVersion"] = "devdb.io/v1alpha1",
        ["kind"] = "DevDbDatabase",
        ["metadata"] = new JsonObject
        {
            ["name"] = name,
            ["labels"] = new JsonObject { ["devdb.io/project"] = "shop", ["devdb.io/owner"] = owner, ["app.kubernetes.io/managed-by"] = "devdb" },
        },
        ["spec"] = new JsonObject { ["project"] = "shop", ["owner"] = owner, ["running"] = true, ["reset"] = 0 },
    };

    private static JsonObject Parse(object response) => JsonNode.Parse(((JsonElement)response).GetRawText())!.AsObject();

    [Fact]
    public async Task Custom_objects_are_created_read_listed_and_patched_through_the_CustomObjects_API()
    {
        var created = Parse(await Client.CustomObjects.CreateNamespacedCustomObjectAsync(Database("db1"), Group, Version, Ns, "devdbdatabases"));
        Assert.Equal("DevDbDatabase", created["kind"]!.GetValue<string>());
        Assert.Equal(1, created["metadata"]!["generation"]!.GetValue<int>());
        await Client.CustomObjects.CreateNamespacedCustomObjectAsync(Database("db2", owner: "bob"), Group, Version, Ns, "devdbdatabases");

        var list = Parse(await Client.CustomObjects.ListNamespacedCustomObjectAsync(Group, Version, Ns, "devdbdatabases", labelSelector: "devdb.io/owner=bob"));
        Assert.Equal("DevDbDatabaseList", list["kind"]!.GetValue<string>());
        Assert.Equal(["db2"], list["items"]!.AsArray().Select(i => i!["metadata"]!["name"]!.GetValue<string>()));

        var patched = Parse(await Client.CustomObjects.PatchNamespacedCustomObjectAsync(
            new V1Patch("""{"spec":{"running":false}}""", V1Patch.PatchType.MergePatch), Group, Version, Ns, "devdbdatabases", "db1"));
        Assert.False(patched["spec"]!["running"]!.GetValue<bool>());
        Assert.Equal(2, patched["metadata"]!["generation"]!.GetValue<int>());

        var read = Parse(await Client.CustomObjects.GetNamespacedCustomObjectAsync(Group, Version, Ns, "devdbdatabases", "db1"));
        Assert.Equal(patched["metadata"]!["resourceVersion"]!.GetValue<string>(), read["metadata"]!["resourceVersion"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_status_subresource_changes_only_status_main_writes_keep_it_and_generation_follows_spec()
    {
        await Client.CustomObjects.CreateNamespacedCustomObjectAsync(Database("db1"), Group, Version, Ns, "devdbdatabases");

        var statusOnly = Parse(await Client.CustomObjects.PatchNamespacedCustomObjectStatusAsync(
            new V1Patch("""{"spec":{"owner":"mallory"},"status":{"phase":"Running","port":5432}}""", V1Patch.PatchType.MergePatch),
            Group, Version, Ns, "devdbdatabases", "db1"));
        Assert.Equal("Running", statusOnly["status"]!["phase"]!.GetValue<string>());
        Assert.Equal("alice", statusOnly["spec"]!["owner"]!.GetValue<string>());
        Assert.Equal(1, statusOnly["metadata"]!["generation"]!.GetValue<int>());

        var replacement = Database("db1");
        replacement["spec"]!["reset"] = 1;
        replacement["status"] = new JsonObject { ["phase"] = "Failed" };
        var mainWrite = Parse(await Client.CustomObjects.ReplaceNamespacedCustomObjectAsync(replacement, Group, Version, Ns, "devdbdatabases", "db1"));
        Assert.Equal("Running", mainWrite["status"]!["phase"]!.GetValue<string>());
        Assert.Equal(1, mainWrite["spec"]!["reset"]!.GetValue<int>());
        Assert.Equal(2, mainWrite["metadata"]!["generation"]!.GetValue<int>());

        var labelOnly = Parse(await Client.CustomObjects.PatchNamespacedCustomObjectAsync(
            new V1Patch("""{"metadata":{"labels":{"extra":"yes"}}}""", V1Patch.PatchType.MergePatch), Group, Version, Ns, "devdbdatabases", "db1"));
        Assert.Equal(2, labelOnly["metadata"]!["generation"]!.GetValue<int>());
        Assert.NotEqual(mainWrite["metadata"]!["resourceVersion"]!.GetValue<string>(), labelOnly["metadata"]!["resourceVersion"]!.GetValue<string>());

        var stale = Database("db1");
        stale["metadata"]!["resourceVersion"] = mainWrite["metadata"]!["resourceVersion"]!.GetValue<string>();
        stale["status"] = new JsonObject { ["phase"] = "Stopped" };
        var conflict = await FailureOf(() => Client.CustomObjects.ReplaceNamespacedCustomObjectStatusAsync(stale, Group, Version, Ns, "devdbdatabases", "db1"));
        Assert.Equal("Operation cannot be fulfilled on devdbdatabases.devdb.io \"db1\": the object has been modified; please apply your changes to the latest version and try again",
            conflict["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_watch_on_custom_objects_sees_status_changes_made_through_the_status_subresource()
    {
        var created = Parse(await Client.CustomObjects.CreateNamespacedCustomObjectAsync(Database("db1"), Group, Version, Ns, "devdbdatabases"));
        await Client.CustomObjects.PatchNamespacedCustomObjectStatusAsync(
            new V1Patch("""{"status":{"phase":"Running"}}""", V1Patch.PatchType.MergePatch), Group, Version, Ns, "devdbdatabases", "db1");

        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var seen = new List<(WatchEventType, string?)>();
        await foreach (var (type, item) in Client.CustomObjects.WatchListNamespacedCustomObjectAsync(Group, Version, Ns, "devdbdatabases",
                           resourceVersion: created["metadata"]!["resourceVersion"]!.GetValue<string>(), timeoutSeconds: 1, cancellationToken: cancel.Token))
            seen.Add((type, Parse(item)["status"]?["phase"]?.GetValue<string>()));

        Assert.Equal([(WatchEventType.Modified, "Running")], seen);
    }

    [Fact]
    public async Task A_lease_is_held_by_exactly_one_of_two_leader_electors_and_passes_on_when_it_stops()
    {
        LeaderElector Elector(string identity) => new(new LeaderElectionConfig(new LeaseLock(Client, Ns, "devdb-reconciler", identity))
        {
            LeaseDuration = TimeSpan.FromSeconds(2),
            RenewDeadline = TimeSpan.FromSeconds(1),
            RetryPeriod = TimeSpan.FromMilliseconds(200),
        });
        var leaders = new System.Collections.Concurrent.ConcurrentDictionary<string, bool>();
        using var first = Elector("first");
        using var second = Elector("second");
        first.OnStartedLeading += () => leaders["first"] = true;
        first.OnStoppedLeading += () => leaders["first"] = false;
        second.OnStartedLeading += () => leaders["second"] = true;
        second.OnStoppedLeading += () => leaders["second"] = false;
        using var stopFirst = new CancellationTokenSource();
        using var stopSecond = new CancellationTokenSource();
        var runFirst = first.RunAndTryToHoldLeadershipForeverAsync(stopFirst.Token);
        await Eventually(() => Task.FromResult(first.IsLeader()), leader => leader, "the first elector to lead");
        var runSecond = second.RunAndTryToHoldLeadershipForeverAsync(stopSecond.Token);

        // Longer than the lease: the leader renews it and the other keeps waiting.
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        Assert.True(first.IsLeader());
        Assert.False(second.IsLeader());
        var lease = await Client.CoordinationV1.ReadNamespacedLeaseAsync("devdb-reconciler", Ns);
        Assert.Equal("first", lease.Spec.HolderIdentity);

        await stopFirst.CancelAsync();
        await Eventually(() => Task.FromResult(second.IsLeader()), leader => leader, "the second elector to take over");
        Assert.Equal("second", (await Client.CoordinationV1.ReadNamespacedLeaseAsync("devdb-reconciler", Ns)).Spec.HolderIdentity);
        await stopSecond.CancelAsync();
        await Task.WhenAll(runFirst.ContinueWith(_ => { }), runSecond.ContinueWith(_ => { }));
    }

    [Fact]
    public async Task GenericClient_reads_and_writes_typed_objects()
    {
        using var generic = new GenericClient(Client, "apps", "v1", "statefulsets", disposeClient: false);
        var created = await generic.CreateNamespacedAsync(StatefulSets.Make("db", replicas: 0), Ns);
        Assert.Equal("db", created.Metadata.Name);
        var read = await generic.ReadNamespacedAsync<V1StatefulSet>(Ns, "db");
        Assert.Equal(created.Metadata.Uid, read.Metadata.Uid);
        var list = await generic.ListNamespacedAsync<V1StatefulSetList>(Ns);
        Assert.Single(list.Items);
        await generic.DeleteNamespacedAsync<V1StatefulSet>(Ns, "db");
        Assert.Null(Server.Find<V1StatefulSet>(Ns, "db"));
    }
}
