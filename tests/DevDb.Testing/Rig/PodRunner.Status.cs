using System.Runtime.Versioning;
using System.Globalization;
using System.Text.Json.Nodes;
using KubeApiDouble;

namespace DevDb.Testing.Rig;

/// <summary>The pod's status as a kubelet reports it: phase, conditions and one status per container.</summary>
[SupportedOSPlatform("linux")]
internal sealed partial class PodRunner
{
    private sealed class ContainerRecord(string name, string image, bool init)
    {
        public string Name { get; } = name;
        public string Image { get; } = image;
        public bool Init { get; } = init;
        public string? Id { get; set; }
        public string State { get; set; } = "waiting";
        public string? Reason { get; set; }
        public string? Message { get; set; }
        public int ExitCode { get; set; }
        public int RestartCount { get; set; }
        public bool Ready { get; set; }
        public DateTime? StartedAt { get; set; }
        public DateTime? FinishedAt { get; set; }
        public string? TerminationLog { get; set; }
        public JsonObject? LastTerminated { get; set; }

        public JsonObject Terminated()
        {
            var terminated = new JsonObject
            {
                ["exitCode"] = ExitCode, ["reason"] = Reason ?? (ExitCode == 0 ? "Completed" : "Error"),
                ["startedAt"] = Time(StartedAt), ["finishedAt"] = Time(FinishedAt), ["containerID"] = ContainerId,
            };
            if (Message is not null) terminated["message"] = Message;
            return new JsonObject { ["terminated"] = terminated };
        }

        public string? ContainerId => Id is null ? null : "docker://" + Id;

        public JsonObject ToStatus() => new()
        {
            ["name"] = Name,
            ["image"] = Image,
            ["imageID"] = "",
            ["containerID"] = ContainerId,
            ["ready"] = Ready,
            ["started"] = State == "running",
            ["restartCount"] = RestartCount,
            ["state"] = State switch
            {
                "running" => new JsonObject { ["running"] = new JsonObject { ["startedAt"] = Time(StartedAt) } },
                "terminated" => Terminated(),
                _ => new JsonObject { ["waiting"] = Waiting() },
            },
            ["lastState"] = LastTerminated?.DeepClone() ?? new JsonObject(),
        };

        private JsonObject Waiting()
        {
            var waiting = new JsonObject { ["reason"] = Reason ?? "ContainerCreating" };
            if (Message is not null) waiting["message"] = Message;
            return waiting;
        }
    }

    private static string? Time(DateTime? time) => time?.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

    private void Record(JsonObject container, string state, string? reason = null, string? message = null)
    {
        var name = container["name"]!.GetValue<string>();
        var init = Containers("initContainers").Any(c => c["name"]!.GetValue<string>() == name);
        lock (_gate)
        {
            if (!_containers.TryGetValue(name, out var record))
                _containers[name] = record = new ContainerRecord(name, container["image"]!.GetValue<string>(), init);
            record.State = state;
            record.Reason = reason;
            record.Message = message;
        }
    }

    private string? _failure;

    private void SetPodCondition(string phase, string message)
    {
        _phase = phase;
        _failure = message;
        Publish();
    }

    /// <summary>Writes the pod's status to the double (a pod deleted meanwhile is left alone).</summary>
    private void Publish()
    {
        JsonObject status;
        lock (_gate)
        {
            var all = _containers.Values.Where(c => !c.Init).ToList();
            var ready = _phase == "Running" && all.Count > 0 && all.All(c => c.Ready);
            var terminal = _phase is "Succeeded" or "Failed";
            status = new JsonObject
            {
                ["phase"] = _phase,
                ["conditions"] = new JsonArray(
                    Condition("PodReadyToStartContainers", _sandbox is not null || _startTime is not null),
                    Condition("Initialized", _initialized, _initialized ? null : "ContainersNotInitialized"),
                    Condition("Ready", ready, ready ? null : terminal ? (_phase == "Succeeded" ? "PodCompleted" : "PodFailed") : "ContainersNotReady"),
                    Condition("ContainersReady", ready, ready ? null : "ContainersNotReady"),
                    Condition("PodScheduled", true)),
                ["hostIP"] = "127.0.0.1",
                ["podIP"] = "127.0.0.1",
                ["startTime"] = Time(_startTime ?? DateTime.UtcNow),
                ["initContainerStatuses"] = new JsonArray(_containers.Values.Where(c => c.Init).Select(c => (JsonNode)c.ToStatus()).ToArray()),
                ["containerStatuses"] = new JsonArray(all.Select(c => (JsonNode)c.ToStatus()).ToArray()),
                ["qosClass"] = "Burstable",
            };
            if (_failure is not null) status["message"] = _failure;
        }
        try
        {
            _server.Mutate("v1", "pods", _ns, _name, pod => pod["status"] = status);
        }
        catch (ApiError e) when (e.Code == 404)
        {
        }
    }

    private static JsonObject Condition(string type, bool value, string? reason = null)
    {
        var condition = new JsonObject
        {
            ["type"] = type, ["status"] = value ? "True" : "False", ["lastProbeTime"] = null,
            ["lastTransitionTime"] = Time(DateTime.UtcNow),
        };
        if (reason is not null) condition["reason"] = reason;
        return condition;
    }
}
