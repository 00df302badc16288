using System.Net;
using DevDb.Api.Tests.Fixtures;
using DevDb.Core.Client;
using DevDb.Core.Model;
using Xunit;

namespace DevDb.Api.Tests;

/// <summary>
/// History through the real API: entries name the token's user and the request's id (X-Request-Id), a
/// developer sees only what concerns their own databases, and a removed database leaves one log line
/// (without its password).
/// </summary>
[Collection(ShopCollection.Name)]
public sealed class HistoryTests(ShopServerFixture fixture)
{
    private readonly ApiServer _server = fixture.Server;
    private const string Project = ShopServerFixture.Project;

    [Fact]
    public async Task Entries_name_the_tokens_user_and_the_request_id_and_developers_see_only_their_own_databases_entries()
    {
        using (var created = await _server.SendAsync(HttpMethod.Post, ApiContract.Databases, _server.OwnerToken,
                   new NewDatabaseRequest { Project = Project, Name = "hist-dave" }, [("X-Request-Id", "hist-create-1")]))
            Assert.True(created.StatusCode is HttpStatusCode.Accepted or HttpStatusCode.OK, await created.Content.ReadAsStringAsync());
        await _server.WaitDatabaseRunningAsync("hist-dave", _server.OwnerToken);
        await _server.NewRunningDatabaseAsync(Project, "hist-erin", _server.OtherToken);

        // Background work (the 202's clone) is recorded as the user whose request began it, with that request's id.
        var dave = await _server.SendAsync<Database>(HttpMethod.Get, ApiContract.Database("hist-dave"), _server.OwnerToken);
        var entry = Assert.Single(dave.History);
        Assert.Equal((HistoryAction.Created, ApiServer.OwnerUser, HistoryOutcome.Succeeded, "hist-create-1"), (entry.Action, entry.User, entry.Outcome, entry.RequestId));
        var password = (await _server.SendAsync<ConnectionInfo>(HttpMethod.Get, ApiContract.Connection("hist-dave"), _server.OwnerToken)).Password;

        using (var removed = await _server.SendAsync(HttpMethod.Delete, ApiContract.Database("hist-dave"), _server.OwnerToken))
            Assert.True(removed.IsSuccessStatusCode, await removed.Content.ReadAsStringAsync());
        using (var removed = await _server.SendAsync(HttpMethod.Delete, ApiContract.Database("hist-erin"), _server.OtherToken))
            Assert.True(removed.IsSuccessStatusCode, await removed.Content.ReadAsStringAsync());

        var asAdmin = await _server.SendAsync<Project>(HttpMethod.Get, ApiContract.Project(Project), _server.AdminToken);
        Assert.Contains(asAdmin.History, e => e is { Database: "hist-dave", Action: HistoryAction.Removed, User: ApiServer.OwnerUser });
        Assert.Contains(asAdmin.History, e => e is { Database: "hist-erin", Action: HistoryAction.Removed, User: ApiServer.OtherUser });
        var asDave = await _server.SendAsync<Project>(HttpMethod.Get, ApiContract.Project(Project), _server.OwnerToken);
        Assert.Contains(asDave.History, e => e.Database == "hist-dave");
        Assert.DoesNotContain(asDave.History, e => e.Database == "hist-erin" || e.Owner == ApiServer.OtherUser);
        // The project's own entries are everyone's (the shared project's 50 may all be other tests' removals by now).
        Assert.Equal(asAdmin.History.Count(e => e.Database is null), asDave.History.Count(e => e.Database is null));

        // One structured line per removed database, in the API's log; never its password.
        var line = Assert.Single(_server.Logs.Lines, l => l.Contains("DevDb.Removals") && l.Contains("Database=hist-dave"));
        foreach (var part in new[] { $"Project={Project}", $"Owner={ApiServer.OwnerUser}", "Why=removed", $"User={ApiServer.OwnerUser}", "HistoryCount=1", "Created" })
            Assert.Contains(part, line);
        Assert.DoesNotContain(password, _server.Logs.AllText);
    }
}
