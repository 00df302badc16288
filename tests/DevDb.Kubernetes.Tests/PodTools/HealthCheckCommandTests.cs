using System.Net;
using DevDb.Api.PodTools;
using Xunit;

namespace DevDb.Kubernetes.Tests.PodTools;

/// <summary><c>DevDb.Api healthcheck URL</c>, the chart's helm test hook, against a real HTTP server on 127.0.0.1.</summary>
public sealed class HealthCheckCommandTests : IAsyncLifetime
{
    private readonly TempFolder _folder = new("devdb-k8s-health");
    private HttpFileServer _server = null!;

    public Task InitializeAsync()
    {
        File.WriteAllText(_folder.Combine("healthz"), "Healthy");
        _server = new HttpFileServer(_folder.Path);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task A_2xx_answer_exits_0()
    {
        var (exitCode, output, _) = await RunAsync(_server.UrlFor("healthz"));

        Assert.Equal(0, exitCode);
        Assert.Contains("200", output);
    }

    [Fact]
    public async Task An_error_status_exits_1_and_prints_it()
    {
        _server.RespondWith("readyz", HttpStatusCode.ServiceUnavailable);

        var (exitCode, _, error) = await RunAsync(_server.UrlFor("readyz"));

        Assert.Equal(1, exitCode);
        Assert.Contains("503", error);
    }

    [Fact]
    public async Task A_server_that_is_not_there_exits_1_and_says_why()
    {
        var (exitCode, _, error) = await RunAsync($"http://127.0.0.1:{FreePort.Next()}/healthz");

        Assert.Equal(1, exitCode);
        Assert.Contains("could not be reached", error);
    }

    [Fact]
    public async Task Anything_but_one_http_url_is_a_usage_error()
    {
        Assert.Equal(2, (await RunAsync("not a url")).ExitCode);
        Assert.Equal(2, (await RunAsync()).ExitCode);
    }

    private static async Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exitCode = await HealthCheckCommand.RunAsync(args, output, error);
        return (exitCode, output.ToString(), error.ToString());
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _folder.Dispose();
    }
}
