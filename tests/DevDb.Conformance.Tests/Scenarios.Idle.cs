using DevDb.Core;
using DevDb.Core.Client;
using DevDb.Core.Model;
using Xunit;
using static DevDb.Conformance.Tests.Configurations.Configuration;

namespace DevDb.Conformance.Tests;

/// <summary>
/// Idle stop by the configuration's clock (moved, never slept on) and real client sessions: the
/// embedded engine's pass, the API's background pass over it, and the reconciler's (which samples
/// each database over its Service) all stop a database no client used for its IdleTimeout.
/// </summary>
public abstract partial class Scenarios<TConfiguration>
{
    private static readonly TimeSpan HalfHour = TimeSpan.FromMinutes(30);

    private NewDatabaseRequest Idling(string name, TimeSpan? idleTimeout, bool isProtected = false) =>
        Request(name) with { IdleTimeout = idleTimeout, Protected = isProtected };

    /// <summary>Moves the clock and lets a stop the pass began finish (on Kubernetes the StatefulSet scales to 0 after the pass).</summary>
    private async Task<Database> AfterIdleAsync(string name, TimeSpan by)
    {
        await Configuration.AdvanceClockAsync(by);
        return await Client.WaitDatabaseAsync(name);
    }

    /// <summary>
    /// After a client's session: lets two passes see it (a session that came and went between passes counts as use
    /// at the next one; the server counts it when its backend has exited), then returns where the idle time counts from.
    /// </summary>
    private async Task<DateTimeOffset> IdleSinceAfterUseAsync(string name)
    {
        await AfterIdleAsync(name, TimeSpan.FromMinutes(1));
        var seen = await AfterIdleAsync(name, TimeSpan.FromMinutes(1));
        Assert.Equal(DatabaseStatus.Running, seen.Status);
        return seen.LastActiveAt ?? seen.Created;
    }

    /// <summary>Moves the clock to <paramref name="at"/> (never back) and lets the passes run.</summary>
    private Task<Database> AtAsync(string name, DateTimeOffset at) => AfterIdleAsync(name, at - Configuration.Clock.GetUtcNow());

    private static void StoppedIdle(Database database)
    {
        Assert.Equal((DatabaseStatus.Stopped, (StopReason?)StopReason.Idle), (database.Status, database.StopReason));
    }

    [Fact]
    public async Task An_unused_database_is_stopped_as_Idle_at_its_timeout_and_not_before_and_keeps_its_data_port_and_password()
    {
        var created = await Client.NewDatabaseAsync(Idling("uniform", HalfHour));
        Assert.Equal(HalfHour, created.IdleTimeout);
        var connection = await Client.GetConnectionAsync("uniform");
        Assert.Equal("1", await Configuration.ScalarAsync(connection, "CREATE TABLE kept (note text); INSERT INTO kept VALUES ('before the idle stop'); SELECT 1"));

        var since = await IdleSinceAfterUseAsync("uniform");

        var early = await AtAsync("uniform", since + TimeSpan.FromMinutes(29));
        Assert.Equal((DatabaseStatus.Running, (StopReason?)null), (early.Status, early.StopReason));

        var stopped = await AtAsync("uniform", since + HalfHour);
        StoppedIdle(stopped);
        StoppedIdle(Assert.Single(await Client.GetDatabasesAsync(), d => d.Name == "uniform"));
        Assert.Equal((created.Host, created.Port, created.IdleTimeout), (stopped.Host, stopped.Port, stopped.IdleTimeout));

        var started = await Client.StartDatabaseAsync("uniform");
        Assert.Equal((DatabaseStatus.Running, (StopReason?)null, created.Port), (started.Status, started.StopReason, started.Port));
        var again = await Client.GetConnectionAsync("uniform");
        Assert.Equal((connection.Host, connection.Port, connection.Password), (again.Host, again.Port, again.Password));
        Assert.Equal("before the idle stop", await Configuration.ScalarAsync(again, "SELECT note FROM kept"));
        await Client.RemoveDatabaseAsync("uniform");
    }

    [Fact]
    public async Task An_open_client_session_keeps_a_database_running_past_its_timeout_and_its_idle_time_counts_from_when_it_was_last_seen()
    {
        await Client.NewDatabaseAsync(Idling("victor", HalfHour));
        var connection = await Client.GetConnectionAsync("victor");
        await using (var session = await Configuration.OpenAsync(connection))
        {
            var used = await AfterIdleAsync("victor", TimeSpan.FromMinutes(45));
            Assert.Equal(DatabaseStatus.Running, used.Status);
            Assert.NotNull(used.LastActiveAt);
            Assert.InRange(used.LastActiveAt!.Value, Configuration.Clock.GetUtcNow() - TimeSpan.FromSeconds(1), Configuration.Clock.GetUtcNow());
            Assert.Equal(DatabaseStatus.Running, (await AfterIdleAsync("victor", TimeSpan.FromMinutes(45))).Status);
            await using var command = new Npgsql.NpgsqlCommand("SELECT 1", session);
            Assert.Equal(1, await command.ExecuteScalarAsync());
        }
        // Closed: half an hour from when a pass last saw it.
        var since = await IdleSinceAfterUseAsync("victor");
        Assert.Equal(DatabaseStatus.Running, (await AtAsync("victor", since + TimeSpan.FromMinutes(29))).Status);
        StoppedIdle(await AtAsync("victor", since + HalfHour));
        await Client.RemoveDatabaseAsync("victor");
    }

    [Fact]
    public async Task Repeating_the_New_that_made_an_idle_stopped_database_starts_it_and_a_requested_stop_says_so()
    {
        var created = await Client.NewDatabaseAsync(Idling("whiskey", HalfHour));
        StoppedIdle(await AfterIdleAsync("whiskey", HalfHour));

        var woken = await Client.NewDatabaseAsync(Idling("whiskey", HalfHour));
        Assert.Equal((DatabaseStatus.Running, (StopReason?)null, created.Port), (woken.Status, woken.StopReason, woken.Port));
        Assert.Equal("1", await Configuration.ScalarAsync(await Client.GetConnectionAsync("whiskey"), "SELECT 1"));

        var requested = await Client.StopDatabaseAsync("whiskey");
        Assert.Equal((DatabaseStatus.Stopped, (StopReason?)StopReason.Requested), (requested.Status, requested.StopReason));
        Assert.Equal(StopReason.Requested, (await Client.GetDatabaseAsync("whiskey")).StopReason);
        await Client.RemoveDatabaseAsync("whiskey");
    }

    [Fact]
    public async Task A_protected_database_is_never_idle_stopped_until_unprotected()
    {
        await Client.NewDatabaseAsync(Idling("xray", HalfHour, isProtected: true));
        var kept = await AfterIdleAsync("xray", TimeSpan.FromHours(3));
        Assert.Equal((DatabaseStatus.Running, true), (kept.Status, kept.Protected));

        await Client.SetDatabaseAsync(new SetDatabaseRequest { Name = "xray", Protected = false });
        StoppedIdle(await AfterIdleAsync("xray", TimeSpan.FromSeconds(1)));
        await Client.RemoveDatabaseAsync("xray");
    }

    [Fact]
    public async Task Set_gives_changes_and_drops_an_idle_timeout_and_a_new_one_counts_from_then()
    {
        Assert.Null((await Client.NewDatabaseAsync(Idling("yankee", null))).IdleTimeout);
        Assert.Equal(DatabaseStatus.Running, (await AfterIdleAsync("yankee", TimeSpan.FromHours(2))).Status);

        Assert.Equal(TimeSpan.FromHours(1), (await Client.SetDatabaseAsync(new SetDatabaseRequest { Name = "yankee", IdleTimeout = TimeSpan.FromHours(1) })).IdleTimeout);
        Assert.Equal(DatabaseStatus.Running, (await AfterIdleAsync("yankee", TimeSpan.FromMinutes(59))).Status);
        Assert.Null((await Client.SetDatabaseAsync(new SetDatabaseRequest { Name = "yankee", NoIdleTimeout = true })).IdleTimeout);
        Assert.Equal(DatabaseStatus.Running, (await AfterIdleAsync("yankee", TimeSpan.FromHours(2))).Status);

        await Client.SetDatabaseAsync(new SetDatabaseRequest { Name = "yankee", IdleTimeout = HalfHour });
        Assert.Equal(DatabaseStatus.Running, (await AfterIdleAsync("yankee", TimeSpan.FromMinutes(29))).Status);
        StoppedIdle(await AfterIdleAsync("yankee", TimeSpan.FromMinutes(1)));

        await Refused(ErrorCodes.LifetimeInvalid, () => Client.SetDatabaseAsync(new SetDatabaseRequest { Name = "yankee", IdleTimeout = TimeSpan.FromSeconds(10) }));
        await Refused(ErrorCodes.LifetimeInvalid, () => Client.SetDatabaseAsync(new SetDatabaseRequest { Name = "yankee", IdleTimeout = HalfHour, NoIdleTimeout = true }));
        await Refused(ErrorCodes.LifetimeInvalid, () => Client.NewDatabaseAsync(Idling("zulu", TimeSpan.Zero)));
        await Refused(ErrorCodes.LifetimeInvalid, () => Client.BeginNewDatabaseAsync(Idling("zulu", TimeSpan.FromSeconds(-1))));
        Assert.DoesNotContain(await Client.GetDatabasesAsync(), d => d.Name == "zulu");
        Assert.Equal(HalfHour, (await Client.GetDatabaseAsync("yankee")).IdleTimeout);
        await Client.RemoveDatabaseAsync("yankee");
    }

    [Fact]
    public async Task A_projects_idle_timeout_applies_to_its_new_databases_that_give_none()
    {
        try
        {
            Assert.Equal(TimeSpan.FromMinutes(20), (await Client.SetProjectAsync(new SetProjectRequest { Name = SharedProject, IdleTimeout = TimeSpan.FromMinutes(20) })).IdleTimeout);
            await Refused(ErrorCodes.LifetimeInvalid, () => Client.SetProjectAsync(new SetProjectRequest { Name = SharedProject, IdleTimeout = TimeSpan.FromSeconds(30) }));
            Assert.Equal(TimeSpan.FromMinutes(20), (await Client.NewDatabaseAsync(Idling("alfa-idle", null))).IdleTimeout);
            Assert.Equal(TimeSpan.FromHours(4), (await Client.NewDatabaseAsync(Idling("bravo-idle", TimeSpan.FromHours(4)))).IdleTimeout);
            StoppedIdle(await AfterIdleAsync("alfa-idle", TimeSpan.FromMinutes(20)));
            Assert.Equal(DatabaseStatus.Running, (await Client.GetDatabaseAsync("bravo-idle")).Status);
        }
        finally
        {
            Assert.Null((await Client.SetProjectAsync(new SetProjectRequest { Name = SharedProject, NoIdleTimeout = true })).IdleTimeout);
            foreach (var name in new[] { "alfa-idle", "bravo-idle" })
                if ((await Client.GetDatabasesAsync()).Any(d => d.Name == name)) await Client.RemoveDatabaseAsync(name);
        }
    }
}
