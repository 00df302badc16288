using System.Net;
using System.Net.Http.Json;
using DevDb.Api.Tests.Fixtures;
using DevDb.Core;
using DevDb.Core.Client;
using DevDb.Core.Model;
using Npgsql;
using Xunit;

namespace DevDb.Api.Tests;

/// <summary>Long work answers 202 with a Location; creates are idempotent; conflicts are 409; concurrency is safe.</summary>
[Collection(ShopCollection.Name)]
public sealed class CreateTests(ShopServerFixture fixture)
{
    private readonly ApiServer _server = fixture.Server;
    private const string Shop = ShopServerFixture.Project;

    [Fact]
    public async Task A_database_create_is_202_Creating_with_a_Location_then_Running_and_usable()
    {
        using var response = await _server.SendAsync(HttpMethod.Post, ApiContract.Databases, _server.OwnerToken, new NewDatabaseRequest { Project = Shop, Name = "accepted" });
        try
        {
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            Assert.Equal("/" + ApiContract.Database("accepted"), response.Headers.Location?.OriginalString);
            var created = (await response.Content.ReadFromJsonAsync<Database>(ApiContract.Json))!;
            Assert.Equal(DatabaseStatus.Creating, created.Status);
            Assert.Equal(ApiServer.OwnerUser, created.Owner);

            var running = await _server.WaitDatabaseRunningAsync("accepted", _server.OwnerToken);
            using var connectionResponse = await _server.SendAsync(HttpMethod.Get, ApiContract.Connection("accepted"), _server.OwnerToken);
            Assert.Equal("no-store", connectionResponse.Headers.CacheControl?.ToString());
            var connection = (await connectionResponse.Content.ReadFromJsonAsync<ConnectionInfo>(ApiContract.Json))!;
            Assert.Equal(running.Port, connection.Port);
            await using var data = new NpgsqlConnection(ConnectionStrings.Format(connection, ConnectionStringFormat.Npgsql));
            await data.OpenAsync();
            await using var count = new NpgsqlCommand("SELECT count(*) FROM orders", data);
            Assert.True((long)(await count.ExecuteScalarAsync())! > 0);

            // The same create again is no error: the existing database, 200 now that it runs.
            var again = await _server.SendAsync<Database>(HttpMethod.Post, ApiContract.Databases, _server.OwnerToken,
                new NewDatabaseRequest { Project = Shop, Name = "accepted" }, HttpStatusCode.OK);
            Assert.Equal(running.Port, again.Port);
            Assert.Equal(DatabaseStatus.Running, again.Status);

            // The same name for another owner (an admin creating it for erin) conflicts.
            using var conflict = await _server.SendAsync(HttpMethod.Post, ApiContract.Databases, _server.AdminToken,
                new NewDatabaseRequest { Project = Shop, Name = "accepted", Owner = ApiServer.OtherUser });
            Assert.Equal(HttpStatusCode.Conflict, conflict.StatusCode);
            Assert.Equal(ErrorCodes.DatabaseExists, (await conflict.Content.ReadFromJsonAsync<ApiProblem>(ApiContract.Json))!.Code);
        }
        finally
        {
            await _server.SendAsync(HttpMethod.Delete, ApiContract.Database("accepted"), _server.AdminToken);
        }
    }

    [Fact]
    public async Task An_admin_creates_for_someone_else_or_by_default_for_themselves()
    {
        try
        {
            using (var forErin = await _server.SendAsync(HttpMethod.Post, ApiContract.Databases, _server.AdminToken,
                       new NewDatabaseRequest { Project = Shop, Name = "admin-for-erin", Owner = ApiServer.OtherUser }))
                Assert.Equal(HttpStatusCode.Accepted, forErin.StatusCode);
            using (var own = await _server.SendAsync(HttpMethod.Post, ApiContract.Databases, _server.AdminToken, new NewDatabaseRequest { Project = Shop, Name = "admin-own" }))
                Assert.Equal(HttpStatusCode.Accepted, own.StatusCode);
            Assert.Equal(ApiServer.OtherUser, (await _server.WaitDatabaseRunningAsync("admin-for-erin", _server.OtherToken)).Owner);
            Assert.Equal(ApiServer.AdminUser, (await _server.WaitDatabaseRunningAsync("admin-own")).Owner);
        }
        finally
        {
            await _server.SendAsync(HttpMethod.Delete, ApiContract.Database("admin-for-erin"), _server.OtherToken);
            await _server.SendAsync(HttpMethod.Delete, ApiContract.Database("admin-own"), _server.AdminToken);
        }
    }

    [Fact]
    public async Task Project_creates_are_idempotent_conflicts_are_409_and_new_ones_and_refreshes_are_202()
    {
        var same = await _server.SendAsync<Project>(HttpMethod.Post, ApiContract.Projects, _server.AdminToken,
            new NewProjectRequest { Name = Shop, Source = RepoPaths.SampleDump }, HttpStatusCode.OK);
        Assert.Equal(ProjectStatus.Ready, same.Status);

        using (var conflict = await _server.SendAsync(HttpMethod.Post, ApiContract.Projects, _server.AdminToken,
                   new NewProjectRequest { Name = Shop, Source = RepoPaths.SampleSql }))
        {
            Assert.Equal(HttpStatusCode.Conflict, conflict.StatusCode);
            Assert.Equal(ErrorCodes.ProjectExists, (await conflict.Content.ReadFromJsonAsync<ApiProblem>(ApiContract.Json))!.Code);
        }

        using (var created = await _server.SendAsync(HttpMethod.Post, ApiContract.Projects, _server.AdminToken,
                   new NewProjectRequest { Name = "second", Source = RepoPaths.SampleSql }))
        {
            Assert.Equal(HttpStatusCode.Accepted, created.StatusCode);
            Assert.Equal("/" + ApiContract.Project("second"), created.Headers.Location?.OriginalString);
            Assert.Equal(ProjectStatus.Building, (await created.Content.ReadFromJsonAsync<Project>(ApiContract.Json))!.Status);
        }
        try
        {
            await _server.WaitProjectReadyAsync("second");
            // An empty body refreshes from the same source: 202, the next revision Building.
            using (var refresh = await _server.SendAsync(HttpMethod.Post, ApiContract.ProjectRefresh("second"), _server.AdminToken))
            {
                Assert.Equal(HttpStatusCode.Accepted, refresh.StatusCode);
                Assert.Equal("/" + ApiContract.Project("second"), refresh.Headers.Location?.OriginalString);
                var refreshing = (await refresh.Content.ReadFromJsonAsync<Project>(ApiContract.Json))!;
                Assert.Contains(refreshing.Images, i => i.Revision == 2 && i.Status == ImageStatus.Building);
            }
            var refreshed = await _server.WaitProjectReadyAsync("second");
            Assert.Equal(2, refreshed.LatestImage?.Revision);
            // A body with the route's name is accepted too (the client sends UpdateProjectRequest).
            using (var named = await _server.SendAsync(HttpMethod.Post, ApiContract.ProjectRefresh("second"), _server.AdminToken, new UpdateProjectRequest { Name = "second" }))
                Assert.Equal(HttpStatusCode.Accepted, named.StatusCode);
            await _server.WaitProjectReadyAsync("second");
        }
        finally
        {
            using var removed = await _server.SendAsync(HttpMethod.Delete, $"{ApiContract.Project("second")}?force=true", _server.AdminToken);
            Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);
        }
        using var gone = await _server.SendAsync(HttpMethod.Get, ApiContract.Project("second"), _server.AdminToken);
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task Twenty_concurrent_creates_of_distinct_databases_all_succeed_and_all_run()
    {
        var names = Enumerable.Range(1, 20).Select(i => $"many-{i:00}").ToList();
        try
        {
            var responses = await Task.WhenAll(names.Select(name =>
                _server.SendAsync(HttpMethod.Post, ApiContract.Databases, _server.OwnerToken, new NewDatabaseRequest { Project = Shop, Name = name })));
            Assert.All(responses, r => Assert.Equal(HttpStatusCode.Accepted, r.StatusCode));
            var running = await Task.WhenAll(names.Select(name => _server.WaitDatabaseRunningAsync(name, _server.OwnerToken)));
            Assert.Equal(20, running.Select(d => d.Port).Distinct().Count());
            var listed = await _server.SendAsync<List<Database>>(HttpMethod.Get, $"{ApiContract.Databases}?project={Shop}", _server.OwnerToken);
            Assert.Equal(names, listed.Select(d => d.Name).Where(n => n.StartsWith("many-")).Order());
        }
        finally
        {
            await Task.WhenAll(names.Select(name => _server.SendAsync(HttpMethod.Delete, ApiContract.Database(name), _server.OwnerToken)));
        }
    }

    [Fact]
    public async Task Twenty_concurrent_creates_of_one_name_yield_exactly_one_database()
    {
        const string name = "contended";
        try
        {
            // The same request twenty times: each one gets that one database.
            var identical = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ =>
                _server.SendAsync(HttpMethod.Post, ApiContract.Databases, _server.OwnerToken, new NewDatabaseRequest { Project = Shop, Name = name })));
            Assert.All(identical, r => Assert.True(r.StatusCode is HttpStatusCode.Accepted or HttpStatusCode.OK, r.StatusCode.ToString()));
            var ports = await Task.WhenAll(identical.Select(async r => (await r.Content.ReadFromJsonAsync<Database>(ApiContract.Json))!.Port));
            Assert.Single(ports.Distinct());

            // Twenty owners racing for the name (an admin creating for each): one wins, the rest conflict.
            var owners = Enumerable.Range(1, 20).Select(i => $"racer{i}").ToList();
            var racing = await Task.WhenAll(owners.Select(owner =>
                _server.SendAsync(HttpMethod.Post, ApiContract.Databases, _server.AdminToken, new NewDatabaseRequest { Project = Shop, Name = name + "-2", Owner = owner })));
            Assert.Single(racing, r => r.StatusCode == HttpStatusCode.Accepted);
            Assert.Equal(19, racing.Count(r => r.StatusCode == HttpStatusCode.Conflict));

            await _server.WaitDatabaseRunningAsync(name);
            await _server.WaitDatabaseRunningAsync(name + "-2");
            var all = await _server.SendAsync<List<Database>>(HttpMethod.Get, ApiContract.Databases, _server.AdminToken);
            Assert.Single(all, d => d.Name == name);
            Assert.Single(all, d => d.Name == name + "-2");
        }
        finally
        {
            await _server.SendAsync(HttpMethod.Delete, ApiContract.Database(name), _server.AdminToken);
            await _server.SendAsync(HttpMethod.Delete, ApiContract.Database(name + "-2"), _server.AdminToken);
        }
    }
}
