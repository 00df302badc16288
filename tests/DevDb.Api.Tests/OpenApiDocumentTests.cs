using System.Text.Json;
using System.Text.Json.Nodes;
using DevDb.Api.Tests.Fixtures;
using Xunit;

namespace DevDb.Api.Tests;

/// <summary>
/// The OpenAPI document the code generates must equal the checked-in src/DevDb.Api/openapi.v1.json,
/// so a change of the contract shows up in review. After an intended change, refresh the file:
/// DEVDB_UPDATE_OPENAPI=1 dotnet test tests/DevDb.Api.Tests --filter OpenApiDocumentTests
/// </summary>
public sealed class OpenApiDocumentTests : IAsyncLifetime
{
    private ApiServer _server = null!;

    public async Task InitializeAsync() => _server = await ApiServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task The_generated_document_equals_the_checked_in_one()
    {
        using var response = await _server.SendAsync(HttpMethod.Get, "/openapi/v1.json", token: null);
        response.EnsureSuccessStatusCode();
        var generated = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        var path = Path.Combine(RepoPaths.RepoRoot, "src", "DevDb.Api", "openapi.v1.json");

        if (Environment.GetEnvironmentVariable("DEVDB_UPDATE_OPENAPI") == "1"
            && !(File.Exists(path) && JsonNode.DeepEquals(JsonNode.Parse(await File.ReadAllTextAsync(path)), generated)))
        {
            await File.WriteAllTextAsync(path, generated.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
            // Never a pass: a run that rewrote the file compared nothing.
            Assert.Fail($"{path} was updated from the running API; review and commit it, then run the tests without DEVDB_UPDATE_OPENAPI.");
        }

        Assert.True(File.Exists(path), $"{path} is missing: run the tests once with DEVDB_UPDATE_OPENAPI=1 to create it.");
        var checkedIn = JsonNode.Parse(await File.ReadAllTextAsync(path))!;
        Assert.True(JsonNode.DeepEquals(checkedIn, generated),
            "The API's OpenAPI document differs from src/DevDb.Api/openapi.v1.json. If the change is intended, refresh the file with " +
            "'DEVDB_UPDATE_OPENAPI=1 dotnet test tests/DevDb.Api.Tests --filter OpenApiDocumentTests' and commit it.");

        // What clients rely on is in it: bearer auth, and problem documents for errors.
        Assert.Equal("bearer", (string?)generated["components"]!["securitySchemes"]!["Bearer"]!["scheme"]);
        Assert.NotNull(generated["paths"]!["/api/v1/databases/{name}/connection"]!["get"]!["responses"]!["403"]!["content"]!["application/problem+json"]);
        Assert.Null(generated["paths"]!["/healthz"]!["get"]!["security"]);
    }
}
