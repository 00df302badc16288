using System.Net;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Models;
using KubeApiDouble;
using Xunit;

namespace DevDb.Kubernetes.Tests.Double;

public sealed class RestProtocolTests : DoubleTestBase
{
    private static V1ConfigMap ConfigMap(string name, Dictionary<string, string>? labels = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, Labels = labels },
        Data = new Dictionary<string, string> { ["key"] = "value" },
    };

    [Fact]
    public async Task Create_sets_the_server_owned_metadata_and_get_returns_the_stored_object()
    {
        var first = await Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("one"), Ns);
        var second = await Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("two"), Ns);

        Assert.Equal(Ns, first.Metadata.NamespaceProperty);
        Assert.True(Guid.TryParse(first.Metadata.Uid, out _));
        Assert.NotNull(first.Metadata.CreationTimestamp);
        Assert.Equal(1, first.Metadata.Generation);
        Assert.True(long.Parse(second.Metadata.ResourceVersion) > long.Parse(first.Metadata.ResourceVersion));
        var read = await Client.CoreV1.ReadNamespacedConfigMapAsync("one", Ns);
        Assert.Equal(first.Metadata.Uid, read.Metadata.Uid);
        Assert.Equal("value", read.Data["key"]);
        Assert.Equal("v1", read.ApiVersion);
        Assert.Equal("ConfigMap", read.Kind);
    }

    [Fact]
    public async Task Create_of_an_existing_name_is_409_AlreadyExists_and_a_missing_object_is_404_NotFound()
    {
        await Client.CoreV1.CreateNamespacedSecretAsync(new V1Secret { Metadata = new V1ObjectMeta { Name = "s" } }, Ns);

        var exists = await FailureOf(() => Client.CoreV1.CreateNamespacedSecretAsync(new V1Secret { Metadata = new V1ObjectMeta { Name = "s" } }, Ns));
        Assert.Equal("AlreadyExists", exists["reason"]!.GetValue<string>());
        Assert.Equal(409, exists["code"]!.GetValue<int>());
        Assert.Equal("secrets \"s\" already exists", exists["message"]!.GetValue<string>());
        Assert.Equal("s", exists["details"]!["name"]!.GetValue<string>());

        var missing = await FailureOf(() => Client.AppsV1.ReadNamespacedStatefulSetAsync("nope", Ns));
        Assert.Equal("NotFound", missing["reason"]!.GetValue<string>());
        Assert.Equal("statefulsets.apps \"nope\" not found", missing["message"]!.GetValue<string>());
        Assert.Equal("apps", missing["details"]!["group"]!.GetValue<string>());
    }

    [Fact]
    public async Task GenerateName_gets_a_random_five_character_suffix()
    {
        var created = await Client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { GenerateName = "gen-" } }, Ns);
        Assert.Matches("^gen-[bcdfghjklmnpqrstvwxz2456789]{5}$", created.Metadata.Name);
    }

    [Fact]
    public async Task Secret_stringData_is_stored_as_base64_data_like_a_real_server()
    {
        await Client.CoreV1.CreateNamespacedSecretAsync(new V1Secret
        {
            Metadata = new V1ObjectMeta { Name = "creds" },
            StringData = new Dictionary<string, string> { ["username"] = "app" },
        }, Ns);
        var read = await Client.CoreV1.ReadNamespacedSecretAsync("creds", Ns);
        Assert.Null(read.StringData);
        Assert.Equal("app", System.Text.Encoding.UTF8.GetString(read.Data["username"]));
        Assert.Equal("Opaque", read.Type);
    }

    [Fact]
    public async Task List_is_sorted_by_name_and_honours_the_label_selector_syntax_and_field_selectors()
    {
        await Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("c", new() { ["app"] = "x", ["tier"] = "db" }), Ns);
        await Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("a", new() { ["app"] = "y" }), Ns);
        await Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("b", new() { ["app"] = "z", ["tier"] = "web" }), Ns);
        await Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("elsewhere", new() { ["app"] = "x" }), "other");

        async Task<string> Names(string? labels = null, string? fields = null) =>
            string.Join(",", (await Client.CoreV1.ListNamespacedConfigMapAsync(Ns, labelSelector: labels, fieldSelector: fields)).Items.Select(i => i.Metadata.Name));

        Assert.Equal("a,b,c", await Names());
        Assert.Equal("c", await Names("app=x"));
        Assert.Equal("c", await Names("app==x"));
        Assert.Equal("a,b", await Names("app!=x"));
        Assert.Equal("a,c", await Names("app in (x,y)"));
        Assert.Equal("b", await Names("app notin (x, y)"));
        Assert.Equal("b,c", await Names("tier"));
        Assert.Equal("a", await Names("!tier"));
        Assert.Equal("b", await Names("tier,app!=x"));
        Assert.Equal("b", await Names(fields: "metadata.name=b"));
        Assert.Equal("a,c", await Names(fields: "metadata.name!=b"));

        var all = await Client.CoreV1.ListConfigMapForAllNamespacesAsync(labelSelector: "app=x");
        Assert.Equal(["devdb/c", "other/elsewhere"], all.Items.Select(i => $"{i.Metadata.NamespaceProperty}/{i.Metadata.Name}"));
        var list = await Client.CoreV1.ListNamespacedConfigMapAsync(Ns);
        Assert.Equal("ConfigMapList", list.Kind);
        Assert.False(string.IsNullOrEmpty(list.Metadata.ResourceVersion));
    }

    [Fact]
    public async Task Replace_with_a_stale_resourceVersion_is_409_Conflict_and_without_one_is_unconditional()
    {
        var created = await Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("cm"), Ns);
        created.Data["key"] = "first";
        var replaced = await Client.CoreV1.ReplaceNamespacedConfigMapAsync(created, "cm", Ns);
        Assert.NotEqual(created.Metadata.ResourceVersion, replaced.Metadata.ResourceVersion);

        created.Data["key"] = "stale";
        var conflict = await FailureOf(() => Client.CoreV1.ReplaceNamespacedConfigMapAsync(created, "cm", Ns));
        Assert.Equal("Conflict", conflict["reason"]!.GetValue<string>());
        Assert.Equal(
            "Operation cannot be fulfilled on configmaps \"cm\": the object has been modified; please apply your changes to the latest version and try again",
            conflict["message"]!.GetValue<string>());

        created.Metadata.ResourceVersion = null;
        var unconditional = await Client.CoreV1.ReplaceNamespacedConfigMapAsync(created, "cm", Ns);
        Assert.Equal("stale", unconditional.Data["key"]);
        Assert.Equal(created.Metadata.Uid, unconditional.Metadata.Uid);
    }

    [Fact]
    public async Task A_write_that_changes_nothing_keeps_the_resourceVersion()
    {
        var created = await Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("cm"), Ns);
        var same = await Client.CoreV1.ReplaceNamespacedConfigMapAsync(created, "cm", Ns);
        Assert.Equal(created.Metadata.ResourceVersion, same.Metadata.ResourceVersion);
    }

    [Fact]
    public async Task Merge_patch_merges_objects_removes_nulls_and_replaces_lists()
    {
        await Client.AppsV1.CreateNamespacedStatefulSetAsync(StatefulSets.Make("db", replicas: 0), Ns);
        var patch = new JsonObject
        {
            ["metadata"] = new JsonObject { ["labels"] = new JsonObject { ["added"] = "yes", ["app"] = null } },
            ["spec"] = new JsonObject { ["template"] = new JsonObject { ["spec"] = new JsonObject { ["containers"] = new JsonArray(
                new JsonObject { ["name"] = "only", ["image"] = "postgres:16" }) } } },
        };
        var patched = await Client.AppsV1.PatchNamespacedStatefulSetAsync(new V1Patch(patch.ToJsonString(), V1Patch.PatchType.MergePatch), "db", Ns);
        Assert.Equal("yes", patched.Metadata.Labels["added"]);
        Assert.False(patched.Metadata.Labels.ContainsKey("app"));
        Assert.Equal(["only"], patched.Spec.Template.Spec.Containers.Select(c => c.Name));

        var strategic = await Client.AppsV1.PatchNamespacedStatefulSetAsync(new V1Patch(
            """{"spec":{"template":{"spec":{"containers":[{"name":"other","image":"postgres:17"}]}}}}""", V1Patch.PatchType.StrategicMergePatch), "db", Ns);
        Assert.Equal(["other"], strategic.Spec.Template.Spec.Containers.Select(c => c.Name));
        Assert.Equal("application/strategic-merge-patch+json", Server.Requests.Last().PatchContentType);

        var stale = await FailureOf(() => Client.AppsV1.PatchNamespacedStatefulSetAsync(
            new V1Patch("""{"metadata":{"resourceVersion":"1"},"spec":{"replicas":3}}""", V1Patch.PatchType.MergePatch), "db", Ns));
        Assert.Equal("Conflict", stale["reason"]!.GetValue<string>());
    }

    [Fact]
    public async Task Json_patch_applies_operations_and_a_failed_test_changes_nothing()
    {
        var created = await Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("cm"), Ns);
        var patched = await Client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch("""
            [{"op":"test","path":"/data/key","value":"value"},
             {"op":"add","path":"/data/other","value":"x"},
             {"op":"replace","path":"/data/key","value":"new"},
             {"op":"add","path":"/metadata/labels","value":{"a":"1"}},
             {"op":"add","path":"/metadata/labels/example.com~1c","value":"2"}]
            """, V1Patch.PatchType.JsonPatch), "cm", Ns);
        Assert.Equal("new", patched.Data["key"]);
        Assert.Equal("x", patched.Data["other"]);
        Assert.Equal("2", patched.Metadata.Labels["example.com/c"]);

        var failed = await FailureOf(() => Client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch("""
            [{"op":"replace","path":"/data/other","value":"y"},{"op":"test","path":"/data/key","value":"value"}]
            """, V1Patch.PatchType.JsonPatch), "cm", Ns));
        Assert.Equal(422, failed["code"]!.GetValue<int>());
        Assert.Equal("x", (await Client.CoreV1.ReadNamespacedConfigMapAsync("cm", Ns)).Data["other"]);

        var stale = await FailureOf(() => Client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch(
            $$"""[{"op":"replace","path":"/metadata/resourceVersion","value":"{{created.Metadata.ResourceVersion}}"},{"op":"replace","path":"/data/key","value":"z"}]""",
            V1Patch.PatchType.JsonPatch), "cm", Ns));
        Assert.Equal("Conflict", stale["reason"]!.GetValue<string>());
    }

    [Fact]
    public async Task Server_side_apply_is_415_UnsupportedMediaType()
    {
        await Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("cm"), Ns);
        var status = await FailureOf(() => Client.CoreV1.PatchNamespacedConfigMapAsync(
            new V1Patch("""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm"}}""", V1Patch.PatchType.ApplyPatch), "cm", Ns, fieldManager: "devdb"));
        Assert.Equal(415, status["code"]!.GetValue<int>());
        Assert.Equal("UnsupportedMediaType", status["reason"]!.GetValue<string>());
    }

    [Fact]
    public async Task Names_and_labels_a_real_server_refuses_are_422_Invalid()
    {
        var service = await FailureOf(() => Client.CoreV1.CreateNamespacedServiceAsync(new V1Service
        {
            Metadata = new V1ObjectMeta { Name = "1db" },
            Spec = new V1ServiceSpec { Ports = [new V1ServicePort { Port = 5432 }] },
        }, Ns));
        Assert.Equal("Invalid", service["reason"]!.GetValue<string>());
        Assert.Equal("Service", service["details"]!["kind"]!.GetValue<string>());
        Assert.Contains("DNS-1035", service["message"]!.GetValue<string>());

        await FailureOf(() => Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("Upper"), Ns));
        await FailureOf(() => Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("a_b"), Ns));
        await FailureOf(() => Client.AppsV1.CreateNamespacedStatefulSetAsync(StatefulSets.Make(new string('a', 64), replicas: 0), Ns));
        await FailureOf(() => Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("ok", new() { ["devdb.io/owner"] = new string('x', 64) }), Ns));
        await FailureOf(() => Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("ok", new() { ["devdb.io/owner"] = "alice@example.com" }), Ns));
        await FailureOf(() => Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("ok", new() { ["devdb.io/owner"] = "-alice" }), Ns));
        await FailureOf(() => Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("ok", new() { ["Bad_Prefix/owner"] = "alice" }), Ns));
        Assert.Empty((await Client.CoreV1.ListNamespacedConfigMapAsync(Ns)).Items);

        await Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("ok", new() { ["devdb.io/owner"] = "alice_example.com-1", ["empty"] = "" }), Ns);
        await Client.AppsV1.CreateNamespacedStatefulSetAsync(StatefulSets.Make(new string('a', 63), replicas: 0), Ns);
        var relabel = await FailureOf(() => Client.CoreV1.PatchNamespacedConfigMapAsync(
            new V1Patch("""{"metadata":{"labels":{"devdb.io/owner":"a b"}}}""", V1Patch.PatchType.MergePatch), "ok", Ns));
        Assert.Equal(422, relabel["code"]!.GetValue<int>());
    }

    [Fact]
    public async Task Updates_to_fields_a_real_server_keeps_immutable_are_422_Invalid()
    {
        await Client.AppsV1.CreateNamespacedStatefulSetAsync(StatefulSets.Make("db", replicas: 0), Ns);
        var serviceName = await FailureOf(() => Client.AppsV1.PatchNamespacedStatefulSetAsync(
            new V1Patch("""{"spec":{"serviceName":"other"}}""", V1Patch.PatchType.MergePatch), "db", Ns));
        Assert.Equal("Invalid", serviceName["reason"]!.GetValue<string>());
        Assert.Contains("updates to statefulset spec for fields other than", serviceName["message"]!.GetValue<string>());
        await Client.AppsV1.PatchNamespacedStatefulSetAsync(new V1Patch("""{"spec":{"replicas":2}}""", V1Patch.PatchType.MergePatch), "db", Ns);

        await Client.CoreV1.CreateNamespacedPersistentVolumeClaimAsync(Volumes.Claim("data"), Ns);
        var storageClass = await FailureOf(() => Client.CoreV1.PatchNamespacedPersistentVolumeClaimAsync(
            new V1Patch("""{"spec":{"storageClassName":"fast"}}""", V1Patch.PatchType.MergePatch), "data", Ns));
        Assert.Equal(422, storageClass["code"]!.GetValue<int>());

        Server.Options.JobOutcomes = _ => JobOutcome.Hold;
        await Client.BatchV1.CreateNamespacedJobAsync(Jobs.Restore("restore"), Ns);
        var template = await FailureOf(() => Client.BatchV1.PatchNamespacedJobAsync(new V1Patch(
            """{"spec":{"template":{"spec":{"containers":[{"name":"restore","image":"postgres:17"}]}}}}""", V1Patch.PatchType.MergePatch), "restore", Ns));
        Assert.Contains("spec.template", template["message"]!.GetValue<string>());

        await Client.CoreV1.CreateNamespacedSecretAsync(new V1Secret
        {
            Metadata = new V1ObjectMeta { Name = "frozen" }, Immutable = true, StringData = new Dictionary<string, string> { ["password"] = "a" },
        }, Ns);
        await FailureOf(() => Client.CoreV1.PatchNamespacedSecretAsync(
            new V1Patch("""{"stringData":{"password":"b"}}""", V1Patch.PatchType.MergePatch), "frozen", Ns));
    }

    [Fact]
    public async Task A_body_of_another_kind_is_400_and_an_unknown_resource_is_404()
    {
        var wrongKind = await FailureOf(() => Client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap
        {
            ApiVersion = "v1", Kind = "Secret", Metadata = new V1ObjectMeta { Name = "x" },
        }, Ns));
        Assert.Equal(400, wrongKind["code"]!.GetValue<int>());

        var unknown = await FailureOf(() => Client.CoreV1.ListNamespacedReplicationControllerAsync(Ns));
        Assert.Equal(404, unknown["code"]!.GetValue<int>());
    }

    [Fact]
    public async Task Version_answers_like_a_real_server()
    {
        var version = await Client.Version.GetCodeAsync();
        Assert.Equal("v1.34.0-double", version.GitVersion);
        Assert.Equal("1", version.Major);
        Assert.Equal("34", version.Minor);
    }

    [Fact]
    public async Task Services_get_a_cluster_IP_that_survives_a_replace_without_one()
    {
        var created = await Client.CoreV1.CreateNamespacedServiceAsync(new V1Service
        {
            Metadata = new V1ObjectMeta { Name = "devdb-db-a" },
            Spec = new V1ServiceSpec { Ports = [new V1ServicePort { Name = "postgres", Port = 5432 }] },
        }, Ns);
        Assert.Equal("ClusterIP", created.Spec.Type);
        Assert.StartsWith("10.96.", created.Spec.ClusterIP);
        created.Spec.ClusterIP = null;
        created.Spec.ClusterIPs = null;
        var replaced = await Client.CoreV1.ReplaceNamespacedServiceAsync(created, "devdb-db-a", Ns);
        Assert.Equal(created.Metadata.Uid, replaced.Metadata.Uid);
        Assert.StartsWith("10.96.", replaced.Spec.ClusterIP);
        Assert.Equal("5432", replaced.Spec.Ports[0].TargetPort.Value);
    }

    [Fact]
    public async Task Requests_are_recorded_as_the_authorizer_sees_them()
    {
        await Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("cm"), Ns);
        Server.ClearRequests();
        await Client.CoreV1.ReadNamespacedConfigMapAsync("cm", Ns);
        await Client.CoreV1.ListNamespacedConfigMapAsync(Ns);
        await Client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch("{}", V1Patch.PatchType.MergePatch), "cm", Ns);
        await Client.CoreV1.DeleteNamespacedConfigMapAsync("cm", Ns);
        await Client.CoreV1.DeleteCollectionNamespacedConfigMapAsync(Ns);
        await Client.AppsV1.CreateNamespacedStatefulSetAsync(StatefulSets.Make("db", replicas: 0), Ns);
        await Client.AppsV1.PatchNamespacedStatefulSetStatusAsync(new V1Patch("{}", V1Patch.PatchType.MergePatch), "db", Ns);

        var requests = Server.Requests;
        Assert.Equal(["get", "list", "patch", "delete", "deletecollection", "create", "patch"], requests.Select(r => r.Verb));
        Assert.All(requests.Take(5), r => Assert.Equal(("", "v1", "configmaps", Ns), (r.Group, r.Version, r.Resource, r.Namespace)));
        Assert.Equal("cm", requests[0].Name);
        Assert.Equal("application/merge-patch+json", requests[2].PatchContentType);
        Assert.Equal(("apps", "statefulsets", "status", "db"), (requests[6].Group, requests[6].Resource, requests[6].Subresource, requests[6].Name));
    }
}
