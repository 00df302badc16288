using System.Text.Json.Nodes;
using DevDb.Core;
using DevDb.Core.Client;
using DevDb.Core.Runtimes.Kubernetes;
using DevDb.Kubernetes.Tests.Chart;
using k8s;
using k8s.Models;
using static DevDb.Kubernetes.Tests.Runtime.KubernetesRig;

using Xunit;

namespace DevDb.Kubernetes.Tests.Runtime;

/// <summary>
/// What ties the runtime to the chart, checked by test rather than by eye: every request the
/// runtime makes is allowed by the chart's Role, and every field it writes into its records is in
/// the CRD's schema (a real API server silently prunes undeclared fields of a structural schema).
/// </summary>
public sealed class ContractTests
{
    [Fact]
    public async Task The_charts_Role_grants_exactly_what_the_engine_and_the_reconciler_use_through_a_full_lifecycle()
    {
        var role = (await HelmChart.RenderAsync(new Dictionary<string, string>
        {
            ["traefik.enabled"] = "true", ["baseDomain"] = BaseDomain, ["tls.secretName"] = "devdb-wildcard-tls",
            ["loadBalancer.enabled"] = "true",
        })).OfType<V1Role>().Single();
        await using var rig = await StartAsync(server => server.PodReadiness = KubeApiDouble.PodReadiness.Manual, options => options with
        {
            LoadBalancer = new LoadBalancerOptions { Enabled = true, Host = "pg.example.test", PortRangeStart = 31000, PortRangeEnd = 31010 },
        });
        var setUpStarts = rig.Server.Requests.Count;
        await rig.Client.CoreV1.CreateNamespacedServiceAsync(new V1Service
        {
            Metadata = new V1ObjectMeta { Name = "devdb-databases" },
            Spec = new V1ServiceSpec { Type = "LoadBalancer", Ports = [new V1ServicePort { Name = "api", Port = 80, TargetPort = "http" }] },
        }, Namespace);
        // A Secret left by an earlier database of the same name, which the garbage collector has not deleted yet.
        await rig.Client.CoreV1.CreateNamespacedSecretAsync(new V1Secret
        {
            Metadata = new V1ObjectMeta { Name = "devdb-db-erin", Labels = new Dictionary<string, string> { [KubeNames.ManagedBy] = KubeNames.Devdb } },
            StringData = new Dictionary<string, string> { ["username"] = "erin", ["password"] = "old" },
        }, Namespace);
        var setUpEnds = rig.Server.Requests.Count;

        await rig.Engine.NewProjectAsync(ProjectLifecycleTests.Shop());
        await StartReadyAsync(rig, "dave");
        await rig.Engine.GetConnectionAsync("dave");
        var stopped = rig.Engine.StopDatabaseAsync("dave");
        await stopped;
        var started = rig.Engine.StartDatabaseAsync("dave");
        await UntilAsync(() => rig.Find<V1Pod>("devdb-db-dave-0") is not null, "dave's pod is back");
        rig.Server.SetPodReady(Namespace, "devdb-db-dave-0");
        await started;
        await rig.Engine.UpdateProjectAsync(new UpdateProjectRequest { Name = "shop" });
        var oldPod = rig.Find<V1Pod>("devdb-db-dave-0")!.Metadata.Uid;
        var reset = rig.Engine.ResetDatabaseAsync("dave");
        await UntilAsync(() => rig.Find<V1Pod>("devdb-db-dave-0") is { } pod && pod.Metadata.Uid != oldPod, "the reset replaces the pod");
        rig.Server.SetPodReady(Namespace, "devdb-db-dave-0");
        await reset;
        // Data states: a checkpoint (a VolumeSnapshot), a branch of it (the branch becomes an owner of the snapshot), a restore, its removal.
        await rig.Engine.CheckpointDatabaseAsync("dave", "fixtures");
        await rig.Engine.BeginNewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "gina", Owner = "gina", FromDatabase = "dave", Checkpoint = "fixtures" });
        await UntilAsync(() => rig.Find<V1Pod>("devdb-db-gina-0") is not null, "the branch's pod exists");
        rig.Server.SetPodReady(Namespace, "devdb-db-gina-0");
        await rig.Engine.WaitDatabaseAsync("gina");
        oldPod = rig.Find<V1Pod>("devdb-db-dave-0")!.Metadata.Uid;
        var restore = rig.Engine.RestoreDatabaseAsync("dave", "fixtures");
        await UntilAsync(() => rig.Find<V1Pod>("devdb-db-dave-0") is { } pod && pod.Metadata.Uid != oldPod, "the restore replaces the pod");
        rig.Server.SetPodReady(Namespace, "devdb-db-dave-0");
        await restore;
        await rig.Engine.RemoveCheckpointAsync("dave", "fixtures");
        await UntilAsync(() => rig.Server.FindAll("snapshot.storage.k8s.io/v1", "volumesnapshots", Namespace).Any(snapshot =>
            snapshot["metadata"]!["name"]!.GetValue<string>().StartsWith("devdb-db-dave.fixtures.", StringComparison.Ordinal)
            && snapshot["metadata"]!["ownerReferences"]!.AsArray() is [{ } only] && only["name"]!.GetValue<string>() == "gina"), "the branch alone owns the removed checkpoint's snapshot");
        await rig.Client.CoreV1.DeleteNamespacedSecretAsync("devdb-db-dave", Namespace); // drift: the reconciler repairs it
        await UntilAsync(() => rig.Find<V1Secret>("devdb-db-dave") is not null, "the Secret is made again");
        await StartReadyAsync(rig, "erin");                                               // takes the leftover Secret over
        await rig.Engine.BeginNewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "frank", Owner = "frank" });
        await UntilAsync(() => rig.Find<V1Pod>("devdb-db-frank-0") is not null, "frank's pod exists");
        rig.Server.Mutate("v1", "pods", Namespace, "devdb-db-frank-0", pod => pod["status"] = System.Text.Json.Nodes.JsonNode.Parse("""
            {"phase":"Running","containerStatuses":[{"name":"postgres","ready":false,"restartCount":3,"image":"postgres:16","imageID":"",
             "state":{"waiting":{"reason":"CrashLoopBackOff","message":"back-off restarting failed container"}}}]}
            """));
        await Assert.ThrowsAsync<DevDbException>(() => rig.Engine.WaitDatabaseAsync("frank"));       // its objects are deleted
        await UntilAsync(() => rig.Find<V1StatefulSet>("devdb-db-frank") is null, "the failed server is deleted");
        await rig.Engine.RemoveProjectAsync("shop", force: true);
        await UntilAsync(() => rig.Server.FindAll("v1", "persistentvolumeclaims", Namespace).Count == 0, "everything is removed");

        // Everything asked for since the rig started (the reconciler campaigns and watches at once), but this test's own set-up.
        var used = rig.Server.Requests
            .Where((request, index) => index < setUpStarts || index >= setUpEnds || request is not { Verb: "create", Resource: "services" or "secrets" })
            .Select(r => (r.Group, Resource: r.Subresource is null ? r.Resource : $"{r.Resource}/{r.Subresource}", r.Verb))
            .ToHashSet();
        var granted = role.Rules
            .SelectMany(rule => rule.ApiGroups.SelectMany(group => rule.Resources.SelectMany(resource => rule.Verbs.Select(verb => (group, resource, verb)))))
            .ToHashSet();

        Assert.True(used.IsSubsetOf(granted), "The Role does not allow: " + string.Join(", ", used.Except(granted)));
        // Update on the records' finalizers is no request of DevDb's: admission (OwnerReferencesPermissionEnforcement)
        // asks for it when DevDb sets blockOwnerDeletion on its objects (ChartInstallTests checks it is granted).
        var forAdmission = new[] { (DevDbGroup.Name, $"{DevDbGroup.Projects}/finalizers", "update"), (DevDbGroup.Name, $"{DevDbGroup.Databases}/finalizers", "update") };
        Assert.True(granted.Except(forAdmission).ToHashSet().IsSubsetOf(used), "The Role grants what DevDb never used: " + string.Join(", ", granted.Except(used).Except(forAdmission)));
    }

    /// <summary>Creates a database and marks its pod Ready (the double's kubelet runs in manual mode here).</summary>
    private static async Task StartReadyAsync(KubernetesRig rig, string name)
    {
        await rig.Engine.BeginNewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = name, Owner = name });
        await UntilAsync(() => rig.Find<V1Pod>($"devdb-db-{name}-0") is not null, $"{name}'s pod exists");
        rig.Server.SetPodReady(Namespace, $"devdb-db-{name}-0");
        Assert.Equal(DevDb.Core.Model.DatabaseStatus.Running, (await rig.Engine.WaitDatabaseAsync(name)).Status);
    }

    [Fact]
    public async Task Every_field_DevDb_writes_into_its_records_is_declared_by_the_CRDs_so_no_API_server_prunes_it()
    {
        var crds = (await HelmChart.RenderAsync()).OfType<V1CustomResourceDefinition>().ToDictionary(c => c.Spec.Names.Kind);
        var project = new ProjectResource
        {
            Metadata = new V1ObjectMeta { Name = "shop" },
            Spec = new ProjectResourceSpec { PostgresVersion = 16, Source = "s3://b/k", PostRestoreSql = "SELECT 1", PostgresImage = "postgis/postgis:{0}-3.4", Refresh = 1,
                DefaultTimeToLiveSeconds = 3600, MaxTimeToLiveSeconds = 7200, Protected = true, RefreshSchedule = "0 3 * * *", RefreshTimeZone = "Europe/Paris", IdleTimeoutSeconds = 3600 },
            Status = new ProjectState
            {
                Phase = ProjectPhase.Ready, ObservedRefresh = 1, LastRevision = 2, Error = "e", ErrorCode = "c",
                NextRefresh = DateTimeOffset.UtcNow, ObservedSchedule = "0 3 * * *|Europe/Paris", LastRefresh = DateTimeOffset.UtcNow, LastRefreshRequest = 1,
                LastRefreshOutcome = "Failed", LastRefreshError = "e", LastRefreshErrorCode = "c", History = [new HistoryItem { At = DateTimeOffset.UtcNow, Action = "Created", User = "dave", Outcome = "Failed", ErrorCode = "c", RequestId = "r", Detail = "d", Database = "dave", Owner = "dave" }],
                Images = [new ImageState { Revision = 2, Refresh = 1, Status = ImagePhase.Ready, Snapshot = "s", Created = DateTimeOffset.UtcNow, SourceFormat = "Custom", SourceBytes = 1, Dump = "k", SizeBytes = 2, BuildSeconds = 3 }],
            },
        };
        var database = new DatabaseResource
        {
            Metadata = new V1ObjectMeta { Name = "dave" },
            Spec = new DatabaseResourceSpec { Project = "shop", Owner = "dave", Running = true, Reset = 1, ExpiresAt = DateTimeOffset.UtcNow, Protected = true,
                IdleTimeoutSeconds = 3600, IdleFrom = DateTimeOffset.UtcNow, StopReason = "Idle",
                Checkpoints = [new CheckpointRequest { Name = "fixtures", Id = "0a1b2c3d", Requested = DateTimeOffset.UtcNow }], Parent = "erin", ParentCheckpoint = "fixtures",
                RestoreCheckpoint = "fixtures", ResetToImage = true },
            Status = new DatabaseState
            {
                Phase = DatabasePhase.Running, ImageRevision = 2, Host = "h", Port = 5432, SniHost = "s", LoadBalancerPort = 31000, DatabaseName = "app",
                Username = "dave", SecretName = "x", Volume = "v", ObservedReset = 1, Error = "e", ErrorCode = "c",
                LastActiveAt = DateTimeOffset.UtcNow, Sessions = 3, VolumeSnapshot = "s", OriginSnapshot = "o", OriginRevision = 1,
                Checkpoints = [new CheckpointState { Name = "fixtures", Id = "0a1b2c3d", Snapshot = "s", ImageRevision = 2, Ready = true, Error = "e" }], History = [new HistoryItem { At = DateTimeOffset.UtcNow, Action = "Created", User = "dave", Outcome = "Failed", ErrorCode = "c", RequestId = "r", Detail = "d", Database = "dave", Owner = "dave" }],
            },
        };

        // Every property is set above, so a property added to a record later cannot slip past as a null left out of the JSON.
        Assert.Empty(UnsetProperties(project.Spec).Concat(UnsetProperties(project.Status)).Concat(UnsetProperties(project.Status.Images[0]))
            .Concat(UnsetProperties(database.Spec)).Concat(UnsetProperties(database.Status))
            .Concat(UnsetProperties(database.Spec.Checkpoints[0])).Concat(UnsetProperties(database.Status.Checkpoints[0])));
        var undeclared = Undeclared(KubernetesJson.Serialize(project), crds["DevDbProject"])
            .Concat(Undeclared(KubernetesJson.Serialize(database), crds["DevDbDatabase"])).ToList();

        Assert.True(undeclared.Count == 0, "Not in the CRD schema: " + string.Join(", ", undeclared));
    }

    [Fact]
    public async Task The_records_phases_are_stored_as_exactly_the_names_the_CRDs_enums_allow()
    {
        var crds = (await HelmChart.RenderAsync()).OfType<V1CustomResourceDefinition>().ToDictionary(c => c.Spec.Names.Kind);
        var projectStatus = StatusSchema(crds["DevDbProject"]);
        var databaseStatus = StatusSchema(crds["DevDbDatabase"]);

        Assert.Equal(Enum.GetNames<ProjectPhase>(), Allowed(projectStatus["phase"]!));
        Assert.Equal(Enum.GetNames<ImagePhase>(), Allowed(projectStatus["images"]!["items"]!["properties"]!["status"]!));
        Assert.Equal(Enum.GetNames<DatabasePhase>(), Allowed(databaseStatus["phase"]!));
        var project = KubernetesJson.Serialize(new ProjectState { Phase = ProjectPhase.Failed, Images = [new ImageState { Revision = 1, Status = ImagePhase.Ready }] });
        Assert.Contains("\"phase\":\"Failed\"", project);
        Assert.Contains("\"status\":\"Ready\"", project);
        Assert.Equal(DatabasePhase.Stopped, KubernetesJson.Deserialize<DatabaseState>("""{"phase":"Stopped"}""").Phase);
    }

    private static JsonNode StatusSchema(V1CustomResourceDefinition crd) =>
        JsonNode.Parse(KubernetesJson.Serialize(crd.Spec.Versions.Single(v => v.Storage).Schema.OpenAPIV3Schema))!["properties"]!["status"]!["properties"]!;

    private static string[] Allowed(JsonNode property) => property["enum"]!.AsArray().Select(v => v!.GetValue<string>()).ToArray();

    private static IEnumerable<string> UnsetProperties(object record) =>
        record.GetType().GetProperties().Where(p => p.GetValue(record) is null).Select(p => $"{record.GetType().Name}.{p.Name}");

    private static IEnumerable<string> Undeclared(string json, V1CustomResourceDefinition crd)
    {
        var schema = JsonNode.Parse(KubernetesJson.Serialize(crd.Spec.Versions.Single(v => v.Storage).Schema.OpenAPIV3Schema))!;
        var document = JsonNode.Parse(json)!.AsObject();
        document.Remove("apiVersion");
        document.Remove("kind");
        document.Remove("metadata");
        return Walk(document, schema, crd.Spec.Names.Kind);
    }

    private static IEnumerable<string> Walk(JsonNode? value, JsonNode schema, string path)
    {
        switch (value)
        {
            case JsonObject item:
                var properties = schema["properties"]?.AsObject();
                foreach (var (name, child) in item)
                {
                    if (properties?[name] is { } declared) { foreach (var missing in Walk(child, declared, $"{path}.{name}")) yield return missing; }
                    else if (schema["x-kubernetes-preserve-unknown-fields"]?.GetValue<bool>() != true) yield return $"{path}.{name}";
                }
                break;
            case JsonArray items:
                foreach (var child in items)
                    foreach (var missing in Walk(child, schema["items"]!, path + "[]")) yield return missing;
                break;
        }
    }
}
