using System.Runtime.Versioning;
using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using KubeApiDouble;

namespace DevDb.Testing.Rig;

/// <summary>What the rig's kubelet saw a container do, for tests to assert on (exits, stops and how long they took).</summary>
[SupportedOSPlatform("linux")]
public sealed record ContainerEvent(DateTime Time, string Pod, string Container, string What, int? ExitCode = null, bool DuringStop = false, TimeSpan? StopTook = null);

/// <summary>
/// The rig's kubelet stand-in: every 100 ms it looks at the pods in the double's namespace, starts a
/// <see cref="PodRunner"/> for each new one, tells runners of pods being deleted to stop (graceful deletion), and
/// runs the storage's snapshot pass. It replaces the double's emulated kubelet and snapshot controller.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class RigKubelet : IAsyncDisposable
{
    private readonly KubeApiServer _server;
    private readonly DockerEngine _docker;
    private readonly string _ns;
    private readonly string _root;
    private readonly ConcurrentDictionary<string, PodRunner> _runners = new();
    private readonly ConcurrentQueue<ContainerEvent> _events = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private Exception? _failure;

    internal RigKubelet(KubeApiServer server, DockerEngine docker, string ns, string root)
    {
        _server = server;
        _docker = docker;
        _ns = ns;
        _root = root;
        Storage = new RigStorage(server, docker, ns, root);
        _loop = Task.Run(LoopAsync);
    }

    internal RigStorage Storage { get; }

    public IReadOnlyList<ContainerEvent> Events => _events.ToArray();

    internal IEnumerable<PodRunner> Runners => _runners.Values;

    internal void Record(string pod, string container, string what, int? exitCode = null, bool duringStop = false) =>
        _events.Enqueue(new ContainerEvent(DateTime.UtcNow, pod, container, what, exitCode, duringStop));

    internal void RecordStop(string pod, string container, int exitCode, TimeSpan took) =>
        _events.Enqueue(new ContainerEvent(DateTime.UtcNow, pod, container, $"stopped: exit {exitCode} after {took.TotalSeconds:0.0} s", exitCode, true, took));

    /// <summary>Throws if the kubelet's loop failed (a test then fails instead of waiting for a pod that never runs).</summary>
    public void ThrowIfFailed()
    {
        if (_failure is not null) throw new InvalidOperationException("The rig's kubelet failed.", _failure);
    }

    private async Task LoopAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                try
                {
                    await PassAsync();
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // A race with a deletion is retried on the next tick; anything else is kept for ThrowIfFailed.
                    if (e is not ApiError { Code: 404 or 409 }) _failure ??= e;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task PassAsync()
    {
        var pods = _server.FindAll("v1", "pods", _ns);
        var present = new HashSet<string>();
        foreach (var pod in pods)
        {
            var uid = pod["metadata"]!["uid"]!.GetValue<string>();
            present.Add(uid);
            var phase = pod["status"]?["phase"]?.GetValue<string>();
            if (!_runners.TryGetValue(uid, out var runner))
            {
                if (pod["metadata"]?["deletionTimestamp"] is not null || phase is "Succeeded" or "Failed") continue;
                runner = new PodRunner(_server, _docker, Storage, this, pod, Path.Combine(_root, "pods", uid));
                _runners[uid] = runner;
                continue;
            }
            if (pod["metadata"]?["deletionTimestamp"] is not null)
                runner.Terminate((int)(pod["metadata"]?["deletionGracePeriodSeconds"]?.GetValue<long>() ?? 30));
        }
        // A pod removed outright (a force delete, or a terminal pod deleted): its containers go at once.
        foreach (var (uid, runner) in _runners)
        {
            if (present.Contains(uid)) continue;
            if (!runner.Task.IsCompleted) runner.Terminate(0);
            else _runners.TryRemove(uid, out _);
        }
        await Storage.ReconcileAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        foreach (var runner in _runners.Values) runner.Terminate(0);
        await Task.WhenAll(_runners.Values.Select(r => r.Task));
        // Anything a crashed runner left behind.
        foreach (var id in await _docker.ListAsync("devdb.rig.pod")) await _docker.RemoveAsync(id);
        _stop.Dispose();
    }
}
