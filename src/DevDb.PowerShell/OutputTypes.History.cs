using System.Collections.ObjectModel;
using DevDb.Core.Model;

namespace DevDb.Commands;

/// <summary>
/// One change of a database or a project, as the cmdlets show it (Get-DevDbDatabase dave |
/// Select-Object -ExpandProperty History): what, who, when, how it ended, and the request.
/// </summary>
public sealed class DevDbHistoryEntry
{
    /// <summary>When it happened, by the DevDb engine's clock.</summary>
    public DateTimeOffset At { get; init; }
    /// <summary>Created, Reset, Restored, Stopped, Started, LifetimeSet, Protected, Unprotected, Expired, Removed, Checkpointed, CheckpointRemoved, Updated, Refreshed or Recovered.</summary>
    public required string Action { get; init; }
    /// <summary>Who asked: a user, or devdb for DevDb's own passes (expiry, crash recovery).</summary>
    public required string User { get; init; }
    /// <summary>Succeeded or Failed.</summary>
    public required string Outcome { get; init; }
    /// <summary>The stable id of a failure (the ErrorId the cmdlet raised), e.g. DatabaseProtected.</summary>
    public string? ErrorCode { get; init; }
    /// <summary>The request's id (a DevDb server's X-Request-Id), to find it in the server's log.</summary>
    public string? RequestId { get; init; }
    /// <summary>What else says what happened: a new expiry, an image revision, a checkpoint.</summary>
    public string? Detail { get; init; }
    /// <summary>In a project's history: the database the entry is about (its removal or expiry), and its owner.</summary>
    public string? Database { get; init; }
    /// <summary>That database's owner.</summary>
    public string? Owner { get; init; }

    internal static DevDbHistoryEntry From(HistoryEntry entry) => new()
    {
        At = entry.At, Action = entry.Action.ToString(), User = entry.User, Outcome = entry.Outcome.ToString(), ErrorCode = entry.ErrorCode,
        RequestId = entry.RequestId, Detail = entry.Detail, Database = entry.Database, Owner = entry.Owner,
    };

    /// <summary>One line: when, what, by whom, how it ended.</summary>
    public override string ToString() =>
        $"{At.ToUniversalTime():u} {Action}{(Database is null ? "" : $" {Database}")} by {User}: {Outcome}{(ErrorCode is null ? "" : $" ({ErrorCode})")}";
}

/// <summary>A record's history, oldest first: a list to scripts and JSON, and one short cell in a CSV file (its length and last change).</summary>
public sealed class DevDbHistory(IList<DevDbHistoryEntry> entries) : ReadOnlyCollection<DevDbHistoryEntry>(entries)
{
    internal static DevDbHistory From(IEnumerable<HistoryEntry> history) => new(history.Select(DevDbHistoryEntry.From).ToList());

    /// <summary>How many changes, and the last one.</summary>
    public override string ToString() => Count == 0 ? "" : $"{Count} changes, last: {this[Count - 1]}";
}
