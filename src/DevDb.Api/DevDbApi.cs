using DevDb.Api.Auth;
using DevDb.Core;
using DevDb.Core.Client;
using DevDb.Core.Engine;
using DevDb.Core.Model;
using DevDb.Core.Runtimes.Kubernetes;
using k8s;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Prometheus;

namespace DevDb.Api;

/// <summary>
/// The DevDb API host. <c>Program</c> and the tests build it the same way:
/// <c>var app = DevDbApi.Build(DevDbApi.CreateBuilder(args)); await app.RunAsync();</c>
/// </summary>
public static class DevDbApi
{
    public const string OpenApiPath = "/openapi/v1.json";

    /// <summary>Services and configuration (appsettings.json, DEVDB__* environment variables, command line). Add to it before <see cref="Build"/>.</summary>
    public static WebApplicationBuilder CreateBuilder(string[] args)
    {
        // Content root = the app's folder, so appsettings.json is found whatever the working folder.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });

        builder.Logging.ClearProviders();
        builder.Logging.AddJsonConsole(o =>
        {
            o.IncludeScopes = true;
            o.UseUtcTimestamp = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
        });

        var services = builder.Services;
        services.Configure<DevDbApiOptions>(builder.Configuration.GetSection(DevDbApiOptions.Section));
        // The clock of records and lifetimes (tests replace it with a controllable one).
        services.TryAddSingleton(TimeProvider.System);
        // What the engine's and the reconciler's passes did (expired, idle-stopped), for /metrics.
        services.AddSingleton<EngineCounters>();
        // The runtime is chosen when the engine is first resolved, so configuration added after CreateBuilder counts.
        services.AddSingleton<IDevDbService>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<DevDbApiOptions>>().Value;
            return options.Runtime == DevDbRuntime.Kubernetes
                ? new KubernetesEngine(sp.GetRequiredService<IKubernetes>(), options.Kubernetes,
                    new KubernetesEngineOptions
                    {
                        ProbeSources = true, Clock = sp.GetRequiredService<TimeProvider>(),
                        Log = sp.GetRequiredService<ILoggerFactory>().CreateLogger("DevDb.Removals"),
                    })
                : DevDbEngine.OpenLocal(new LocalEngineOptions
                {
                    Home = options.ResolvedHome, Network = options.Network, AllowSuperuserLogins = options.AllowSuperuserLogins,
                    MaxTimeToLive = options.MaxTimeToLive, IdleTimeout = options.IdleTimeout, Quotas = options.Quotas,
                    Clock = sp.GetRequiredService<TimeProvider>(), Counters = sp.GetRequiredService<EngineCounters>(),
                    ImagesToKeep = Core.Rules.ProjectRules.CheckImagesToKeep(options.ImagesToKeep, "DevDb:ImagesToKeep"),
                    Log = sp.GetRequiredService<ILoggerFactory>().CreateLogger("DevDb.Removals"),
                });
        });
        // kubeconfig when run on a workstation, the pod's service account in a cluster; made only in Kubernetes mode.
        services.AddSingleton<IKubernetes>(_ => new k8s.Kubernetes(KubernetesClientConfiguration.BuildDefaultConfig()));
        services.AddSingleton(sp => new Reconciler(sp.GetRequiredService<IKubernetes>(), sp.GetRequiredService<IOptions<DevDbApiOptions>>().Value.Kubernetes,
            sp.GetRequiredService<ILogger<Reconciler>>(), sp.GetRequiredService<TimeProvider>(), sp.GetService<DatabaseEndpointResolver>(),
            sp.GetRequiredService<EngineCounters>()));
        services.AddHostedService<ReconcilerService>();
        // One instance, so tests can see its passes (LocalEngineService.CompletedExpiryPasses).
        services.AddSingleton<LocalEngineService>();
        services.AddHostedService(sp => sp.GetRequiredService<LocalEngineService>());
        services.AddSingleton(sp => new TokenStore(sp.GetRequiredService<IOptions<DevDbApiOptions>>().Value.ResolvedTokensFile,
            sp.GetRequiredService<ILogger<TokenStore>>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<ApiMetrics>();

        services.ConfigureHttpJsonOptions(o =>
        {
            // The same settings as ApiContract.Json, which the client uses.
            o.SerializerOptions.PropertyNamingPolicy = ApiContract.Json.PropertyNamingPolicy;
            o.SerializerOptions.DefaultIgnoreCondition = ApiContract.Json.DefaultIgnoreCondition;
            foreach (var converter in ApiContract.Json.Converters) o.SerializerOptions.Converters.Add(converter);
        });
        // Unreadable bodies and parameters throw, so ProblemMiddleware answers them with a problem document.
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);

        services.AddAuthentication(BearerTokenHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, BearerTokenHandler>(BearerTokenHandler.SchemeName, null);
        services.AddAuthorizationBuilder()
            .SetFallbackPolicy(new Microsoft.AspNetCore.Authorization.AuthorizationPolicyBuilder(BearerTokenHandler.SchemeName).RequireAuthenticatedUser().Build())
            .AddPolicy(Endpoints.AdminPolicy, p => p.AddAuthenticationSchemes(BearerTokenHandler.SchemeName).RequireRole(ApiRoles.Admin));

        services.AddOpenApi("v1", OpenApiTransformers.Configure);
        // Bounded input: a body beyond the limit is refused (413) before it is read.
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = RequestLimits.MaxRequestBytes);
        // Graceful shutdown: in-flight requests finish, then the engine is disposed with the container.
        services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(30));
        return builder;
    }

    /// <summary>Builds the app: opens the engine, loads (or bootstraps) the tokens, and maps the routes.</summary>
    public static WebApplication Build(WebApplicationBuilder builder)
    {
        var app = builder.Build();
        // Fail at start, not on the first request, when the state folder or tokens file is unusable.
        app.Services.GetRequiredService<IDevDbService>();
        app.Services.GetRequiredService<TokenStore>().Initialize();
        var metrics = app.Services.GetRequiredService<ApiMetrics>();

        app.UseMiddleware<RequestIdMiddleware>();
        app.UseRouting();
        app.UseHttpMetrics(o => o.SetMetricFactory(Metrics.WithCustomRegistry(metrics.Registry)));
        app.UseMiddleware<ProblemMiddleware>();
        app.UseStatusCodePages(context => ProblemMiddleware.WriteStatusProblemAsync(context.HttpContext));
        app.UseAuthentication();
        app.UseAuthorization();
        // The engine's history and quotas name who acted: the authenticated caller, with this request's id.
        app.Use(async (context, next) =>
        {
            if (context.User.Identity?.IsAuthenticated != true) { await next(context); return; }
            var caller = Caller.From(context.User);
            using (Actor.Use(new Actor(caller.User, caller.IsAdmin, context.TraceIdentifier))) await next(context);
        });

        Endpoints.Map(app);
        // Anonymous: Prometheus scrapers carry no token; it exposes counts by state and route, no names or secrets.
        app.MapMetrics("/metrics", metrics.Registry).AllowAnonymous();
        app.MapOpenApi(OpenApiPath).AllowAnonymous();
        return app;
    }

    public static WebApplication Build(string[] args) => Build(CreateBuilder(args));
}
