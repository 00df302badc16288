using DevDb.Api;
using DevDb.Api.Auth;
using DevDb.Core.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace DevDb.Conformance.Tests.Configurations;

/// <summary>The real DevDb API on Kestrel at 127.0.0.1:0 with an administrator's token; HttpDevDbClient talks to it.</summary>
public sealed class ApiHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly IReadOnlyDictionary<string, string> _tokens;

    private ApiHost(WebApplication app, IReadOnlyDictionary<string, string> tokens)
    {
        _app = app;
        _tokens = tokens;
        Address = new Uri(app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single());
    }

    public Uri Address { get; }

    /// <summary>The API's services (its engine, hosted services, reconciler).</summary>
    public IServiceProvider Services => _app.Services;

    /// <summary>A client with the token of <paramref name="user"/>: <see cref="Configuration.AdminUser"/> (admin) or one of <see cref="Configuration.DeveloperUsers"/>.</summary>
    public IDevDbClient ClientFor(string user) => new HttpDevDbClient(Address, _tokens[user]);

    /// <param name="folder">Where the tokens file goes.</param>
    /// <param name="settings">The DevDb section's settings (runtime, home, ...).</param>
    /// <param name="services">Services to replace, e.g. the Kubernetes client.</param>
    public static async Task<ApiHost> StartAsync(string folder, IReadOnlyDictionary<string, string?> settings, Action<IServiceCollection>? services = null)
    {
        var tokens = new[] { Configuration.AdminUser }.Concat(Configuration.DeveloperUsers).ToDictionary(user => user, _ => TokenFile.NewToken());
        var tokensFile = Path.Combine(folder, "api-tokens.json");
        TokenFile.Write(tokensFile, tokens.Select(t => new TokenEntry(t.Key, t.Key == Configuration.AdminUser ? ApiRoles.Admin : ApiRoles.Developer,
            TokenFile.Hash(t.Value), DateTimeOffset.UtcNow)).ToList());
        var builder = DevDbApi.CreateBuilder(["--urls", "http://127.0.0.1:0"]);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>(settings) { ["DevDb:TokensFile"] = tokensFile });
        services?.Invoke(builder.Services);
        var app = DevDbApi.Build(builder);
        await app.StartAsync();
        return new ApiHost(app, tokens);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
