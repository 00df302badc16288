using System.Net;
using System.Text.Json;
using DevDb.Api.Tests.Fixtures;
using DevDb.Core;
using DevDb.Core.Client;
using DevDb.Core.Model;
using Xunit;

namespace DevDb.Api.Tests;

[Collection(ShopCollection.Name)]
public sealed class MetricsTests(ShopServerFixture fixture)
{
    private readonly ApiServer _server = fixture.Server;

    [Fact]
    public async Task Metrics_count_requests_by_route_and_show_databases_by_state_and_images_by_status()
    {
        await _server.NewRunningDatabaseAsync(ShopServerFixture.Project, "metered", _server.OwnerToken);
        try
        {
            await _server.SendAsync<Database>(HttpMethod.Post, ApiContract.DatabaseAction("metered", "stop"), _server.OwnerToken);
            // The stop is accepted (202) and goes on in the background: scraping before it ends would count it Stopping.
            Assert.Equal(DatabaseStatus.Stopped, (await _server.WaitDatabaseRunningOrStoppedAsync("metered", _server.OwnerToken)).Status);
            for (var i = 0; i < 3; i++) (await _server.SendAsync(HttpMethod.Get, ApiContract.Database("ghost"), _server.OwnerToken)).Dispose();

            using var response = await _server.SendAsync(HttpMethod.Get, "/metrics", token: null);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var text = await response.Content.ReadAsStringAsync();
            var lines = text.Split('\n');
            var all = await _server.SendAsync<List<Database>>(HttpMethod.Get, ApiContract.Databases, _server.AdminToken);

            Assert.Contains($"devdb_databases{{state=\"Stopped\"}} {all.Count(d => d.Status == DatabaseStatus.Stopped)}", lines);
            Assert.Contains($"devdb_databases{{state=\"Running\"}} {all.Count(d => d.Status == DatabaseStatus.Running)}", lines);
            Assert.Contains(lines, l => l.StartsWith("devdb_images{status=\"Ready\"} ") && int.Parse(l.Split(' ')[1]) >= 1);
            Assert.Contains(lines, l => l.StartsWith("devdb_projects{status=\"Ready\"} ") && int.Parse(l.Split(' ')[1]) >= 1);
            // Request counts and durations per route template (never a database name).
            var notFound = lines.Single(l => l.StartsWith("http_requests_received_total{") && l.Contains("code=\"404\"") && l.Contains("method=\"GET\"") && l.Contains("endpoint=\"api/v1/databases/{name}\""));
            Assert.True(int.Parse(notFound.Split(' ')[1]) >= 3, notFound);
            Assert.Contains(lines, l => l.StartsWith("http_request_duration_seconds_count{") && l.Contains("endpoint=\"api/v1/databases/{name}/stop\""));
            // Refusals by DevDb code (a fixed set of labels), owners as a count, and what the passes did.
            Assert.Contains(lines, l => l.StartsWith("devdb_errors_total{code=\"DatabaseNotFound\"} ") && int.Parse(l.Split(' ')[1]) >= 3);
            Assert.Contains($"devdb_database_owners {all.Select(d => d.Owner).Distinct().Count()}", lines);
            Assert.Contains(lines, l => l.StartsWith("devdb_databases_expired_total "));
            Assert.Contains(lines, l => l.StartsWith("devdb_databases_idle_stopped_total "));
            Assert.DoesNotContain("metered", text);
            Assert.DoesNotContain("ghost", text);
        }
        finally
        {
            await _server.SendAsync(HttpMethod.Delete, ApiContract.Database("metered"), _server.OwnerToken);
        }
    }
}

/// <summary>A server of its own (no project), whose catalog this test breaks on purpose.</summary>
public sealed class ReadinessTests : IAsyncLifetime
{
    private ApiServer _server = null!;

    public async Task InitializeAsync() => _server = await ApiServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task A_damaged_record_is_moved_aside_and_readyz_names_it_while_everything_else_works()
    {
        using (var ready = await _server.SendAsync(HttpMethod.Get, "/readyz", token: null))
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);

        // A record that is no JSON: what an interrupted write of an older DevDb, or a hand edit, leaves behind.
        var broken = Path.Combine(_server.Home.Path, "catalog", "projects", "broken.json");
        await File.WriteAllTextAsync(broken, "{ not json");

        using (var listed = await _server.SendAsync(HttpMethod.Get, ApiContract.Projects, _server.AdminToken))
            Assert.Equal(HttpStatusCode.OK, listed.StatusCode);
        using var stillReady = await _server.SendAsync(HttpMethod.Get, "/readyz", token: null);
        Assert.Equal(HttpStatusCode.OK, stillReady.StatusCode);
        var health = JsonSerializer.Deserialize<Endpoints.HealthStatus>(await stillReady.Content.ReadAsStringAsync(), ApiContract.Json)!;
        Assert.Equal("ready", health.Status);
        Assert.StartsWith("projects-broken-", Assert.Single(health.Damaged!));
        Assert.Contains(_server.Logs.Lines, l => l.Contains("could not be read and were moved aside") && l.Contains("projects-broken-"));
        Assert.False(File.Exists(broken));
        using (var healthz = await _server.SendAsync(HttpMethod.Get, "/healthz", token: null))
            Assert.Equal(HttpStatusCode.OK, healthz.StatusCode);
    }
}
