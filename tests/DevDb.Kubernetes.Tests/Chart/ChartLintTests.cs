using Xunit;
namespace DevDb.Kubernetes.Tests.Chart;

/// <summary>helm lint and the values schema: valid values pass with no warning, invalid ones are refused with the schema's reason.</summary>
public sealed class ChartLintTests
{
    [Fact]
    public async Task Lint_passes_without_warnings_with_the_default_values()
    {
        var result = await HelmChart.LintAsync();

        AssertLintPassed(result);
    }

    [Fact]
    public async Task Lint_passes_without_warnings_with_every_option_switched_on()
    {
        // Traefik + cert-manager + load balancer + S3 + an existing tokens Secret + 2 replicas.
        var result = await HelmChart.LintAsync(valuesYaml: File.ReadAllText(HelmChart.FullValuesPath));

        AssertLintPassed(result);
    }

    public static TheoryData<string, string, string> InvalidValues => new()
    {
        { "baseDomain", "Bad_Domain.example.com", "at '/baseDomain'" },
        { "baseDomain", "db.example.com.", "does not match pattern" },
        { "loadBalancer.portRangeEnd", "70000", "at '/loadBalancer/portRangeEnd': maximum: got 70,000, want 65,535" },
        { "loadBalancer.portRangeStart", "0", "at '/loadBalancer/portRangeStart': minimum: got 0, want 1" },
        { "service.port", "65536", "at '/service/port'" },
        { "replicas", "2", "additional properties 'replicas' not allowed" },
        { "traefik.entrypoint", "web", "at '/traefik': additional properties 'entrypoint' not allowed" },
        { "image.pullPolicy", "Sometimes", "at '/image/pullPolicy'" },
        { "postgres.defaultVersion", "9", "at '/postgres/defaultVersion': minimum: got 9, want 10" },
        { "auth.adminUser", "no spaces", "at '/auth/adminUser'" },
        { "loadBalancer.sourceRanges[0]", "everyone", "at '/loadBalancer/sourceRanges/0'" },
    };

    [Theory]
    [MemberData(nameof(InvalidValues))]
    public async Task Template_and_lint_refuse_values_the_schema_forbids(string key, string value, string expectedMessage)
    {
        var set = new Dictionary<string, string> { [key] = value };

        var template = await HelmChart.TemplateAsync(set);
        var lint = await HelmChart.LintAsync(set);

        Assert.NotEqual(0, template.ExitCode);
        Assert.Contains("values don't meet the specifications of the schema", template.StdErr);
        Assert.Contains(expectedMessage, template.StdErr);
        Assert.Equal("", template.StdOut.Trim());
        Assert.NotEqual(0, lint.ExitCode);
        Assert.Contains(expectedMessage, lint.Output);
    }

    public static TheoryData<string, string> InconsistentValues => new()
    {
        { "traefik.enabled=true", "traefik.enabled needs baseDomain" },
        { "traefik.enabled=true,baseDomain=db.example.com", "traefik.enabled needs a TLS certificate" },
        { "tls.certManager.enabled=true,baseDomain=db.example.com", "tls.certManager.enabled needs tls.certManager.issuerRef.name" },
        { "tls.certManager.enabled=true,tls.certManager.issuerRef.name=le", "tls.certManager.enabled needs baseDomain" },
        { "loadBalancer.portRangeStart=20000,loadBalancer.portRangeEnd=19999", "loadBalancer.portRangeStart must not be greater than loadBalancer.portRangeEnd" },
    };

    [Theory]
    [MemberData(nameof(InconsistentValues))]
    public async Task Template_refuses_combinations_that_cannot_work(string settings, string expectedMessage)
    {
        var set = settings.Split(',').Select(s => s.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);

        var result = await HelmChart.TemplateAsync(set);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains(expectedMessage, result.StdErr);
    }

    private static void AssertLintPassed(HelmResult result)
    {
        Assert.True(result.ExitCode == 0, $"helm lint failed:\n{result.Output}");
        Assert.Contains("1 chart(s) linted, 0 chart(s) failed", result.Output);
        Assert.DoesNotContain("[WARNING]", result.Output);
        Assert.DoesNotContain("[ERROR]", result.Output);
    }
}
