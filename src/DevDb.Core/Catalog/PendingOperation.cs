using System.Diagnostics;
using DevDb.Core.Model;

namespace DevDb.Core.Catalog;

public enum OperationKind { BuildImage, RemoveProject, CreateDatabase, ResetDatabase, StopDatabase, StartDatabase, RemoveDatabase, CheckpointDatabase, RestoreDatabase, RemoveCheckpoint }

/// <summary>
/// Written into a record before a step starts and cleared after it ends, naming the process doing it.
/// If that process is gone, the next engine to change the catalog finishes or rolls back the step.
/// </summary>
public sealed record PendingOperation
{
    public required OperationKind Kind { get; init; }
    public required int ProcessId { get; init; }
    public required DateTime ProcessStarted { get; init; }
    /// <summary>The image revision being built, for BuildImage.</summary>
    public int? Revision { get; init; }
    /// <summary>
    /// The work was accepted to go on after the request returned (the API's 202, New-DevDbDatabase
    /// -NoWait): if its process dies, the record stays Failed with why, rather than being rolled back.
    /// </summary>
    public bool Accepted { get; init; }
    /// <summary>The database's status before the step (a reset or start that dies is brought back to it).</summary>
    public DatabaseStatus? PreviousStatus { get; init; }
    /// <summary>The checkpoint being taken, restored or removed; for a reset, true when it goes to the image even for a branch.</summary>
    public string? Checkpoint { get; init; }
    public bool ToImage { get; init; }

    public static PendingOperation Begin(OperationKind kind, int? revision = null, bool accepted = false, DatabaseStatus? previousStatus = null)
    {
        using var self = Process.GetCurrentProcess();
        return new PendingOperation
        {
            Kind = kind, ProcessId = self.Id, ProcessStarted = self.StartTime.ToUniversalTime(), Revision = revision,
            Accepted = accepted, PreviousStatus = previousStatus,
        };
    }

    /// <summary>The same step, now owned by this process (recovery claims it, so no other session repairs it too).</summary>
    public PendingOperation Claimed()
    {
        using var self = Process.GetCurrentProcess();
        return this with { ProcessId = self.Id, ProcessStarted = self.StartTime.ToUniversalTime() };
    }

    /// <summary>True while the process that began the step is still running (a reused pid has another start time).</summary>
    public bool OwnerIsAlive()
    {
        try
        {
            using var process = Process.GetProcessById(ProcessId);
            return Math.Abs((process.StartTime.ToUniversalTime() - ProcessStarted).TotalSeconds) < 2;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    /// <summary>What the step is, for messages: "building image r2", "resetting it".</summary>
    public string Describe() => Kind switch
    {
        OperationKind.BuildImage => $"building image r{Revision}",
        OperationKind.CreateDatabase => "creating it",
        OperationKind.ResetDatabase => "resetting it",
        OperationKind.StopDatabase => "stopping it",
        OperationKind.StartDatabase => "starting it",
        OperationKind.CheckpointDatabase => $"taking checkpoint {Checkpoint}",
        OperationKind.RestoreDatabase => $"restoring checkpoint {Checkpoint}",
        OperationKind.RemoveCheckpoint => $"removing checkpoint {Checkpoint}",
        OperationKind.RemoveDatabase or OperationKind.RemoveProject => "removing it",
        _ => Kind.ToString(),
    } + $" (process {ProcessId})";
}
