using DevDb.Api.Tests.Fixtures;
using DevDb.Core;
using DevDb.Core.Client;
using DevDb.Core.Model;
using Npgsql;
using Xunit;

namespace DevDb.Api.Tests;

/// <summary>Core's HttpDevDbClient (what the cmdlets use against a server) driving this API: same results, same error codes.</summary>
[Collection(ShopCollection.Name)]
public sealed class HttpClientCompatibilityTests(ShopServerFixture fixture)
{
    private readonly ApiServer _server = fixture.Server;

    private HttpDevDbClient ClientOf(string token) => new(_server.Address, token);

    [Fact]
    public async Task A_developer_drives_a_database_through_its_whole_life_with_the_client()
    {
        using var dave = ClientOf(_server.OwnerToken);
        using var erin = ClientOf(_server.OtherToken);
        Assert.Equal(new ApiIdentity(ApiServer.OwnerUser, ApiRoles.Developer), await dave.WhoAmIAsync());

        var database = await dave.NewDatabaseAsync(new NewDatabaseRequest { Project = ShopServerFixture.Project, Name = "via-client" });
        try
        {
            Assert.Equal(DatabaseStatus.Running, database.Status);
            Assert.Equal(ApiServer.OwnerUser, database.Owner);
            var connection = await dave.GetConnectionAsync("via-client");
            await using (var data = new NpgsqlConnection(ConnectionStrings.Format(connection, ConnectionStringFormat.Npgsql)))
            {
                await data.OpenAsync();
                await using var query = new NpgsqlCommand("SELECT count(*) FROM orders", data);
                Assert.True((long)(await query.ExecuteScalarAsync())! > 0);
            }
            Assert.Contains(await dave.GetDatabasesAsync(project: ShopServerFixture.Project), d => d.Name == "via-client");
            Assert.Equal(DatabaseStatus.Stopped, (await dave.StopDatabaseAsync("via-client")).Status);
            Assert.Equal(DatabaseStatus.Running, (await dave.StartDatabaseAsync("via-client")).Status);
            Assert.Equal(database.Port, (await dave.ResetDatabaseAsync("via-client")).Port);

            var forbidden = await Assert.ThrowsAsync<DevDbException>(() => erin.GetConnectionAsync("via-client"));
            Assert.Equal(ErrorCodes.Forbidden, forbidden.Code);
            var notFound = await Assert.ThrowsAsync<DevDbException>(() => dave.GetDatabaseAsync("ghost"));
            Assert.Equal(ErrorCodes.DatabaseNotFound, notFound.Code);
            var exists = await Assert.ThrowsAsync<DevDbException>(() => erin.NewDatabaseAsync(new NewDatabaseRequest { Project = ShopServerFixture.Project, Name = "via-client" }));
            Assert.Equal(ErrorCodes.DatabaseExists, exists.Code);
        }
        finally
        {
            await dave.RemoveDatabaseAsync("via-client");
        }
        Assert.DoesNotContain(await dave.GetDatabasesAsync(), d => d.Name == "via-client");
    }

    [Fact]
    public async Task An_admin_manages_projects_with_the_client_and_a_bad_token_is_Unauthenticated()
    {
        using var ada = ClientOf(_server.AdminToken);
        var project = await ada.NewProjectAsync(new NewProjectRequest { Name = "client-proj", Source = RepoPaths.SampleSql });
        try
        {
            Assert.Equal(ProjectStatus.Ready, project.Status);
            var refreshed = await ada.UpdateProjectAsync(new UpdateProjectRequest { Name = "client-proj" });
            Assert.Equal(2, refreshed.LatestImage?.Revision);
            using var dave = ClientOf(_server.OwnerToken);
            Assert.Equal(ErrorCodes.Forbidden, (await Assert.ThrowsAsync<DevDbException>(() => dave.RemoveProjectAsync("client-proj"))).Code);
        }
        finally
        {
            await ada.RemoveProjectAsync("client-proj", force: true);
        }
        Assert.Equal(ErrorCodes.ProjectNotFound, (await Assert.ThrowsAsync<DevDbException>(() => ada.GetProjectAsync("client-proj"))).Code);

        using var stranger = ClientOf(TokenFileToken());
        Assert.Equal(ErrorCodes.Unauthenticated, (await Assert.ThrowsAsync<DevDbException>(() => stranger.WhoAmIAsync())).Code);
    }

    private static string TokenFileToken() => Api.Auth.TokenFile.NewToken();
}
