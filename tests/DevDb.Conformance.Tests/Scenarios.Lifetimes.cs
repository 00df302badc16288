using DevDb.Core;
using DevDb.Core.Client;
using DevDb.Core.Model;
using Xunit;
using static DevDb.Conformance.Tests.Configurations.Configuration;

namespace DevDb.Conformance.Tests;

/// <summary>Lifetimes: expiry by the configuration's clock (moved, never slept on), the CI lease, protection.</summary>
public abstract partial class Scenarios<TConfiguration>
{
    private static readonly TimeSpan Tolerance = TimeSpan.FromMilliseconds(1);

    private NewDatabaseRequest Leased(string name, TimeSpan? timeToLive = null, bool isProtected = false) =>
        Request(name) with { TimeToLive = timeToLive, Protected = isProtected };

    private static void ExpiresAround(DateTimeOffset expected, Database database)
    {
        Assert.NotNull(database.ExpiresAt);
        Assert.InRange(database.ExpiresAt!.Value, expected - Tolerance, expected + Tolerance);
    }

    [Fact]
    public async Task A_database_with_a_time_to_live_is_removed_when_it_expires_and_not_before()
    {
        var created = await Client.NewDatabaseAsync(Leased("lima", TimeSpan.FromMinutes(30)));
        ExpiresAround(Configuration.Clock.GetUtcNow() + TimeSpan.FromMinutes(30), created);
        ExpiresAround(created.ExpiresAt!.Value, await Client.GetDatabaseAsync("lima"));

        await Configuration.AdvanceClockAsync(TimeSpan.FromMinutes(29));
        Assert.Equal(DatabaseStatus.Running, (await Client.GetDatabaseAsync("lima")).Status);

        await Configuration.AdvanceClockAsync(TimeSpan.FromMinutes(1));
        await Refused(ErrorCodes.DatabaseNotFound, () => Client.GetDatabaseAsync("lima"));
        Assert.DoesNotContain(await Client.GetDatabasesAsync(), d => d.Name == "lima");
    }

    [Fact]
    public async Task Set_moves_the_expiry_to_a_time_and_NoExpiry_keeps_the_database()
    {
        await Client.NewDatabaseAsync(Leased("mike", TimeSpan.FromMinutes(10)));
        var later = Configuration.Clock.GetUtcNow() + TimeSpan.FromHours(2);

        ExpiresAround(later, await Client.SetDatabaseAsync(new SetDatabaseRequest { Name = "mike", ExpiresAt = later }));
        await Configuration.AdvanceClockAsync(TimeSpan.FromHours(1));
        ExpiresAround(later, await Client.GetDatabaseAsync("mike"));

        Assert.Null((await Client.SetDatabaseAsync(new SetDatabaseRequest { Name = "mike", NoExpiry = true })).ExpiresAt);
        await Configuration.AdvanceClockAsync(TimeSpan.FromHours(3));
        var kept = await Client.GetDatabaseAsync("mike");
        Assert.Equal((DatabaseStatus.Running, (DateTimeOffset?)null), (kept.Status, kept.ExpiresAt));
        await Client.RemoveDatabaseAsync("mike");
    }

    [Fact]
    public async Task A_CI_lease_renewed_with_its_time_to_live_runs_on_and_ends_that_long_after_the_last_renewal_and_a_reset_keeps_it()
    {
        await Client.NewDatabaseAsync(Leased("november", TimeSpan.FromMinutes(30)));
        await Configuration.AdvanceClockAsync(TimeSpan.FromMinutes(20));

        var renewed = await Client.SetDatabaseAsync(new SetDatabaseRequest { Name = "november", TimeToLive = TimeSpan.FromMinutes(30) });
        ExpiresAround(Configuration.Clock.GetUtcNow() + TimeSpan.FromMinutes(30), renewed);
        // Past the first lease's end: the renewal holds it.
        await Configuration.AdvanceClockAsync(TimeSpan.FromMinutes(20));
        Assert.Equal(DatabaseStatus.Running, (await Client.GetDatabaseAsync("november")).Status);

        var reset = await Client.ResetDatabaseAsync("november");
        ExpiresAround(renewed.ExpiresAt!.Value, reset);

        // The job died: no more renewals, and the lease runs out.
        await Configuration.AdvanceClockAsync(TimeSpan.FromMinutes(11));
        await Refused(ErrorCodes.DatabaseNotFound, () => Client.GetDatabaseAsync("november"));
    }

    [Fact]
    public async Task A_protected_database_refuses_remove_and_reset_and_never_expires_until_unprotected()
    {
        var created = await Client.NewDatabaseAsync(Leased("oscar", TimeSpan.FromMinutes(5), isProtected: true));
        Assert.True(created.Protected);

        var removal = await Refused(ErrorCodes.DatabaseProtected, () => Client.RemoveDatabaseAsync("oscar"));
        Assert.Contains("Set-DevDbDatabase -Name oscar -Protected:$false", removal.RecommendedAction);
        await Refused(ErrorCodes.DatabaseProtected, () => Client.ResetDatabaseAsync("oscar"));
        await Refused(ErrorCodes.DatabaseProtected, () => Client.BeginResetDatabaseAsync("oscar"));
        await Configuration.AdvanceClockAsync(TimeSpan.FromMinutes(10));
        var kept = await Client.GetDatabaseAsync("oscar");
        Assert.Equal((DatabaseStatus.Running, true, created.ImageRevision), (kept.Status, kept.Protected, kept.ImageRevision));

        // Unprotected, its expiry (long past) takes it at the next pass.
        Assert.False((await Client.SetDatabaseAsync(new SetDatabaseRequest { Name = "oscar", Protected = false })).Protected);
        await Configuration.AdvanceClockAsync(TimeSpan.FromSeconds(1));
        await Refused(ErrorCodes.DatabaseNotFound, () => Client.GetDatabaseAsync("oscar"));
    }

    [Fact]
    public async Task A_protected_project_refuses_removal_and_a_protected_database_keeps_its_project_from_a_forced_removal()
    {
        try
        {
            Assert.True((await Client.SetProjectAsync(new SetProjectRequest { Name = SharedProject, Protected = true })).Protected);
            await Refused(ErrorCodes.DatabaseProtected, () => Client.RemoveProjectAsync(SharedProject, force: true));
            Assert.True((await Client.GetProjectAsync(SharedProject)).Protected);

            await Client.SetProjectAsync(new SetProjectRequest { Name = SharedProject, Protected = false });
            await Client.NewDatabaseAsync(Leased("papa", isProtected: true));
            await Refused(ErrorCodes.DatabaseProtected, () => Client.RemoveProjectAsync(SharedProject, force: true));
            Assert.Equal(ProjectStatus.Ready, (await Client.GetProjectAsync(SharedProject)).Status);
            Assert.Equal(DatabaseStatus.Running, (await Client.GetDatabaseAsync("papa")).Status);
        }
        finally
        {
            await Client.SetProjectAsync(new SetProjectRequest { Name = SharedProject, Protected = false });
            if ((await Client.GetDatabasesAsync()).Any(d => d.Name == "papa"))
            {
                await Client.SetDatabaseAsync(new SetDatabaseRequest { Name = "papa", Protected = false });
                await Client.RemoveDatabaseAsync("papa");
            }
        }
    }

    [Fact]
    public async Task A_projects_default_time_to_live_applies_and_its_maximum_bounds_creates_and_extensions()
    {
        try
        {
            var project = await Client.SetProjectAsync(new SetProjectRequest
            {
                Name = SharedProject, DefaultTimeToLive = TimeSpan.FromHours(1), MaxTimeToLive = TimeSpan.FromHours(2),
            });
            Assert.Equal((TimeSpan.FromHours(1), TimeSpan.FromHours(2)), (project.DefaultTimeToLive, project.MaxTimeToLive));

            ExpiresAround(Configuration.Clock.GetUtcNow() + TimeSpan.FromHours(1), await Client.NewDatabaseAsync(Leased("quebec")));
            await Refused(ErrorCodes.LifetimeInvalid, () => Client.NewDatabaseAsync(Leased("romeo", TimeSpan.FromHours(3))));
            await Refused(ErrorCodes.LifetimeInvalid, () => Client.SetDatabaseAsync(new SetDatabaseRequest { Name = "quebec", NoExpiry = true }));
            await Refused(ErrorCodes.LifetimeInvalid, () => Client.SetDatabaseAsync(new SetDatabaseRequest { Name = "quebec", TimeToLive = TimeSpan.FromHours(5) }));
            ExpiresAround(Configuration.Clock.GetUtcNow() + TimeSpan.FromHours(2),
                await Client.SetDatabaseAsync(new SetDatabaseRequest { Name = "quebec", TimeToLive = TimeSpan.FromHours(2) }));
            await Refused(ErrorCodes.LifetimeInvalid, () => Client.SetProjectAsync(new SetProjectRequest { Name = SharedProject, DefaultTimeToLive = TimeSpan.FromHours(4) }));
            Assert.DoesNotContain(await Client.GetDatabasesAsync(), d => d.Name == "romeo");
        }
        finally
        {
            await Client.SetProjectAsync(new SetProjectRequest { Name = SharedProject, NoDefaultTimeToLive = true, NoMaxTimeToLive = true });
            if ((await Client.GetDatabasesAsync()).Any(d => d.Name == "quebec")) await Client.RemoveDatabaseAsync("quebec");
        }
        var settled = await Client.GetProjectAsync(SharedProject);
        Assert.Equal(((TimeSpan?)null, (TimeSpan?)null), (settled.DefaultTimeToLive, settled.MaxTimeToLive));
    }

    [Fact]
    public async Task A_lifetime_that_cannot_be_used_is_LifetimeInvalid_and_nothing_is_recorded()
    {
        var now = Configuration.Clock.GetUtcNow();
        await Refused(ErrorCodes.LifetimeInvalid, () => Client.NewDatabaseAsync(Leased("sierra") with { TimeToLive = TimeSpan.FromHours(1), ExpiresAt = now.AddHours(2) }));
        await Refused(ErrorCodes.LifetimeInvalid, () => Client.NewDatabaseAsync(Leased("sierra", TimeSpan.FromMinutes(-5))));
        await Refused(ErrorCodes.LifetimeInvalid, () => Client.BeginNewDatabaseAsync(Leased("sierra") with { ExpiresAt = now.AddMinutes(-1) }));
        Assert.DoesNotContain(await Client.GetDatabasesAsync(), d => d.Name == "sierra");

        await Client.NewDatabaseAsync(Leased("tango", TimeSpan.FromHours(1)));
        var before = (await Client.GetDatabaseAsync("tango")).ExpiresAt;
        await Refused(ErrorCodes.LifetimeInvalid, () => Client.SetDatabaseAsync(new SetDatabaseRequest { Name = "tango", NoExpiry = true, TimeToLive = TimeSpan.FromHours(1) }));
        await Refused(ErrorCodes.LifetimeInvalid, () => Client.SetDatabaseAsync(new SetDatabaseRequest { Name = "tango", TimeToLive = TimeSpan.Zero }));
        await Refused(ErrorCodes.LifetimeInvalid, () => Client.SetDatabaseAsync(new SetDatabaseRequest { Name = "tango", ExpiresAt = now.AddDays(-1) }));
        await Refused(ErrorCodes.DatabaseNotFound, () => Client.SetDatabaseAsync(new SetDatabaseRequest { Name = "nope", TimeToLive = TimeSpan.FromHours(1) }));
        await Refused(ErrorCodes.ProjectNotFound, () => Client.SetProjectAsync(new SetProjectRequest { Name = "nope", Protected = true }));
        Assert.Equal(before, (await Client.GetDatabaseAsync("tango")).ExpiresAt);
        await Client.RemoveDatabaseAsync("tango");
    }
}
