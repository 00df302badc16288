using k8s;
using k8s.Models;
using Xunit;

namespace DevDb.Kubernetes.Tests.Chart;

/// <summary>The chart's two CRDs, as the runtime and kubectl rely on them.</summary>
public sealed class ChartCrdTests
{
    private static async Task<V1CustomResourceDefinition> CrdAsync(string name) =>
        (await HelmChart.RenderAsync()).Named<V1CustomResourceDefinition>(name);

    private static void AssertCrdBasics(V1CustomResourceDefinition crd, string kind, string plural, string shortName)
    {
        Assert.Equal("devdb.io", crd.Spec.Group);
        Assert.Equal("Namespaced", crd.Spec.Scope);
        Assert.Equal((kind, plural, kind.ToLowerInvariant(), kind + "List"),
            (crd.Spec.Names.Kind, crd.Spec.Names.Plural, crd.Spec.Names.Singular, crd.Spec.Names.ListKind));
        Assert.Equal([shortName], crd.Spec.Names.ShortNames);
        Assert.Equal(["devdb"], crd.Spec.Names.Categories);
        var version = Assert.Single(crd.Spec.Versions);
        Assert.Equal(("v1alpha1", true, true), (version.Name, version.Served, version.Storage));
        Assert.NotNull(version.Subresources.Status);
        Assert.Null(version.Subresources.Scale);
        var root = version.Schema.OpenAPIV3Schema;
        Assert.Equal("object", root.Type);
        Assert.Equal(["spec"], root.Required);
        // Structural: every property has a type, all the way down.
        AssertTyped(root, "");
    }

    private static void AssertTyped(V1JSONSchemaProps schema, string path)
    {
        Assert.False(string.IsNullOrEmpty(schema.Type), $"{path} has no type");
        foreach (var (name, property) in schema.Properties ?? new Dictionary<string, V1JSONSchemaProps>())
            AssertTyped(property, $"{path}.{name}");
        if (schema.Items is not null) AssertTyped(ItemsOf(schema), $"{path}[]");
    }

    private static IEnumerable<(string, string, int)> Columns(V1CustomResourceDefinition crd) =>
        crd.Spec.Versions.Single().AdditionalPrinterColumns.Select(c => (c.Name, c.JsonPath, c.Priority ?? 0));

    private static V1JSONSchemaProps Property(V1CustomResourceDefinition crd, string path) =>
        path.Split('.').Aggregate(crd.Spec.Versions.Single().Schema.OpenAPIV3Schema, (schema, name) =>
            name == "[]" ? ItemsOf(schema) : schema.Properties[name]);

    /// <summary>The model leaves <c>items</c> untyped (it may be a list too); read it as one schema.</summary>
    private static V1JSONSchemaProps ItemsOf(V1JSONSchemaProps schema) =>
        KubernetesYaml.Deserialize<V1JSONSchemaProps>(KubernetesYaml.Serialize(schema.Items), strict: true);

    [Fact]
    public async Task DevDbProject_has_the_agreed_schema_status_subresource_and_columns()
    {
        var crd = await CrdAsync("devdbprojects.devdb.io");

        AssertCrdBasics(crd, "DevDbProject", "devdbprojects", "ddp");
        Assert.Equal(["postgresVersion", "source"], Property(crd, "spec").Required);
        var version = Property(crd, "spec.postgresVersion");
        Assert.Equal(("integer", 10d, 99d), (version.Type, version.Minimum, version.Maximum));
        Assert.Equal("string", Property(crd, "spec.source").Type);
        Assert.Equal(("string", "app"), (Property(crd, "spec.databaseName").Type, Property(crd, "spec.databaseName").DefaultProperty?.ToString()));
        Assert.Equal("string", Property(crd, "spec.postRestoreSql").Type);
        var refresh = Property(crd, "spec.refresh");
        Assert.Equal(("integer", 0d, "0"), (refresh.Type, refresh.Minimum, refresh.DefaultProperty?.ToString()));
        Assert.Equal(["Building", "Ready", "Failed"], Property(crd, "status.phase").EnumProperty.Select(e => e.ToString()));
        Assert.Equal(["error", "errorCode", "history", "images", "lastRefresh", "lastRefreshError", "lastRefreshErrorCode", "lastRefreshOutcome", "lastRefreshRequest",
            "lastRevision", "nextRefresh", "observedRefresh", "observedSchedule", "phase"], Property(crd, "status").Properties.Keys.Order());
        Assert.Equal(["Running", "Succeeded", "Failed"], Property(crd, "status.lastRefreshOutcome").EnumProperty.Select(e => e.ToString()));
        Assert.Equal(("string", 100L), (Property(crd, "spec.refreshSchedule").Type, Property(crd, "spec.refreshSchedule").MaxLength));
        Assert.Equal(("string", 100L), (Property(crd, "spec.refreshTimeZone").Type, Property(crd, "spec.refreshTimeZone").MaxLength));
        AssertHistorySchema(crd);
        var image = Property(crd, "status.images.[]");
        Assert.Equal(
            ["buildSeconds:number", "created:string", "dump:string", "error:string", "refresh:integer", "revision:integer", "sizeBytes:integer", "snapshot:string",
             "sourceBytes:integer", "sourceFormat:string", "status:string"],
            image.Properties.Select(p => $"{p.Key}:{p.Value.Type}").Order());
        Assert.Equal("int64", image.Properties["sourceBytes"].Format);
        Assert.Equal("int64", image.Properties["sizeBytes"].Format);
        Assert.Equal("date-time", image.Properties["created"].Format);
        Assert.Equal(["Building", "Ready", "Failed"], image.Properties["status"].EnumProperty.Select(e => e.ToString()));
        Assert.Equal(
            [("Postgres", ".spec.postgresVersion", 0), ("Phase", ".status.phase", 0), ("Source", ".spec.source", 1), ("Next-Refresh", ".status.nextRefresh", 1), ("Age", ".metadata.creationTimestamp", 0)],
            Columns(crd));
    }

    [Fact]
    public async Task DevDbDatabase_has_the_agreed_schema_status_subresource_and_columns()
    {
        var crd = await CrdAsync("devdbdatabases.devdb.io");

        AssertCrdBasics(crd, "DevDbDatabase", "devdbdatabases", "ddb");
        Assert.Equal(["project", "owner"], Property(crd, "spec").Required);
        Assert.Equal("string", Property(crd, "spec.project").Type);
        Assert.Equal("string", Property(crd, "spec.owner").Type);
        var running = Property(crd, "spec.running");
        Assert.Equal(("boolean", "true"), (running.Type, running.DefaultProperty?.ToString()?.ToLowerInvariant()));
        var reset = Property(crd, "spec.reset");
        Assert.Equal(("integer", 0d, "0"), (reset.Type, reset.Minimum, reset.DefaultProperty?.ToString()));
        Assert.Equal(["Creating", "Running", "Stopped", "Crashed", "Failed"], Property(crd, "status.phase").EnumProperty.Select(e => e.ToString()));
        Assert.Equal(
            ["checkpoints:array", "databaseName:string", "error:string", "errorCode:string", "history:array", "host:string", "imageRevision:integer", "lastActiveAt:string",
             "loadBalancerPort:integer", "observedReset:integer", "originRevision:integer", "originSnapshot:string", "phase:string", "port:integer", "secretName:string",
             "sessions:integer", "sniHost:string", "username:string", "volume:string", "volumeSnapshot:string"],
            Property(crd, "status").Properties.Select(p => $"{p.Key}:{p.Value.Type}").Order());
        AssertHistorySchema(crd);
        // A checkpoint request: its name is a DNS label as DevDb checks it, so kubectl cannot write one DevDb would refuse.
        var checkpoint = Property(crd, "spec.checkpoints.[]");
        Assert.Equal(["name", "id"], checkpoint.Required);
        Assert.Equal((63L, "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"), (checkpoint.Properties["name"].MaxLength, checkpoint.Properties["name"].Pattern));
        Assert.Equal(["error:string", "id:string", "imageRevision:integer", "name:string", "ready:boolean", "snapshot:string"],
            Property(crd, "status.checkpoints.[]").Properties.Select(p => $"{p.Key}:{p.Value.Type}").Order());
        Assert.Equal(["parent:string", "parentCheckpoint:string", "resetToImage:boolean", "restoreCheckpoint:string"],
            Property(crd, "spec").Properties.Where(p => p.Key is "parent" or "parentCheckpoint" or "restoreCheckpoint" or "resetToImage").Select(p => $"{p.Key}:{p.Value.Type}").Order());
        Assert.Equal(
            [("Project", ".spec.project", 0), ("Owner", ".spec.owner", 0), ("Phase", ".status.phase", 0), ("Host", ".status.host", 0),
             ("Port", ".status.port", 0), ("Parent", ".spec.parent", 1), ("Expires", ".spec.expiresAt", 0), ("Age", ".metadata.creationTimestamp", 0)],
            Columns(crd));
    }

    /// <summary>status.history: at most 100 entries (HistoryRules.MaxEntries: own changes and databases' removals), each with the fields HistoryItem writes.</summary>
    private static void AssertHistorySchema(k8s.Models.V1CustomResourceDefinition crd)
    {
        var history = Property(crd, "status.history");
        Assert.Equal(("array", (long?)DevDb.Core.Rules.HistoryRules.MaxEntries), (history.Type, history.MaxItems));
        var entry = Property(crd, "status.history.[]");
        Assert.Equal(["action", "at", "database", "detail", "errorCode", "outcome", "owner", "requestId", "user"], entry.Properties.Keys.Order());
        Assert.Equal(["at", "action", "user", "outcome"], entry.Required);
        Assert.Equal("date-time", entry.Properties["at"].Format);
        Assert.Equal(["Succeeded", "Failed"], entry.Properties["outcome"].EnumProperty.Select(e => e.ToString()));
        var written = typeof(DevDb.Core.Runtimes.Kubernetes.HistoryItem).GetProperties()
            .Select(p => p.GetCustomAttributes(typeof(System.Text.Json.Serialization.JsonPropertyNameAttribute), false)
                .OfType<System.Text.Json.Serialization.JsonPropertyNameAttribute>().Single().Name).Order();
        Assert.Equal(entry.Properties.Keys.Order(), written);
    }

    [Fact]
    public async Task Crds_are_installed_only_when_asked_for_as_helm_does_with_the_crds_folder()
    {
        // Helm installs crds/ on first install and never templates or upgrades them: --include-crds shows them.
        var result = await HelmChart.RunAsync("template", "devdb", HelmChart.ChartPath, "-n", "devdb");

        Assert.Equal(0, result.ExitCode);
        Assert.DoesNotContain(HelmChart.Load(result.StdOut), o => o is V1CustomResourceDefinition);
    }
}
