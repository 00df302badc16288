using System.Diagnostics;

namespace DevDb.Core.Catalog;

public enum OperationKind { BuildImage, RemoveProject, CreateDatabase, ResetDatabase, RemoveDatabase }

/// <summary>
/// Written into a record before a step starts and cleared after it ends, naming the process doing it.
/// If that process is gone, the next engine to open the catalog finishes or rolls back the step.
/// </summary>
public sealed record PendingOperation
{
    public required OperationKind Kind { get; init; }
    public required int ProcessId { get; init; }
    public required DateTime ProcessStarted { get; init; }
    /// <summary>The image revision being built, for BuildImage.</summary>
    public int? Revision { get; init; }

    public static PendingOperation Begin(OperationKind kind, int? revision = null)
    {
        using var self = Process.GetCurrentProcess();
        return new PendingOperation { Kind = kind, ProcessId = self.Id, ProcessStarted = self.StartTime.ToUniversalTime(), Revision = revision };
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
}
