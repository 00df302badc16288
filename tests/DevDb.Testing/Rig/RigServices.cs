using System.Runtime.Versioning;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using KubeApiDouble;

namespace DevDb.Testing.Rig;

/// <summary>
/// Services as loopback ports: each port of each Service in the namespace gets a listener on 127.0.0.1 (a port
/// the OS picks), which forwards every connection to a Ready pod the Service selects, into that pod's own network
/// namespace at the targetPort (a number or a container port's name). Nothing listens beyond 127.0.0.1. There is
/// no kube-proxy, no cluster IP and no Traefik: the SNI router is not emulated.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class RigServices : IAsyncDisposable
{
    private readonly KubeApiServer _server;
    private readonly RigKubelet _kubelet;
    private readonly string _ns;
    private readonly ConcurrentDictionary<(string Service, int Port), TcpListener> _listeners = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _tasks = [];

    internal RigServices(KubeApiServer server, RigKubelet kubelet, string ns)
    {
        _server = server;
        _kubelet = kubelet;
        _ns = ns;
    }

    /// <summary>The loopback address of a Service's port (its listener is opened on first use).</summary>
    public IPEndPoint Endpoint(string service, int port)
    {
        var listener = _listeners.GetOrAdd((service, port), key =>
        {
            var opened = new TcpListener(IPAddress.Loopback, 0);
            opened.Start();
            lock (_tasks) _tasks.Add(Task.Run(() => AcceptAsync(opened, key.Service, key.Port)));
            return opened;
        });
        return (IPEndPoint)listener.LocalEndpoint;
    }

    private async Task AcceptAsync(TcpListener listener, string service, int port)
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            _ = Task.Run(() => ForwardAsync(client, service, port));
        }
    }

    private async Task ForwardAsync(Socket client, string service, int port)
    {
        using (client)
        {
            Socket? upstream = null;
            try
            {
                upstream = await ConnectAsync(service, port);
                if (upstream is null) return; // no Ready pod: the connection is refused, as with no endpoints
                using var clientStream = new NetworkStream(client, ownsSocket: false);
                using var upstreamStream = new NetworkStream(upstream, ownsSocket: false);
                var up = clientStream.CopyToAsync(upstreamStream, _stop.Token);
                var down = upstreamStream.CopyToAsync(clientStream, _stop.Token);
                await Task.WhenAny(up, down);
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
            }
            finally
            {
                upstream?.Dispose();
            }
        }
    }

    private async Task<Socket?> ConnectAsync(string service, int port)
    {
        var spec = _server.Find("v1", "services", _ns, service)?["spec"] as JsonObject;
        var servicePort = (spec?["ports"] as JsonArray ?? []).OfType<JsonObject>().FirstOrDefault(p => p["port"]?.GetValue<int>() == port);
        var selector = (spec?["selector"] as JsonObject ?? []).ToDictionary(s => s.Key, s => s.Value!.GetValue<string>());
        if (servicePort is null || selector.Count == 0) return null;
        var runner = _kubelet.Runners.FirstOrDefault(r => r.Ready && selector.All(s => r.Labels.TryGetValue(s.Key, out var v) && v == s.Value));
        if (runner is null) return null;
        var target = servicePort["targetPort"];
        int targetPort = target is null ? port
            : target.GetValueKind() == System.Text.Json.JsonValueKind.Number ? target.GetValue<int>()
            : runner.NamedPorts.TryGetValue(target.GetValue<string>(), out var named) ? named : -1;
        if (targetPort < 0) return null;
        if (runner.SandboxPid is { } pid) return await NetworkNamespace.ConnectAsync(pid, targetPort, _stop.Token);
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, targetPort), _stop.Token);
        return socket;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        foreach (var listener in _listeners.Values) listener.Stop();
        Task[] tasks;
        lock (_tasks) tasks = [.. _tasks];
        await Task.WhenAll(tasks);
        _stop.Dispose();
    }
}
