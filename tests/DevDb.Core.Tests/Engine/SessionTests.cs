using System.Diagnostics;
using DevDb.Core.Catalog;
using DevDb.Core.Client;
using DevDb.Core.Model;
using DevDb.Core.Runtimes.Local;
using Xunit;

namespace DevDb.Core.Tests.Engine;

/// <summary>Several sessions at once, servers that outlive their session, cancellation and crashes.</summary>
[Collection(DumpCollection.Name)]
public sealed class SessionTests(DumpFixture dumps) : IAsyncLifetime
{
    private readonly EngineHome _home = new();

    public Task InitializeAsync() =>
        _home.Engine.NewProjectAsync(new NewProjectRequest { Name = "shop", Source = dumps.CustomDump });

    public Task DisposeAsync() => _home.DisposeAsync().AsTask();

    [Fact]
    public async Task Two_sessions_creating_databases_at_once_both_succeed_on_distinct_ports()
    {
        var first = _home.Open();
        var second = _home.Open();
        var created = await Task.WhenAll(
            Task.Run(() => first.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "alice" })),
            Task.Run(() => second.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "bob" })));

        Assert.All(created, d => Assert.Equal(DatabaseStatus.Running, d.Status));
        Assert.NotEqual(created[0].Port, created[1].Port);
        foreach (var name in new[] { "alice", "bob" })
            Assert.Equal(1, await Clients.ScalarAsync<int>(await _home.Engine.GetConnectionAsync(name), "SELECT 1"));
    }

    [Fact]
    public async Task Two_sessions_creating_the_same_database_at_once_both_get_the_one_database()
    {
        var created = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
            _home.Open().NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "same", Owner = "dave" }))));

        Assert.All(created, d => Assert.Equal(DatabaseStatus.Running, d.Status));
        Assert.Equal(created[0].Port, created[1].Port);
        Assert.Equal(["same"], (await _home.Engine.GetDatabasesAsync()).Select(d => d.Name));
        Assert.Equal(1, await Clients.ScalarAsync<int>(await _home.Engine.GetConnectionAsync("same"), "SELECT 1"));
    }

    [Fact]
    public async Task Two_owners_creating_the_same_name_at_once_yield_exactly_one_database()
    {
        var attempts = await Task.WhenAll(new[] { "dave", "erin" }.Select(owner => Task.Run(async () =>
        {
            try
            {
                await _home.Open().NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "same", Owner = owner });
                return null;
            }
            catch (DevDbException e)
            {
                return e.Code;
            }
        })));

        Assert.Equal(1, attempts.Count(a => a is null));
        Assert.Equal(ErrorCodes.DatabaseExists, Assert.Single(attempts, a => a is not null));
        Assert.Equal(["same"], (await _home.Engine.GetDatabasesAsync()).Select(d => d.Name));
        Assert.Equal(1, await Clients.ScalarAsync<int>(await _home.Engine.GetConnectionAsync("same"), "SELECT 1"));
    }

    [Fact]
    public async Task A_database_server_is_detached_from_the_session_that_started_it()
    {
        await _home.Engine.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "dave" });
        var pid = int.Parse(File.ReadLines(Path.Combine(_home.Path, "databases", "dave", "data", "postmaster.pid")).First());

        // Its own session (setsid by pg_ctl): closing the terminal or Ctrl+C in the session does not reach it.
        Assert.NotEqual(SessionId(Environment.ProcessId), SessionId(pid));
        Assert.NotEqual(Environment.ProcessId, ParentId(pid));

        // And a new session sees it running and can use it.
        var later = _home.Open();
        Assert.Equal(DatabaseStatus.Running, (await later.GetDatabaseAsync("dave")).Status);
        Assert.Equal(1, await Clients.ScalarAsync<int>(await later.GetConnectionAsync("dave"), "SELECT 1"));
    }

    [Fact]
    public async Task A_server_killed_outside_devdb_shows_as_crashed_with_its_last_log_lines_and_starts_again()
    {
        await _home.Engine.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "dave" });
        var pid = int.Parse(File.ReadLines(Path.Combine(_home.Path, "databases", "dave", "data", "postmaster.pid")).First());
        using (var server = Process.GetProcessById(pid))
        {
            server.Kill();
            await server.WaitForExitAsync();
        }

        var crashed = await _home.Engine.GetDatabaseAsync("dave");
        Assert.Equal(DatabaseStatus.Crashed, crashed.Status);
        Assert.Contains("Its log ends:", crashed.Error);
        Assert.Contains("database system is ready to accept connections", crashed.Error);
        await _home.Engine.StartDatabaseAsync("dave");
        Assert.Equal(1, await Clients.ScalarAsync<int>(await _home.Engine.GetConnectionAsync("dave"), "SELECT 1"));
    }

    [Fact]
    public async Task A_server_that_ignores_its_stop_is_forced_after_the_grace_period_and_starts_again_with_its_data()
    {
        await _home.Engine.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "dave" });
        var connection = await _home.Engine.GetConnectionAsync("dave");
        await Clients.ExecuteAsync(connection, "CREATE TABLE kept (id int); INSERT INTO kept VALUES (42)");
        var data = Path.Combine(_home.Path, "databases", "dave", "data");
        var pid = int.Parse(File.ReadLines(Path.Combine(data, "postmaster.pid")).First());
        // Every process of the server frozen (SIGSTOP): signals wait, as they do for a server stuck on its disk. Were only the
        // postmaster killed, its frozen children would keep its shared memory and no server could start on the folder again.
        // The postmaster first, so it starts no process after the list is made; a backend that was ending may be gone.
        Assert.Equal(0, Signal("STOP", pid));
        int[] children = [.. Directory.GetDirectories("/proc").Select(Path.GetFileName).Where(n => n!.All(char.IsAsciiDigit))
            .Select(n => int.Parse(n!)).Where(p => { try { return ParentId(p) == pid; } catch (IOException) { return false; } })];
        int[] server = [pid, .. children.Where(child => Signal("STOP", child) == 0)];
        Assert.True(server.Length > 3, "The server's own processes (checkpointer, writer, WAL writer...) were not found.");

        try
        {
            var stopping = Stopwatch.StartNew();
            await Postmaster.StopIfRunningAsync(data, "fast", CancellationToken.None, gracePeriod: TimeSpan.FromSeconds(3));

            // The fast stop had its 3 s and the immediate stop half a second before SIGKILL ended them all.
            Assert.InRange(stopping.Elapsed, TimeSpan.FromSeconds(3.5), TimeSpan.FromSeconds(30));
            Assert.All(server, process => Assert.True(Ended(process), $"Process {process} of the server is still there."));
        }
        finally
        {
            // Should the stop fail, no frozen process may outlive the test.
            foreach (var process in server.Where(p => !Ended(p))) Signal("KILL", process);
        }
        await _home.Engine.StartDatabaseAsync("dave");
        Assert.Equal(DatabaseStatus.Running, (await _home.Engine.GetDatabaseAsync("dave")).Status);
        Assert.Equal(42, await Clients.ScalarAsync<int>(connection, "SELECT id FROM kept"));
    }

    /// <summary>Gone, or dead and not yet reaped by its parent (a zombie, Z).</summary>
    private static bool Ended(int pid)
    {
        try
        {
            return Stat(pid)[0] is "Z" or "X";
        }
        catch (IOException)
        {
            return true;
        }
    }

    private static int Signal(string signal, int pid)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", ["-" + signal, pid.ToString()]) { UseShellExecute = false })!;
        kill.WaitForExit();
        return kill.ExitCode;
    }

    [Fact]
    public async Task After_a_crash_the_start_up_restart_brings_back_crashed_databases_and_leaves_stopped_ones_stopped()
    {
        foreach (var name in new[] { "dave", "erin" })
            await _home.Engine.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = name });
        var connection = await _home.Engine.GetConnectionAsync("dave");
        await Clients.ExecuteAsync(connection, "CREATE TABLE kept (id int); INSERT INTO kept VALUES (42)");
        await _home.Engine.StopDatabaseAsync("erin");
        var pid = int.Parse(File.ReadLines(Path.Combine(_home.Path, "databases", "dave", "data", "postmaster.pid")).First());
        using (var server = Process.GetProcessById(pid))
        {
            server.Kill(); // as a reboot or the OOM killer would: no shutdown
            await server.WaitForExitAsync();
        }

        // What the API does when it starts (DevDb:RestartCrashedDatabases).
        var restarted = await _home.Open().RestartCrashedDatabasesAsync();

        Assert.Equal(["dave"], restarted);
        Assert.Equal(DatabaseStatus.Running, (await _home.Engine.GetDatabaseAsync("dave")).Status);
        Assert.Equal(DatabaseStatus.Stopped, (await _home.Engine.GetDatabaseAsync("erin")).Status);
        Assert.Equal(42, await Clients.ScalarAsync<int>(connection, "SELECT id FROM kept"));
        Assert.Empty(await _home.Open().RestartCrashedDatabasesAsync());
    }

    [Fact]
    public async Task Cancelling_a_database_creation_leaves_nothing_behind()
    {
        using var cancel = new CancellationTokenSource();
        var progress = new SynchronousProgress<DevDbProgress>(p =>
        {
            if (p.Status.StartsWith("Setting")) cancel.Cancel();
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            _home.Engine.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "dave" }, progress, cancel.Token));

        Assert.Empty(await _home.Engine.GetDatabasesAsync());
        Assert.Empty(_home.Entries("databases"));
        Assert.Empty(_home.Entries("secrets"));
        EngineHome.AssertNoPostgresUnder(Path.Combine(_home.Path, "databases"));
    }

    [Fact]
    public async Task Cancelling_a_project_creation_during_the_restore_leaves_nothing_behind()
    {
        using var cancel = new CancellationTokenSource();
        var progress = new SynchronousProgress<DevDbProgress>(p =>
        {
            if (p.Status.Contains("pg_restore")) cancel.Cancel();
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            _home.Engine.NewProjectAsync(new NewProjectRequest { Name = "other", Source = dumps.CustomDump }, progress, cancel.Token));

        Assert.Equal(["shop"], (await _home.Engine.GetProjectsAsync()).Select(p => p.Name));
        Assert.Equal(["shop"], _home.Entries("images"));
        Assert.Empty(_home.Entries("work"));
        EngineHome.AssertNoPostgresUnder(Path.Combine(_home.Path, "images", "other"));
    }

    [Fact]
    public async Task Cancelling_the_rebuild_of_a_failed_project_leaves_it_failed_not_building()
    {
        var failed = await Assert.ThrowsAsync<DevDbException>(() =>
            _home.Engine.NewProjectAsync(new NewProjectRequest { Name = "broken", Source = dumps.TruncatedCustomDump }));
        using var cancel = new CancellationTokenSource();
        var progress = new SynchronousProgress<DevDbProgress>(p =>
        {
            if (p.Status.Contains("pg_restore")) cancel.Cancel();
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _home.Engine.UpdateProjectAsync(
            new UpdateProjectRequest { Name = "broken", Source = dumps.CustomDump }, progress, cancel.Token));

        var project = await _home.Engine.GetProjectAsync("broken");
        Assert.Equal(ProjectStatus.Failed, project.Status);
        Assert.Equal(failed.Message, project.Error);
        Assert.Empty(project.Images);
        Assert.Equal(["shop"], _home.Entries("images"));
    }

    [Fact]
    public async Task A_database_creation_whose_process_died_shows_failed_and_is_rolled_back_by_the_next_change()
    {
        await _home.Engine.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "dave" });
        var catalog = new FileCatalog(Path.Combine(_home.Path, "catalog"));
        var record = catalog.FindDatabase("dave")!;
        // As if the process creating it had died just after starting the server.
        catalog.Save(record with { Database = record.Database with { Status = DatabaseStatus.Creating }, Pending = await DeadProcessAsync(OperationKind.CreateDatabase) });

        var next = _home.Open();
        // Reading repairs nothing, and does not pretend the create goes on.
        var seen = Assert.Single(await next.GetDatabasesAsync());
        Assert.Equal((DatabaseStatus.Failed, ErrorCodes.DatabaseCreateFailed), (seen.Status, seen.ErrorCode));
        Assert.True(Directory.Exists(Path.Combine(_home.Path, "databases", "dave")));

        await next.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "other" });

        Assert.Equal(["other"], (await next.GetDatabasesAsync()).Select(d => d.Name));
        Assert.Equal(["other"], _home.Entries("databases"));
        Assert.Equal(["other"], _home.Entries("secrets"));
    }

    [Fact]
    public async Task Accepted_work_whose_process_died_stays_failed_with_why()
    {
        await _home.Engine.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "dave" });
        var catalog = new FileCatalog(Path.Combine(_home.Path, "catalog"));
        var record = catalog.FindDatabase("dave")!;
        // As if an API that had answered 202 had been killed in the middle of the clone.
        catalog.Save(record with
        {
            Database = record.Database with { Status = DatabaseStatus.Creating },
            Pending = (await DeadProcessAsync(OperationKind.CreateDatabase)) with { Accepted = true },
        });

        var next = _home.Open();
        await next.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "other" });

        var failed = await next.GetDatabaseAsync("dave");
        Assert.Equal((DatabaseStatus.Failed, ErrorCodes.DatabaseCreateFailed), (failed.Status, failed.ErrorCode));
        Assert.Contains("stopped before it finished", failed.Error);
        Assert.Equal(["other"], _home.Entries("databases"));
        Assert.Equal(["other"], _home.Entries("secrets"));
        EngineHome.AssertNoPostgresUnder(Path.Combine(_home.Path, "databases", "dave"));
    }

    [Fact]
    public async Task A_reset_whose_process_died_mid_swap_gets_its_data_back_in_the_next_session()
    {
        await _home.Engine.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "dave" });
        var connection = await _home.Engine.GetConnectionAsync("dave");
        await Clients.ExecuteAsync(connection, "CREATE TABLE notes (body text); INSERT INTO notes VALUES ('mine')");
        await _home.Engine.StopDatabaseAsync("dave");
        // As if the process resetting it died between its two renames: data moved aside, the new clone not yet in place.
        var data = Path.Combine(_home.Path, "databases", "dave", "data");
        Directory.Move(data, data + ".old");
        Directory.CreateDirectory(data + ".new");
        var catalog = new FileCatalog(Path.Combine(_home.Path, "catalog"));
        catalog.Save(catalog.FindDatabase("dave")! with { Pending = await DeadProcessAsync(OperationKind.ResetDatabase) });

        var next = _home.Open();

        Assert.Equal(DatabaseStatus.Stopped, (await next.GetDatabaseAsync("dave")).Status);
        await next.StartDatabaseAsync("dave");
        Assert.Equal(["data", "server.log"], _home.Entries("databases/dave").Order());
        Assert.Equal("mine", await Clients.ScalarAsync<string>(connection, "SELECT body FROM notes"));
    }

    [Fact]
    public async Task A_reset_of_a_running_database_whose_process_died_after_the_swap_runs_again_on_the_new_data()
    {
        await _home.Engine.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "dave" });
        var connection = await _home.Engine.GetConnectionAsync("dave");
        await Clients.ExecuteAsync(connection, "CREATE TABLE notes (body text); INSERT INTO notes VALUES ('mine')");
        await _home.Engine.StopDatabaseAsync("dave");
        // As if the reset had cloned the image, swapped it in and died before starting it: the old data is gone.
        var data = Path.Combine(_home.Path, "databases", "dave", "data");
        Directory.Delete(data, recursive: true);
        CopyFolder(Path.Combine(_home.Path, "images", "shop", "1"), data);
        var owner = Unix.OwnerOf(Path.GetDirectoryName(data)!);
        Assert.Equal(0, Unix.Run("chown", "-R", $"{owner}:{owner}", data).ExitCode);
        var catalog = new FileCatalog(Path.Combine(_home.Path, "catalog"));
        catalog.Save(catalog.FindDatabase("dave")! with
        {
            Pending = (await DeadProcessAsync(OperationKind.ResetDatabase)) with { PreviousStatus = DatabaseStatus.Running },
        });

        var next = _home.Open();
        await next.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "other" });

        var dave = await next.GetDatabaseAsync("dave");
        Assert.Equal((DatabaseStatus.Running, 1), (dave.Status, dave.ImageRevision));
        // Its own password works on the new clone (the image's owner became its login again), and the old rows are gone.
        Assert.Equal(0L, await Clients.ScalarAsync<long>(connection, "SELECT count(*) FROM pg_tables WHERE tablename = 'notes'"));
    }

    private static void CopyFolder(string source, string target)
    {
        Assert.Equal(0, Unix.Run("cp", "-a", source, target).ExitCode);
    }

    [Fact]
    public async Task An_image_build_whose_process_died_is_cleaned_up_and_reported_by_the_next_session()
    {
        var catalog = new FileCatalog(Path.Combine(_home.Path, "catalog"));
        var record = catalog.FindProject("shop")!;
        var interrupted = record.Project with
        {
            Images = [.. record.Project.Images, new Image { Project = "shop", Revision = 2, Status = ImageStatus.Building }],
        };
        catalog.Save(new ProjectRecord(interrupted, await DeadProcessAsync(OperationKind.BuildImage, revision: 2)));
        Directory.CreateDirectory(Path.Combine(_home.Path, "images", "shop", "2.building"));

        var next = _home.Open();
        var project = await next.GetProjectAsync("shop");

        Assert.Equal(ProjectStatus.Ready, project.Status);
        Assert.Equal(1, Assert.Single(project.Images).Revision);
        Assert.Contains("interrupted", project.Error);
        await next.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "dave" });
        Assert.Equal(["1"], _home.Entries("images/shop"));
        Assert.Contains("interrupted", (await next.GetProjectAsync("shop")).Error);
    }

    /// <summary>A pending-operation mark naming a process that has exited.</summary>
    private static async Task<PendingOperation> DeadProcessAsync(OperationKind kind, int? revision = null)
    {
        using var process = Process.Start(new ProcessStartInfo("sleep", "0.2") { UseShellExecute = false })!;
        var started = process.StartTime.ToUniversalTime();
        await process.WaitForExitAsync();
        return new PendingOperation { Kind = kind, ProcessId = process.Id, ProcessStarted = started, Revision = revision };
    }

    private static string[] Stat(int pid) =>
        File.ReadAllText($"/proc/{pid}/stat").Split(')').Last().Split(' ', StringSplitOptions.RemoveEmptyEntries);

    // Fields after "(comm)": state, ppid, pgrp, session.
    private static int ParentId(int pid) => int.Parse(Stat(pid)[1]);
    private static int SessionId(int pid) => int.Parse(Stat(pid)[3]);
}
