using DevDb.Core.Client;
using DevDb.Core.Model;
using Npgsql;
using Xunit;

namespace DevDb.Core.Tests.Engine;

/// <summary>A checkpoint taken while a client writes as fast as it can, on real servers.</summary>
[Collection(DumpCollection.Name)]
public sealed class CheckpointUnderLoadTests(DumpFixture dumps) : IAsyncLifetime
{
    private readonly EngineHome _home = new();

    public async Task InitializeAsync() => await _home.Engine.NewProjectAsync(new NewProjectRequest { Name = "shop", Source = dumps.CustomDump });

    public Task DisposeAsync() => _home.DisposeAsync().AsTask();

    // Each transaction adds a row and moves the totals with it: in any consistent state the totals match the rows.
    private const string Schema = """
        CREATE TABLE ledger (id bigserial PRIMARY KEY, amount int NOT NULL, note text NOT NULL);
        CREATE TABLE totals (one int PRIMARY KEY CHECK (one = 1), n bigint NOT NULL, s bigint NOT NULL);
        INSERT INTO totals VALUES (1, 0, 0);
        """;

    private const string Write = """
        WITH added AS (INSERT INTO ledger (amount, note) VALUES (@amount, repeat('x', 200)) RETURNING amount)
        UPDATE totals SET n = n + 1, s = s + (SELECT amount FROM added);
        """;

    private const string Consistency = "SELECT (SELECT n FROM totals) = count(*) AND (SELECT s FROM totals) = coalesce(sum(amount), 0) FROM ledger";
    private const string Checksum = "SELECT count(*) || ':' || md5(coalesce(string_agg(id || '/' || amount, ',' ORDER BY id), '')) FROM ledger";

    [Fact]
    public async Task A_checkpoint_under_write_load_restores_and_branches_into_the_same_consistent_state_and_postgres_starts_clean()
    {
        await _home.Engine.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "busy" });
        var connection = await _home.Engine.GetConnectionAsync("busy");
        await Clients.ExecuteAsync(connection, Schema);

        using var stop = new CancellationTokenSource();
        long committed = 0, interrupted = 0;
        var writers = Enumerable.Range(0, 3).Select(writer => Task.Run(async () =>
        {
            var random = new Random(writer);
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    await using var session = new NpgsqlConnection(Clients.ConnectionString(connection));
                    await session.OpenAsync();
                    while (!stop.IsCancellationRequested)
                    {
                        await using var command = new NpgsqlCommand(Write, session);
                        command.Parameters.AddWithValue("amount", random.Next(1, 1000));
                        await command.ExecuteNonQueryAsync();
                        Interlocked.Increment(ref committed);
                    }
                }
                catch (Exception e) when (e is NpgsqlException or InvalidOperationException or IOException)
                {
                    // The checkpoint's fast stop cuts the sessions: reconnect and write on.
                    Interlocked.Increment(ref interrupted);
                    await Task.Delay(20);
                }
            }
        })).ToList();

        await UntilAsync(() => Interlocked.Read(ref committed) > 500);
        var checkpoint = await _home.Engine.CheckpointDatabaseAsync("busy", "under-load");
        var atCheckpoint = Interlocked.Read(ref committed);
        await UntilAsync(() => Interlocked.Read(ref committed) > atCheckpoint + 500);
        await stop.CancelAsync();
        await Task.WhenAll(writers);

        Assert.Equal(CheckpointStatus.Ready, checkpoint.Status);
        Assert.True(Interlocked.Read(ref interrupted) > 0, "the checkpoint's fast stop cut the writers' sessions");
        var afterLoad = await Clients.ScalarAsync<string>(connection, Checksum);

        // A branch and a restore of the same checkpoint: the same rows, consistent, and not the rows written after it.
        await _home.Engine.NewDatabaseAsync(new NewDatabaseRequest { Project = "", Name = "busy-branch", FromDatabase = "busy", Checkpoint = "under-load" });
        var branch = await _home.Engine.GetConnectionAsync("busy-branch");
        var restored = await _home.Engine.RestoreDatabaseAsync("busy", "under-load");
        Assert.Equal(DatabaseStatus.Running, restored.Status);

        Assert.True(await Clients.ScalarAsync<bool>(connection, Consistency));
        Assert.True(await Clients.ScalarAsync<bool>(branch, Consistency));
        var atRestore = await Clients.ScalarAsync<string>(connection, Checksum);
        Assert.Equal(atRestore, await Clients.ScalarAsync<string>(branch, Checksum));
        Assert.NotEqual(afterLoad, atRestore);
        var rows = long.Parse(atRestore.Split(':')[0]);
        Assert.InRange(rows, 500, atCheckpoint + 3);

        // Postgres started without complaint: a clean shutdown checkpoint, no crash recovery, nothing corrupt.
        foreach (var name in new[] { "busy", "busy-branch" })
        {
            var log = await File.ReadAllTextAsync(Path.Combine(_home.Path, "databases", name, "server.log"));
            Assert.DoesNotContain("PANIC", log);
            Assert.DoesNotContain("invalid record", log);
            Assert.DoesNotContain("corrupt", log, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("was interrupted", log);
        }
    }

    private static async Task UntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the writers made no progress within 2 minutes");
            await Task.Delay(50);
        }
    }
}
