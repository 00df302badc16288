using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using KubeApiDouble;
using Xunit;

namespace DevDb.Kubernetes.Tests.Double;

public sealed class ControllerTests : DoubleTestBase
{
    [Fact]
    public async Task A_StatefulSet_gets_a_Ready_pod_from_its_template_and_reports_it_in_status()
    {
        await Client.CoreV1.CreateNamespacedPersistentVolumeClaimAsync(Volumes.Claim("devdb-db-a-0"), Ns);
        await Client.AppsV1.CreateNamespacedStatefulSetAsync(StatefulSets.Make("devdb-db-a", claimName: "devdb-db-a-0"), Ns);
        await Server.SettleAsync();

        var pod = await Client.CoreV1.ReadNamespacedPodAsync("devdb-db-a-0", Ns);
        Assert.Equal("Running", pod.Status.Phase);
        Assert.Contains(pod.Status.Conditions, c => c.Type == "Ready" && c.Status == "True");
        Assert.Matches(@"^10\.244\.0\.\d+$", pod.Status.PodIP);
        Assert.All(pod.Status.ContainerStatuses, s => Assert.True(s.Ready));
        Assert.Equal("devdb-db-a", pod.Metadata.Labels["devdb.io/database"]);
        var owner = Assert.Single(pod.Metadata.OwnerReferences);
        Assert.True(owner.Controller);
        Assert.Equal("StatefulSet", owner.Kind);

        var sts = await Client.AppsV1.ReadNamespacedStatefulSetAsync("devdb-db-a", Ns);
        Assert.Equal(1, sts.Status.ReadyReplicas);
        Assert.Equal(1, sts.Status.AvailableReplicas);
        Assert.Equal(1, sts.Status.CurrentReplicas);
        Assert.Equal(sts.Metadata.Generation, sts.Status.ObservedGeneration);
    }

    [Fact]
    public async Task Scaling_to_zero_deletes_the_pod_and_a_template_change_replaces_it()
    {
        await Client.AppsV1.CreateNamespacedStatefulSetAsync(StatefulSets.Make("db"), Ns);
        await Server.SettleAsync();
        var firstUid = Server.Find<V1Pod>(Ns, "db-0")!.Metadata.Uid;

        await Client.AppsV1.PatchNamespacedStatefulSetAsync(new V1Patch("""{"spec":{"template":{"metadata":{"annotations":{"restart":"1"}}}}}""", V1Patch.PatchType.MergePatch), "db", Ns);
        await Server.SettleAsync();
        var replaced = Server.Find<V1Pod>(Ns, "db-0")!;
        Assert.NotEqual(firstUid, replaced.Metadata.Uid);
        Assert.Equal("1", replaced.Metadata.Annotations["restart"]);
        Assert.Contains(replaced.Status.Conditions, c => c.Type == "Ready" && c.Status == "True");

        await Client.AppsV1.PatchNamespacedStatefulSetAsync(new V1Patch("""{"spec":{"replicas":0}}""", V1Patch.PatchType.MergePatch), "db", Ns);
        await Server.SettleAsync();
        Assert.Empty((await Client.CoreV1.ListNamespacedPodAsync(Ns)).Items);
        Assert.Equal(0, (await Client.AppsV1.ReadNamespacedStatefulSetAsync("db", Ns)).Status.Replicas);
    }

    [Fact]
    public async Task A_deleted_pod_is_recreated_and_deleting_the_StatefulSet_removes_its_pod()
    {
        await Client.AppsV1.CreateNamespacedStatefulSetAsync(StatefulSets.Make("db"), Ns);
        await Server.SettleAsync();
        var firstUid = Server.Find<V1Pod>(Ns, "db-0")!.Metadata.Uid;

        Server.DeletePod(Ns, "db-0");
        await Server.SettleAsync();
        var second = Server.Find<V1Pod>(Ns, "db-0")!;
        Assert.NotEqual(firstUid, second.Metadata.Uid);

        await Client.CoreV1.DeleteNamespacedPodAsync("db-0", Ns);
        await Server.SettleAsync();
        Assert.NotEqual(second.Metadata.Uid, Server.Find<V1Pod>(Ns, "db-0")!.Metadata.Uid);

        await Client.AppsV1.DeleteNamespacedStatefulSetAsync("db", Ns);
        await Server.SettleAsync();
        Assert.Empty(Server.FindAll("v1", "pods", Ns));
    }

    [Fact]
    public async Task A_pod_whose_claim_is_not_bound_stays_Pending()
    {
        await Client.AppsV1.CreateNamespacedStatefulSetAsync(StatefulSets.Make("db", claimName: "not-there"), Ns);
        await Server.SettleAsync();

        var pod = Server.Find<V1Pod>(Ns, "db-0")!;
        Assert.Equal("Pending", pod.Status.Phase);
        Assert.Contains(pod.Status.Conditions, c => c.Type == "PodScheduled" && c.Status == "False" && c.Reason == "Unschedulable");
        Assert.Equal(0, (await Client.AppsV1.ReadNamespacedStatefulSetAsync("db", Ns)).Status.ReadyReplicas);

        await Client.CoreV1.CreateNamespacedPersistentVolumeClaimAsync(Volumes.Claim("not-there"), Ns);
        await Server.SettleAsync();
        Assert.Equal("Running", Server.Find<V1Pod>(Ns, "db-0")!.Status.Phase);
    }

    [Fact]
    public async Task Jobs_run_one_pod_and_succeed_by_default()
    {
        await Client.BatchV1.CreateNamespacedJobAsync(Jobs.Restore("devdb-shop-r1-restore"), Ns);
        await Server.SettleAsync();

        var job = await Client.BatchV1.ReadNamespacedJobAsync("devdb-shop-r1-restore", Ns);
        Assert.Equal(1, job.Status.Succeeded);
        Assert.Contains(job.Status.Conditions, c => c.Type == "Complete" && c.Status == "True");
        Assert.NotNull(job.Status.CompletionTime);
        var pod = Assert.Single((await Client.CoreV1.ListNamespacedPodAsync(Ns, labelSelector: "job-name=devdb-shop-r1-restore")).Items);
        Assert.Matches("^devdb-shop-r1-restore-[a-z0-9]{5}$", pod.Metadata.Name);
        Assert.Equal("devdb-shop-r1-restore", pod.Metadata.Labels["batch.kubernetes.io/job-name"]);
        Assert.Equal("shop", pod.Metadata.Labels["devdb.io/project"]);
        Assert.Equal("Succeeded", pod.Status.Phase);
        Assert.Equal(0, pod.Status.ContainerStatuses.Single().State.Terminated.ExitCode);
        Assert.Equal(job.Metadata.Uid, pod.Metadata.OwnerReferences.Single().Uid);
    }

    [Fact]
    public async Task A_Job_invalid_for_a_real_server_is_refused()
    {
        var job = Jobs.Restore("bad");
        job.Spec.Template.Spec.RestartPolicy = "Always";
        var status = await FailureOf(() => Client.BatchV1.CreateNamespacedJobAsync(job, Ns));
        Assert.Equal("Invalid", status["reason"]!.GetValue<string>());
    }

    [Fact]
    public async Task Held_Jobs_run_until_the_test_completes_them()
    {
        Server.Options.JobOutcomes = _ => JobOutcome.Hold;
        await Client.BatchV1.CreateNamespacedJobAsync(Jobs.Restore("held"), Ns);
        await Server.SettleAsync();
        var running = Assert.Single(Server.FindAll("v1", "pods", Ns));
        Assert.Equal("Running", running["status"]!["phase"]!.GetValue<string>());
        Assert.Equal(1, (await Client.BatchV1.ReadNamespacedJobAsync("held", Ns)).Status.Active);

        Server.CompleteJob(Ns, "held");
        await Server.SettleAsync();
        Assert.Contains((await Client.BatchV1.ReadNamespacedJobAsync("held", Ns)).Status.Conditions, c => c.Type == "Complete" && c.Status == "True");
    }

    [Fact]
    public async Task A_failing_Job_reports_the_failed_container_exit_code_and_termination_message()
    {
        Server.Options.JobOutcomes = job => job["metadata"]!["name"]!.GetValue<string>() == "fails"
            ? JobOutcome.Fail("fetch", 3, "DEVDB_ERROR SourceNotFound: s3://bucket/missing.dump does not exist")
            : JobOutcome.Succeed;
        await Client.BatchV1.CreateNamespacedJobAsync(Jobs.Restore("fails"), Ns);
        await Server.SettleAsync();

        var job = await Client.BatchV1.ReadNamespacedJobAsync("fails", Ns);
        Assert.Equal(1, job.Status.Failed);
        Assert.Contains(job.Status.Conditions, c => c.Type == "Failed" && c.Status == "True" && c.Reason == "BackoffLimitExceeded");
        var pod = Assert.Single((await Client.CoreV1.ListNamespacedPodAsync(Ns, labelSelector: "job-name=fails")).Items);
        Assert.Equal("Failed", pod.Status.Phase);
        var fetch = pod.Status.InitContainerStatuses.Single(s => s.Name == "fetch").State.Terminated;
        Assert.Equal(3, fetch.ExitCode);
        Assert.Equal("DEVDB_ERROR SourceNotFound: s3://bucket/missing.dump does not exist", fetch.Message);
        Assert.NotNull(pod.Status.ContainerStatuses.Single(s => s.Name == "restore").State.Waiting);
    }

    [Fact]
    public async Task A_failing_Job_is_retried_up_to_its_backoffLimit()
    {
        Server.Options.JobOutcomes = _ => JobOutcome.Hold;
        await Client.BatchV1.CreateNamespacedJobAsync(Jobs.Restore("retried", backoffLimit: 1), Ns);
        await Server.SettleAsync();
        Server.FailJob(Ns, "retried", "restore", "pg_restore: error: could not read input file");
        await Server.SettleAsync();
        Assert.Equal(2, Server.FindAll("v1", "pods", Ns).Count);
        Assert.Null((await Client.BatchV1.ReadNamespacedJobAsync("retried", Ns)).Status.Conditions);

        Server.FailJob(Ns, "retried", "restore", "pg_restore: error: could not read input file");
        await Server.SettleAsync();
        var job = await Client.BatchV1.ReadNamespacedJobAsync("retried", Ns);
        Assert.Equal(2, job.Status.Failed);
        Assert.Contains(job.Status.Conditions, c => c.Type == "Failed" && c.Status == "True");
        Assert.All(Server.FindAll("v1", "pods", Ns), p => Assert.Equal(
            "pg_restore: error: could not read input file",
            p["status"]!["containerStatuses"]![0]!["state"]!["terminated"]!["message"]!.GetValue<string>()));
    }

    [Fact]
    public async Task A_snapshot_of_a_bound_claim_becomes_ready_with_the_claim_size()
    {
        await Client.CoreV1.CreateNamespacedPersistentVolumeClaimAsync(Volumes.Claim("devdb-shop-r1-restore", "5Gi"), Ns);
        await Client.CustomObjects.CreateNamespacedCustomObjectAsync(Volumes.Snapshot("devdb-shop-r1", "devdb-shop-r1-restore"),
            "snapshot.storage.k8s.io", "v1", Ns, "volumesnapshots");
        await Server.SettleAsync();

        var status = Server.Find("snapshot.storage.k8s.io/v1", "volumesnapshots", Ns, "devdb-shop-r1")!["status"]!;
        Assert.True(status["readyToUse"]!.GetValue<bool>());
        Assert.Equal("5Gi", status["restoreSize"]!.GetValue<string>());
        Assert.NotNull(status["creationTime"]);
        Assert.StartsWith("snapcontent-", status["boundVolumeSnapshotContentName"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_snapshot_of_a_missing_claim_reports_an_error()
    {
        await Client.CustomObjects.CreateNamespacedCustomObjectAsync(Volumes.Snapshot("orphan", "no-such-claim"),
            "snapshot.storage.k8s.io", "v1", Ns, "volumesnapshots");
        await Server.SettleAsync();

        var status = Server.Find("snapshot.storage.k8s.io/v1", "volumesnapshots", Ns, "orphan")!["status"]!;
        Assert.False(status["readyToUse"]!.GetValue<bool>());
        Assert.Contains("no-such-claim", status["error"]!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_claim_in_use_by_a_running_pod_is_deleted_only_after_the_pod()
    {
        await Client.CoreV1.CreateNamespacedPersistentVolumeClaimAsync(Volumes.Claim("data"), Ns);
        await Client.AppsV1.CreateNamespacedStatefulSetAsync(StatefulSets.Make("db", claimName: "data"), Ns);
        await Server.SettleAsync();

        await Client.CoreV1.DeleteNamespacedPersistentVolumeClaimAsync("data", Ns);
        await Server.SettleAsync();
        Assert.NotNull((await Client.CoreV1.ReadNamespacedPersistentVolumeClaimAsync("data", Ns)).Metadata.DeletionTimestamp);

        await Client.AppsV1.DeleteNamespacedStatefulSetAsync("db", Ns);
        await Server.SettleAsync();
        Assert.Empty(Server.FindAll("v1", "persistentvolumeclaims", Ns));
    }
}

/// <summary>The double with pods and snapshots ready only when the test says so.</summary>
public sealed class ManualReadinessTests : DoubleTestBase
{
    protected override KubeApiServerOptions Options() =>
        new() { PodReadiness = PodReadiness.Manual, SnapshotReadiness = SnapshotReadiness.Manual };

    [Fact]
    public async Task A_claim_restored_from_a_snapshot_stays_Pending_until_the_snapshot_is_ready()
    {
        await Client.CoreV1.CreateNamespacedPersistentVolumeClaimAsync(Volumes.Claim("devdb-db-a-0", fromSnapshot: "devdb-shop-r1"), Ns);
        await Server.SettleAsync();
        Assert.Equal("Pending", (await Client.CoreV1.ReadNamespacedPersistentVolumeClaimAsync("devdb-db-a-0", Ns)).Status.Phase);

        await Client.CoreV1.CreateNamespacedPersistentVolumeClaimAsync(Volumes.Claim("devdb-shop-r1-restore"), Ns);
        await Client.CustomObjects.CreateNamespacedCustomObjectAsync(Volumes.Snapshot("devdb-shop-r1", "devdb-shop-r1-restore"),
            "snapshot.storage.k8s.io", "v1", Ns, "volumesnapshots");
        await Server.SettleAsync();
        Assert.False(Server.Find("snapshot.storage.k8s.io/v1", "volumesnapshots", Ns, "devdb-shop-r1")!["status"]!["readyToUse"]!.GetValue<bool>());
        Assert.Equal("Pending", (await Client.CoreV1.ReadNamespacedPersistentVolumeClaimAsync("devdb-db-a-0", Ns)).Status.Phase);

        Server.MakeSnapshotReady(Ns, "devdb-shop-r1");
        await Server.SettleAsync();
        var bound = await Client.CoreV1.ReadNamespacedPersistentVolumeClaimAsync("devdb-db-a-0", Ns);
        Assert.Equal("Bound", bound.Status.Phase);
        Assert.Equal("1Gi", bound.Status.Capacity["storage"].ToString());
    }

    [Fact]
    public async Task In_manual_readiness_a_pod_becomes_Ready_only_when_the_test_says_so()
    {
        await Client.AppsV1.CreateNamespacedStatefulSetAsync(StatefulSets.Make("db"), Ns);
        await Server.SettleAsync();
        Assert.Equal("Pending", Server.Find<V1Pod>(Ns, "db-0")!.Status.Phase);
        Assert.Equal(0, (await Client.AppsV1.ReadNamespacedStatefulSetAsync("db", Ns)).Status.ReadyReplicas);

        Server.SetPodReady(Ns, "db-0");
        await Server.SettleAsync();
        Assert.Equal("Running", Server.Find<V1Pod>(Ns, "db-0")!.Status.Phase);
        Assert.Equal(1, (await Client.AppsV1.ReadNamespacedStatefulSetAsync("db", Ns)).Status.ReadyReplicas);
    }
}
