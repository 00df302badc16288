using System.Runtime.Versioning;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using KubeApiDouble;

namespace DevDb.Testing.Rig;

/// <summary>
/// Runs one pod as a kubelet would, with real Docker containers: volumes (claims as host folders, emptyDirs
/// 0777), the fsGroup ownership pass, a sandbox holding the pod's own network namespace (pods with ports; others
/// use the host's network, so restore Jobs reach s3rver on 127.0.0.1), init containers in order, then the
/// containers with exec probes, restarts (restartPolicy), termination messages and, on deletion, preStop hooks,
/// the stop signal and SIGKILL after the grace period. Status goes back to the API-server double.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed partial class PodRunner
{
    private readonly KubeApiServer _server;
    private readonly DockerEngine _docker;
    private readonly RigStorage _storage;
    private readonly RigKubelet _kubelet;
    private readonly string _ns;
    private readonly string _name;
    private readonly string _uid;
    private readonly string _folder;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Dictionary<string, ContainerRecord> _containers = [];
    private readonly Lock _gate = new();
    private JsonObject _pod;
    private string _phase = "Pending";
    private string? _sandbox;
    private DateTime? _startTime;
    private int _gracePeriod = 30;
    private bool _initialized;

    public PodRunner(KubeApiServer server, DockerEngine docker, RigStorage storage, RigKubelet kubelet, JsonObject pod, string folder)
    {
        _server = server;
        _docker = docker;
        _storage = storage;
        _kubelet = kubelet;
        _pod = pod;
        _ns = pod["metadata"]!["namespace"]!.GetValue<string>();
        _name = pod["metadata"]!["name"]!.GetValue<string>();
        _uid = pod["metadata"]!["uid"]!.GetValue<string>();
        _folder = folder;
        Task = Task.Run(RunAsync);
    }

    public Task Task { get; }
    public string Name => _name;
    public string Uid => _uid;

    /// <summary>The pid of the sandbox (the pod's network namespace), or null for host-network pods.</summary>
    public int? SandboxPid { get; private set; }

    public bool Ready { get; private set; }

    /// <summary>The pod's container ports by name (for Services whose targetPort is a name).</summary>
    public IReadOnlyDictionary<string, int> NamedPorts => Containers("containers")
        .SelectMany(c => c["ports"] as JsonArray ?? [])
        .Where(p => p?["name"] is not null)
        .ToDictionary(p => p!["name"]!.GetValue<string>(), p => p!["containerPort"]!.GetValue<int>());

    public IReadOnlyDictionary<string, string> Labels =>
        (_pod["metadata"]?["labels"] as JsonObject ?? []).ToDictionary(l => l.Key, l => l.Value!.GetValue<string>());

    /// <summary>Deletion: preStop hooks, the stop signal, SIGKILL after <paramref name="gracePeriodSeconds"/>, then the pod is removed.</summary>
    public void Terminate(int gracePeriodSeconds)
    {
        _gracePeriod = gracePeriodSeconds;
        _stopping.Cancel();
    }

    private async Task RunAsync()
    {
        try
        {
            await StartAsync(_stopping.Token);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            _kubelet.Record(_name, "-", $"the rig failed to run the pod: {e.Message}");
            SetPodCondition("Failed", $"the rig could not run this pod: {e.Message}");
        }
        await ShutDownAsync();
    }

    // ---- start ------------------------------------------------------------------------------------

    private async Task StartAsync(CancellationToken cancellationToken)
    {
        // Scheduled onto the rig's one node: from now on a delete is graceful (the double's GracefulPodDeletion).
        _server.Mutate("v1", "pods", _ns, _name, pod => pod["spec"]!["nodeName"] = "rig-node");
        var spec = (JsonObject)_pod["spec"]!;
        var restartPolicy = spec["restartPolicy"]?.GetValue<string>() ?? "Always";

        var mounts = await PrepareVolumesAsync(spec, cancellationToken);
        foreach (var container in Containers("initContainers").Concat(Containers("containers")))
        {
            var image = container["image"]!.GetValue<string>();
            if (await _docker.InspectImageAsync(image, cancellationToken) is null)
            {
                Record(container, "waiting", reason: "ErrImageNeverPull", message: $"image {image} is not in the rig's Docker engine (the rig never pulls images)");
                Publish();
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
        }
        _startTime = DateTime.UtcNow;
        if (Containers("containers").Any(c => c["ports"] is JsonArray { Count: > 0 })) await StartSandboxAsync(cancellationToken);
        foreach (var container in Containers("initContainers")) Record(container, "waiting", reason: "PodInitializing");
        foreach (var container in Containers("containers")) Record(container, "waiting", reason: "PodInitializing");
        Publish();

        foreach (var init in Containers("initContainers"))
        {
            while (true)
            {
                var exit = await RunToCompletionAsync(init, mounts, cancellationToken);
                if (exit == 0) break;
                if (restartPolicy == "Never")
                {
                    _phase = "Failed";
                    Publish();
                    return;
                }
                await BackOffAsync(init, cancellationToken);
            }
        }
        _initialized = true;
        _phase = "Running";
        var running = Containers("containers").Select(c => KeepRunningAsync(c, mounts, restartPolicy, cancellationToken)).ToList();
        await Task.WhenAll(running);
        // Only pods that do not restart their containers get here: every container has exited.
        _phase = _containers.Values.Where(c => !c.Init).All(c => c.ExitCode == 0) ? "Succeeded" : "Failed";
        Publish();
    }

    private async Task StartSandboxAsync(CancellationToken cancellationToken)
    {
        var image = Containers("containers").First()["image"]!.GetValue<string>();
        var config = new JsonObject
        {
            ["Image"] = image, ["Entrypoint"] = new JsonArray("sleep"), ["Cmd"] = new JsonArray("infinity"), ["User"] = "65534:65534",
            ["Labels"] = new JsonObject { ["devdb.rig.pod"] = _uid, ["devdb.rig.role"] = "sandbox" },
            ["HostConfig"] = new JsonObject { ["NetworkMode"] = "none", ["ReadonlyRootfs"] = true, ["CapDrop"] = new JsonArray("ALL"), ["SecurityOpt"] = new JsonArray("no-new-privileges") },
        };
        _sandbox = await _docker.CreateAsync($"rig-{_name}-{_uid[..8]}-sandbox", config, cancellationToken);
        await _docker.StartAsync(_sandbox, cancellationToken);
        SandboxPid = (await _docker.InspectAsync(_sandbox, cancellationToken))!["State"]!["Pid"]!.GetValue<int>();
    }

    /// <summary>Host folders of the pod's volumes (claims provisioned, emptyDirs made 0777), after the fsGroup pass.</summary>
    private async Task<Dictionary<string, string>> PrepareVolumesAsync(JsonObject spec, CancellationToken cancellationToken)
    {
        var security = spec["securityContext"] as JsonObject;
        var fsGroup = security?["fsGroup"]?.GetValue<long>();
        var onRootMismatch = security?["fsGroupChangePolicy"]?.GetValue<string>() == "OnRootMismatch";
        var folders = new Dictionary<string, string>();
        foreach (var volume in (spec["volumes"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var name = volume["name"]!.GetValue<string>();
            string folder;
            if (volume["persistentVolumeClaim"]?["claimName"]?.GetValue<string>() is { } claim)
            {
                JsonObject? pvc;
                // The double binds claims; a pod waits (Pending) until its claims are Bound, as on a real node.
                while ((pvc = _server.Find("v1", "persistentvolumeclaims", _ns, claim))?["status"]?["phase"]?.GetValue<string>() != "Bound")
                    await Task.Delay(100, cancellationToken);
                folder = await _storage.ProvisionAsync(pvc!);
            }
            else if (volume["emptyDir"] is not null)
            {
                folder = Path.Combine(_folder, "volumes", name);
                Directory.CreateDirectory(folder);
                File.SetUnixFileMode(folder, (UnixFileMode)0b111_111_111);
            }
            else throw new NotSupportedException($"volume {name}: the rig runs only persistentVolumeClaim and emptyDir volumes");
            if (fsGroup is { } group) await OwnershipPassAsync(folder, group, onRootMismatch);
            folders[name] = folder;
        }
        return folders;
    }

    /// <summary>
    /// The kubelet's SetVolumeOwnership: every entry gets group fsGroup; files g+rw, folders g+rwx and setgid. With
    /// fsGroupChangePolicy OnRootMismatch it is skipped when the volume's root already has that group and those bits.
    /// </summary>
    private async Task OwnershipPassAsync(string folder, long group, bool onRootMismatch)
    {
        if (onRootMismatch)
        {
            var stat = (await ShellAsync("stat", "-c", "%g %a", folder)).Trim().Split(' ');
            var mode = Convert.ToInt32(stat[1], 8);
            // The kubelet's check on a folder: its group, and rwMask (0660) | execMask (0110) | setgid, i.e. 02770.
            var wanted = Convert.ToInt32("2770", 8);
            if (stat[0] == group.ToString(CultureInfo.InvariantCulture) && (mode & wanted) == wanted)
            {
                _kubelet.Record(_name, "-", $"fsGroup pass skipped on {Path.GetFileName(folder)} (OnRootMismatch: the root already matches)");
                return;
            }
        }
        var gid = group.ToString(CultureInfo.InvariantCulture);
        await ShellAsync("chgrp", "-hR", gid, folder);
        await ShellAsync("find", folder, "-type", "d", "-exec", "chmod", "g+rwx,g+s", "{}", "+");
        await ShellAsync("find", folder, "!", "-type", "d", "!", "-type", "l", "-exec", "chmod", "g+rw", "{}", "+");
        _kubelet.Record(_name, "-", $"fsGroup pass on {Path.GetFileName(folder)} (group {gid})");
    }

    private static async Task<string> ShellAsync(string file, params string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} failed: {await error}");
        return await output;
    }

    // ---- containers -------------------------------------------------------------------------------

    private async Task<int> RunToCompletionAsync(JsonObject container, Dictionary<string, string> mounts, CancellationToken cancellationToken)
    {
        var record = await CreateAndStartAsync(container, mounts, cancellationToken);
        var exit = await _docker.WaitAsync(record.Id!, cancellationToken);
        await RecordExitAsync(container, record, exit, duringStop: false);
        return exit;
    }

    /// <summary>Runs a container for the life of the pod: restarted (with back-off) when it exits, as restartPolicy says; probes while it runs.</summary>
    private async Task KeepRunningAsync(JsonObject container, Dictionary<string, string> mounts, string restartPolicy, CancellationToken cancellationToken)
    {
        while (true)
        {
            var record = await CreateAndStartAsync(container, mounts, cancellationToken);
            using var probes = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var readiness = ProbeAsync(container, record, "readinessProbe", probes.Token);
            var liveness = ProbeAsync(container, record, "livenessProbe", probes.Token);
            var exit = await _docker.WaitAsync(record.Id!, cancellationToken);
            await probes.CancelAsync();
            await Task.WhenAll(readiness.ContinueWith(_ => { }, TaskScheduler.Default), liveness.ContinueWith(_ => { }, TaskScheduler.Default));
            await RecordExitAsync(container, record, exit, duringStop: false);
            if (restartPolicy == "Never" || (restartPolicy == "OnFailure" && exit == 0)) return;
            await BackOffAsync(container, cancellationToken);
        }
    }

    private async Task<ContainerRecord> CreateAndStartAsync(JsonObject container, Dictionary<string, string> mounts, CancellationToken cancellationToken)
    {
        var name = container["name"]!.GetValue<string>();
        ContainerRecord record;
        lock (_gate) record = _containers[name];
        if (record.Id is not null) await _docker.RemoveAsync(record.Id, cancellationToken);
        var terminationLog = Path.Combine(_folder, "termination", $"{name}-{record.RestartCount}");
        Directory.CreateDirectory(Path.GetDirectoryName(terminationLog)!);
        await File.WriteAllTextAsync(terminationLog, "", cancellationToken);
        File.SetUnixFileMode(terminationLog, (UnixFileMode)0b110_110_110);
        record.TerminationLog = terminationLog;
        var config = ContainerConfig(container, mounts, terminationLog);
        record.Id = await _docker.CreateAsync($"rig-{_name}-{_uid[..8]}-{name}-{record.RestartCount}", config, cancellationToken);
        await _docker.StartAsync(record.Id, cancellationToken);
        record.State = "running";
        record.StartedAt = DateTime.UtcNow;
        record.Ready = false;
        record.Reason = null;
        record.Message = null;
        Publish();
        return record;
    }

    private async Task RecordExitAsync(JsonObject container, ContainerRecord record, int exit, bool duringStop)
    {
        var message = File.Exists(record.TerminationLog) ? await File.ReadAllTextAsync(record.TerminationLog) : "";
        if (message.Length > 4096) message = message[..4096];
        if (message.Length == 0 && exit != 0 && container["terminationMessagePolicy"]?.GetValue<string>() == "FallbackToLogsOnError")
        {
            // The kubelet's fallback: the last 80 lines of the log, at most 2048 bytes.
            message = await _docker.LogsAsync(record.Id!, 80);
            if (Encoding.UTF8.GetByteCount(message) > 2048) message = message[^2048..];
        }
        lock (_gate)
        {
            record.State = "terminated";
            record.ExitCode = exit;
            record.Reason = exit == 0 ? "Completed" : "Error";
            record.Message = message.Length == 0 ? null : message;
            record.FinishedAt = DateTime.UtcNow;
            record.Ready = false;
        }
        Ready = false;
        _kubelet.Record(_name, record.Name, $"exited {exit}{(duringStop ? " while stopping" : "")}", exit, duringStop);
        Publish();
    }

    private async Task BackOffAsync(JsonObject container, CancellationToken cancellationToken)
    {
        ContainerRecord record;
        lock (_gate) record = _containers[container["name"]!.GetValue<string>()];
        var delay = TimeSpan.FromSeconds(Math.Min(300, 10 * Math.Pow(2, record.RestartCount)));
        lock (_gate)
        {
            record.LastTerminated = record.Terminated();
            record.RestartCount++;
            record.State = "waiting";
            record.Reason = "CrashLoopBackOff";
            record.Message = $"back-off {delay.TotalSeconds:0}s restarting failed container={record.Name} pod={_name}";
        }
        Publish();
        await Task.Delay(delay, cancellationToken);
    }

    private async Task ProbeAsync(JsonObject container, ContainerRecord record, string kind, CancellationToken cancellationToken)
    {
        var probe = container[kind] as JsonObject;
        if (probe is null)
        {
            if (kind == "readinessProbe") SetReady(record, true);
            return;
        }
        var command = (probe["exec"]?["command"] as JsonArray ?? throw new NotSupportedException($"{kind}: the rig runs exec probes only"))
            .Select(c => c!.GetValue<string>()).ToList();
        var period = TimeSpan.FromSeconds(probe["periodSeconds"]?.GetValue<int>() ?? 10);
        var timeout = TimeSpan.FromSeconds(probe["timeoutSeconds"]?.GetValue<int>() ?? 1);
        var failureThreshold = probe["failureThreshold"]?.GetValue<int>() ?? 3;
        await Task.Delay(TimeSpan.FromSeconds(probe["initialDelaySeconds"]?.GetValue<int>() ?? 0), cancellationToken);
        var failures = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            var (exit, _) = await _docker.ExecAsync(record.Id!, command, UserOf(container), timeout, cancellationToken);
            if (exit == 0)
            {
                failures = 0;
                if (kind == "readinessProbe") SetReady(record, true);
            }
            else if (++failures >= failureThreshold)
            {
                if (kind == "readinessProbe") SetReady(record, false);
                else
                {
                    _kubelet.Record(_name, record.Name, "liveness probe failed: restarting the container");
                    await _docker.StopAsync(record.Id!, _gracePeriod, cancellationToken);
                    return;
                }
            }
            await Task.Delay(period, cancellationToken);
        }
    }

    private void SetReady(ContainerRecord record, bool ready)
    {
        lock (_gate)
        {
            if (record.Ready == ready) return;
            record.Ready = ready;
            Ready = _containers.Values.Where(c => !c.Init).All(c => c.Ready);
        }
        Publish();
    }

    // ---- deletion ---------------------------------------------------------------------------------

    private async Task ShutDownAsync()
    {
        var started = DateTime.UtcNow;
        var grace = TimeSpan.FromSeconds(_gracePeriod);
        List<(JsonObject Container, ContainerRecord Record)> running;
        lock (_gate)
        {
            running = Containers("initContainers").Concat(Containers("containers"))
                .Select(c => (c, _containers.GetValueOrDefault(c["name"]!.GetValue<string>())))
                .Where(p => p.Item2 is { State: "running", Id: not null })
                .Select(p => (p.c, p.Item2!)).ToList();
        }
        if (_stopping.IsCancellationRequested && running.Count > 0)
        {
            Ready = false;
            await Task.WhenAll(running.Select(async pair =>
            {
                var (container, record) = pair;
                if (container["lifecycle"]?["preStop"]?["exec"]?["command"] is JsonArray hook)
                {
                    var (exit, output) = await _docker.ExecAsync(record.Id!, hook.Select(c => c!.GetValue<string>()).ToList(), UserOf(container), grace);
                    _kubelet.Record(_name, record.Name, $"preStop hook exited {exit?.ToString(CultureInfo.InvariantCulture) ?? "(timed out)"}: {output.Trim()}");
                }
                var remaining = Math.Max(2, (int)Math.Ceiling((grace - (DateTime.UtcNow - started)).TotalSeconds));
                // The CRI runtime's StopContainer: the image's STOPSIGNAL (else SIGTERM), SIGKILL after the rest of the grace period.
                await _docker.StopAsync(record.Id!, remaining);
                var state = await _docker.InspectAsync(record.Id!);
                var exitCode = state?["State"]?["ExitCode"]?.GetValue<int>() ?? -1;
                _kubelet.RecordStop(_name, record.Name, exitCode, DateTime.UtcNow - started);
                await RecordExitAsync(container, record, exitCode, duringStop: true);
            }));
        }
        foreach (var record in _containers.Values.Where(r => r.Id is not null).ToList()) await _docker.RemoveAsync(record.Id!);
        if (_sandbox is not null) await _docker.RemoveAsync(_sandbox);
        try { Directory.Delete(_folder, recursive: true); } catch (DirectoryNotFoundException) { }
        if (_stopping.IsCancellationRequested)
        {
            // Graceful deletion ends with the kubelet removing the pod (a delete with grace period 0): this pod, by uid.
            try { _server.Remove("v1", "pods", _ns, _name, _uid); } catch (ApiError) { }
        }
    }

    // ---- the container's Docker configuration --------------------------------------------------------

    private JsonObject ContainerConfig(JsonObject container, Dictionary<string, string> mounts, string terminationLog)
    {
        var podSecurity = _pod["spec"]!["securityContext"] as JsonObject;
        var security = container["securityContext"] as JsonObject;
        var user = UserOf(container);
        var runAsNonRoot = security?["runAsNonRoot"]?.GetValue<bool>() ?? podSecurity?["runAsNonRoot"]?.GetValue<bool>() ?? false;
        if (runAsNonRoot && (user is null || user.StartsWith("0:", StringComparison.Ordinal) || user == "0"))
            throw new InvalidOperationException($"container {container["name"]} has runAsNonRoot and would run as root");
        var groups = new JsonArray();
        if (podSecurity?["fsGroup"]?.GetValue<long>() is { } fsGroup) groups.Add(fsGroup.ToString(CultureInfo.InvariantCulture));
        foreach (var extra in podSecurity?["supplementalGroups"] as JsonArray ?? []) groups.Add(extra!.GetValue<long>().ToString(CultureInfo.InvariantCulture));
        var binds = new JsonArray();
        foreach (var mount in (container["volumeMounts"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var source = mounts[mount["name"]!.GetValue<string>()];
            binds.Add($"{source}:{mount["mountPath"]!.GetValue<string>()}{(mount["readOnly"]?.GetValue<bool>() == true ? ":ro" : "")}");
        }
        binds.Add($"{terminationLog}:{container["terminationMessagePath"]?.GetValue<string>() ?? "/dev/termination-log"}");
        var securityOptions = new JsonArray();
        if (security?["allowPrivilegeEscalation"]?.GetValue<bool>() == false) securityOptions.Add("no-new-privileges");
        var hostConfig = new JsonObject
        {
            ["Binds"] = binds,
            ["ReadonlyRootfs"] = security?["readOnlyRootFilesystem"]?.GetValue<bool>() ?? false,
            ["CapDrop"] = new JsonArray((security?["capabilities"]?["drop"] as JsonArray ?? []).Select(c => (JsonNode)c!.GetValue<string>()).ToArray()),
            ["CapAdd"] = new JsonArray((security?["capabilities"]?["add"] as JsonArray ?? []).Select(c => (JsonNode)c!.GetValue<string>()).ToArray()),
            ["SecurityOpt"] = securityOptions,
            ["GroupAdd"] = groups,
            ["NetworkMode"] = _sandbox is null ? "host" : $"container:{_sandbox}",
        };
        if (container["resources"]?["limits"]?["memory"]?.GetValue<string>() is { } memory)
            hostConfig["Memory"] = (long)new k8s.Models.ResourceQuantity(memory).ToDecimal();
        var config = new JsonObject
        {
            ["Image"] = container["image"]!.GetValue<string>(),
            ["Env"] = new JsonArray(Environment(container).Select(e => (JsonNode)e).ToArray()),
            ["Labels"] = new JsonObject { ["devdb.rig.pod"] = _uid, ["devdb.rig.container"] = container["name"]!.GetValue<string>() },
            ["HostConfig"] = hostConfig,
        };
        if (user is not null) config["User"] = user;
        if (container["command"] is JsonArray command) config["Entrypoint"] = command.DeepClone();
        if (container["args"] is JsonArray args) config["Cmd"] = args.DeepClone();
        else if (container["command"] is not null) config["Cmd"] = new JsonArray();
        if (container["workingDir"]?.GetValue<string>() is { } workingDir) config["WorkingDir"] = workingDir;
        return config;
    }

    private string? UserOf(JsonObject container)
    {
        var pod = _pod["spec"]!["securityContext"] as JsonObject;
        var own = container["securityContext"] as JsonObject;
        var uid = own?["runAsUser"]?.GetValue<long>() ?? pod?["runAsUser"]?.GetValue<long>();
        var gid = own?["runAsGroup"]?.GetValue<long>() ?? pod?["runAsGroup"]?.GetValue<long>();
        return uid is null ? null : gid is null ? $"{uid}" : $"{uid}:{gid}";
    }

    /// <summary>env (values, Secret keys, the pod's own fields) and envFrom (whole Secrets), read from the double when the container starts.</summary>
    private List<string> Environment(JsonObject container)
    {
        var variables = new List<string>();
        foreach (var from in (container["envFrom"] as JsonArray ?? []).OfType<JsonObject>())
        {
            if (from["secretRef"]?["name"]?.GetValue<string>() is not { } secretName) throw new NotSupportedException("envFrom: the rig reads Secrets only");
            var data = SecretData(secretName, optional: from["secretRef"]?["optional"]?.GetValue<bool>() == true);
            foreach (var (key, value) in data) variables.Add($"{from["prefix"]?.GetValue<string>()}{key}={value}");
        }
        foreach (var variable in (container["env"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var name = variable["name"]!.GetValue<string>();
            if (variable["value"] is { } value) variables.Add($"{name}={value.GetValue<string>()}");
            else if (variable["valueFrom"]?["secretKeyRef"] is JsonObject reference)
            {
                var data = SecretData(reference["name"]!.GetValue<string>(), optional: reference["optional"]?.GetValue<bool>() == true);
                var key = reference["key"]!.GetValue<string>();
                if (!data.TryGetValue(key, out var secretValue)) throw new InvalidOperationException($"couldn't find key {key} in Secret {_ns}/{reference["name"]}");
                variables.Add($"{name}={secretValue}");
            }
            else if (variable["valueFrom"]?["fieldRef"]?["fieldPath"]?.GetValue<string>() is { } field)
                variables.Add($"{name}={(field == "metadata.namespace" ? _ns : field == "metadata.name" ? _name : throw new NotSupportedException(field))}");
            else variables.Add($"{name}=");
        }
        return variables;
    }

    private Dictionary<string, string> SecretData(string name, bool optional)
    {
        var secret = _server.Find("v1", "secrets", _ns, name);
        if (secret is null)
            return optional ? [] : throw new InvalidOperationException($"secret \"{name}\" not found");
        return (secret["data"] as JsonObject ?? []).ToDictionary(d => d.Key, d => Encoding.UTF8.GetString(Convert.FromBase64String(d.Value!.GetValue<string>())));
    }

    private IEnumerable<JsonObject> Containers(string kind) => (_pod["spec"]?[kind] as JsonArray ?? []).OfType<JsonObject>();
}
