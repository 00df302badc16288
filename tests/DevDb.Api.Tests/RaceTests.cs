using System.Net;
using System.Text.Json;
using DevDb.Api.Tests.Fixtures;
using DevDb.Core;
using DevDb.Core.Client;
using DevDb.Core.Model;
using Xunit;
using Xunit.Abstractions;

namespace DevDb.Api.Tests;

/// <summary>
/// Two requests racing on one database, every pair of start, stop, reset, delete and create, 20
/// rounds each, through the real API: they run one after the other or fail fast with a DevDb
/// problem, never a 500, and the database is never left wedged: the next request works.
/// </summary>
[Collection(ShopCollection.Name)]
public sealed class RaceTests(ShopServerFixture fixture, ITestOutputHelper output)
{
    private const int Rounds = 20;
    private readonly ApiServer _server = fixture.Server;
    private static readonly string[] Operations = ["start", "stop", "reset", "delete", "create"];

    [Fact]
    public async Task Racing_requests_on_one_database_serialize_or_fail_fast_and_never_wedge_it()
    {
        var pairs = Operations.SelectMany((a, i) => Operations.Skip(i).Select(b => (a, b))).ToList();
        using var slots = new SemaphoreSlim(4);
        var results = await Task.WhenAll(pairs.Select(async (pair, index) =>
        {
            await slots.WaitAsync();
            try
            {
                return await RacePairAsync($"race-{index}", pair.a, pair.b);
            }
            finally
            {
                slots.Release();
            }
        }));
        foreach (var line in results) output.WriteLine(line);
        Assert.Equal(pairs.Count, results.Length);
    }

    private async Task<string> RacePairAsync(string name, string first, string second)
    {
        var answers = new Dictionary<string, int>();
        for (var round = 0; round < Rounds; round++)
        {
            // A create races from nothing (a clone in the background); the others race on a running database.
            if (first == "create" || second == "create") await EnsureAbsentAsync(name);
            else await EnsureRunningAsync(name);
            var raced = await Task.WhenAll(SendAsync(first, name), SendAsync(second, name));
            foreach (var (operation, status, code) in raced)
            {
                Assert.True(Allowed(operation, status, code), $"{first} racing {second} on {name}, round {round}: {operation} answered {status} {code}");
                var key = $"{operation} {status}{(code is null ? "" : " " + code)}";
                answers[key] = answers.GetValueOrDefault(key) + 1;
            }
            await AssertNotWedgedAsync(name, $"{first} racing {second}, round {round}");
        }
        await _server.SendAsync(HttpMethod.Delete, ApiContract.Database(name), _server.AdminToken);
        return $"{first} x {second}: " + string.Join(", ", answers.OrderBy(a => a.Key).Select(a => $"{a.Key} x{a.Value}"));
    }

    private async Task<(string Operation, int Status, string? Code)> SendAsync(string operation, string name)
    {
        using var response = operation switch
        {
            "delete" => await _server.SendAsync(HttpMethod.Delete, ApiContract.Database(name), _server.OwnerToken),
            "create" => await _server.SendAsync(HttpMethod.Post, ApiContract.Databases, _server.OwnerToken,
                new NewDatabaseRequest { Project = ShopServerFixture.Project, Name = name }),
            _ => await _server.SendAsync(HttpMethod.Post, ApiContract.DatabaseAction(name, operation), _server.OwnerToken),
        };
        var text = await response.Content.ReadAsStringAsync();
        var code = response.Content.Headers.ContentType?.MediaType == ApiContract.ProblemContentType
            ? JsonSerializer.Deserialize<ApiProblem>(text, ApiContract.Json)!.Code : null;
        return (operation, (int)response.StatusCode, code);
    }

    /// <summary>What a request may answer while another runs on the same database: its success, or a DevDb problem that says why.</summary>
    private static bool Allowed(string operation, int status, string? code) => (operation, status, code) switch
    {
        (_, >= 500, _) => false,
        ("delete", 204, null) => true,
        ("create", 200 or 202, null) => true,
        ("start" or "stop" or "reset", 200 or 202, null) => true,
        // The other request removed it first, or is still creating it.
        (_, 404, ErrorCodes.DatabaseNotFound) => true,
        (_, 409, ErrorCodes.StateLocked) => true,
        _ => false,
    };

    /// <summary>After the race: the database answers what it is, and, if it exists, can be started and used with its own credentials.</summary>
    private async Task AssertNotWedgedAsync(string name, string what)
    {
        using var lookup = await _server.SendAsync(HttpMethod.Get, ApiContract.Database(name), _server.OwnerToken);
        Assert.True(lookup.StatusCode is HttpStatusCode.OK or HttpStatusCode.NotFound, $"{what}: GET answered {(int)lookup.StatusCode}");
        if (lookup.StatusCode == HttpStatusCode.NotFound) return;
        var database = await _server.WaitDatabaseRunningOrStoppedAsync(name, _server.OwnerToken);
        if (database.Status != DatabaseStatus.Running)
        {
            using var start = await _server.SendAsync(HttpMethod.Post, ApiContract.DatabaseAction(name, "start"), _server.OwnerToken);
            Assert.True(start.StatusCode == HttpStatusCode.Accepted, $"{what}: starting it afterwards answered {(int)start.StatusCode} {await start.Content.ReadAsStringAsync()}");
            database = await _server.WaitDatabaseRunningOrStoppedAsync(name, _server.OwnerToken);
            Assert.True(database.Status == DatabaseStatus.Running, $"{what}: after starting it, it is {database.Status}: {database.ErrorCode} {database.Error}");
        }
        var connection = await _server.SendAsync<ConnectionInfo>(HttpMethod.Get, ApiContract.Connection(name), _server.OwnerToken);
        Assert.Equal(1, await Clients.ScalarAsync<int>(connection, "SELECT 1"));
    }

    private async Task EnsureAbsentAsync(string name)
    {
        using var removed = await _server.SendAsync(HttpMethod.Delete, ApiContract.Database(name), _server.OwnerToken);
        Assert.True(removed.StatusCode is HttpStatusCode.NoContent or HttpStatusCode.NotFound, $"removing {name} answered {(int)removed.StatusCode}");
    }

    private async Task EnsureRunningAsync(string name)
    {
        using var lookup = await _server.SendAsync(HttpMethod.Get, ApiContract.Database(name), _server.OwnerToken);
        if (lookup.StatusCode == HttpStatusCode.NotFound)
        {
            await _server.NewRunningDatabaseAsync(ShopServerFixture.Project, name, _server.OwnerToken);
            return;
        }
        var database = await _server.WaitDatabaseRunningOrStoppedAsync(name, _server.OwnerToken);
        if (database.Status != DatabaseStatus.Running)
            await _server.SendAsync<Database>(HttpMethod.Post, ApiContract.DatabaseAction(name, "start"), _server.OwnerToken);
    }
}
