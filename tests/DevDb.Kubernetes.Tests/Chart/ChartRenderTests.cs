using k8s;
using k8s.Models;
using Xunit;

namespace DevDb.Kubernetes.Tests.Chart;

public sealed class ChartRenderTests
{
    [Fact]
    public async Task Default_values_render_these_objects_each_into_its_typed_model()
    {
        var objects = await HelmChart.RenderAsync();

        var rendered = objects.Select(o => $"{o.Kind}/{((IMetadata<V1ObjectMeta>)o).Metadata.Name}").Order().ToList();
        Assert.Equal(
        [
            "ConfigMap/devdb-config",
            "CustomResourceDefinition/devdbdatabases.devdb.io",
            "CustomResourceDefinition/devdbprojects.devdb.io",
            "Deployment/devdb",
            "NetworkPolicy/devdb-api",
            "NetworkPolicy/devdb-databases",
            "Pod/devdb-test-healthz",
            "Role/devdb",
            "RoleBinding/devdb",
            "Secret/devdb-admin-token",
            "Secret/devdb-tokens",
            "Service/devdb",
            "ServiceAccount/devdb",
            "ServiceAccount/devdb-restore",
        ], rendered);
    }
}
