using DevDb.Core;
using DevDb.Core.Client;
using DevDb.Core.Model;
using Npgsql;
using Xunit;
using static DevDb.Conformance.Tests.Configurations.Configuration;

namespace DevDb.Conformance.Tests;

public abstract partial class Scenarios<TConfiguration>
{
    private NewDatabaseRequest Request(string name, string owner = "dave") => new() { Project = SharedProject, Name = name, Owner = owner };

    [Fact]
    public async Task A_new_database_runs_the_images_data_with_a_login_of_its_own_that_is_not_a_superuser()
    {
        var database = await Client.NewDatabaseAsync(Request("alpha"));
        var connection = await Client.GetConnectionAsync("alpha");

        Assert.Equal((DatabaseStatus.Running, SharedProject, 1, "dave", "app"),
            (database.Status, database.Project, database.ImageRevision, database.Owner, database.DatabaseName));
        Assert.Equal((database.Host, database.Port, database.Username), (connection.Host, connection.Port, connection.Username));
        Assert.Equal(32, connection.Password.Length);
        if (Differences.HostPerDatabase) Assert.Equal(("alpha.", 5432), (database.Host[..6], database.Port));
        else Assert.NotEqual(5432, database.Port);
        Assert.Equal("5000", await Configuration.ScalarAsync(connection, "SELECT count(*) FROM orders"));
        // The login owns what was restored (it can change it) but cannot reach the server's OS.
        Assert.Equal("False", await Configuration.ScalarAsync(connection, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"));
        Assert.Equal("1", await Configuration.ScalarAsync(connection, "ALTER TABLE orders ADD COLUMN note text; SELECT 1"));
        var program = await Assert.ThrowsAsync<PostgresException>(() => Configuration.ScalarAsync(connection, "COPY (SELECT 1) TO PROGRAM 'id'"));
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, program.SqlState);

        Assert.Equal("alpha", Assert.Single(await Client.GetDatabasesAsync(owner: "dave"), d => d.Name == "alpha").Name);
        Assert.Contains(await Client.GetDatabasesAsync(SharedProject), d => d.Name == "alpha");
        Assert.DoesNotContain(await Client.GetDatabasesAsync(owner: "nobody"), d => d.Name == "alpha");
        await Client.RemoveDatabaseAsync("alpha");
    }

    [Fact]
    public async Task Repeating_an_identical_database_request_returns_it_with_the_same_port_and_password()
    {
        var first = await Client.NewDatabaseAsync(Request("bravo"));
        var password = (await Client.GetConnectionAsync("bravo")).Password;

        var again = await Client.NewDatabaseAsync(Request("bravo"));
        var begun = await Client.BeginNewDatabaseAsync(Request("bravo"));

        foreach (var database in new[] { again, begun })
            Assert.Equal((DatabaseStatus.Running, first.Port, first.Created), (database.Status, database.Port, database.Created));
        Assert.Equal(password, (await Client.GetConnectionAsync("bravo")).Password);
        Assert.Single(await Client.GetDatabasesAsync(), d => d.Name == "bravo");
        await Client.RemoveDatabaseAsync("bravo");
    }

    [Fact]
    public async Task A_different_database_under_a_taken_name_is_DatabaseExists_and_changes_nothing()
    {
        var first = await Client.NewDatabaseAsync(Request("charlie"));

        await Refused(ErrorCodes.DatabaseExists, () => Client.NewDatabaseAsync(Request("charlie", owner: "erin")));
        await Refused(ErrorCodes.DatabaseExists, () => Client.BeginNewDatabaseAsync(Request("charlie", owner: "erin")));

        var after = await Client.GetDatabaseAsync("charlie");
        Assert.Equal((DatabaseStatus.Running, "dave", first.Port), (after.Status, after.Owner, after.Port));
        await Client.RemoveDatabaseAsync("charlie");
    }

    [Fact]
    public async Task A_database_that_does_not_exist_is_DatabaseNotFound_for_every_method()
    {
        await Refused(ErrorCodes.DatabaseNotFound, () => Client.GetDatabaseAsync("nope"));
        await Refused(ErrorCodes.DatabaseNotFound, () => Client.GetConnectionAsync("nope"));
        await Refused(ErrorCodes.DatabaseNotFound, () => Client.WaitDatabaseAsync("nope"));
        await Refused(ErrorCodes.DatabaseNotFound, () => Client.RemoveDatabaseAsync("nope"));
        await Refused(ErrorCodes.DatabaseNotFound, () => Client.ResetDatabaseAsync("nope"));
        await Refused(ErrorCodes.DatabaseNotFound, () => Client.BeginResetDatabaseAsync("nope"));
        await Refused(ErrorCodes.DatabaseNotFound, () => Client.StopDatabaseAsync("nope"));
        await Refused(ErrorCodes.DatabaseNotFound, () => Client.BeginStopDatabaseAsync("nope"));
        await Refused(ErrorCodes.DatabaseNotFound, () => Client.StartDatabaseAsync("nope"));
        await Refused(ErrorCodes.DatabaseNotFound, () => Client.BeginStartDatabaseAsync("nope"));
    }

    [Theory]
    [InlineData("Dave")]
    [InlineData("dave's")]
    [InlineData("a b")]
    [InlineData("x;drop table orders")]
    public async Task A_database_name_that_is_not_a_DNS_label_is_NameInvalid_and_nothing_is_recorded(string name)
    {
        await Refused(ErrorCodes.NameInvalid, () => Client.NewDatabaseAsync(Request(name)));
        await Refused(ErrorCodes.NameInvalid, () => Client.BeginNewDatabaseAsync(Request(name)));
        Assert.DoesNotContain(await Client.GetDatabasesAsync(), d => d.Name == name);
    }

    [Fact]
    public async Task Stop_and_start_keep_the_data_the_port_and_the_password()
    {
        var created = await Client.NewDatabaseAsync(Request("delta"));
        var before = await Client.GetConnectionAsync("delta");
        await Configuration.ScalarAsync(before, "CREATE TABLE scratch (id int); INSERT INTO scratch VALUES (7); SELECT 1");

        var stopped = await Client.StopDatabaseAsync("delta");
        Assert.Equal(DatabaseStatus.Stopped, stopped.Status);
        Assert.Equal(DatabaseStatus.Stopped, (await Client.StopDatabaseAsync("delta")).Status);
        var started = await Client.StartDatabaseAsync("delta");
        Assert.Equal(DatabaseStatus.Running, started.Status);
        Assert.Equal(DatabaseStatus.Running, (await Client.StartDatabaseAsync("delta")).Status);

        var after = await Client.GetConnectionAsync("delta");
        Assert.Equal((created.Host, created.Port, before.Password), (after.Host, after.Port, after.Password));
        Assert.Equal("7", await Configuration.ScalarAsync(after, "SELECT id FROM scratch"));
        await Client.RemoveDatabaseAsync("delta");
    }

    [Fact]
    public async Task Reset_goes_back_to_the_image_keeping_the_port_the_user_and_the_password()
    {
        var created = await Client.NewDatabaseAsync(Request("echo"));
        var before = await Client.GetConnectionAsync("echo");
        await Configuration.ScalarAsync(before, "DELETE FROM order_items; DELETE FROM orders; CREATE TABLE scratch (id int); SELECT 1");

        var reset = await Client.ResetDatabaseAsync("echo", new Reports());

        Assert.Equal((DatabaseStatus.Running, 1, created.Port), (reset.Status, reset.ImageRevision, reset.Port));
        var after = await Client.GetConnectionAsync("echo");
        Assert.Equal((before.Username, before.Password), (after.Username, after.Password));
        Assert.Equal("5000", await Configuration.ScalarAsync(after, "SELECT count(*) FROM orders"));
        Assert.Equal("0", await Configuration.ScalarAsync(after, "SELECT count(*) FROM pg_tables WHERE tablename = 'scratch'"));
        await Client.RemoveDatabaseAsync("echo");
    }

    [Fact]
    public async Task Remove_deletes_the_database_and_its_login_and_a_second_remove_is_DatabaseNotFound()
    {
        await Client.NewDatabaseAsync(Request("foxtrot"));
        var connection = await Client.GetConnectionAsync("foxtrot");

        await Client.RemoveDatabaseAsync("foxtrot");

        await Refused(ErrorCodes.DatabaseNotFound, () => Client.GetDatabaseAsync("foxtrot"));
        await Refused(ErrorCodes.DatabaseNotFound, () => Client.RemoveDatabaseAsync("foxtrot"));
        Assert.DoesNotContain(await Client.GetDatabasesAsync(), d => d.Name == "foxtrot");
        await Assert.ThrowsAnyAsync<Exception>(() => Configuration.ScalarAsync(connection, "SELECT 1"));
    }

    [Fact]
    public async Task Long_work_begins_at_once_with_a_transitional_status_and_is_waited_for()
    {
        var creating = await Client.BeginNewDatabaseAsync(Request("golf"));
        Assert.Equal(DatabaseStatus.Creating, creating.Status);
        Assert.Equal(DatabaseStatus.Running, (await Client.WaitDatabaseAsync("golf", new Reports())).Status);

        Assert.Equal(DatabaseStatus.Stopping, (await Client.BeginStopDatabaseAsync("golf")).Status);
        Assert.Equal(DatabaseStatus.Stopped, (await Client.WaitDatabaseAsync("golf")).Status);
        Assert.Equal(DatabaseStatus.Starting, (await Client.BeginStartDatabaseAsync("golf")).Status);
        Assert.Equal(DatabaseStatus.Running, (await Client.WaitDatabaseAsync("golf")).Status);
        Assert.Equal(DatabaseStatus.Resetting, (await Client.BeginResetDatabaseAsync("golf")).Status);
        var reset = await Client.WaitDatabaseAsync("golf");
        Assert.Equal(DatabaseStatus.Running, reset.Status);
        Assert.Equal("5000", await Configuration.ScalarAsync(await Client.GetConnectionAsync("golf"), "SELECT count(*) FROM orders"));
        await Client.RemoveDatabaseAsync("golf");
    }

    [Fact]
    public async Task A_step_asked_for_while_another_is_under_way_is_StateLocked_and_the_first_one_finishes()
    {
        await Client.NewDatabaseAsync(Request("mike"));

        Assert.Equal(DatabaseStatus.Stopping, (await Client.BeginStopDatabaseAsync("mike")).Status);
        await Refused(ErrorCodes.StateLocked, () => Client.BeginResetDatabaseAsync("mike"));

        Assert.Equal(DatabaseStatus.Stopped, (await Client.WaitDatabaseAsync("mike")).Status);
        await Client.RemoveDatabaseAsync("mike");
    }

    [Fact]
    public async Task Two_identical_creates_at_once_make_one_database()
    {
        var both = await Task.WhenAll(Client.NewDatabaseAsync(Request("hotel")), Client.NewDatabaseAsync(Request("hotel")));

        Assert.All(both, d => Assert.Equal(DatabaseStatus.Running, d.Status));
        Assert.Equal(both[0].Port, both[1].Port);
        Assert.Single(await Client.GetDatabasesAsync(), d => d.Name == "hotel");
        Assert.Equal("5000", await Configuration.ScalarAsync(await Client.GetConnectionAsync("hotel"), "SELECT count(*) FROM orders"));
        await Client.RemoveDatabaseAsync("hotel");
    }

    [Fact]
    public async Task Two_conflicting_creates_at_once_make_one_database_and_one_DatabaseExists()
    {
        var dave = Client.NewDatabaseAsync(Request("india", owner: "dave"));
        var erin = Client.NewDatabaseAsync(Request("india", owner: "erin"));
        await Task.WhenAll(dave.ContinueWith(_ => { }, TaskScheduler.Default), erin.ContinueWith(_ => { }, TaskScheduler.Default));

        var winner = Assert.Single(new[] { dave, erin }, t => t.IsCompletedSuccessfully);
        var loser = Assert.Single(new[] { dave, erin }, t => !t.IsCompletedSuccessfully);
        Assert.Equal(ErrorCodes.DatabaseExists, Assert.IsType<DevDbException>(loser.Exception!.InnerException).Code);
        Assert.Equal((await winner).Owner, (await Client.GetDatabaseAsync("india")).Owner);
        await Client.RemoveDatabaseAsync("india");
    }

    [Fact]
    public async Task A_create_reports_progress_while_it_works()
    {
        var progress = new Reports();

        await Client.NewDatabaseAsync(Request("juliet"), progress);

        Assert.NotEmpty(progress.All);
        Assert.All(progress.All, p => Assert.False(string.IsNullOrWhiteSpace(p.Activity)));
        await Client.RemoveDatabaseAsync("juliet");
    }

    [Fact]
    public async Task A_request_cancelled_before_it_is_sent_makes_nothing()
    {
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Client.NewDatabaseAsync(Request("kilo"), cancellationToken: cancelled.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Client.NewProjectAsync(Configuration.Shop with { Name = "kilo" }, cancellationToken: cancelled.Token));

        await Refused(ErrorCodes.DatabaseNotFound, () => Client.GetDatabaseAsync("kilo"));
        await Refused(ErrorCodes.ProjectNotFound, () => Client.GetProjectAsync("kilo"));
    }

    [Fact]
    public async Task Cancelling_a_create_while_it_works_rolls_it_back_in_process_and_only_stops_the_wait_on_a_server()
    {
        using var cancel = new CancellationTokenSource();
        // Cancelled at the first progress report: the create has been recorded and is under way.
        var progress = new Reports(_ => cancel.Cancel());

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Client.NewDatabaseAsync(Request("lima"), progress, cancel.Token));

        if (Differences.CancelledWaitKeepsAcceptedWork)
        {
            Assert.Equal(DatabaseStatus.Running, (await Client.WaitDatabaseAsync("lima")).Status);
            await Client.RemoveDatabaseAsync("lima");
        }
        else
        {
            await Refused(ErrorCodes.DatabaseNotFound, () => Client.GetDatabaseAsync("lima"));
        }
    }
}
