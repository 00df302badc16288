using System.Text.Json.Nodes;

namespace KubeApiDouble;

/// <summary>When pods become Running and Ready.</summary>
public enum PodReadiness
{
    /// <summary>As soon as their volumes are bound.</summary>
    Auto,
    /// <summary>Only after the test calls <see cref="KubeApiServer.SetPodReady"/> (pods of Jobs run regardless).</summary>
    Manual,
}

/// <summary>When VolumeSnapshots become readyToUse.</summary>
public enum SnapshotReadiness
{
    /// <summary>As soon as their source PVC is Bound.</summary>
    Auto,
    /// <summary>Only after the test calls <see cref="KubeApiServer.MakeSnapshotReady"/>.</summary>
    Manual,
}

/// <summary>What the pod of a Job does.</summary>
public sealed record JobOutcome
{
    private JobOutcome(JobOutcomeKind kind, string? containerName = null, int exitCode = 0, string? terminationMessage = null)
    {
        Kind = kind;
        ContainerName = containerName;
        ExitCode = exitCode;
        TerminationMessage = terminationMessage;
    }

    public JobOutcomeKind Kind { get; }
    public string? ContainerName { get; }
    public int ExitCode { get; }
    public string? TerminationMessage { get; }

    /// <summary>Every container exits 0: the pod Succeeded, the Job Complete.</summary>
    public static JobOutcome Succeed { get; } = new(JobOutcomeKind.Succeed);

    /// <summary>The pod keeps Running until <see cref="KubeApiServer.CompleteJob"/> or <see cref="KubeApiServer.FailJob"/>.</summary>
    public static JobOutcome Hold { get; } = new(JobOutcomeKind.Hold);

    /// <summary>The named container (init or regular) exits with the code and termination message: the pod Failed.</summary>
    public static JobOutcome Fail(string containerName, int exitCode, string terminationMessage) =>
        new(JobOutcomeKind.Fail, containerName, exitCode, terminationMessage);
}

public enum JobOutcomeKind
{
    Succeed,
    Fail,
    Hold,
}

/// <summary>Which controllers the double emulates (all on by default) and how.</summary>
public sealed class KubeApiServerOptions
{
    /// <summary>Deletes objects whose owners (metadata.ownerReferences) are gone.</summary>
    public bool GarbageCollector { get; set; } = true;

    /// <summary>Keeps the pods (and volumeClaimTemplates PVCs) of StatefulSets and their status.</summary>
    public bool StatefulSets { get; set; } = true;

    /// <summary>Runs pods: Running, Ready, pod IP, container statuses.</summary>
    public bool Kubelet { get; set; } = true;

    /// <summary>Binds PVCs (and provisions from VolumeSnapshots), and adds/removes the pvc-protection finalizer.</summary>
    public bool Volumes { get; set; } = true;

    /// <summary>Makes VolumeSnapshots readyToUse.</summary>
    public bool Snapshots { get; set; } = true;

    /// <summary>Runs Jobs: one pod per attempt, outcomes from <see cref="JobOutcomes"/>, backoffLimit honoured.</summary>
    public bool Jobs { get; set; } = true;

    public PodReadiness PodReadiness { get; set; } = PodReadiness.Auto;

    public SnapshotReadiness SnapshotReadiness { get; set; } = SnapshotReadiness.Auto;

    /// <summary>Decides each Job pod's outcome from the Job (called once per pod, when it starts running).</summary>
    public Func<JsonObject, JobOutcome> JobOutcomes { get; set; } = _ => JobOutcome.Succeed;

    /// <summary>
    /// Pods that a kubelet has taken (spec.nodeName set) are deleted gracefully, as by a real API server: they get
    /// a deletionTimestamp and deletionGracePeriodSeconds (the pod's terminationGracePeriodSeconds, default 30)
    /// and stay until the kubelet removes them (the container rig's kubelet does). Off: deletion is immediate.
    /// </summary>
    public bool GracefulPodDeletion { get; set; }

    /// <summary>
    /// Runs before the double answers each request (once it is recorded): a test's way to make a change land between
    /// a client's read and its write, as another controller's write does on a real cluster.
    /// </summary>
    public Action<RecordedRequest>? BeforeEachRequest { get; set; }

    /// <summary>How many change events are kept for watches from a resourceVersion; older ones answer 410 Expired.</summary>
    public int WatchHistoryLimit { get; set; } = 1000;
}
