using System.Runtime.Versioning;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;

namespace DevDb.Testing.Rig;

/// <summary>
/// The few calls of the Docker Engine API (v1.41, Debian's docker.io 20.10) the rig's kubelet needs, over the
/// private engine's unix socket (DOCKER_HOST, default unix:///run/devdb-docker.sock). No image is ever pulled.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class DockerEngine : IDisposable
{
    public const string DefaultHost = "unix:///run/devdb-docker.sock";
    private readonly HttpClient _http;

    public DockerEngine(string host)
    {
        if (!host.StartsWith("unix://", StringComparison.Ordinal)) throw new ArgumentException($"DOCKER_HOST must be a unix:// socket, not '{host}'.");
        SocketPath = host["unix://".Length..];
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(SocketPath), cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        _http = new HttpClient(handler) { BaseAddress = new Uri("http://docker/v1.41/"), Timeout = Timeout.InfiniteTimeSpan };
    }

    public string SocketPath { get; }

    public static DockerEngine FromEnvironment() => new(Environment.GetEnvironmentVariable("DOCKER_HOST") is { Length: > 0 } host ? host : DefaultHost);

    public async Task<string> VersionAsync(CancellationToken cancellationToken = default) =>
        (await SendAsync(HttpMethod.Get, "version", null, cancellationToken))!["Version"]!.GetValue<string>();

    public async Task<JsonObject?> InspectImageAsync(string image, CancellationToken cancellationToken = default) =>
        (JsonObject?)await SendAsync(HttpMethod.Get, $"images/{Uri.EscapeDataString(image)}/json", null, cancellationToken, allowNotFound: true);

    public async Task<string> CreateAsync(string name, JsonObject config, CancellationToken cancellationToken = default) =>
        (await SendAsync(HttpMethod.Post, $"containers/create?name={Uri.EscapeDataString(name)}", config, cancellationToken))!["Id"]!.GetValue<string>();

    public Task StartAsync(string id, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, $"containers/{id}/start", null, cancellationToken);

    /// <summary>Waits until the container exits; its exit code.</summary>
    public async Task<int> WaitAsync(string id, CancellationToken cancellationToken = default) =>
        (await SendAsync(HttpMethod.Post, $"containers/{id}/wait", null, cancellationToken))!["StatusCode"]!.GetValue<int>();

    public async Task<JsonObject?> InspectAsync(string id, CancellationToken cancellationToken = default) =>
        (JsonObject?)await SendAsync(HttpMethod.Get, $"containers/{id}/json", null, cancellationToken, allowNotFound: true);

    /// <summary>Sends the container's stop signal (its image's STOPSIGNAL, else SIGTERM) and SIGKILL after <paramref name="seconds"/>, as a CRI runtime does.</summary>
    public Task StopAsync(string id, int seconds, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, $"containers/{id}/stop?t={seconds}", null, cancellationToken, allowNotFound: true);

    public Task KillAsync(string id, string signal = "KILL", CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, $"containers/{id}/kill?signal={signal}", null, cancellationToken, allowNotFound: true, allowConflict: true);

    public Task RemoveAsync(string id, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Delete, $"containers/{id}?force=true&v=true", null, cancellationToken, allowNotFound: true, allowConflict: true);

    /// <summary>Freezes every process of a running container (the cgroup freezer), as fsfreeze holds a filesystem still for a CSI snapshot.</summary>
    public Task PauseAsync(string id, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, $"containers/{id}/pause", null, cancellationToken, allowNotFound: true, allowConflict: true);

    public Task UnpauseAsync(string id, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, $"containers/{id}/unpause", null, cancellationToken, allowNotFound: true, allowConflict: true);

    /// <summary>Ids of the running containers carrying a label that mount a host folder.</summary>
    public async Task<IReadOnlyList<string>> MountingAsync(string label, string folder, CancellationToken cancellationToken = default)
    {
        var filters = Uri.EscapeDataString(new JsonObject { ["label"] = new JsonArray(label) }.ToJsonString());
        var list = (JsonArray)(await SendAsync(HttpMethod.Get, $"containers/json?filters={filters}", null, cancellationToken))!;
        return list.Where(c => (c!["Mounts"] as JsonArray ?? []).Any(m => m!["Source"]?.GetValue<string>() == folder))
            .Select(c => c!["Id"]!.GetValue<string>()).ToList();
    }

    /// <summary>Ids of the containers carrying a label (running or not).</summary>
    public async Task<IReadOnlyList<string>> ListAsync(string label, CancellationToken cancellationToken = default)
    {
        var filters = Uri.EscapeDataString(new JsonObject { ["label"] = new JsonArray(label) }.ToJsonString());
        var list = (JsonArray)(await SendAsync(HttpMethod.Get, $"containers/json?all=1&filters={filters}", null, cancellationToken))!;
        return list.Select(c => c!["Id"]!.GetValue<string>()).ToList();
    }

    /// <summary>The last lines of a container's stdout and stderr, interleaved as written.</summary>
    public async Task<string> LogsAsync(string id, int tail, CancellationToken cancellationToken = default)
    {
        using var response = await _http.GetAsync($"containers/{id}/logs?stdout=1&stderr=1&tail={tail}", cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound) return "";
        response.EnsureSuccessStatusCode();
        return Demultiplex(await response.Content.ReadAsByteArrayAsync(cancellationToken));
    }

    /// <summary>Runs a command in a running container (an exec probe or a preStop hook): its exit code, or null when it did not end in time.</summary>
    public async Task<(int? ExitCode, string Output)> ExecAsync(string id, IReadOnlyList<string> command, string? user, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var create = new JsonObject
        {
            ["AttachStdout"] = true, ["AttachStderr"] = true,
            ["Cmd"] = new JsonArray(command.Select(c => (JsonNode)c).ToArray()),
        };
        if (user is not null) create["User"] = user;
        // A paused container (a snapshot of its volume is being copied) takes no exec: the probe fails, as one timing out would.
        if (await SendAsync(HttpMethod.Post, $"containers/{id}/exec", create, cancellationToken, allowConflict: true) is not { } created) return (null, "the container is paused");
        var exec = created["Id"]!.GetValue<string>();
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        string output;
        try
        {
            using var content = Json(new JsonObject { ["Detach"] = false, ["Tty"] = false });
            using var response = await _http.PostAsync($"exec/{exec}/start", content, limit.Token);
            response.EnsureSuccessStatusCode();
            output = Demultiplex(await response.Content.ReadAsByteArrayAsync(limit.Token));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (null, $"timed out after {timeout.TotalSeconds:0.#} s");
        }
        var state = await SendAsync(HttpMethod.Get, $"exec/{exec}/json", null, cancellationToken);
        return (state?["ExitCode"]?.GetValue<int?>(), output);
    }

    private async Task<JsonNode?> SendAsync(HttpMethod method, string path, JsonObject? body, CancellationToken cancellationToken,
        bool allowNotFound = false, bool allowConflict = false)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null) request.Content = Json(body);
        using var response = await _http.SendAsync(request, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound && allowNotFound) return null;
        if (response.StatusCode == HttpStatusCode.Conflict && allowConflict) return null;
        if (response.StatusCode == HttpStatusCode.NotModified) return null;
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"Docker {method} {path} answered {(int)response.StatusCode}: {text.Trim()}");
        return text.Length == 0 ? null : JsonNode.Parse(text);
    }

    private static StringContent Json(JsonObject body) => new(body.ToJsonString(), Encoding.UTF8, "application/json");

    /// <summary>Docker's attach/log stream: frames of an 8-byte header (stream, 0, 0, 0, big-endian length) and the payload.</summary>
    private static string Demultiplex(byte[] bytes)
    {
        var text = new StringBuilder();
        var offset = 0;
        while (offset + 8 <= bytes.Length)
        {
            var length = (bytes[offset + 4] << 24) | (bytes[offset + 5] << 16) | (bytes[offset + 6] << 8) | bytes[offset + 7];
            if (bytes[offset] > 2 || offset + 8 + length > bytes.Length) return Encoding.UTF8.GetString(bytes);
            text.Append(Encoding.UTF8.GetString(bytes, offset + 8, length));
            offset += 8 + length;
        }
        return text.ToString();
    }

    public void Dispose() => _http.Dispose();
}
