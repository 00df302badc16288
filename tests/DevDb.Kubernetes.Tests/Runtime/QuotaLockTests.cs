using DevDb.Core;
using DevDb.Core.Client;
using DevDb.Core.Model;
using DevDb.Core.Runtimes.Kubernetes;
using k8s;
using k8s.Models;
using static DevDb.Kubernetes.Tests.Runtime.KubernetesRig;
using static DevDb.Kubernetes.Tests.Runtime.ProjectLifecycleTests;
using Xunit;

namespace DevDb.Kubernetes.Tests.Runtime;

/// <summary>
/// Quota checks against records the API server keeps without transactions: the check and the write it allows
/// hold the namespace's quota Lease. Against the API-server double (its Leases are real objects with
/// resourceVersions; no pod runs: the creates are what race).
/// </summary>
public sealed class QuotaLockTests
{
    private static readonly Actor Dave = new("dave", IsAdmin: false);

    private static async Task<KubernetesRig> RigAsync(QuotaLimits quotas)
    {
        var rig = await StartAsync(configure: options => options with { Quotas = quotas });
        await rig.Engine.NewProjectAsync(Shop());
        return rig;
    }

    /// <summary>Six creates for dave at once, each on an engine of its own, as six API replicas would answer six CI jobs.</summary>
    private static async Task<string?[]> RaceAsync(KubernetesRig rig, int creates) =>
        await Task.WhenAll(Enumerable.Range(0, creates).Select(i => Task.Run(async () =>
        {
            var replica = new KubernetesEngine(rig.Server.CreateClient(), rig.Options);
            using var _ = Actor.Use(Dave);
            try
            {
                await replica.BeginNewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = $"race-{i}", Owner = "dave" });
                return null;
            }
            catch (DevDbException e)
            {
                return e.Code;
            }
        })));

    [Fact]
    public async Task Creates_racing_for_a_users_last_places_on_several_replicas_land_exactly_as_many_as_the_quota_allows()
    {
        await using var rig = await RigAsync(new QuotaLimits { DatabasesPerUser = 2 });

        var outcomes = await RaceAsync(rig, creates: 6);

        Assert.Equal(2, outcomes.Count(code => code is null));
        Assert.All(outcomes.Where(code => code is not null), code => Assert.Equal(ErrorCodes.QuotaExceeded, code));
        Assert.Equal(2, (await rig.Engine.GetDatabasesAsync()).Count(d => d.Owner == "dave"));
        // Let go after each request: nobody holds it now.
        var lease = await rig.Client.CoordinationV1.ReadNamespacedLeaseAsync(rig.Options.QuotaLeaseName, Namespace);
        Assert.True(string.IsNullOrEmpty(lease.Spec.HolderIdentity), $"The quota Lease is still held by {lease.Spec.HolderIdentity}.");
    }

    [Fact]
    public async Task A_quota_Lease_left_held_by_a_replica_that_died_is_taken_over_once_it_expires()
    {
        await using var rig = await RigAsync(new QuotaLimits { DatabasesPerUser = 2 });
        // What a replica killed between taking the Lease and letting it go leaves: held, renewed 9 s ago (it expires after 10 s).
        var renewed = DateTime.UtcNow - TimeSpan.FromSeconds(9);
        await rig.Client.CoordinationV1.CreateNamespacedLeaseAsync(new V1Lease
        {
            Metadata = new V1ObjectMeta { Name = rig.Options.QuotaLeaseName },
            Spec = new V1LeaseSpec { HolderIdentity = "replica-killed", LeaseDurationSeconds = 10, AcquireTime = renewed, RenewTime = renewed },
        }, Namespace);

        var waited = System.Diagnostics.Stopwatch.StartNew();
        using (Actor.Use(Dave))
            await rig.Engine.BeginNewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "after-crash", Owner = "dave" });

        // It waited for the dead holder's time to run out, no longer.
        Assert.InRange(waited.Elapsed, TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(8));
        Assert.Contains(await rig.Engine.GetDatabasesAsync(), d => d.Name == "after-crash");
    }

    [Fact]
    public async Task Without_a_quota_no_Lease_is_taken()
    {
        await using var rig = await RigAsync(QuotaLimits.None);

        Assert.All(await RaceAsync(rig, creates: 3), Assert.Null);

        Assert.DoesNotContain((await rig.Client.CoordinationV1.ListNamespacedLeaseAsync(Namespace)).Items, l => l.Metadata.Name == rig.Options.QuotaLeaseName);
    }
}
