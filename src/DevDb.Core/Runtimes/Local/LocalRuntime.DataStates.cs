using System.Diagnostics;
using DevDb.Core.Client;
using DevDb.Core.Engine;
using DevDb.Core.IO;
using DevDb.Core.Postgres;

namespace DevDb.Core.Runtimes.Local;

/// <summary>
/// Checkpoints, restores and branches: copy-on-write copies of a database's data folder
/// (<see cref="DataFolders.Copy"/> clones with reflinks where the file system has them). A copy of a
/// running database is made consistent the simple way: a fast stop (Postgres writes everything and
/// closes cleanly), the clone, and a start again; on a reflink file system the clone takes
/// milliseconds, so the interruption is the stop and the start. Copies are written under a
/// ".copying" name and renamed when complete, so a crash never leaves a half checkpoint looking whole.
/// </summary>
public sealed partial class LocalRuntime
{
    private const string Unfinished = ".copying";

    public async Task<TimeSpan> CheckpointDatabaseAsync(DatabaseSpec spec, string checkpoint, CancellationToken cancellationToken)
    {
        var target = _layout.CheckpointData(spec.Name, checkpoint);
        if (Directory.Exists(target)) throw DevDbErrors.CheckpointExists(spec.Name, checkpoint);
        LocalLayout.EnsureFolder(_layout.CheckpointsFolder(spec.Name), LocalLayout.PassThrough);
        return await ConsistentCopyAsync(spec, target, $"Checkpointing database {spec.Name}", "checkpoint-database", cancellationToken);
    }

    public Task DeleteCheckpointAsync(string database, string checkpoint, CancellationToken cancellationToken)
    {
        LocalLayout.DeleteFolder(_layout.CheckpointData(database, checkpoint) + Unfinished);
        LocalLayout.DeleteFolder(_layout.CheckpointData(database, checkpoint));
        return Task.CompletedTask;
    }

    public IReadOnlyList<string> ListCheckpoints(string database) =>
        Directory.Exists(_layout.CheckpointsFolder(database))
            ? Directory.EnumerateDirectories(_layout.CheckpointsFolder(database)).Select(Path.GetFileName).OfType<string>()
                .Where(n => !n.EndsWith(Unfinished, StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList()
            : [];

    public async Task RestoreDatabaseAsync(DatabaseSpec spec, string? checkpoint, IProgress<DevDbProgress>? progress, CancellationToken cancellationToken)
    {
        var source = checkpoint is null ? _layout.OriginData(spec.Name) : _layout.CheckpointData(spec.Name, checkpoint);
        if (!Directory.Exists(source))
            throw checkpoint is null
                ? DevDbErrors.ImageMissing(spec.Project, spec.ImageRevision, $"the data database '{spec.Name}' was branched from ('{source}')")
                : DevDbErrors.CheckpointNotFound(spec.Name, checkpoint);
        var activity = checkpoint is null ? $"Resetting branch {spec.Name}" : $"Restoring database {spec.Name}";
        var owner = ServerUser.ForUid(spec.ServerUid);
        var fresh = _layout.DatabaseData(spec.Name) + ".new";
        progress?.Report(new DevDbProgress(activity, checkpoint is null ? "Cloning the data it was branched from" : $"Cloning checkpoint {checkpoint}", 10));
        await ReplaceDataAsync(spec, activity, "restore-database", token => Task.Run(() => DataFolders.Copy(source, fresh, owner, token), token), progress, cancellationToken);
    }

    public async Task BranchDatabaseAsync(DatabaseSpec branch, DatabaseSpec parent, string? checkpoint, IProgress<DevDbProgress>? progress,
        CancellationToken cancellationToken)
    {
        var activity = $"Creating branch {branch.Name} of {parent.Name}";
        var owner = ServerUser.ForUid(branch.ServerUid);
        var origin = _layout.OriginData(branch.Name);
        try
        {
            LocalLayout.CreatePrivateFolder(_layout.DatabaseFolder(branch.Name), owner);
            if (checkpoint is null)
            {
                progress?.Report(new DevDbProgress(activity, $"Copying the data of {parent.Name}", 10));
                await ConsistentCopyAsync(parent, origin, activity, "branch-database", cancellationToken, owner);
            }
            else
            {
                var source = _layout.CheckpointData(parent.Name, checkpoint);
                if (!Directory.Exists(source)) throw DevDbErrors.CheckpointNotFound(parent.Name, checkpoint);
                progress?.Report(new DevDbProgress(activity, $"Cloning checkpoint {checkpoint} of {parent.Name}", 10));
                await Task.Run(() => DataFolders.Copy(source, origin, owner, cancellationToken), cancellationToken);
            }
            await Task.Run(() => DataFolders.Copy(origin, _layout.DatabaseData(branch.Name), owner, cancellationToken), cancellationToken);
            await StartAsync(branch, owner, activity, progress, cancellationToken);
        }
        catch (Exception e)
        {
            await DeleteDatabaseAsync(branch.Name, CancellationToken.None);
            if (DiskSpace.IsFull(e) && e is not DevDbException { Code: ErrorCodes.DiskFull })
                throw DiskSpace.Full(_layout.Databases, $"copying the data of database '{parent.Name}' into branch '{branch.Name}'", null, e);
            throw;
        }
    }

    public Task DeleteOriginAsync(string database, CancellationToken cancellationToken)
    {
        LocalLayout.DeleteFolder(_layout.OriginData(database));
        return Task.CompletedTask;
    }

    /// <summary>
    /// Copies the database's data to <paramref name="target"/> while its server is stopped: a
    /// running one is stopped fast and started again (also when the copy fails). Returns how long
    /// it did not answer. The copy belongs to <paramref name="copyOwner"/> (default: the database's server user).
    /// </summary>
    /// <param name="operation">The operation's name in its fault points (checkpoint-database, branch-database).</param>
    private async Task<TimeSpan> ConsistentCopyAsync(DatabaseSpec spec, string target, string activity, string operation, CancellationToken cancellationToken,
        ServerUser? copyOwner = null)
    {
        var owner = ServerUser.ForUid(spec.ServerUid);
        var data = _layout.DatabaseData(spec.Name);
        var copying = target + Unfinished;
        LocalLayout.DeleteFolder(copying);
        var wasRunning = Postmaster.Pid(data) is not null;
        if (wasRunning) await FlushAsync(spec, cancellationToken);
        var interruption = Stopwatch.StartNew();
        try
        {
            await Postmaster.StopIfRunningAsync(data, "fast", cancellationToken);
            FaultPoints.Reach($"{operation}:stopped");
            await Task.Run(() => DataFolders.Copy(data, copying, copyOwner ?? owner, cancellationToken), cancellationToken);
            Directory.Move(copying, target);
            FaultPoints.Reach($"{operation}:copied");
        }
        catch (Exception e)
        {
            LocalLayout.DeleteFolder(copying);
            if (DiskSpace.IsFull(e) && e is not DevDbException { Code: ErrorCodes.DiskFull })
            {
                if (wasRunning) await StartAsync(spec, owner, activity, progress: null, CancellationToken.None);
                throw DiskSpace.Full(_layout.Databases, $"copying the data of database '{spec.Name}'", DataFolders.Size(data), e);
            }
            if (wasRunning) await StartAsync(spec, owner, activity, progress: null, CancellationToken.None);
            throw;
        }
        if (wasRunning) await StartAsync(spec, owner, activity, progress: null, cancellationToken);
        return wasRunning ? interruption.Elapsed : TimeSpan.Zero;
    }

    /// <summary>
    /// A CHECKPOINT while the server still answers writes what its shutdown checkpoint would otherwise write while
    /// it does not, so the fast stop that follows is short. Only a shortcut: if it fails, the stop writes it all.
    /// </summary>
    private async Task FlushAsync(DatabaseSpec spec, CancellationToken cancellationToken)
    {
        try
        {
            await using var admin = await AdminSql.OpenAsync(_layout.DatabaseSocket(spec.Name), spec.Port, ClusterRoles.Admin, "postgres", cancellationToken);
            await using var command = new Npgsql.NpgsqlCommand("CHECKPOINT", admin) { CommandTimeout = 300 };
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or IOException or TimeoutException)
        {
        }
    }

    /// <summary>After a crash: copies that were never finished go (the server is started again by the engine's repair).</summary>
    private void DeleteUnfinishedCopies(string database)
    {
        if (!Directory.Exists(_layout.CheckpointsFolder(database))) return;
        foreach (var folder in Directory.EnumerateDirectories(_layout.CheckpointsFolder(database), "*" + Unfinished))
            LocalLayout.DeleteFolder(folder);
    }
}
