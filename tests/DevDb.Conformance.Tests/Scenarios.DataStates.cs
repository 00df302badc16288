using DevDb.Core;
using DevDb.Core.Client;
using DevDb.Core.Model;
using Xunit;
using static DevDb.Conformance.Tests.Configurations.Configuration;

namespace DevDb.Conformance.Tests;

/// <summary>Checkpoints, restores and branches: real rows written, saved, changed and put back.</summary>
public abstract partial class Scenarios<TConfiguration>
{
    private async Task<ConnectionInfo> DatabaseWithRowsAsync(string name, string owner = "dave")
    {
        await Client.NewDatabaseAsync(Request(name, owner));
        var connection = await Client.GetConnectionAsync(name);
        await Configuration.ScalarAsync(connection, "CREATE TABLE notes (id int PRIMARY KEY, body text); INSERT INTO notes SELECT g, 'row ' || g FROM generate_series(1, 100) g; SELECT 1");
        return connection;
    }

    private Task<string?> CountAsync(ConnectionInfo connection, string table = "notes") =>
        Configuration.ScalarAsync(connection, $"SELECT count(*) FROM {table}");

    [Fact]
    public async Task A_restored_checkpoint_brings_the_rows_back_with_the_same_host_port_and_password()
    {
        var connection = await DatabaseWithRowsAsync("cp-one");
        var checkpoint = await Client.CheckpointDatabaseAsync("cp-one", "fixtures");
        Assert.Equal(("cp-one", "fixtures", CheckpointStatus.Ready, SharedProject, 1), (checkpoint.Database, checkpoint.Name, checkpoint.Status, checkpoint.Project, checkpoint.ImageRevision));
        Assert.Equal(DatabaseStatus.Running, (await Client.GetDatabaseAsync("cp-one")).Status);
        // It still answers after the checkpoint with the same password.
        Assert.Equal("100", await CountAsync(connection));

        await Configuration.ScalarAsync(connection, "DELETE FROM notes WHERE id > 10; DROP TABLE orders CASCADE; SELECT 1");
        Assert.Equal("10", await CountAsync(connection));

        var restored = await Client.RestoreDatabaseAsync("cp-one", "fixtures");
        var after = await Client.GetConnectionAsync("cp-one");
        Assert.Equal((DatabaseStatus.Running, connection.Host, connection.Port, connection.Username, connection.Password),
            (restored.Status, after.Host, after.Port, after.Username, after.Password));
        Assert.Equal("100", await CountAsync(after));
        Assert.Equal("5000", await CountAsync(after, "orders"));

        // Restoring again between "tests" works the same; the checkpoint is still there.
        await Configuration.ScalarAsync(after, "TRUNCATE notes; SELECT 1");
        var begun = await Client.BeginRestoreDatabaseAsync("cp-one", "fixtures");
        Assert.Contains(begun.Status, new[] { DatabaseStatus.Restoring, DatabaseStatus.Running });
        await Client.WaitDatabaseAsync("cp-one");
        Assert.Equal("100", await CountAsync(after));
        Assert.Equal("fixtures", Assert.Single(await Client.GetCheckpointsAsync("cp-one")).Name);
        Assert.Contains(await Client.GetCheckpointsAsync(), c => c.Database == "cp-one" && c.Name == "fixtures");

        // A checkpoint goes with its database.
        await Client.RemoveDatabaseAsync("cp-one");
        Assert.DoesNotContain(await Client.GetCheckpointsAsync(), c => c.Database == "cp-one");
    }

    [Fact]
    public async Task A_branch_sees_its_parents_rows_diverges_and_a_reset_goes_back_to_where_it_branched()
    {
        var parent = await DatabaseWithRowsAsync("br-parent");
        var branch = await Client.NewDatabaseAsync(new NewDatabaseRequest { Project = "", Name = "br-child", FromDatabase = "br-parent", Owner = "dave" });
        var child = await Client.GetConnectionAsync("br-child");
        Assert.Equal((DatabaseStatus.Running, SharedProject, "br-parent", (string?)null, 1), (branch.Status, branch.Project, branch.Parent, branch.ParentCheckpoint, branch.ImageRevision));
        Assert.NotEqual(parent.Password, child.Password);
        Assert.NotEqual(parent.Username, child.Username);
        Assert.Equal("100", await CountAsync(child));
        // The parent answers again after the copy, with its own password.
        Assert.Equal("100", await CountAsync(parent));

        await Configuration.ScalarAsync(child, "INSERT INTO notes VALUES (101, 'only in the branch'); SELECT 1");
        await Configuration.ScalarAsync(parent, "DELETE FROM notes WHERE id > 50; SELECT 1");
        Assert.Equal(("101", "50"), (await CountAsync(child), await CountAsync(parent)));

        // Reset of a branch: back to the parent's rows as they were when it branched, not as they are now.
        var reset = await Client.ResetDatabaseAsync("br-child");
        Assert.Equal(("br-parent", DatabaseStatus.Running), (reset.Parent, reset.Status));
        Assert.Equal("100", await CountAsync(await Client.GetConnectionAsync("br-child")));
        Assert.Equal(child.Password, (await Client.GetConnectionAsync("br-child")).Password);

        // The parent can go; the branch keeps what it came from.
        await Client.RemoveDatabaseAsync("br-parent");
        await Client.ResetDatabaseAsync("br-child");
        Assert.Equal("100", await CountAsync(child));

        // -ToImage: the project's image, and a branch no more.
        var plain = await Client.ResetDatabaseAsync("br-child", toImage: true);
        Assert.Null(plain.Parent);
        Assert.Null((await Client.GetDatabaseAsync("br-child")).Parent);
        Assert.Equal(Npgsql.PostgresErrorCodes.UndefinedTable, (await Assert.ThrowsAsync<Npgsql.PostgresException>(() => CountAsync(child))).SqlState);
        Assert.Equal("5000", await CountAsync(child, "orders"));
        await Client.RemoveDatabaseAsync("br-child");
    }

    [Fact]
    public async Task A_branch_of_a_checkpoint_starts_from_the_checkpoint_not_the_parents_current_rows()
    {
        var parent = await DatabaseWithRowsAsync("bc-parent");
        await Client.CheckpointDatabaseAsync("bc-parent", "hundred");
        await Configuration.ScalarAsync(parent, "DELETE FROM notes; SELECT 1");

        var branch = await Client.NewDatabaseAsync(new NewDatabaseRequest { Project = SharedProject, Name = "bc-child", FromDatabase = "bc-parent", Checkpoint = "hundred", Owner = "dave" });
        Assert.Equal(("bc-parent", "hundred"), (branch.Parent, branch.ParentCheckpoint));
        var child = await Client.GetConnectionAsync("bc-child");
        Assert.Equal(("100", "0"), (await CountAsync(child), await CountAsync(parent)));
        // The branch has no checkpoints of its own; removing the parent's leaves the branch as it is.
        Assert.Empty(await Client.GetCheckpointsAsync("bc-child"));
        await Client.RemoveCheckpointAsync("bc-parent", "hundred");
        Assert.Empty(await Client.GetCheckpointsAsync("bc-parent"));
        await Configuration.ScalarAsync(child, "DELETE FROM notes; SELECT 1");
        await Client.ResetDatabaseAsync("bc-child");
        Assert.Equal("100", await CountAsync(child));
        await Client.RemoveDatabaseAsync("bc-child");
        await Client.RemoveDatabaseAsync("bc-parent");
    }

    [Fact]
    public async Task Checkpoint_mistakes_get_the_same_error_everywhere_and_leave_nothing_behind()
    {
        await Client.NewDatabaseAsync(Request("cp-bad"));
        foreach (var hostile in new[] { "x'; DROP TABLE orders; --", "$(touch /tmp/pwned)", "../../etc", "UPPER", "", new string('a', 64) })
        {
            await Refused(ErrorCodes.NameInvalid, () => Client.CheckpointDatabaseAsync("cp-bad", hostile));
            await Refused(ErrorCodes.NameInvalid, () => Client.RestoreDatabaseAsync("cp-bad", hostile));
            await Refused(ErrorCodes.NameInvalid, () => Client.RemoveCheckpointAsync("cp-bad", hostile));
        }
        await Refused(ErrorCodes.DatabaseNotFound, () => Client.CheckpointDatabaseAsync("nope", "fixtures"));
        await Refused(ErrorCodes.DatabaseNotFound, () => Client.GetCheckpointsAsync("nope"));
        await Refused(ErrorCodes.DatabaseNotFound, () => Client.RestoreDatabaseAsync("nope", "fixtures"));
        await Refused(ErrorCodes.DatabaseNotFound, () => Client.BeginRestoreDatabaseAsync("nope", "fixtures"));
        await Refused(ErrorCodes.DatabaseNotFound, () => Client.RemoveCheckpointAsync("nope", "fixtures"));
        await Refused(ErrorCodes.DatabaseNotFound, () => Client.NewDatabaseAsync(new NewDatabaseRequest { Project = "", Name = "orphan", FromDatabase = "nope", Owner = "dave" }));
        await Refused(ErrorCodes.CheckpointNotFound, () => Client.RestoreDatabaseAsync("cp-bad", "never-taken"));
        await Refused(ErrorCodes.CheckpointNotFound, () => Client.BeginRestoreDatabaseAsync("cp-bad", "never-taken"));
        await Refused(ErrorCodes.CheckpointNotFound, () => Client.RemoveCheckpointAsync("cp-bad", "never-taken"));
        await Refused(ErrorCodes.RequestInvalid, () => Client.NewDatabaseAsync(new NewDatabaseRequest { Project = SharedProject, Name = "orphan", Checkpoint = "x", Owner = "dave" }));
        await Refused(ErrorCodes.CheckpointNotFound, () => Client.NewDatabaseAsync(new NewDatabaseRequest { Project = "", Name = "orphan", FromDatabase = "cp-bad", Checkpoint = "never-taken", Owner = "dave" }));
        await Refused(ErrorCodes.RequestInvalid, () => Client.NewDatabaseAsync(new NewDatabaseRequest { Project = "other", Name = "orphan", FromDatabase = "cp-bad", Owner = "dave" }));
        await Client.CheckpointDatabaseAsync("cp-bad", "once");
        await Refused(ErrorCodes.CheckpointExists, () => Client.CheckpointDatabaseAsync("cp-bad", "once"));
        Assert.Equal("once", Assert.Single(await Client.GetCheckpointsAsync("cp-bad")).Name);
        await Refused(ErrorCodes.DatabaseNotFound, () => Client.GetDatabaseAsync("orphan"));
        Assert.Equal(DatabaseStatus.Running, (await Client.GetDatabaseAsync("cp-bad")).Status);
        await Client.RemoveDatabaseAsync("cp-bad");
    }

    [Fact]
    public async Task Two_racing_checkpoints_of_one_name_make_one_checkpoint_and_the_other_is_refused()
    {
        var connection = await DatabaseWithRowsAsync("cp-race");
        var racing = Enumerable.Range(0, 2).Select(_ => Task.Run(() => Client.CheckpointDatabaseAsync("cp-race", "same"))).ToList();
        var outcomes = await Task.WhenAll(racing.Select(async t => { try { await t; return "ok"; } catch (DevDbException e) { return e.Code; } }));
        Assert.Equal(1, outcomes.Count(o => o == "ok"));
        Assert.Contains(outcomes.Single(o => o != "ok"), new[] { ErrorCodes.CheckpointExists, ErrorCodes.StateLocked });
        Assert.Equal("same", Assert.Single(await Client.GetCheckpointsAsync("cp-race")).Name);
        Assert.Equal("100", await CountAsync(connection));
        await Client.RemoveDatabaseAsync("cp-race");
    }
}
