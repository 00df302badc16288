using System.Net;
using System.Text;
using System.Text.Json;
using DevDb.Api.Tests.Fixtures;
using DevDb.Core;
using DevDb.Core.Client;
using Xunit;

namespace DevDb.Api.Tests;

/// <summary>Errors come back as application/problem+json with a stable code, a detail, and the request id.</summary>
[Collection(ShopCollection.Name)]
public sealed class ProblemTests(ShopServerFixture fixture)
{
    private readonly ApiServer _server = fixture.Server;

    private async Task<ApiProblem> ExpectProblemAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status} {code}, got {(int)response.StatusCode}: {text}");
        Assert.Equal(ApiContract.ProblemContentType, response.Content.Headers.ContentType?.MediaType);
        var problem = JsonSerializer.Deserialize<ApiProblem>(text, ApiContract.Json)!;
        Assert.Equal(code, problem.Code);
        Assert.Equal((int)status, problem.Status);
        Assert.False(string.IsNullOrWhiteSpace(problem.Detail));
        Assert.Equal(response.Headers.GetValues("X-Request-Id").Single(), problem.RequestId);
        return problem;
    }

    [Fact]
    public async Task An_invalid_database_name_is_NameInvalid()
    {
        using var response = await _server.SendAsync(HttpMethod.Post, ApiContract.Databases, _server.OwnerToken,
            new NewDatabaseRequest { Project = ShopServerFixture.Project, Name = "Not_A_Dns_Label" });
        var problem = await ExpectProblemAsync(response, HttpStatusCode.BadRequest, ErrorCodes.NameInvalid);
        Assert.Contains("Not_A_Dns_Label", problem.Detail);
    }

    [Fact]
    public async Task A_Postgres_version_the_server_lacks_is_PostgresVersionNotInstalled_422_and_records_nothing()
    {
        using var response = await _server.SendAsync(HttpMethod.Post, ApiContract.Projects, _server.AdminToken,
            new NewProjectRequest { Name = "future", Source = RepoPaths.SampleDump, PostgresVersion = 98 });
        var problem = await ExpectProblemAsync(response, HttpStatusCode.UnprocessableEntity, ErrorCodes.PostgresVersionNotInstalled);
        Assert.Contains("98", problem.Detail);
        using var lookup = await _server.SendAsync(HttpMethod.Get, ApiContract.Project("future"), _server.AdminToken);
        Assert.Equal(HttpStatusCode.NotFound, lookup.StatusCode);
    }

    [Fact]
    public async Task A_refresh_whose_body_names_another_project_is_RequestInvalid()
    {
        using var response = await _server.SendAsync(HttpMethod.Post, ApiContract.ProjectRefresh(ShopServerFixture.Project), _server.AdminToken,
            new UpdateProjectRequest { Name = "other" });
        await ExpectProblemAsync(response, HttpStatusCode.BadRequest, ErrorCodes.RequestInvalid);
    }

    [Fact]
    public async Task Unknown_projects_and_databases_are_NotFound()
    {
        await ExpectProblemAsync(await _server.SendAsync(HttpMethod.Get, ApiContract.Project("ghost"), _server.OwnerToken), HttpStatusCode.NotFound, ErrorCodes.ProjectNotFound);
        await ExpectProblemAsync(await _server.SendAsync(HttpMethod.Post, ApiContract.Databases, _server.OwnerToken,
            new NewDatabaseRequest { Project = "ghost", Name = "ghost-db" }), HttpStatusCode.NotFound, ErrorCodes.ProjectNotFound);
        await ExpectProblemAsync(await _server.SendAsync(HttpMethod.Get, $"{ApiContract.Databases}?project=ghost", _server.OwnerToken), HttpStatusCode.NotFound, ErrorCodes.ProjectNotFound);
        var problem = await ExpectProblemAsync(await _server.SendAsync(HttpMethod.Get, ApiContract.Connection("ghost-db"), _server.OwnerToken),
            HttpStatusCode.NotFound, ErrorCodes.DatabaseNotFound);
        Assert.Equal("ghost-db", problem.Target);
        Assert.NotNull(problem.RecommendedAction);
    }

    [Fact]
    public async Task Removing_a_project_with_databases_is_ProjectHasDatabases_and_removes_nothing()
    {
        await _server.NewRunningDatabaseAsync(ShopServerFixture.Project, "keeps-project", _server.OwnerToken);
        try
        {
            var problem = await ExpectProblemAsync(await _server.SendAsync(HttpMethod.Delete, ApiContract.Project(ShopServerFixture.Project), _server.AdminToken),
                HttpStatusCode.Conflict, ErrorCodes.ProjectHasDatabases);
            Assert.Contains("keeps-project", problem.Detail);
            await _server.SendAsync<Core.Model.Project>(HttpMethod.Get, ApiContract.Project(ShopServerFixture.Project), _server.AdminToken);
            await _server.SendAsync<Core.Model.Database>(HttpMethod.Get, ApiContract.Database("keeps-project"), _server.OwnerToken);
        }
        finally
        {
            await _server.SendAsync(HttpMethod.Delete, ApiContract.Database("keeps-project"), _server.OwnerToken);
        }
    }

    [Fact]
    public async Task No_token_and_an_unknown_token_are_Unauthenticated_with_a_bearer_challenge()
    {
        foreach (var token in new string?[] { null, "not-a-token" })
        {
            using var response = await _server.SendAsync(HttpMethod.Get, ApiContract.Databases, token);
            await ExpectProblemAsync(response, HttpStatusCode.Unauthorized, ErrorCodes.Unauthenticated);
            Assert.Equal("Bearer", response.Headers.WwwAuthenticate.ToString());
        }
        // Basic credentials are no bearer token either.
        using var basic = await _server.SendAsync(HttpMethod.Get, ApiContract.Databases, null, headers: [("Authorization", "Basic YWRhOmFkYQ==")]);
        await ExpectProblemAsync(basic, HttpStatusCode.Unauthorized, ErrorCodes.Unauthenticated);
    }

    [Fact]
    public async Task A_developer_is_Forbidden_to_manage_projects_or_create_for_someone_else()
    {
        var problem = await ExpectProblemAsync(await _server.SendAsync(HttpMethod.Delete, ApiContract.Project(ShopServerFixture.Project), _server.OwnerToken),
            HttpStatusCode.Forbidden, ErrorCodes.Forbidden);
        Assert.Contains(ApiServer.OwnerUser, problem.Detail);
        await ExpectProblemAsync(await _server.SendAsync(HttpMethod.Post, ApiContract.Databases, _server.OwnerToken,
            new NewDatabaseRequest { Project = ShopServerFixture.Project, Name = "for-erin", Owner = ApiServer.OtherUser }), HttpStatusCode.Forbidden, ErrorCodes.Forbidden);
        await ExpectProblemAsync(await _server.SendAsync(HttpMethod.Get, ApiContract.Database("for-erin"), _server.AdminToken), HttpStatusCode.NotFound, ErrorCodes.DatabaseNotFound);
    }

    [Fact]
    public async Task Unreadable_bodies_and_unknown_routes_are_RequestInvalid()
    {
        var broken = new StringContent("{ \"project\": ", Encoding.UTF8, "application/json");
        var problem = await ExpectProblemAsync(await _server.SendAsync(HttpMethod.Post, ApiContract.Databases, _server.OwnerToken, broken),
            HttpStatusCode.BadRequest, ErrorCodes.RequestInvalid);
        Assert.DoesNotContain("   at ", problem.Detail);
        var missing = new StringContent("{ \"project\": \"shop\" }", Encoding.UTF8, "application/json");
        problem = await ExpectProblemAsync(await _server.SendAsync(HttpMethod.Post, ApiContract.Databases, _server.OwnerToken, missing),
            HttpStatusCode.BadRequest, ErrorCodes.RequestInvalid);
        Assert.Contains("name", problem.Detail);
        await ExpectProblemAsync(await _server.SendAsync(HttpMethod.Get, "api/v1/nothing-here", _server.OwnerToken), HttpStatusCode.NotFound, ErrorCodes.RequestInvalid);
        await ExpectProblemAsync(await _server.SendAsync(HttpMethod.Put, ApiContract.Databases, _server.OwnerToken), HttpStatusCode.MethodNotAllowed, ErrorCodes.RequestInvalid);
    }

    [Fact]
    public async Task The_callers_request_id_is_used_and_echoed()
    {
        using var response = await _server.SendAsync(HttpMethod.Get, ApiContract.Database("ghost-db"), _server.OwnerToken, headers: [("X-Request-Id", "ci-run-42.step-7")]);
        var problem = await ExpectProblemAsync(response, HttpStatusCode.NotFound, ErrorCodes.DatabaseNotFound);
        Assert.Equal("ci-run-42.step-7", problem.RequestId);
        Assert.Contains(_server.Logs.Lines, line => line.Contains("RequestId=ci-run-42.step-7"));
    }
}
