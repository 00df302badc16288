using Xunit;

namespace DevDb.Kubernetes.Tests.Chart;

/// <summary>
/// No image can be pulled or built on the test machines, so the API's Dockerfile is checked for its shape: stages,
/// non-root runtime, entry point, and that everything it copies exists in the repository.
/// </summary>
public sealed class DockerfileTests
{
    private static readonly string DockerfilePath = Path.Combine(RepoPaths.RepoRoot, "src", "DevDb.Api", "Dockerfile");

    /// <summary>Instructions (comments and blank lines dropped), as (KEYWORD, arguments).</summary>
    private static List<(string Keyword, string Arguments)> Instructions() =>
        File.ReadAllLines(DockerfilePath)
            .Select(l => l.Trim())
            .Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Select(l => l.Split(' ', 2))
            .Select(p => (p[0].ToUpperInvariant(), p.Length > 1 ? p[1].Trim() : ""))
            .ToList();

    private static List<(string Keyword, string Arguments)> FinalStage()
    {
        var instructions = Instructions();
        return instructions.Skip(instructions.FindLastIndex(i => i.Keyword == "FROM")).ToList();
    }

    [Fact]
    public void It_builds_with_the_sdk_and_runs_on_the_chiseled_aspnet_runtime()
    {
        var stages = Instructions().Where(i => i.Keyword == "FROM").Select(i => i.Arguments).ToList();

        Assert.Equal(["mcr.microsoft.com/dotnet/sdk:10.0 AS build", "mcr.microsoft.com/dotnet/aspnet:10.0-noble-chiseled AS runtime"], stages);
        Assert.Contains(Instructions(), i => i.Keyword == "RUN" && i.Arguments.StartsWith("dotnet publish src/DevDb.Api/DevDb.Api.csproj -c Release", StringComparison.Ordinal));
    }

    [Fact]
    public void The_runtime_stage_runs_the_api_as_the_non_root_user_the_chart_expects_on_8080()
    {
        var final = FinalStage();

        Assert.Equal(("USER", "1654"), final.Single(i => i.Keyword == "USER"));
        Assert.Equal(("ENTRYPOINT", "[\"dotnet\", \"DevDb.Api.dll\"]"), final.Single(i => i.Keyword == "ENTRYPOINT"));
        Assert.Contains(("EXPOSE", "8080"), final);
        Assert.Contains(("ENV", "ASPNETCORE_HTTP_PORTS=8080"), final);
        Assert.DoesNotContain(final, i => i.Keyword == "RUN");
        Assert.Contains(File.ReadAllLines(Path.Combine(HelmChart.ChartPath, "values.yaml")), l => l.Trim() == "runAsUser: 1654");
    }

    [Fact]
    public void Everything_it_copies_from_the_build_context_exists_and_is_not_docker_ignored()
    {
        var sources = Instructions()
            .Where(i => i.Keyword == "COPY" && !i.Arguments.StartsWith("--from", StringComparison.Ordinal))
            .SelectMany(i => i.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries)[..^1])
            .ToList();
        var ignored = File.ReadAllLines(Path.Combine(RepoPaths.RepoRoot, ".dockerignore"))
            .Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();

        Assert.Contains("src/DevDb.Api/", sources);
        Assert.All(sources, source =>
        {
            var path = Path.Combine(RepoPaths.RepoRoot, source);
            Assert.True(File.Exists(path) || Directory.Exists(path), $"The Dockerfile copies '{source}', which is not in the repository.");
            Assert.DoesNotContain(ignored, pattern => source.StartsWith(pattern.TrimStart('/'), StringComparison.Ordinal));
        });
    }
}
