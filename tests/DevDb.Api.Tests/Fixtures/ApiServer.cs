using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text.Json;
using DevDb.Api;
using DevDb.Api.Auth;
using DevDb.Core.Client;
using DevDb.Core.Model;
using DevDb.Core.Rules;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit;

namespace DevDb.Api.Tests.Fixtures;

public static class TestEnvironment
{
    /// <summary>
    /// The API tests' databases get ports of their own, away from the Core tests' and Pester's, which
    /// may run on this machine at the same time (the engine also retries a port taken meanwhile).
    /// </summary>
    [ModuleInitializer]
    internal static void UsePrivatePortRange()
    {
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("DEVDB_PORT_RANGE")))
            Environment.SetEnvironmentVariable("DEVDB_PORT_RANGE", "56000-56399");
    }
}

/// <summary>
/// The real API (the real engine behind it) on real Kestrel at 127.0.0.1:0, with a private
/// DEVDB home and a tokens file holding an admin ('ada') and two developers ('dave', 'erin').
/// Every log line of the app is captured. Disposing stops the app, removes every database and
/// project, deletes the home and checks that no Postgres server is left running from it.
/// </summary>
public sealed class ApiServer : IAsyncDisposable
{
    public const string AdminUser = "ada";
    public const string OwnerUser = "dave";
    public const string OtherUser = "erin";

    private readonly HttpClient _http;

    private ApiServer(EngineHome home, string tokensFile, WebApplication app, Uri address, LogCapture logs, Dictionary<string, string> tokens)
    {
        Home = home;
        TokensFile = tokensFile;
        App = app;
        Address = address;
        Logs = logs;
        Tokens = tokens;
        _http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromMinutes(3) };
    }

    public EngineHome Home { get; }
    public string TokensFile { get; }
    public WebApplication App { get; }
    public Uri Address { get; }
    public LogCapture Logs { get; }
    /// <summary>User name -> bearer token.</summary>
    public IReadOnlyDictionary<string, string> Tokens { get; }

    public string AdminToken => Tokens[AdminUser];
    public string OwnerToken => Tokens[OwnerUser];
    public string OtherToken => Tokens[OtherUser];

    /// <param name="settings">More configuration of the <c>DevDb</c> section, e.g. DevDb:DatabaseListenAddress.</param>
    public static async Task<ApiServer> StartAsync(IReadOnlyDictionary<string, string?>? settings = null)
    {
        var home = new EngineHome();
        var tokensFile = System.IO.Path.Combine(home.Path, "api-tokens.json");
        var tokens = new Dictionary<string, string>();
        var entries = new List<TokenEntry>();
        foreach (var (user, role) in new[] { (AdminUser, ApiRoles.Admin), (OwnerUser, ApiRoles.Developer), (OtherUser, ApiRoles.Developer) })
        {
            tokens[user] = TokenFile.NewToken();
            entries.Add(new TokenEntry(user, role, TokenFile.Hash(tokens[user]), DateTimeOffset.UtcNow));
        }
        TokenFile.Write(tokensFile, entries);

        var logs = new LogCapture();
        var builder = DevDbApi.CreateBuilder(["--urls", "http://127.0.0.1:0"]);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["DevDb:Home"] = home.Path,
            ["DevDb:TokensFile"] = tokensFile,
        });
        if (settings is not null) builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.AddProvider(logs);
        builder.Logging.SetMinimumLevel(LogLevel.Debug);
        var app = DevDbApi.Build(builder);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        return new ApiServer(home, tokensFile, app, new Uri(address), logs, tokens);
    }

    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? token, object? body = null,
        IEnumerable<(string Name, string Value)>? headers = null)
    {
        using var request = new HttpRequestMessage(method, path.TrimStart('/'));
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (body is not null) request.Content = body as HttpContent ?? JsonContent.Create(body, body.GetType(), options: ApiContract.Json);
        foreach (var (name, value) in headers ?? []) request.Headers.TryAddWithoutValidation(name, value);
        return await _http.SendAsync(request);
    }

    public async Task<T> SendAsync<T>(HttpMethod method, string path, string? token, object? body = null, HttpStatusCode? expected = null)
    {
        using var response = await SendAsync(method, path, token, body);
        var text = await response.Content.ReadAsStringAsync();
        if (expected is { } status) Assert.True(status == response.StatusCode, $"{method} {path}: expected {(int)status}, got {(int)response.StatusCode}: {text}");
        else Assert.True(response.IsSuccessStatusCode, $"{method} {path}: {(int)response.StatusCode}: {text}");
        return JsonSerializer.Deserialize<T>(text, ApiContract.Json)!;
    }

    /// <summary>Polls a project until its build is over; fails the test if it did not become Ready.</summary>
    public async Task<Project> WaitProjectReadyAsync(string name, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromMinutes(3));
        while (true)
        {
            var project = await SendAsync<Project>(HttpMethod.Get, ApiContract.Project(name), AdminToken);
            if (project.Status != ProjectStatus.Building && project.Images.All(i => i.Status != ImageStatus.Building))
            {
                Assert.True(project.Status == ProjectStatus.Ready, $"Project '{name}' ended {project.Status}: {project.Error}");
                return project;
            }
            Assert.True(DateTime.UtcNow < deadline, $"Project '{name}' was still building after the timeout.");
            await Task.Delay(100);
        }
    }

    /// <summary>Polls a database until it is no longer Creating; fails the test if it did not become Running.</summary>
    public async Task<Database> WaitDatabaseRunningAsync(string name, string? token = null, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromMinutes(3));
        while (true)
        {
            var database = await SendAsync<Database>(HttpMethod.Get, ApiContract.Database(name), token ?? AdminToken);
            if (database.Status != DatabaseStatus.Creating)
            {
                Assert.True(database.Status == DatabaseStatus.Running, $"Database '{name}' ended {database.Status}: {database.ErrorCode} {database.Error}");
                return database;
            }
            Assert.True(DateTime.UtcNow < deadline, $"Database '{name}' was still Creating after the timeout.");
            await Task.Delay(100);
        }
    }

    /// <summary>Polls a database until no operation is under way on it; fails the test if it ended Failed.</summary>
    public async Task<Database> WaitDatabaseRunningOrStoppedAsync(string name, string token, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromMinutes(3));
        while (true)
        {
            var database = await SendAsync<Database>(HttpMethod.Get, ApiContract.Database(name), token);
            if (!DatabaseRules.IsBusy(database.Status))
            {
                Assert.True(database.Status != DatabaseStatus.Failed, $"Database '{name}' ended Failed: {database.ErrorCode} {database.Error}");
                return database;
            }
            Assert.True(DateTime.UtcNow < deadline, $"Database '{name}' was still {database.Status} after the timeout.");
            await Task.Delay(100);
        }
    }

    /// <summary>Creates a database as <paramref name="token"/>'s user and waits until it runs.</summary>
    public async Task<Database> NewRunningDatabaseAsync(string project, string name, string token)
    {
        using var response = await SendAsync(HttpMethod.Post, ApiContract.Databases, token, new NewDatabaseRequest { Project = project, Name = name });
        Assert.True(response.StatusCode is HttpStatusCode.Accepted or HttpStatusCode.OK, $"Creating '{name}': {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return await WaitDatabaseRunningAsync(name, token);
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
        var path = Home.Path;
        await Home.DisposeAsync();
        EngineHome.AssertNoPostgresUnder(path);
    }
}

/// <summary>Everything the app logs: message, structured values, scopes and exceptions, as text.</summary>
public sealed class LogCapture : ILoggerProvider, ISupportExternalScope
{
    private readonly ConcurrentQueue<string> _lines = new();
    private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    public IReadOnlyList<string> Lines => _lines.ToArray();

    public string AllText => string.Join('\n', _lines);

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, this);

    public void Dispose()
    {
    }

    private sealed class Logger(string category, LogCapture capture) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => capture._scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var parts = new List<string> { $"{logLevel} {category}: {formatter(state, exception)}" };
            if (state is IEnumerable<KeyValuePair<string, object?>> values) parts.AddRange(values.Select(v => $"{v.Key}={v.Value}"));
            capture._scopes.ForEachScope((scope, list) =>
            {
                list.Add($"scope: {scope}");
                if (scope is IEnumerable<KeyValuePair<string, object?>> pairs) list.AddRange(pairs.Select(p => $"{p.Key}={p.Value}"));
                else if (scope is IEnumerable<KeyValuePair<string, object>> objects) list.AddRange(objects.Select(p => $"{p.Key}={p.Value}"));
            }, parts);
            if (exception is not null) parts.Add(exception.ToString());
            capture._lines.Enqueue(string.Join(" | ", parts));
        }
    }
}

/// <summary>One API server with project 'shop' (built from samples/shop.dump) shared by the tests of the "shop" collection.</summary>
public sealed class ShopServerFixture : IAsyncLifetime
{
    public const string Project = "shop";

    public ApiServer Server { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await ApiServer.StartAsync();
        using var response = await Server.SendAsync(HttpMethod.Post, ApiContract.Projects, Server.AdminToken,
            new NewProjectRequest { Name = Project, Source = RepoPaths.SampleDump });
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        await Server.WaitProjectReadyAsync(Project);
    }

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class ShopCollection : ICollectionFixture<ShopServerFixture>
{
    public const string Name = "shop";
}
