using Xunit;

namespace DevDb.Kubernetes.Tests.Chart;

/// <summary>The fixture others reuse must refuse what it cannot check, rather than let it through.</summary>
public sealed class HelmChartFixtureTests
{
    [Fact]
    public void Load_fails_on_a_kind_without_a_model()
    {
        const string yaml = "apiVersion: traefik.io/v1alpha1\nkind: IngressRouteTCP\nmetadata:\n  name: devdb-db-dave\n";

        Assert.Throws<InvalidOperationException>(() => HelmChart.Load(yaml));
    }

    [Fact]
    public void Load_fails_on_a_misspelt_field()
    {
        const string yaml = "apiVersion: v1\nkind: Service\nmetadata:\n  name: devdb\nspec:\n  selectr:\n    app: devdb\n";

        var error = Assert.Throws<InvalidOperationException>(() => HelmChart.Load(yaml));
        Assert.Contains("selectr", error.Message);
    }
}
