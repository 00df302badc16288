using System.Text.Json.Nodes;
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
    public async Task The_charts_Role_allows_every_request_the_engine_and_the_reconciler_made_through_a_full_lifecycle()
    {
        var role = (await HelmChart.RenderAsync(new Dictionary<string, string>
        {
            ["traefik.enabled"] = "true", ["baseDomain"] = BaseDomain, ["tls.secretName"] = "devdb-wildcard-tls",
            ["loadBalancer.enabled"] = "true",
        })).OfType<V1Role>().Single();
        await using var rig = await StartAsync(configure: options => options with
        {
            LoadBalancer = new LoadBalancerOptions { Enabled = true, Host = "pg.example.test", PortRangeStart = 31000, PortRangeEnd = 31010 },
        });
        await rig.Client.CoreV1.CreateNamespacedServiceAsync(new V1Service
        {
            Metadata = new V1ObjectMeta { Name = "devdb-databases" },
            Spec = new V1ServiceSpec { Type = "LoadBalancer", Ports = [new V1ServicePort { Name = "api", Port = 80, TargetPort = "http" }] },
        }, Namespace);
        var setUp = rig.Server.Requests.Count;

        await rig.Engine.NewProjectAsync(ProjectLifecycleTests.Shop());
        await rig.Engine.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "dave", Owner = "dave" });
        await rig.Engine.GetConnectionAsync("dave");
        await rig.Engine.StopDatabaseAsync("dave");
        await rig.Engine.StartDatabaseAsync("dave");
        await rig.Engine.UpdateProjectAsync(new UpdateProjectRequest { Name = "shop" });
        await rig.Engine.ResetDatabaseAsync("dave");
        await rig.Client.CoreV1.DeleteNamespacedSecretAsync("devdb-db-dave", Namespace); // drift: the reconciler repairs it
        await UntilAsync(() => rig.Find<V1Secret>("devdb-db-dave") is not null, "the Secret is made again");
        await rig.Engine.RemoveProjectAsync("shop", force: true);
        await UntilAsync(() => rig.Server.FindAll("v1", "persistentvolumeclaims", Namespace).Count == 0, "everything is removed");

        var made = rig.Server.Requests.Skip(setUp)
            .Where(r => !(r.Group == "" && r.Resource == "services" && r.Name == "devdb-databases" && r.Verb == "create"))
            .Select(r => (r.Group, Resource: r.Subresource is null ? r.Resource : $"{r.Resource}/{r.Subresource}", r.Verb))
            .Distinct().ToList();
        var refused = made.Where(r => !HelmChart.Allows(role, r.Group, r.Resource, r.Verb)).ToList();
        Assert.True(refused.Count == 0, "The Role does not allow: " + string.Join(", ", refused));
        // The lifecycle really exercised the runtime's kinds of request, so an empty list above means something.
        Assert.Contains(("batch", "jobs", "create"), made);
        Assert.Contains(("snapshot.storage.k8s.io", "volumesnapshots", "create"), made);
        Assert.Contains(("apps", "statefulsets", "patch"), made);
        Assert.Contains(("devdb.io", "devdbdatabases/status", "update"), made);
        Assert.Contains(("coordination.k8s.io", "leases", "update"), made);
        Assert.Contains(("traefik.io", "ingressroutetcps", "create"), made);
        Assert.Contains(("", "services", "patch"), made);
        Assert.Contains(("", "pods", "watch"), made);
    }

    [Fact]
    public async Task Every_field_DevDb_writes_into_its_records_is_declared_by_the_CRDs_so_no_API_server_prunes_it()
    {
        var crds = (await HelmChart.RenderAsync()).OfType<V1CustomResourceDefinition>().ToDictionary(c => c.Spec.Names.Kind);
        var project = new DevDbProject
        {
            Metadata = new V1ObjectMeta { Name = "shop" },
            Spec = new ProjectSpec { PostgresVersion = 16, Source = "s3://b/k", PostRestoreSql = "SELECT 1", Refresh = 1 },
            Status = new ProjectState
            {
                Phase = "Ready", ObservedRefresh = 1, LastRevision = 2, Error = "e", ErrorCode = "c",
                Images = [new ImageState { Revision = 2, Refresh = 1, Status = "Ready", Snapshot = "s", Created = DateTimeOffset.UtcNow, SourceFormat = "Custom", SourceBytes = 1, SizeBytes = 2, BuildSeconds = 3, Error = "e" }],
            },
        };
        var database = new DevDbDatabase
        {
            Metadata = new V1ObjectMeta { Name = "dave" },
            Spec = new DatabaseSpecBlock { Project = "shop", Owner = "dave", Running = true, Reset = 1 },
            Status = new DatabaseState
            {
                Phase = "Running", ImageRevision = 2, Host = "h", Port = 5432, SniHost = "s", LoadBalancerPort = 31000, DatabaseName = "app",
                Username = "dave", SecretName = "x", Volume = "v", ObservedReset = 1, Error = "e", ErrorCode = "c",
            },
        };

        var undeclared = Undeclared(KubernetesJson.Serialize(project), crds["DevDbProject"])
            .Concat(Undeclared(KubernetesJson.Serialize(database), crds["DevDbDatabase"])).ToList();

        Assert.True(undeclared.Count == 0, "Not in the CRD schema: " + string.Join(", ", undeclared));
    }

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
