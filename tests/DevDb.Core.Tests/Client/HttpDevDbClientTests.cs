using DevDb.Core.Client;
using Xunit;

namespace DevDb.Core.Tests.Client;

/// <summary>
/// What the API client does before and around the API: where it refuses to send a token, and how
/// it reports a server that is down or is not the DevDb API. Its calls against the real API are
/// tested in DevDb.Api.Tests and the Pester server run.
/// </summary>
public sealed class HttpDevDbClientTests
{
    [Theory]
    [InlineData("http://devdb.example.com")]
    [InlineData("http://10.1.2.3:8080")]
    public void A_token_is_not_sent_over_plain_http_to_another_machine(string server)
    {
        var error = Assert.Throws<DevDbException>(() => new HttpDevDbClient(new Uri(server), "token"));
        Assert.Equal(ErrorCodes.InsecureConnection, error.Code);
        Assert.Contains("-AllowUnencryptedAuthentication", error.RecommendedAction);
    }

    [Theory]
    [InlineData("http://127.0.0.1:5000")]
    [InlineData("http://localhost:5000")]
    [InlineData("http://[::1]:5000")]
    [InlineData("https://devdb.example.com")]
    public void Https_and_this_machine_need_no_permission(string server)
    {
        using var client = new HttpDevDbClient(new Uri(server), "token");
        Assert.EndsWith("/", client.Server.AbsoluteUri);
    }

    [Fact]
    public void Plain_http_to_another_machine_is_allowed_when_asked_for()
    {
        using var client = new HttpDevDbClient(new Uri("http://devdb.internal"), "token", allowUnencryptedAuthentication: true);
        Assert.Equal("devdb.internal", client.Server.Host);
    }

    [Fact]
    public void An_address_that_is_not_http_is_refused()
    {
        var error = Assert.Throws<DevDbException>(() => new HttpDevDbClient(new Uri("ftp://devdb.example.com"), "token"));
        Assert.Equal(ErrorCodes.ServerAddressInvalid, error.Code);
    }

    [Fact]
    public async Task A_server_that_is_down_is_ServerUnreachable()
    {
        using var client = new HttpDevDbClient(new Uri($"http://127.0.0.1:{FreePort.Next()}"), "token");
        var error = await Assert.ThrowsAsync<DevDbException>(() => client.GetProjectsAsync());
        Assert.Equal(ErrorCodes.ServerUnreachable, error.Code);
        Assert.Contains("127.0.0.1", error.Message);
    }

    [Fact]
    public async Task A_server_that_is_not_the_DevDb_API_is_ServerError_naming_what_it_answered()
    {
        using var folder = new TempFolder("devdb-http-");
        await using var other = new HttpFileServer(folder.Path);
        using var client = new HttpDevDbClient(new Uri($"http://127.0.0.1:{other.Port}"), "token");

        var error = await Assert.ThrowsAsync<DevDbException>(() => client.GetDatabaseAsync("dave"));

        Assert.Equal(ErrorCodes.ServerError, error.Code);
        Assert.Contains("404", error.Message);
        Assert.Contains("api/v1/databases/dave", error.Message);
    }
}
