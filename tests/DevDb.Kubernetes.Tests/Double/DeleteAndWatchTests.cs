using k8s;
using k8s.Autorest;
using k8s.Models;
using KubeApiDouble;
using Xunit;

namespace DevDb.Kubernetes.Tests.Double;

public sealed class DeleteAndWatchTests : DoubleTestBase
{
    protected override KubeApiServerOptions Options() => new() { WatchHistoryLimit = 5 };

    private static V1ConfigMap ConfigMap(string name, Dictionary<string, string>? labels = null, V1OwnerReference? owner = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, Labels = labels, OwnerReferences = owner is null ? null : [owner] },
    };

    private static V1OwnerReference OwnedBy(V1Secret owner) => new()
    {
        ApiVersion = "v1", Kind = "Secret", Name = owner.Metadata.Name, Uid = owner.Metadata.Uid, Controller = true,
    };

    [Fact]
    public async Task Delete_returns_the_object_and_the_garbage_collector_deletes_its_dependents()
    {
        var owner = await Client.CoreV1.CreateNamespacedSecretAsync(new V1Secret { Metadata = new V1ObjectMeta { Name = "owner" } }, Ns);
        await Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("dependent", owner: OwnedBy(owner)), Ns);
        var grandchild = Server.Find("v1", "configmaps", Ns, "dependent")!;
        await Client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap
        {
            Metadata = new V1ObjectMeta
            {
                Name = "grandchild",
                OwnerReferences = [new V1OwnerReference { ApiVersion = "v1", Kind = "ConfigMap", Name = "dependent", Uid = grandchild["metadata"]!["uid"]!.GetValue<string>() }],
            },
        }, Ns);
        await Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("unrelated"), Ns);

        await Client.CoreV1.DeleteNamespacedSecretAsync("owner", Ns);
        await Server.SettleAsync();

        Assert.Equal(["unrelated"], (await Client.CoreV1.ListNamespacedConfigMapAsync(Ns)).Items.Select(i => i.Metadata.Name));
        var missing = await FailureOf(() => Client.CoreV1.ReadNamespacedSecretAsync("owner", Ns));
        Assert.Equal("NotFound", missing["reason"]!.GetValue<string>());
    }

    [Fact]
    public async Task Orphan_propagation_keeps_the_dependents_without_the_owner_reference()
    {
        var owner = await Client.CoreV1.CreateNamespacedSecretAsync(new V1Secret { Metadata = new V1ObjectMeta { Name = "owner" } }, Ns);
        await Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("dependent", owner: OwnedBy(owner)), Ns);

        await Client.CoreV1.DeleteNamespacedSecretAsync("owner", Ns, propagationPolicy: "Orphan");
        await Server.SettleAsync();

        var dependent = await Client.CoreV1.ReadNamespacedConfigMapAsync("dependent", Ns);
        Assert.Null(dependent.Metadata.OwnerReferences);
    }

    [Fact]
    public async Task Deleting_a_Job_without_a_propagation_policy_orphans_its_pod_as_batch_v1_does()
    {
        await Client.BatchV1.CreateNamespacedJobAsync(Jobs.Restore("orphaning"), Ns);
        await Server.SettleAsync();
        Assert.Single(Server.FindAll("v1", "pods", Ns));

        var response = await Client.BatchV1.DeleteNamespacedJobWithHttpMessagesAsync("orphaning", Ns);
        Assert.Contains(response.Response.Headers.Warning, w => w.Text.Contains("child pods are preserved by default", StringComparison.Ordinal));
        await Server.SettleAsync();
        Assert.Single(Server.FindAll("v1", "pods", Ns));

        await Client.BatchV1.CreateNamespacedJobAsync(Jobs.Restore("cascading"), Ns);
        await Server.SettleAsync();
        await Client.BatchV1.DeleteNamespacedJobAsync("cascading", Ns, body: new V1DeleteOptions { PropagationPolicy = "Background" });
        await Server.SettleAsync();
        Assert.All(Server.FindAll("v1", "pods", Ns), p => Assert.StartsWith("orphaning-", p["metadata"]!["name"]!.GetValue<string>()));
    }

    [Fact]
    public async Task An_object_with_finalizers_stays_with_a_deletionTimestamp_until_they_are_removed()
    {
        await Client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap
        {
            Metadata = new V1ObjectMeta { Name = "guarded", Finalizers = ["devdb.io/cleanup"] },
        }, Ns);

        await Client.CoreV1.DeleteNamespacedConfigMapAsync("guarded", Ns);
        var stillThere = await Client.CoreV1.ReadNamespacedConfigMapAsync("guarded", Ns);
        Assert.NotNull(stillThere.Metadata.DeletionTimestamp);

        await Client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch("""{"metadata":{"finalizers":null}}""", V1Patch.PatchType.MergePatch), "guarded", Ns);
        await FailureOf(() => Client.CoreV1.ReadNamespacedConfigMapAsync("guarded", Ns));
    }

    [Fact]
    public async Task Delete_preconditions_on_uid_are_enforced()
    {
        await Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("cm"), Ns);
        var conflict = await FailureOf(() => Client.CoreV1.DeleteNamespacedConfigMapAsync("cm", Ns,
            body: new V1DeleteOptions { Preconditions = new V1Preconditions { Uid = Guid.NewGuid().ToString() } }));
        Assert.Equal(409, conflict["code"]!.GetValue<int>());
        Assert.NotNull(await Client.CoreV1.ReadNamespacedConfigMapAsync("cm", Ns));
    }

    [Fact]
    public async Task A_watch_without_resourceVersion_lists_current_objects_as_ADDED_then_streams_changes()
    {
        await Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("existing"), Ns);
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var events = new List<(WatchEventType, string)>();
        var watch = Task.Run(async () =>
        {
            // The older extension over a list call with watch=true, which DevDb code may use too.
#pragma warning disable CS0618
            await foreach (var (type, item) in Client.CoreV1.ListNamespacedConfigMapWithHttpMessagesAsync(Ns, watch: true, cancellationToken: cancel.Token)
                               .WatchAsync<V1ConfigMap, V1ConfigMapList>(cancellationToken: cancel.Token))
#pragma warning restore CS0618
            {
                lock (events) events.Add((type, item.Metadata.Name));
                if (type == WatchEventType.Deleted) break;
            }
        });
        await Eventually(() => Task.FromResult(events.Count), n => n >= 1, "the initial ADDED event");
        await Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("new"), Ns);
        await Client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch("""{"data":{"a":"b"}}""", V1Patch.PatchType.MergePatch), "new", Ns);
        await Client.CoreV1.DeleteNamespacedConfigMapAsync("new", Ns);
        await watch;

        Assert.Equal([(WatchEventType.Added, "existing"), (WatchEventType.Added, "new"), (WatchEventType.Modified, "new"), (WatchEventType.Deleted, "new")], events);
    }

    [Fact]
    public async Task A_watch_from_a_resourceVersion_sees_only_later_changes_that_match_its_selectors()
    {
        var start = await Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("before", new() { ["app"] = "db" }), Ns);
        await Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("match", new() { ["app"] = "db" }), Ns);
        await Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("other", new() { ["app"] = "web" }), Ns);
        await Client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch("""{"metadata":{"labels":{"app":"web"}}}""", V1Patch.PatchType.MergePatch), "match", Ns);

        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var events = new List<(WatchEventType, string)>();
        await foreach (var (type, item) in Client.CoreV1.WatchListNamespacedConfigMapAsync(Ns, resourceVersion: start.Metadata.ResourceVersion, labelSelector: "app=db", timeoutSeconds: 1, cancellationToken: cancel.Token))
            events.Add((type, item.Metadata.Name));

        // "before" was created at the watch's resourceVersion; "match" left the selection, so the watch saw it go.
        Assert.Equal([(WatchEventType.Added, "match"), (WatchEventType.Deleted, "match")], events);

        using var byName = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var named = new List<string>();
        await foreach (var (_, item) in Client.CoreV1.WatchListNamespacedConfigMapAsync(Ns, fieldSelector: "metadata.name=other", timeoutSeconds: 1, cancellationToken: byName.Token))
            named.Add(item.Metadata.Name);
        Assert.Equal(["other"], named);
    }

    [Fact]
    public async Task A_watch_from_a_resourceVersion_older_than_the_kept_history_gets_a_410_Expired_error_event()
    {
        var first = await Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("first"), Ns);
        for (var i = 0; i < 6; i++) await Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap($"cm{i}"), Ns);

        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var errors = new List<Exception>();
        var items = 0;
        await foreach (var _ in Client.CoreV1.WatchListNamespacedConfigMapAsync(Ns, resourceVersion: first.Metadata.ResourceVersion,
                           onError: errors.Add, cancellationToken: cancel.Token))
            items++;

        Assert.Equal(0, items);
        var status = Assert.IsType<KubernetesException>(Assert.Single(errors)).Status;
        Assert.Equal(410, status.Code);
        Assert.Equal("Expired", status.Reason);
    }

    [Fact]
    public async Task Direct_store_changes_bump_the_resourceVersion_and_reach_watchers()
    {
        var created = await Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("cm"), Ns);
        Server.Mutate("v1", "configmaps", Ns, "cm", o => o["data"] = new System.Text.Json.Nodes.JsonObject { ["k"] = "v" });
        Server.Remove("v1", "configmaps", Ns, "cm");

        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var events = new List<WatchEventType>();
        await foreach (var (type, _) in Client.CoreV1.WatchListNamespacedConfigMapAsync(Ns, resourceVersion: created.Metadata.ResourceVersion, timeoutSeconds: 1, cancellationToken: cancel.Token))
            events.Add(type);
        Assert.Equal([WatchEventType.Modified, WatchEventType.Deleted], events);
        Assert.DoesNotContain(Server.Requests, r => r.Verb is "update" or "delete");
    }
}
