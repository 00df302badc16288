using System.Text.Json.Nodes;

namespace KubeApiDouble.Controllers;

/// <summary>
/// Runs Jobs (completions 1): one pod <c>&lt;job&gt;-&lt;5 random&gt;</c> per attempt; a running pod ends as the
/// outcome says (asked once per pod); failed pods are retried until spec.backoffLimit (default 6) is exceeded, without
/// the real exponential back-off delay. The Job's status follows (active/succeeded/failed, conditions as in 1.34).
/// </summary>
internal sealed class JobController(ObjectStore store, ClusterState state) : IController
{
    public void Reconcile()
    {
        foreach (var job in store.List(ResourceCatalog.Jobs, null).Items)
        {
            if (Meta.Deleting(job)) continue;
            var ns = Meta.Namespace(job);
            var uid = Meta.Uid(job);
            var pods = store.List(ResourceCatalog.Pods, ns).Items.Where(p => ClusterState.IsControlledBy(p, uid)).ToList();
            if (Finished(job)) continue;

            foreach (var pod in pods.Where(p => ClusterState.Phase(p) == "Running" && !Meta.Deleting(p)))
            {
                var outcome = state.PodOutcomes.GetOrAdd(Meta.Uid(pod), _ =>
                    state.JobOverrides.TryRemove(uid, out var decided) ? decided : state.Options.JobOutcomes(job));
                if (outcome.Kind == JobOutcomeKind.Hold) continue;
                End(pod, outcome);
            }
            pods = store.List(ResourceCatalog.Pods, ns).Items.Where(p => ClusterState.IsControlledBy(p, uid)).ToList();

            var succeeded = pods.Count(p => ClusterState.Phase(p) == "Succeeded");
            var failed = Math.Max(pods.Count(p => ClusterState.Phase(p) == "Failed"), job["status"]?["failed"]?.GetValue<int>() ?? 0);
            var active = pods.Where(p => !ClusterState.IsTerminal(p) && !Meta.Deleting(p)).ToList();
            var backoffLimit = job["spec"]?["backoffLimit"]?.GetValue<int>() ?? 6;
            var deadline = job["spec"]?["activeDeadlineSeconds"]?.GetValue<long>();
            if (deadline is not null && job["status"]?["startTime"]?.GetValue<string>() is { } started
                && DateTime.UtcNow - DateTime.Parse(started, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AdjustToUniversal) > TimeSpan.FromSeconds(deadline.Value))
            {
                ExceedDeadline(job, active);
                continue;
            }
            if (succeeded == 0 && failed <= backoffLimit && active.Count == 0)
            {
                CreatePod(job);
                continue;
            }
            var now = ObjectStore.Now();
            store.Update(ResourceCatalog.Jobs, ns, Meta.Name(job), WriteScope.Everything, current =>
            {
                var status = current["status"] as JsonObject ?? new JsonObject();
                status["startTime"] ??= now;
                status["active"] = active.Count;
                status["ready"] = active.Count(ClusterState.IsReady);
                status["terminating"] = 0;
                if (succeeded > 0) status["succeeded"] = succeeded; else status.Remove("succeeded");
                if (failed > 0) status["failed"] = failed; else status.Remove("failed");
                if (succeeded > 0)
                {
                    status["conditions"] = new JsonArray(
                        JobCondition("SuccessCriteriaMet", "CompletionsReached", "Reached expected number of succeeded pods", now),
                        JobCondition("Complete", "CompletionsReached", "Reached expected number of succeeded pods", now));
                    status["completionTime"] = now;
                    status["active"] = 0;
                }
                else if (failed > backoffLimit)
                {
                    status["conditions"] = new JsonArray(
                        JobCondition("FailureTarget", "BackoffLimitExceeded", "Job has reached the specified backoff limit", now),
                        JobCondition("Failed", "BackoffLimitExceeded", "Job has reached the specified backoff limit", now));
                    status["active"] = 0;
                }
                current["status"] = status;
                return current;
            });
        }
    }

    /// <summary>activeDeadlineSeconds passed: the active pods are deleted and the Job fails with reason DeadlineExceeded.</summary>
    private void ExceedDeadline(JsonObject job, List<JsonObject> active)
    {
        var ns = Meta.Namespace(job);
        foreach (var pod in active)
        {
            try { store.Delete(ResourceCatalog.Pods, ns, Meta.Name(pod), orphan: false); }
            catch (ApiError error) when (error.Code == 404) { }
        }
        var now = ObjectStore.Now();
        store.Update(ResourceCatalog.Jobs, ns, Meta.Name(job), WriteScope.Everything, current =>
        {
            var status = current["status"] as JsonObject ?? new JsonObject();
            status["active"] = 0;
            status["conditions"] = new JsonArray(
                JobCondition("FailureTarget", "DeadlineExceeded", "Job was active longer than specified deadline", now),
                JobCondition("Failed", "DeadlineExceeded", "Job was active longer than specified deadline", now));
            current["status"] = status;
            return current;
        });
    }

    private static bool Finished(JsonObject job) =>
        (job["status"]?["conditions"] as JsonArray)?.Any(c =>
            c?["type"]?.GetValue<string>() is "Complete" or "Failed" && c?["status"]?.GetValue<string>() == "True") == true;

    private static JsonObject JobCondition(string type, string reason, string message, string now) => new()
    {
        ["type"] = type,
        ["status"] = "True",
        ["lastProbeTime"] = now,
        ["lastTransitionTime"] = now,
        ["reason"] = reason,
        ["message"] = message,
    };

    private void CreatePod(JsonObject job)
    {
        var jobName = Meta.Name(job);
        var uid = Meta.Uid(job);
        var template = job["spec"]?["template"] as JsonObject ?? new JsonObject();
        var labels = template["metadata"]?["labels"]?.DeepClone() as JsonObject ?? new JsonObject();
        labels["batch.kubernetes.io/controller-uid"] = uid;
        labels["batch.kubernetes.io/job-name"] = jobName;
        labels["controller-uid"] = uid;
        labels["job-name"] = jobName;
        var metadata = new JsonObject
        {
            ["name"] = $"{jobName}-{ApiHandler.RandomSuffix()}",
            ["generateName"] = jobName + "-",
            ["labels"] = labels,
            ["ownerReferences"] = new JsonArray(Meta.OwnerReference(job)),
        };
        if (template["metadata"]?["annotations"] is JsonObject annotations) metadata["annotations"] = annotations.DeepClone();
        var pod = new JsonObject
        {
            ["metadata"] = metadata,
            ["spec"] = template["spec"]?.DeepClone() ?? new JsonObject(),
        };
        Defaults.OnCreate(ResourceCatalog.Pods, pod, pvcProtection: false);
        store.Create(ResourceCatalog.Pods, Meta.Namespace(job), pod);
    }

    /// <summary>Ends a running pod: Succeeded with every container exited 0, or Failed in the named container.</summary>
    private void End(JsonObject pod, JobOutcome outcome)
    {
        store.Update(ResourceCatalog.Pods, Meta.Namespace(pod), Meta.Name(pod), WriteScope.Everything, current =>
        {
            var status = (JsonObject)(current["status"]?.DeepClone() ?? new JsonObject());
            var initContainers = Kubelet.Containers(current, "initContainers").ToList();
            var containers = Kubelet.Containers(current, "containers").ToList();
            var failedInit = outcome.Kind == JobOutcomeKind.Fail ? initContainers.FindIndex(c => c["name"]?.GetValue<string>() == outcome.ContainerName) : -1;
            var failedMain = outcome.Kind == JobOutcomeKind.Fail && failedInit < 0
                ? Math.Max(0, containers.FindIndex(c => c["name"]?.GetValue<string>() == outcome.ContainerName))
                : -1;
            var initStatuses = new JsonArray();
            for (var i = 0; i < initContainers.Count; i++)
            {
                var containerState = failedInit < 0 || i < failedInit ? Kubelet.Terminated(0, null)
                    : i == failedInit ? Kubelet.Terminated(outcome.ExitCode, outcome.TerminationMessage)
                    : new JsonObject { ["waiting"] = new JsonObject { ["reason"] = "PodInitializing" } };
                initStatuses.Add(Kubelet.ContainerStatus(initContainers[i], containerState, ready: failedInit < 0 || i < failedInit));
            }
            var statuses = new JsonArray();
            for (var i = 0; i < containers.Count; i++)
            {
                var containerState = failedInit >= 0 ? new JsonObject { ["waiting"] = new JsonObject { ["reason"] = "PodInitializing" } }
                    : i == failedMain ? Kubelet.Terminated(outcome.ExitCode, outcome.TerminationMessage)
                    : Kubelet.Terminated(0, null);
                statuses.Add(Kubelet.ContainerStatus(containers[i], containerState, ready: false));
            }
            var succeeded = outcome.Kind == JobOutcomeKind.Succeed;
            status["phase"] = succeeded ? "Succeeded" : "Failed";
            status["conditions"] = new JsonArray(
                Kubelet.Condition("PodReadyToStartContainers", false),
                Kubelet.Condition("Initialized", failedInit < 0, failedInit < 0 ? (succeeded ? "PodCompleted" : null) : "ContainersNotInitialized"),
                Kubelet.Condition("Ready", false, succeeded ? "PodCompleted" : "PodFailed"),
                Kubelet.Condition("ContainersReady", false, succeeded ? "PodCompleted" : "PodFailed"),
                Kubelet.Condition("PodScheduled", true));
            status["initContainerStatuses"] = initStatuses;
            status["containerStatuses"] = statuses;
            current["status"] = status;
            return current;
        });
    }
}
