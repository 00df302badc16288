using DevDb.Api;
using DevDb.Core.Client;
using DevDb.Core.Model;
using k8s;
using Microsoft.Extensions.DependencyInjection;

namespace DevDb.Conformance.Tests.Configurations;

/// <summary>
/// The Kubernetes configurations run on the container rig: the control plane is the API-server
/// double on 127.0.0.1 (not a cluster), and the pods it is asked for (restore Jobs, database
/// servers) run as REAL containers. Clients reach a database through its Service's loopback port,
/// since the rig has no Traefik to route the SNI host name the connection details give.
/// </summary>
public abstract class RigConfiguration : Configuration
{
    protected ContainerRig Rig { get; private set; } = null!;

    public override IntendedDifferences Differences => new() { FileSources = false, CancelledWaitKeepsAcceptedWork = true, HostPerDatabase = true, HistoryAtRequest = true };

    protected async Task StartRigAsync(bool reconcile) =>
        Rig = await ContainerRig.StartAsync(S3, options => options with { Quotas = Quotas }, reconcile: reconcile, clock: Clock);

    protected override (string Host, int Port) Endpoint(ConnectionInfo connection)
    {
        var endpoint = Rig.DatabaseEndpoint(connection.Host.Split('.')[0]);
        return (endpoint.Address.ToString(), endpoint.Port);
    }

    protected override async ValueTask StopAsync()
    {
        if (Rig is not null) await Rig.DisposeAsync();
    }
}

/// <summary>The Kubernetes engine (writing records) and the reconciler (converging them), in the test's process.</summary>
public sealed class KubernetesEngineOnRig : RigConfiguration
{
    // As the module runs it with a kubeconfig: it does not probe sources (it may hold no credentials for them).
    public override IntendedDifferences Differences => base.Differences with { SourcesCheckedBeforeRecording = false };

    protected override async Task<IDevDbClient> StartAsync()
    {
        await StartRigAsync(reconcile: true);
        return ClientAs(AdminUser);
    }

    public override IDevDbClient ClientAs(string user) => ActingClient.For(Rig.Engine, ActorOf(user));

    /// <summary>A reconcile pass of the rig's reconciler deletes the records of what expired.</summary>
    public override async Task AdvanceClockAsync(TimeSpan by)
    {
        Clock.Advance(by);
        await UntilPassAsync(() => Rig.Reconciler!.CompletedPasses);
    }
}

/// <summary>HttpDevDbClient -> the real API configured as the chart configures it (Kubernetes runtime, its hosted reconciler) -> the rig.</summary>
public sealed class HttpToKubernetesEngine : RigConfiguration
{
    private ApiHost? _api;
    private IDevDbClient? _client;
    private TempFolder? _folder;

    protected override async Task<IDevDbClient> StartAsync()
    {
        // The API probes S3 sources before recording them, as in a cluster: through the AWS_* environment.
        S3.UseAsDefaultEndpoint();
        await StartRigAsync(reconcile: false);
        _folder = new TempFolder("devdb-conformance-api");
        _api = await ApiHost.StartAsync(_folder.Path, new Dictionary<string, string?> { ["DevDb:Runtime"] = "Kubernetes" }, services =>
        {
            services.PostConfigure<DevDbApiOptions>(options => options.Kubernetes = Rig.Options);
            // In a pod the client comes from the service account; here it points at the double.
            services.AddSingleton<IKubernetes>(Rig.Server.CreateClient());
            services.AddSingleton<TimeProvider>(Clock);
            // The rig's Services are loopback ports: the hosted reconciler's idle pass reaches databases there.
            services.AddSingleton<DevDb.Core.Runtimes.Kubernetes.DatabaseEndpointResolver>(Rig.DatabaseEndpointOf);
        });
        return _client = _api.ClientFor(AdminUser);
    }

    public override IDevDbClient ClientAs(string user) => _api!.ClientFor(user);

    /// <summary>A pass of the API's hosted reconciler deletes the records of what expired.</summary>
    public override async Task AdvanceClockAsync(TimeSpan by)
    {
        Clock.Advance(by);
        var reconciler = _api!.Services.GetRequiredService<DevDb.Core.Runtimes.Kubernetes.Reconciler>();
        await UntilPassAsync(() => reconciler.CompletedPasses);
    }

    protected override async ValueTask StopAsync()
    {
        _client?.Dispose();
        if (_api is not null) await _api.DisposeAsync();
        await base.StopAsync();
        _folder?.Dispose();
    }
}
