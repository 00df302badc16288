using DevDb.Core.Client;
using DevDb.Core.Model;
using Xunit;
using static DevDb.Testing.RigSql;

namespace DevDb.ContainerRig.Tests;

using ContainerRig = DevDb.Testing.ContainerRig;

/// <summary>
/// A checkpoint of a database under write load, in real containers: the VolumeSnapshot is taken while the server
/// runs (the rig's storage pauses the pod's containers while it copies the volume, as a CSI snapshot is one instant),
/// so the restored server starts by crash recovery. What it must give back: every row committed before the
/// checkpoint was asked for, no row with a gap before it, and the untouched tables byte for byte.
/// </summary>
[Collection(RigCollection.Name)]
public sealed class CheckpointOnRigTests
{
    private const string Checksum = "SELECT md5(string_agg(x, ',' ORDER BY x)) FROM (SELECT t::text AS x FROM order_items t) s";

    [Fact]
    public async Task A_checkpoint_under_write_load_restores_to_a_consistent_prefix_of_the_commits_and_a_branch_of_it_starts_too()
    {
        await using var rig = await ContainerRig.StartAsync();
        await using var files = new HttpFileServer(Path.GetDirectoryName(RepoPaths.SampleDump)!);
        await rig.Engine.NewProjectAsync(new NewProjectRequest { Name = "shop", Source = files.UrlFor("shop.dump"), PostgresVersion = 15 });
        await rig.Engine.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "dave", Owner = "dave" });
        var password = (await rig.Engine.GetConnectionAsync("dave")).Password;
        string? checksum;
        await using (var session = await OpenAsync(rig.DatabaseEndpoint("dave"), "dave", password))
        {
            await ScalarAsync(session, "CREATE TABLE ledger (id int PRIMARY KEY, payload text NOT NULL)");
            checksum = await ScalarAsync(session, Checksum);
        }

        // One writer, one commit per row in order: the rows committed are always exactly 1..n.
        var committed = 0;
        using var stop = new CancellationTokenSource();
        var writer = Task.Run(async () =>
        {
            await using var session = await OpenAsync(rig.DatabaseEndpoint("dave"), "dave", password);
            while (!stop.IsCancellationRequested)
            {
                await ScalarAsync(session, $"INSERT INTO ledger VALUES ({committed + 1}, repeat('x', 500))");
                committed++;
            }
        });
        await rig.UntilAsync(() => Volatile.Read(ref committed) >= 200, "the writer has committed 200 rows");
        var before = Volatile.Read(ref committed);
        var checkpoint = await rig.Engine.CheckpointDatabaseAsync("dave", "loaded");
        var after = Volatile.Read(ref committed);
        await rig.UntilAsync(() => Volatile.Read(ref committed) >= after + 100, "the writer goes on after the checkpoint");
        stop.Cancel();
        await writer;
        Assert.Equal(CheckpointStatus.Ready, checkpoint.Status);

        var restored = await rig.Engine.RestoreDatabaseAsync("dave", "loaded");

        Assert.Equal(DatabaseStatus.Running, restored.Status);
        await using (var session = await OpenAsync(rig.DatabaseEndpoint("dave"), "dave", password))
        {
            var rows = int.Parse((await ScalarAsync(session, "SELECT count(*) FROM ledger"))!);
            Assert.InRange(rows, before, after + 1);
            Assert.Equal(rows.ToString(), await ScalarAsync(session, "SELECT coalesce(max(id), 0) FROM ledger"));
            Assert.Equal("0", await ScalarAsync(session, "SELECT count(*) FROM ledger WHERE payload <> repeat('x', 500)"));
            Assert.Equal(checksum, await ScalarAsync(session, Checksum));
            // It takes writes again.
            await ScalarAsync(session, $"INSERT INTO ledger VALUES ({rows + 1}, repeat('x', 500))");
        }

        // A branch of the checkpoint starts on the same crash-consistent data, with its own password.
        await rig.Engine.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "erin", Owner = "erin", FromDatabase = "dave", Checkpoint = "loaded" });
        await using (var session = await OpenAsync(rig.DatabaseEndpoint("erin"), "erin", (await rig.Engine.GetConnectionAsync("erin")).Password))
        {
            var rows = int.Parse((await ScalarAsync(session, "SELECT count(*) FROM ledger"))!);
            Assert.InRange(rows, before, after + 1);
            Assert.Equal(checksum, await ScalarAsync(session, Checksum));
        }
    }
}
