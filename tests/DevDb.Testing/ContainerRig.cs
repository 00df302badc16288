using System.Runtime.Versioning;
using System.Net;
using DevDb.Testing.Rig;
using DevDb.Core.Runtimes.Kubernetes;
using k8s;
using k8s.Models;
using KubeApiDouble;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace DevDb.Testing;

/// <summary>
/// DevDb's Kubernetes engine and reconciler against the container rig. What is real and what is not:
/// <list type="bullet">
/// <item>Control plane: the API-server double (KubeApiDouble) on 127.0.0.1: the REST protocol, the
/// StatefulSet, Job, PVC-binding and garbage-collection controllers are emulated, and so is graceful pod deletion.</item>
/// <item>Pods: REAL Docker containers (a private engine, see scripts/lib.sh start_rig_docker) from locally
/// built images: the restore Job's fetch step in the DevDb API image built from src/DevDb.Api/Dockerfile, restore,
/// set-password and the server in the postgres:15 stand-in. The kubelet stand-in applies the pod's security
/// context, volumes, the fsGroup pass, env from Secrets, termination messages, exec probes, preStop, the stop
/// signal and grace period, and restarts.</item>
/// <item>Storage: host folders (a snapshot is a copy made at once). Services: loopback ports into the pod's
/// own network namespace. Not emulated: Traefik/SNI routing, NetworkPolicies, cloud load balancers, CSI drivers.</item>
/// </list>
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class ContainerRig : IAsyncDisposable
{
    public const string Namespace = "devdb";
    public const string BaseDomain = "db.example.test";
    public const string S3Secret = "devdb-s3";

    private readonly CancellationTokenSource _stop = new();
    private readonly Task? _reconciling;
    private readonly TempFolder _folder;

    private ContainerRig(KubeApiServer server, DockerEngine docker, KubernetesOptions options, TempFolder folder, bool reconcile, TimeProvider? clock)
    {
        Server = server;
        Docker = docker;
        Options = options;
        _folder = folder;
        Client = server.CreateClient();
        Kubelet = new RigKubelet(server, docker, Namespace, folder.Path);
        Services = new RigServices(server, Kubelet, Namespace);
        Engine = new KubernetesEngine(Client, options,
            new KubernetesEngineOptions { PollInterval = TimeSpan.FromMilliseconds(100), Clock = clock ?? TimeProvider.System });
        var log = Environment.GetEnvironmentVariable("DEVDB_TEST_LOG") == "1"
            ? LoggerFactory.Create(b => b.AddConsole().SetMinimumLevel(LogLevel.Debug)).CreateLogger<Reconciler>()
            : (ILogger<Reconciler>)NullLogger<Reconciler>.Instance;
        if (reconcile)
        {
            Reconciler = new Reconciler(Client, options, log, clock, DatabaseEndpointOf);
            _reconciling = Task.Run(() => Reconciler.RunAsync("rig", _stop.Token));
        }
    }

    /// <summary>The rig's own reconciler (null when the API under test runs its hosted one).</summary>
    public Reconciler? Reconciler { get; }
    public KubeApiServer Server { get; }
    public DockerEngine Docker { get; }
    public KubernetesOptions Options { get; }
    public IKubernetes Client { get; }
    public KubernetesEngine Engine { get; }
    public RigKubelet Kubelet { get; }
    public RigServices Services { get; }

    /// <summary>The host folder of a claim (its volume).</summary>
    public string VolumeFolder(string claim) =>
        Kubelet.Storage.VolumeFolder(Server.Find("v1", "persistentvolumeclaims", Namespace, claim) ?? throw new InvalidOperationException($"no claim {claim}"));

    /// <param name="reconcile">Run a reconcile loop of the rig's own; false when the API under test runs its hosted one.</param>
    /// <param name="clock">The clock of the rig's engine and reconciler (records and lifetimes); default the system's.</param>
    public static async Task<ContainerRig> StartAsync(S3rverFixture? s3 = null, Func<KubernetesOptions, KubernetesOptions>? configure = null, bool reconcile = true,
        TimeProvider? clock = null)
    {
        var docker = DockerEngine.FromEnvironment();
        try
        {
            await docker.VersionAsync();
        }
        catch (Exception e) when (e is HttpRequestException or System.Net.Sockets.SocketException)
        {
            docker.Dispose();
            throw new InvalidOperationException(
                $"The container rig needs its Docker engine at {docker.SocketPath} (scripts/test.sh starts it: scripts/lib.sh start_rig_docker, then build_rig_images).", e);
        }
        foreach (var image in new[] { "devdb/api:rig", "postgres:15" })
            if (await docker.InspectImageAsync(image) is null)
                throw new InvalidOperationException($"The rig's image {image} is missing: build it with tests/DevDb.ContainerRig.Tests/images/build-images.sh (scripts/lib.sh build_rig_images).");

        var server = await KubeApiServer.StartAsync(new KubeApiServerOptions
        {
            // The rig's kubelet and storage replace the double's emulated kubelet and snapshot controller.
            Kubelet = false, Snapshots = false,
            // Job pods end when their real containers do: the double only keeps the Job's status.
            JobOutcomes = _ => JobOutcome.Hold,
            GracefulPodDeletion = true,
        });
        var options = new KubernetesOptions
        {
            Namespace = Namespace, InstanceName = "devdb", ApiImage = "devdb/api:rig", PostgresImage = "postgres:{0}",
            DefaultPostgresVersion = 15, BaseDomain = BaseDomain, RestoreVolumeSize = "1Gi", RestoreJobs = 2,
            Traefik = new TraefikOptions { Enabled = true, TlsSecret = "devdb-wildcard-tls" },
            S3 = s3 is null ? new S3Options() : new S3Options { Endpoint = s3.ServiceUrl, Region = S3rverFixture.Region, CredentialsSecret = S3Secret },
            ResyncInterval = TimeSpan.FromMilliseconds(500),
            LeaderElection = new LeaderElectionOptions
            {
                LeaseDuration = TimeSpan.FromSeconds(2), RenewDeadline = TimeSpan.FromSeconds(1.5), RetryPeriod = TimeSpan.FromMilliseconds(200),
            },
        };
        options = configure?.Invoke(options) ?? options;
        var rig = new ContainerRig(server, docker, options, new TempFolder("devdb-rig"), reconcile, clock);
        if (s3 is not null)
        {
            await rig.Client.CoreV1.CreateNamespacedSecretAsync(new V1Secret
            {
                Metadata = new V1ObjectMeta { Name = S3Secret },
                StringData = new Dictionary<string, string> { ["AWS_ACCESS_KEY_ID"] = S3rverFixture.AccessKey, ["AWS_SECRET_ACCESS_KEY"] = S3rverFixture.SecretKey },
            }, Namespace);
        }
        return rig;
    }

    /// <summary>Waits (up to <paramref name="seconds"/>) until <paramref name="condition"/> holds; fails the test with <paramref name="what"/> otherwise.</summary>
    public async Task UntilAsync(Func<Task<bool>> condition, string what, int seconds = 120)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(seconds);
        while (!await condition())
        {
            Kubelet.ThrowIfFailed();
            if (DateTime.UtcNow > deadline) Assert.Fail($"Timed out waiting until {what}. The rig's kubelet saw: {string.Join(" | ", Kubelet.Events.TakeLast(15))}");
            await Task.Delay(100);
        }
    }

    public Task UntilAsync(Func<bool> condition, string what, int seconds = 120) => UntilAsync(() => Task.FromResult(condition()), what, seconds);

    /// <summary>The loopback address of a database's Service (port 5432).</summary>
    public IPEndPoint DatabaseEndpoint(string database) => Services.Endpoint(KubeNames.DatabaseObject(database), Manifests.PostgresPort);

    /// <summary>What a reconciler on the rig uses to reach a database's Service (its idle pass samples clients there).</summary>
    public DnsEndPoint DatabaseEndpointOf(string database) => DatabaseEndpoint(database) is var e ? new DnsEndPoint(e.Address.ToString(), e.Port) : null!;

    public async ValueTask DisposeAsync()
    {
        // DEVDB_RIG_EVENTS=<file>: what the kubelet saw and the pods' last status, for debugging a failed test.
        if (Environment.GetEnvironmentVariable("DEVDB_RIG_EVENTS") is { Length: > 0 } eventsFile)
            await File.AppendAllLinesAsync(eventsFile, Kubelet.Events.Select(e => e.ToString())
                .Concat(Server.FindAll("v1", "pods", Namespace).Select(p => p.ToJsonString())));
        await _stop.CancelAsync();
        if (_reconciling is not null) await _reconciling.ContinueWith(_ => { }, TaskScheduler.Default);
        await Services.DisposeAsync();
        await Kubelet.DisposeAsync();
        Engine.Dispose();
        Client.Dispose();
        await Server.DisposeAsync();
        Docker.Dispose();
        _folder.Dispose();
        _stop.Dispose();
    }
}
