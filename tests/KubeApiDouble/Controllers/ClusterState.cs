using System.Collections.Concurrent;
using System.Text.Json.Nodes;

namespace KubeApiDouble.Controllers;

/// <summary>What the emulated controllers remember between passes, and what the test has asked of them.</summary>
internal sealed class ClusterState(KubeApiServerOptions options)
{
    private int nextPodIp;

    public KubeApiServerOptions Options { get; } = options;

    /// <summary>Pod uids the test declared ready (<see cref="PodReadiness.Manual"/>).</summary>
    public ConcurrentDictionary<string, bool> ReadyPods { get; } = new();

    /// <summary>Snapshot uids the test declared ready (<see cref="SnapshotReadiness.Manual"/>).</summary>
    public ConcurrentDictionary<string, bool> ReadySnapshots { get; } = new();
    /// <summary>Snapshots (by uid) the emulated CSI driver fails, with its message.</summary>
    public ConcurrentDictionary<string, string> FailedSnapshots { get; } = new();

    /// <summary>The outcome decided for each Job pod uid (JobOutcomes is asked once per pod).</summary>
    public ConcurrentDictionary<string, JobOutcome> PodOutcomes { get; } = new();

    /// <summary>Outcomes the test set for a Job (by uid) before its pod ran.</summary>
    public ConcurrentDictionary<string, JobOutcome> JobOverrides { get; } = new();

    public ConcurrentDictionary<string, string> PodIps { get; } = new();

    public string PodIp(string podUid) => PodIps.GetOrAdd(podUid, _ =>
    {
        var n = Interlocked.Increment(ref nextPodIp);
        return $"10.244.{(n - 1) / 254}.{(n - 1) % 254 + 1}";
    });

    public static bool IsControlledBy(JsonObject obj, string ownerUid) =>
        (obj["metadata"]?["ownerReferences"] as JsonArray)?.Any(r => r?["uid"]?.GetValue<string>() == ownerUid && r?["controller"]?.GetValue<bool>() == true) == true;

    public static string Phase(JsonObject pod) => pod["status"]?["phase"]?.GetValue<string>() ?? "Pending";

    public static bool IsTerminal(JsonObject pod) => Phase(pod) is "Succeeded" or "Failed";

    public static bool IsReady(JsonObject pod) =>
        (pod["status"]?["conditions"] as JsonArray)?.Any(c => c?["type"]?.GetValue<string>() == "Ready" && c?["status"]?.GetValue<string>() == "True") == true;
}
