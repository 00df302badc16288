using DevDb.Core.Runtimes.Kubernetes;
using k8s;
using KubeApiDouble;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

using Xunit;

namespace DevDb.Kubernetes.Tests.Runtime;

/// <summary>
/// DevDb's Kubernetes engine and reconcile loop against an API-server double on 127.0.0.1 (not a
/// cluster: the double speaks the real REST protocol and emulates the controllers DevDb relies on;
/// see KubeApiDouble's README for what it does not do).
/// </summary>
public sealed class KubernetesRig : IAsyncDisposable
{
    public const string Namespace = "devdb";
    public const string BaseDomain = "db.example.test";

    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _loops = [];

    private KubernetesRig(KubeApiServer server, KubernetesOptions options, TimeProvider? clock)
    {
        Server = server;
        Options = options;
        Client = server.CreateClient();
        Engine = new KubernetesEngine(Client, options, new KubernetesEngineOptions { PollInterval = TimeSpan.FromMilliseconds(50), Clock = clock ?? TimeProvider.System });
        // DEVDB_TEST_LOG=1 shows the reconciler's log on the console, for debugging a test.
        Reconciler = new Reconciler(Client, options, Environment.GetEnvironmentVariable("DEVDB_TEST_LOG") == "1" ? Microsoft.Extensions.Logging.LoggerFactory.Create(b => b.AddConsole().SetMinimumLevel(Microsoft.Extensions.Logging.LogLevel.Debug)).CreateLogger<Reconciler>() : NullLogger<Reconciler>.Instance, clock);
    }

    public KubeApiServer Server { get; }
    public KubernetesOptions Options { get; }
    public IKubernetes Client { get; }
    public KubernetesEngine Engine { get; }
    public Reconciler Reconciler { get; }

    /// <summary>Options as the chart sets them, with fast timings; <paramref name="configure"/> changes them further; <paramref name="clock"/> is the engine's and the reconciler's.</summary>
    public static async Task<KubernetesRig> StartAsync(Action<KubeApiServerOptions>? configureServer = null,
        Func<KubernetesOptions, KubernetesOptions>? configure = null, bool runReconciler = true, TimeProvider? clock = null)
    {
        var serverOptions = new KubeApiServerOptions();
        configureServer?.Invoke(serverOptions);
        var server = await KubeApiServer.StartAsync(serverOptions);
        var options = new KubernetesOptions
        {
            Namespace = Namespace, InstanceName = "devdb", ApiImage = "devdb/api:test", BaseDomain = BaseDomain,
            StorageClass = "fast", VolumeSnapshotClass = "csi-snapshots", RestoreVolumeSize = "10Gi",
            // Retention of the newest image only, so the tests see an unused snapshot go at once (the chart's default is 3).
            ImagesToKeep = 1,
            Traefik = new TraefikOptions { Enabled = true, TlsSecret = "devdb-wildcard-tls" },
            ResyncInterval = TimeSpan.FromMilliseconds(200),
            LeaderElection = Fast,
        };
        var rig = new KubernetesRig(server, configure?.Invoke(options) ?? options, clock);
        if (runReconciler) _ = rig.StartReconciler(rig.Reconciler, "replica-a");
        return rig;
    }

    public static LeaderElectionOptions Fast { get; } = new()
    {
        LeaseDuration = TimeSpan.FromSeconds(2), RenewDeadline = TimeSpan.FromSeconds(1.5), RetryPeriod = TimeSpan.FromMilliseconds(200),
    };

    /// <summary>Runs a reconcile loop (campaigning for the Lease) until the rig is disposed or <paramref name="stop"/> fires.</summary>
    public Task StartReconciler(Reconciler reconciler, string identity, CancellationToken stop = default)
    {
        var linked = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token, stop);
        var loop = Task.Run(() => reconciler.RunAsync(identity, linked.Token));
        _loops.Add(loop);
        return loop;
    }

    /// <summary>Waits (up to 20 s) until <paramref name="condition"/> holds, failing the test with <paramref name="what"/> otherwise.</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"Timed out waiting until {what}.");
            await Task.Delay(50);
        }
    }

    public static Task UntilAsync(Func<bool> condition, string what) => UntilAsync(() => Task.FromResult(condition()), what);

    /// <summary>
    /// Waits until the reconciler has started <paramref name="passes"/> more passes (each lists the
    /// projects once), so a test can assert what did not happen in them.
    /// </summary>
    public Task PassesAsync(int passes)
    {
        int Started() => Server.Requests.Count(r => r is { Verb: "list", Resource: DevDbGroup.Projects });
        var target = Started() + passes + 1; // + 1: the pass under way may have listed already
        return UntilAsync(() => Started() >= target, $"{passes} more reconcile passes");
    }

    public T? Find<T>(string name) where T : class, IKubernetesObject => Server.Find<T>(Namespace, name);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_loops.Select(l => l.ContinueWith(_ => { }, TaskScheduler.Default)));
        // A controller of the double that failed fails the test too, rather than hiding as a stuck wait.
        await Server.SettleAsync();
        Engine.Dispose();
        Client.Dispose();
        await Server.DisposeAsync();
        _stop.Dispose();
    }
}
