using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using DevDb.Api.Tests.Fixtures;
using DevDb.Core;
using DevDb.Core.Client;
using DevDb.Core.Model;
using Xunit;

namespace DevDb.Api.Tests;

/// <summary>
/// What the API tells whom, and how much of a hostile request it takes: developers never see a
/// source's secrets or the masking SQL; huge names, bodies, headers and SQL get a short answer.
/// </summary>
[Collection(ShopCollection.Name)]
public sealed class TrustTests(ShopServerFixture fixture)
{
    private readonly ApiServer _server = fixture.Server;

    [Fact]
    public async Task Developers_see_a_project_without_its_sources_secrets_or_post_restore_sql_and_admins_see_all()
    {
        await using var files = new HttpFileServer(Path.GetDirectoryName(RepoPaths.SampleDump)!);
        var source = $"http://reader:hunter2@127.0.0.1:{files.Port}/{Path.GetFileName(RepoPaths.SampleDump)}?X-Amz-Signature=s3cr3t#frag";
        const string masking = "UPDATE customers SET email = 'user' || customer_id || '@example.com'";
        using (var created = await _server.SendAsync(HttpMethod.Post, ApiContract.Projects, _server.AdminToken,
                   new NewProjectRequest { Name = "redacted", Source = source, PostRestoreSql = masking }))
            Assert.Equal(HttpStatusCode.Accepted, created.StatusCode);
        try
        {
            await _server.WaitProjectReadyAsync("redacted");
            var admins = await _server.SendAsync<Project>(HttpMethod.Get, ApiContract.Project("redacted"), _server.AdminToken);
            Assert.Equal((source, masking), (admins.Source, admins.PostRestoreSql));

            foreach (var token in new[] { _server.OwnerToken, _server.OtherToken })
            {
                var one = await _server.SendAsync<Project>(HttpMethod.Get, ApiContract.Project("redacted"), token);
                var listed = (await _server.SendAsync<List<Project>>(HttpMethod.Get, ApiContract.Projects, token)).Single(p => p.Name == "redacted");
                foreach (var seen in new[] { one, listed })
                {
                    Assert.Equal($"http://REDACTED@127.0.0.1:{files.Port}/{Path.GetFileName(RepoPaths.SampleDump)}?REDACTED", seen.Source);
                    Assert.Null(seen.PostRestoreSql);
                }
                using var raw = await _server.SendAsync(HttpMethod.Get, ApiContract.Projects, token);
                var text = await raw.Content.ReadAsStringAsync();
                foreach (var secret in new[] { "hunter2", "s3cr3t", "customer_id ||" }) Assert.DoesNotContain(secret, text);
            }
        }
        finally
        {
            using var removed = await _server.SendAsync(HttpMethod.Delete, ApiContract.Project("redacted") + "?force=true", _server.AdminToken);
        }
    }

    [Fact]
    public async Task Errors_and_logs_about_a_source_never_show_its_credentials_or_query()
    {
        await using var files = new HttpFileServer(Path.GetDirectoryName(RepoPaths.SampleDump)!);
        var source = $"http://reader:hunter2@127.0.0.1:{files.Port}/missing.dump?X-Amz-Signature=s3cr3t";
        using var response = await _server.SendAsync(HttpMethod.Post, ApiContract.Projects, _server.AdminToken, new NewProjectRequest { Name = "leaky", Source = source });
        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(ErrorCodes.SourceNotFound, JsonSerializer.Deserialize<ApiProblem>(text, ApiContract.Json)!.Code);
        foreach (var secret in new[] { "hunter2", "s3cr3t" })
        {
            Assert.DoesNotContain(secret, text);
            Assert.DoesNotContain(secret, _server.Logs.AllText);
        }
    }

    public static TheoryData<string, object, int, string> Oversized => new()
    {
        { "a 5 MiB database name (body over the limit)", new NewDatabaseRequest { Project = "shop", Name = new string('a', 5 * 1024 * 1024) }, 413, ErrorCodes.RequestInvalid },
        { "a 900 KiB database name", new NewDatabaseRequest { Project = "shop", Name = new string('a', 900 * 1024) }, 400, ErrorCodes.NameInvalid },
        { "a 900 KiB owner", new NewDatabaseRequest { Project = "shop", Name = "big-owner", Owner = new string('o', 900 * 1024) }, 400, ErrorCodes.RequestInvalid },
        { "a 900 KiB project name", new NewProjectRequest { Name = new string('p', 900 * 1024), Source = RepoPaths.SampleDump }, 400, ErrorCodes.NameInvalid },
        { "a 900 KiB source", new NewProjectRequest { Name = "big-source", Source = "https://example.com/" + new string('s', 900 * 1024) }, 400, ErrorCodes.RequestInvalid },
        { "a 100 KiB post-restore SQL", new NewProjectRequest { Name = "big-sql", Source = RepoPaths.SampleDump, PostRestoreSql = new string('x', 100 * 1024) }, 400, ErrorCodes.RequestInvalid },
    };

    [Theory]
    [MemberData(nameof(Oversized))]
    public async Task Oversized_input_gets_a_short_answer_naming_the_limit_and_short_log_lines(string label, object body, int status, string code)
    {
        var path = body is NewProjectRequest ? ApiContract.Projects : ApiContract.Databases;
        var logLinesBefore = _server.Logs.Lines.Count;
        // A body past the limit goes as a well-behaved client sends a big one: sized, asking to continue first. Streamed in
        // chunks, the server's 413 could close the connection while the client was still sending, which then saw only a reset.
        HttpContent content = JsonContent.Create(body, body.GetType(), options: ApiContract.Json);
        if (status == 413) content = new ByteArrayContent(await content.ReadAsByteArrayAsync()) { Headers = { ContentType = new("application/json") } };
        using var response = await _server.SendAsync(HttpMethod.Post, path, _server.AdminToken, content, status == 413 ? [("Expect", "100-continue")] : null);
        var text = await response.Content.ReadAsStringAsync();

        Assert.True(status == (int)response.StatusCode, $"{label}: {(int)response.StatusCode} {text[..Math.Min(300, text.Length)]}");
        Assert.Equal(code, JsonSerializer.Deserialize<ApiProblem>(text, ApiContract.Json)!.Code);
        Assert.True(text.Length < 2048, $"{label}: a {text.Length}-character answer");
        Assert.All(_server.Logs.Lines.Skip(logLinesBefore), line => Assert.True(line.Length < 4096, $"{label}: a {line.Length}-character log line"));
    }

    [Fact]
    public async Task A_body_over_the_limit_names_the_limit()
    {
        using var response = await _server.SendAsync(HttpMethod.Post, ApiContract.Databases, _server.AdminToken,
            new StringContent("{\"project\":\"shop\",\"name\":\"" + new string('a', RequestLimits.MaxRequestBytes) + "\"}", Encoding.UTF8, "application/json"));
        var problem = JsonSerializer.Deserialize<ApiProblem>(await response.Content.ReadAsStringAsync(), ApiContract.Json)!;
        Assert.Equal(413, problem.Status);
        Assert.Contains(RequestLimits.MaxRequestBytes.ToString(), problem.Detail);
    }

    [Fact]
    public async Task A_huge_header_or_route_is_refused_by_the_server_with_a_short_answer()
    {
        using (var header = await _server.SendAsync(HttpMethod.Get, ApiContract.Databases, _server.AdminToken, headers: [("X-Filler", new string('h', 200 * 1024))]))
        {
            Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, header.StatusCode);
            Assert.True((await header.Content.ReadAsStringAsync()).Length < 2048);
        }
        using var route = await _server.SendAsync(HttpMethod.Get, ApiContract.Database(new string('r', 64 * 1024)), _server.AdminToken);
        Assert.True(route.StatusCode is HttpStatusCode.RequestUriTooLong or HttpStatusCode.NotFound, $"{(int)route.StatusCode}");
        Assert.True((await route.Content.ReadAsStringAsync()).Length < 2048);
    }

    [Fact]
    public async Task Superuser_logins_are_refused_unless_the_installation_allows_them()
    {
        using var response = await _server.SendAsync(HttpMethod.Post, ApiContract.Projects, _server.AdminToken,
            new NewProjectRequest { Name = "superusers", Source = RepoPaths.SampleDump, SuperuserLogins = true });
        var problem = JsonSerializer.Deserialize<ApiProblem>(await response.Content.ReadAsStringAsync(), ApiContract.Json)!;
        Assert.Equal((403, ErrorCodes.SuperuserLoginsNotAllowed), (problem.Status, problem.Code));
        using var lookup = await _server.SendAsync(HttpMethod.Get, ApiContract.Project("superusers"), _server.AdminToken);
        Assert.Equal(HttpStatusCode.NotFound, lookup.StatusCode);
    }
}
