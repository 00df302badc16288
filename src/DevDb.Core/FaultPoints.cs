namespace DevDb.Core;

/// <summary>
/// The named step boundaries of the engine's work, where the fault-injection tests kill the
/// process (kill -9) to prove that every step is finished or rolled back by the next engine.
/// Only when DEVDB_FAULT_AT names the point (a test sets it for one child process); otherwise a
/// no-op that costs one comparison.
/// </summary>
public static class FaultPoints
{
    private static readonly string? Target = Environment.GetEnvironmentVariable("DEVDB_FAULT_AT");

    /// <summary>The points, for the tests' matrix: "operation:step".</summary>
    public static readonly IReadOnlyList<string> All =
    [
        "new-project:recorded", "new-project:restored", "new-project:published",
        "update-project:recorded", "update-project:restored", "update-project:published",
        "remove-project:recorded", "remove-project:database-removed", "remove-project:images-deleted",
        "new-database:recorded", "new-database:cloned", "new-database:started",
        "reset-database:recorded", "reset-database:cloned", "reset-database:stopped", "reset-database:swapped", "reset-database:started",
        "stop-database:recorded", "stop-database:stopped",
        "start-database:recorded", "start-database:started",
        "remove-database:recorded", "remove-database:deleted",
        "checkpoint-database:recorded", "checkpoint-database:stopped", "checkpoint-database:copied",
        "restore-database:recorded", "restore-database:cloned", "restore-database:stopped", "restore-database:swapped", "restore-database:started",
        "branch-database:recorded", "branch-database:stopped", "branch-database:copied",
    ];

    public static void Reach(string point)
    {
        if (Target is null || !string.Equals(Target, point, StringComparison.Ordinal)) return;
        // As abrupt as kill -9: no finally block, no flush, no cleanup runs.
        System.Diagnostics.Process.GetCurrentProcess().Kill();
        Thread.Sleep(Timeout.Infinite);
    }
}
