using System.Diagnostics;
using DevDb.Core.Catalog;
using DevDb.Core.Client;
using DevDb.Core.Engine;
using DevDb.Core.Model;
using DevDb.Core.Tests.Engine;
using Xunit;
using Xunit.Abstractions;

namespace DevDb.Core.Tests.Resilience;

/// <summary>
/// The fault-injection matrix: every operation, killed (kill -9) at every one of its steps in a
/// process of its own (tests/DevDb.FaultHost, DEVDB_FAULT_AT), then a new engine: the state is
/// the operation completed or rolled back, with no orphan process, folder, secret or record, and
/// every database that survives answers its own credentials.
/// </summary>
[Collection(DumpCollection.Name)]
public sealed class FaultInjectionTests(DumpFixture dumps, ITestOutputHelper output) : IAsyncLifetime
{
    private readonly EngineHome _home = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _home.DisposeAsync().AsTask();

    /// <summary>(operation the host runs, the step it is killed at): every step of every operation.</summary>
    public static TheoryData<string, string> Matrix()
    {
        var data = new TheoryData<string, string>();
        foreach (var point in FaultPoints.All)
        {
            var operation = point[..point.IndexOf(':')];
            data.Add(operation, point);
            // Accepted work (the API's 202, -NoWait) dies at the same steps, and must end Failed, not lost.
            if (operation is "new-project" or "new-database") data.Add(operation.Replace("new-", "accept-"), point);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Matrix))]
    public async Task An_operation_killed_at_a_step_is_completed_or_rolled_back_by_the_next_engine(string operation, string point)
    {
        var dave = await SetUpAsync(operation);

        var (exit, said) = await RunKilledAsync(operation, point);
        Assert.True(exit == 137, $"{operation} was to be killed at {point}, but exited {exit}: {said}");

        var engine = _home.Open();
        await engine.RecoverAsync();
        await AssertConsistentAsync(engine);
        var outcome = await OutcomeAsync(engine, operation, dave);
        output.WriteLine($"{operation} killed at {point}: {outcome}");
    }

    /// <summary>What the operation needs to exist before it runs; returns the connection of database 'dave' when there is one.</summary>
    private async Task<ConnectionInfo?> SetUpAsync(string operation)
    {
        if (operation is "new-project" or "accept-project") return null;
        await _home.Engine.NewProjectAsync(new NewProjectRequest { Name = "shop", Source = dumps.CustomDump });
        if (operation is "new-database" or "accept-database" or "update-project") return null;
        await _home.Engine.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "dave" });
        var dave = await _home.Engine.GetConnectionAsync("dave");
        await Clients.ExecuteAsync(dave, "CREATE TABLE notes (body text); INSERT INTO notes VALUES ('kept')");
        if (operation == "remove-project")
        {
            await _home.Engine.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "erin" });
            await _home.Engine.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "zoe" });
            await _home.Engine.StopDatabaseAsync("zoe");
        }
        if (operation == "start-database") await _home.Engine.StopDatabaseAsync("dave");
        if (operation == "restore-database")
        {
            await _home.Engine.CheckpointDatabaseAsync("dave", "cp");
            await Clients.ExecuteAsync(dave, "INSERT INTO notes VALUES ('after the checkpoint')");
        }
        return dave;
    }

    private async Task<(int Exit, string Said)> RunKilledAsync(string operation, string point)
    {
        var host = Path.Combine(AppContext.BaseDirectory, "DevDb.FaultHost.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        string[] arguments = operation switch
        {
            "new-project" or "accept-project" => [host, _home.Path, operation, "shop", dumps.CustomDump],
            "update-project" or "remove-project" => [host, _home.Path, operation, "shop"],
            "new-database" or "accept-database" => [host, _home.Path, operation, "dave", "shop"],
            "branch-database" => [host, _home.Path, operation, "erin", "dave"],
            _ => [host, _home.Path, operation, "dave"],
        };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        start.Environment["DEVDB_FAULT_AT"] = point;
        using var process = Process.Start(start)!;
        var said = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, said);
    }

    /// <summary>The operation's own outcome: completed or rolled back, as the next user sees it.</summary>
    private static async Task<string> OutcomeAsync(DevDbEngine engine, string operation, ConnectionInfo? dave)
    {
        var projects = await engine.GetProjectsAsync();
        var databases = (await engine.GetDatabasesAsync()).ToDictionary(d => d.Name);
        switch (operation)
        {
            case "new-project":
                Assert.True(projects is [] or [{ Status: ProjectStatus.Ready }], "a new project is rolled back, or complete");
                return projects.Count == 0 ? "rolled back" : "completed";
            case "accept-project":
                var accepted = Assert.Single(projects);
                Assert.True(accepted.Status == ProjectStatus.Ready || accepted.Error?.Contains("interrupted") == true, "accepted work ends Ready or Failed with why");
                return accepted.Status == ProjectStatus.Ready ? "completed" : "failed with why";
            case "update-project":
                var updated = Assert.Single(projects);
                Assert.Equal(ProjectStatus.Ready, updated.Status);
                return updated.LatestImage!.Revision == 2 ? "completed" : "rolled back to r1";
            case "remove-project":
                Assert.Empty(projects);
                Assert.Empty(databases);
                return "completed";
            case "new-database":
                Assert.True(databases.Count == 0 || databases["dave"].Status == DatabaseStatus.Running, "rolled back or complete");
                // Rolled back: the project's history says devdb did it; completed: the database's says who created it.
                if (databases.Count == 0) Recovered(Assert.Single(projects).History.Last(e => e.Database == "dave"), HistoryAction.Removed);
                else Assert.Equal((HistoryAction.Created, Actor.Local.User), (databases["dave"].History[^1].Action, databases["dave"].History[^1].User));
                return databases.Count == 0 ? "rolled back" : "completed";
            case "accept-database":
                var clone = databases["dave"];
                Assert.True(clone.Status == DatabaseStatus.Running || clone is { Status: DatabaseStatus.Failed, ErrorCode: ErrorCodes.DatabaseCreateFailed },
                    $"accepted work ends Running or Failed with why, not {clone.Status}");
                if (clone.Status == DatabaseStatus.Failed)
                    Assert.Equal((HistoryAction.Created, "devdb", HistoryOutcome.Failed, ErrorCodes.DatabaseCreateFailed),
                        (clone.History[^1].Action, clone.History[^1].User, clone.History[^1].Outcome, clone.History[^1].ErrorCode));
                return clone.Status == DatabaseStatus.Running ? "completed" : "failed with why";
            case "reset-database":
                Assert.Equal(DatabaseStatus.Running, databases["dave"].Status);
                Recovered(databases["dave"].History[^1], HistoryAction.Recovered);
                var rows = await Clients.ScalarAsync<long>(dave!, "SELECT count(*) FROM pg_tables WHERE tablename = 'notes'");
                return rows == 1 ? "rolled back (old data, running)" : "completed (new data, running)";
            case "stop-database":
                Assert.Equal(DatabaseStatus.Stopped, databases["dave"].Status);
                Recovered(databases["dave"].History[^1], HistoryAction.Recovered);
                return "completed";
            case "start-database":
                Assert.Equal(DatabaseStatus.Running, databases["dave"].Status);
                Recovered(databases["dave"].History[^1], HistoryAction.Recovered);
                Assert.Equal("kept", await Clients.ScalarAsync<string>(dave!, "SELECT body FROM notes"));
                return "completed";
            case "remove-database":
                Assert.Empty(databases);
                Recovered(Assert.Single(projects).History.Last(e => e.Database == "dave"), HistoryAction.Removed);
                return "completed";
            case "checkpoint-database":
                // The database runs on with its data; the checkpoint is whole and Ready, or not there at all.
                Assert.Equal(DatabaseStatus.Running, databases["dave"].Status);
                Assert.Equal("kept", await Clients.ScalarAsync<string>(dave!, "SELECT body FROM notes"));
                var checkpoints = await engine.GetCheckpointsAsync("dave");
                Assert.True(checkpoints is [] or [{ Name: "cp", Status: CheckpointStatus.Ready }], "a checkpoint is rolled back, or complete");
                return checkpoints.Count == 0 ? "rolled back" : "completed";
            case "restore-database":
                Assert.Equal(DatabaseStatus.Running, databases["dave"].Status);
                var notes = await Clients.ScalarAsync<long>(dave!, "SELECT count(*) FROM notes");
                Assert.Single(await engine.GetCheckpointsAsync("dave"));
                return notes == 1 ? "completed (checkpoint's data)" : "rolled back (data before the restore)";
            case "branch-database":
                // The parent runs on with its data whatever happened to the branch.
                Assert.Equal(DatabaseStatus.Running, databases["dave"].Status);
                Assert.Equal("kept", await Clients.ScalarAsync<string>(dave!, "SELECT body FROM notes"));
                Assert.True(!databases.ContainsKey("erin") || databases["erin"].Status == DatabaseStatus.Running, "a branch is rolled back, or complete");
                if (!databases.ContainsKey("erin")) return "rolled back";
                Assert.Equal("kept", await Clients.ScalarAsync<string>(await engine.GetConnectionAsync("erin"), "SELECT body FROM notes"));
                return "completed";
            default:
                throw new ArgumentOutOfRangeException(nameof(operation), operation, null);
        }
    }

    /// <summary>What recovery finished or rolled back is in the history, by devdb (the process that began it is gone).</summary>
    private static void Recovered(HistoryEntry entry, HistoryAction action)
    {
        Assert.Equal((action, "devdb", HistoryOutcome.Succeeded), (entry.Action, entry.User, entry.Outcome));
        Assert.Contains("was interrupted when its process stopped", entry.Detail);
    }

    /// <summary>No step pending, nothing orphaned, and every database's state matches what runs and what is on disk.</summary>
    private async Task AssertConsistentAsync(DevDbEngine engine)
    {
        var catalog = new FileCatalog(Path.Combine(_home.Path, "catalog"));
        Assert.All(catalog.Projects(), r => Assert.Null(r.Pending));
        Assert.All(catalog.Databases(), r => Assert.Null(r.Pending));

        var databases = await engine.GetDatabasesAsync();
        var kept = databases.Where(d => d.Status != DatabaseStatus.Failed).Select(d => d.Name).Order().ToList();
        Assert.Equal(kept, _home.Entries("databases").Order());
        Assert.Equal(kept, _home.Entries("secrets").Order());
        foreach (var database in databases)
        {
            var data = Path.Combine(_home.Path, "databases", database.Name, "data");
            if (database.Status == DatabaseStatus.Running)
                Assert.Equal(1, await Clients.ScalarAsync<int>(await engine.GetConnectionAsync(database.Name), "SELECT 1"));
            else
                EngineHome.AssertNoPostgresUnder(data);
        }

        var images = (await engine.GetProjectsAsync())
            .SelectMany(p => p.Images.Where(i => i.Status == ImageStatus.Ready).Select(i => $"{p.Name}/{i.Revision}")).Order().ToList();
        var onDisk = _home.Entries("images").SelectMany(p => _home.Entries($"images/{p}").Select(r => $"{p}/{r}")).Order().ToList();
        Assert.Equal(images, onDisk);
        Assert.Empty(_home.Entries("work"));
        // Only databases' socket folders are left (no image build's), one at most per database kept.
        Assert.All(_home.Entries("run"), socket => Assert.StartsWith("d-", socket));
        Assert.True(_home.Entries("run").Count <= kept.Count);
        EngineHome.AssertNoPostgresUnder(Path.Combine(_home.Path, "images"));
    }
}
