using System.Net;
using System.Text.Json;
using DevDb.Api.Tests.Fixtures;
using DevDb.Core;
using DevDb.Core.Client;
using Xunit;

namespace DevDb.Api.Tests;

/// <summary>
/// Every endpoint, called by an admin, the owner of the database, another developer, no token and
/// an unknown token: the status and problem code each one gets.
/// </summary>
[Collection(ShopCollection.Name)]
public sealed class AuthorizationMatrixTests(ShopServerFixture fixture)
{
    private readonly ApiServer _server = fixture.Server;

    public enum Caller { NoToken, BadToken, Other, Owner, Admin }

    private sealed record Row(string Label, HttpMethod Method, string Path, object? Body, bool Anonymous, params (Caller Caller, int Status, string? Code)[] Expected);

    private static (Caller, int, string?) Ok(Caller caller, int status = 200) => (caller, status, null);
    private static (Caller, int, string?) Problem(Caller caller, int status, string code) => (caller, status, code);

    [Fact]
    public async Task Every_endpoint_answers_each_caller_as_the_role_and_ownership_rules_say()
    {
        const string project = ShopServerFixture.Project;
        const string db = "matrix-dave";
        const string db2 = "matrix-dave-2";
        await _server.NewRunningDatabaseAsync(project, db, _server.OwnerToken);
        await _server.NewRunningDatabaseAsync(project, db2, _server.OwnerToken);
        const Caller admin = Caller.Admin, owner = Caller.Owner, other = Caller.Other;

        Row[] rows =
        [
            new("list projects", HttpMethod.Get, ApiContract.Projects, null, false, Ok(other), Ok(owner), Ok(admin)),
            new("create project (identical, Ready)", HttpMethod.Post, ApiContract.Projects, new NewProjectRequest { Name = project, Source = RepoPaths.SampleDump }, false,
                Problem(other, 403, ErrorCodes.Forbidden), Problem(owner, 403, ErrorCodes.Forbidden), Ok(admin)),
            new("get project", HttpMethod.Get, ApiContract.Project(project), null, false, Ok(other), Ok(owner), Ok(admin)),
            new("refresh project", HttpMethod.Post, ApiContract.ProjectRefresh("ghost"), new { }, false,
                Problem(other, 403, ErrorCodes.Forbidden), Problem(owner, 403, ErrorCodes.Forbidden), Problem(admin, 404, ErrorCodes.ProjectNotFound)),
            new("remove project", HttpMethod.Delete, ApiContract.Project("ghost"), null, false,
                Problem(other, 403, ErrorCodes.Forbidden), Problem(owner, 403, ErrorCodes.Forbidden), Problem(admin, 404, ErrorCodes.ProjectNotFound)),
            new("list databases", HttpMethod.Get, ApiContract.Databases, null, false, Ok(other), Ok(owner), Ok(admin)),
            new("list databases of an owner", HttpMethod.Get, $"{ApiContract.Databases}?owner={ApiServer.OwnerUser}", null, false,
                Problem(other, 403, ErrorCodes.Forbidden), Ok(owner), Ok(admin)),
            new("create database (identical)", HttpMethod.Post, ApiContract.Databases, new NewDatabaseRequest { Project = project, Name = db }, false,
                Problem(other, 409, ErrorCodes.DatabaseExists), Ok(owner)),
            new("create database for its owner", HttpMethod.Post, ApiContract.Databases, new NewDatabaseRequest { Project = project, Name = db, Owner = ApiServer.OwnerUser }, false,
                Problem(other, 403, ErrorCodes.Forbidden), Ok(owner), Ok(admin)),
            new("get database", HttpMethod.Get, ApiContract.Database(db), null, false, Problem(other, 403, ErrorCodes.Forbidden), Ok(owner), Ok(admin)),
            new("get connection", HttpMethod.Get, ApiContract.Connection(db), null, false, Problem(other, 403, ErrorCodes.Forbidden), Ok(owner), Ok(admin)),
            new("stop database", HttpMethod.Post, ApiContract.DatabaseAction(db, "stop"), null, false, Problem(other, 403, ErrorCodes.Forbidden), Ok(owner, 202), Ok(admin, 202)),
            new("start database", HttpMethod.Post, ApiContract.DatabaseAction(db, "start"), null, false, Problem(other, 403, ErrorCodes.Forbidden), Ok(owner, 202), Ok(admin, 202)),
            new("reset database", HttpMethod.Post, ApiContract.DatabaseAction(db, "reset"), null, false, Problem(other, 403, ErrorCodes.Forbidden), Ok(owner, 202), Ok(admin, 202)),
            new("checkpoint database", HttpMethod.Post, ApiContract.Checkpoints(db), new NewCheckpointRequest("cp-a"), false,
                Problem(other, 403, ErrorCodes.Forbidden), Ok(owner, 201), Problem(admin, 409, ErrorCodes.CheckpointExists)),
            new("checkpoint database (admin)", HttpMethod.Post, ApiContract.Checkpoints(db), new NewCheckpointRequest("cp-b"), false,
                Problem(other, 403, ErrorCodes.Forbidden), Ok(admin, 201)),
            new("list checkpoints of a database", HttpMethod.Get, ApiContract.Checkpoints(db), null, false, Problem(other, 403, ErrorCodes.Forbidden), Ok(owner), Ok(admin)),
            new("list checkpoints", HttpMethod.Get, ApiContract.AllCheckpoints, null, false, Ok(other), Ok(owner), Ok(admin)),
            new("restore database", HttpMethod.Post, ApiContract.DatabaseAction(db, "restore"), new RestoreDatabaseRequest("cp-a"), false,
                Problem(other, 403, ErrorCodes.Forbidden), Ok(owner, 202), Ok(admin, 202)),
            new("restore another's checkpoint that does not exist", HttpMethod.Post, ApiContract.DatabaseAction(db, "restore"), new RestoreDatabaseRequest("ghost"), false,
                Problem(other, 403, ErrorCodes.Forbidden), Problem(owner, 404, ErrorCodes.CheckpointNotFound)),
            new("branch a database", HttpMethod.Post, ApiContract.Databases, new NewDatabaseRequest { Project = "", Name = "matrix-branch", FromDatabase = db }, false,
                Problem(other, 403, ErrorCodes.Forbidden), Ok(owner, 202)),
            new("remove the branch", HttpMethod.Delete, ApiContract.Database("matrix-branch"), null, false, Problem(other, 403, ErrorCodes.Forbidden), Ok(owner, 204)),
            new("remove checkpoint", HttpMethod.Delete, ApiContract.Checkpoint(db, "cp-a"), null, false,
                Problem(other, 403, ErrorCodes.Forbidden), Ok(owner, 204), Problem(admin, 404, ErrorCodes.CheckpointNotFound)),
            new("remove database (owner)", HttpMethod.Delete, ApiContract.Database(db), null, false,
                Problem(other, 403, ErrorCodes.Forbidden), Ok(owner, 204), Problem(admin, 404, ErrorCodes.DatabaseNotFound)),
            new("remove database (admin)", HttpMethod.Delete, ApiContract.Database(db2), null, false, Problem(other, 403, ErrorCodes.Forbidden), Ok(admin, 204)),
            new("whoami", HttpMethod.Get, ApiContract.WhoAmI, null, false, Ok(other), Ok(owner), Ok(admin)),
            new("own quota", HttpMethod.Get, ApiContract.Quota, null, false, Ok(other), Ok(owner), Ok(admin)),
            new("another user's quota", HttpMethod.Get, $"{ApiContract.Quota}?user={ApiServer.OwnerUser}", null, false,
                Problem(other, 403, ErrorCodes.Forbidden), Ok(owner), Ok(admin)),
            new("healthz", HttpMethod.Get, "/healthz", null, true, Ok(other), Ok(owner), Ok(admin)),
            new("readyz", HttpMethod.Get, "/readyz", null, true, Ok(other), Ok(owner), Ok(admin)),
            new("metrics", HttpMethod.Get, "/metrics", null, true, Ok(other), Ok(owner), Ok(admin)),
            new("openapi", HttpMethod.Get, "/openapi/v1.json", null, true, Ok(other), Ok(owner), Ok(admin)),
        ];

        var mismatches = new List<string>();
        var checks = 0;
        foreach (var row in rows)
        {
            (Caller, int, string?)[] everyone = row.Anonymous
                ? [Ok(Caller.NoToken), Ok(Caller.BadToken), .. row.Expected]
                : [Problem(Caller.NoToken, 401, ErrorCodes.Unauthenticated), Problem(Caller.BadToken, 401, ErrorCodes.Unauthenticated), .. row.Expected];
            foreach (var (caller, status, code) in everyone)
            {
                checks++;
                using var response = await _server.SendAsync(row.Method, row.Path, TokenOf(caller), row.Body);
                var text = await response.Content.ReadAsStringAsync();
                var actualCode = response.Content.Headers.ContentType?.MediaType == ApiContract.ProblemContentType
                    ? JsonSerializer.Deserialize<ApiProblem>(text, ApiContract.Json)!.Code : null;
                if ((int)response.StatusCode != status || actualCode != code)
                    mismatches.Add($"{row.Label} as {caller}: expected {status} {code}, got {(int)response.StatusCode} {actualCode}: {text[..Math.Min(200, text.Length)]}");
                // Accepted work runs on: the next caller meets the database once it is done.
                if (response.StatusCode == System.Net.HttpStatusCode.Accepted && response.Headers.Location is { } location)
                    await _server.WaitDatabaseRunningOrStoppedAsync(location.OriginalString.Split('/')[^1], _server.AdminToken);
                if (status == 401 && response.Headers.WwwAuthenticate.ToString() != "Bearer")
                    mismatches.Add($"{row.Label} as {caller}: 401 without 'WWW-Authenticate: Bearer'");
            }
        }
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} of {checks} calls answered otherwise:\n" + string.Join('\n', mismatches));
    }

    [Fact]
    public async Task Whoami_tells_the_user_and_role_of_each_token()
    {
        Assert.Equal(new ApiIdentity(ApiServer.AdminUser, ApiRoles.Admin), await _server.SendAsync<ApiIdentity>(HttpMethod.Get, ApiContract.WhoAmI, _server.AdminToken));
        Assert.Equal(new ApiIdentity(ApiServer.OwnerUser, ApiRoles.Developer), await _server.SendAsync<ApiIdentity>(HttpMethod.Get, ApiContract.WhoAmI, _server.OwnerToken));
    }

    [Fact]
    public async Task A_developer_lists_only_their_own_databases_and_an_admin_lists_all()
    {
        await _server.NewRunningDatabaseAsync(ShopServerFixture.Project, "list-dave", _server.OwnerToken);
        await _server.NewRunningDatabaseAsync(ShopServerFixture.Project, "list-erin", _server.OtherToken);
        try
        {
            var mine = await _server.SendAsync<List<Core.Model.Database>>(HttpMethod.Get, ApiContract.Databases, _server.OwnerToken);
            Assert.Contains(mine, d => d.Name == "list-dave");
            Assert.All(mine, d => Assert.Equal(ApiServer.OwnerUser, d.Owner));
            var all = await _server.SendAsync<List<Core.Model.Database>>(HttpMethod.Get, ApiContract.Databases, _server.AdminToken);
            Assert.Contains(all, d => d.Name == "list-dave");
            Assert.Contains(all, d => d.Name == "list-erin");
            var erins = await _server.SendAsync<List<Core.Model.Database>>(HttpMethod.Get, $"{ApiContract.Databases}?owner={ApiServer.OtherUser}", _server.AdminToken);
            Assert.Equal(["list-erin"], erins.Select(d => d.Name));
        }
        finally
        {
            await _server.SendAsync(HttpMethod.Delete, ApiContract.Database("list-dave"), _server.AdminToken);
            await _server.SendAsync(HttpMethod.Delete, ApiContract.Database("list-erin"), _server.AdminToken);
        }
    }

    private string? TokenOf(Caller caller) => caller switch
    {
        Caller.Admin => _server.AdminToken,
        Caller.Owner => _server.OwnerToken,
        Caller.Other => _server.OtherToken,
        // Well-formed, but not in the tokens file.
        Caller.BadToken => Api.Auth.TokenFile.NewToken(),
        _ => null,
    };
}
