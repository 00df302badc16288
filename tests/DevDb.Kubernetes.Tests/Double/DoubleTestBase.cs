using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using KubeApiDouble;
using Xunit;

namespace DevDb.Kubernetes.Tests.Double;

/// <summary>Starts an API-server double on 127.0.0.1 per test and a KubernetesClient client for it.</summary>
public abstract class DoubleTestBase : IAsyncLifetime
{
    protected const string Ns = "devdb";

    protected KubeApiServer Server { get; private set; } = null!;
    protected IKubernetes Client { get; private set; } = null!;

    protected virtual KubeApiServerOptions Options() => new();

    public async Task InitializeAsync()
    {
        Server = await KubeApiServer.StartAsync(Options());
        Client = Server.CreateClient();
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await Server.DisposeAsync();
    }

    /// <summary>The Status object the double answered a failing call with.</summary>
    protected static async Task<JsonObject> FailureOf(Func<Task> call)
    {
        var error = await Assert.ThrowsAsync<HttpOperationException>(call);
        var status = JsonNode.Parse(error.Response.Content)!.AsObject();
        Assert.Equal("Status", status["kind"]!.GetValue<string>());
        Assert.Equal("Failure", status["status"]!.GetValue<string>());
        Assert.Equal((int)error.Response.StatusCode, status["code"]!.GetValue<int>());
        return status;
    }

    protected static async Task<T> Eventually<T>(Func<Task<T>> probe, Func<T, bool> done, string what, int seconds = 10)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        T last = default!;
        while (DateTime.UtcNow < deadline)
        {
            last = await probe();
            if (last is not null && done(last)) return last;
            await Task.Delay(20);
        }
        throw new Xunit.Sdk.XunitException($"Timed out waiting for {what}; last seen: {last}");
    }
}
