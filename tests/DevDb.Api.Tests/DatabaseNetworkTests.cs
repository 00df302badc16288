using System.Net;
using DevDb.Api.Tests.Fixtures;
using DevDb.Core.Client;
using DevDb.Core.Model;
using Npgsql;
using Xunit;

namespace DevDb.Api.Tests;

/// <summary>The API's DatabaseListenAddress and DatabaseHost settings reach the databases it creates.</summary>
public sealed class DatabaseNetworkTests
{
    [Fact]
    public async Task Databases_listen_where_the_API_is_configured_and_their_details_name_the_configured_host()
    {
        await using var server = await ApiServer.StartAsync(new Dictionary<string, string?>
        {
            ["DevDb:DatabaseListenAddress"] = "127.0.0.2",
            ["DevDb:DatabaseHost"] = "127.0.0.2",
        });
        using (var created = await server.SendAsync(HttpMethod.Post, ApiContract.Projects, server.AdminToken,
                   new NewProjectRequest { Name = "shop", Source = RepoPaths.SampleDump }))
            Assert.True(created.StatusCode is HttpStatusCode.Accepted or HttpStatusCode.OK);
        await server.WaitProjectReadyAsync("shop");

        var database = await server.NewRunningDatabaseAsync("shop", "dave-net", server.OwnerToken);
        var connection = await server.SendAsync<ConnectionInfo>(HttpMethod.Get, ApiContract.Connection("dave-net"), server.OwnerToken);

        Assert.Equal("127.0.0.2", database.Host);
        Assert.Equal("127.0.0.2", connection.Host);
        await using var client = new NpgsqlConnection(new NpgsqlConnectionStringBuilder
        {
            Host = connection.Host, Port = connection.Port, Database = connection.DatabaseName,
            Username = connection.Username, Password = connection.Password, Pooling = false,
        }.ConnectionString);
        await client.OpenAsync();
        await using var count = new NpgsqlCommand("SELECT count(*) FROM customers", client);
        Assert.Equal(1000L, await count.ExecuteScalarAsync());
    }
}
