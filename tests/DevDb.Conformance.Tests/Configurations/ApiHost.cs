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
    private readonly string _adminToken;

    private ApiHost(WebApplication app, string adminToken)
    {
        _app = app;
        _adminToken = adminToken;
        Address = new Uri(app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single());
    }

    public Uri Address { get; }

    /// <summary>The API's services (its engine, hosted services, reconciler).</summary>
    public IServiceProvider Services => _app.Services;

    public IDevDbClient AdminClient() => new HttpDevDbClient(Address, _adminToken);

    /// <param name="folder">Where the tokens file goes.</param>
    /// <param name="settings">The DevDb section's settings (runtime, home, ...).</param>
    /// <param name="services">Services to replace, e.g. the Kubernetes client.</param>
    public static async Task<ApiHost> StartAsync(string folder, IReadOnlyDictionary<string, string?> settings, Action<IServiceCollection>? services = null)
    {
        var token = TokenFile.NewToken();
        var tokensFile = Path.Combine(folder, "api-tokens.json");
        TokenFile.Write(tokensFile, [new TokenEntry("ada", ApiRoles.Admin, TokenFile.Hash(token), DateTimeOffset.UtcNow)]);
        var builder = DevDbApi.CreateBuilder(["--urls", "http://127.0.0.1:0"]);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>(settings) { ["DevDb:TokensFile"] = tokensFile });
        services?.Invoke(builder.Services);
        var app = DevDbApi.Build(builder);
        await app.StartAsync();
        return new ApiHost(app, token);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
