using System.Text.Json.Serialization;

namespace DevDb.Core.Model;

/// <summary>What a history entry records was done to a project or a database.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<HistoryAction>))]
public enum HistoryAction
{
    Created,
    Reset,
    Restored,
    Stopped,
    Started,
    /// <summary>Its expiry was set, moved or cleared (Set-DevDbDatabase -TimeToLive, -ExpiresAt, -NoExpiry); a project's lifetime settings changed.</summary>
    LifetimeSet,
    Protected,
    Unprotected,
    Expired,
    Removed,
    Checkpointed,
    CheckpointRemoved,
    /// <summary>A project's source or post-restore SQL changed (Update-DevDbProject).</summary>
    Updated,
    /// <summary>A project got a new image (Update-DevDbProject -Refresh, a scheduled refresh).</summary>
    Refreshed,
    /// <summary>Work a process that died had begun was finished or rolled back by the next DevDb to run.</summary>
    Recovered,
}

/// <summary>How a change ended.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<HistoryOutcome>))]
public enum HistoryOutcome { Succeeded, Failed }

/// <summary>
/// One change of a project or a database: what, who (<see cref="Actor.User"/>: a person, or devdb
/// for DevDb's own passes), when (the engine's clock), how it ended (a failure with its stable
/// code) and the request that asked for it. Never a secret: no password, no source credentials.
/// Lists of them are oldest first and capped by <see cref="Rules.HistoryRules"/>.
/// </summary>
public sealed record HistoryEntry
{
    public required DateTimeOffset At { get; init; }
    public required HistoryAction Action { get; init; }
    public required string User { get; init; }
    public HistoryOutcome Outcome { get; init; } = HistoryOutcome.Succeeded;
    /// <summary>The stable code of a failure (e.g. ServerStartFailed); null when it succeeded.</summary>
    public string? ErrorCode { get; init; }
    /// <summary>The request's id (the API's trace identifier), when a request asked for it.</summary>
    public string? RequestId { get; init; }
    /// <summary>What else says what happened: a new expiry, an image revision, a checkpoint, why it stopped.</summary>
    public string? Detail { get; init; }
    /// <summary>In a project's history, the database the entry is about (its removal or expiry), and that database's owner.</summary>
    public string? Database { get; init; }
    public string? Owner { get; init; }

    public override string ToString() =>
        $"{At:u} {Action}{(Database is null ? "" : $" {Database}")} by {User}: {Outcome}{(ErrorCode is null ? "" : $" ({ErrorCode})")}";
}

/// <summary>
/// A record's history as <see cref="Database"/> and <see cref="Project"/> hold it: read-only and equal
/// by its entries, so two records with the same changes are equal (records compare lists by reference).
/// </summary>
public sealed class HistoryList : IReadOnlyList<HistoryEntry>, IEquatable<HistoryList>
{
    private readonly HistoryEntry[] _entries;

    private HistoryList(HistoryEntry[] entries) => _entries = entries;

    public static HistoryList Empty { get; } = new([]);

    public static HistoryList Of(IEnumerable<HistoryEntry>? entries) =>
        entries switch
        {
            null => Empty,
            HistoryList list => list,
            _ => entries.ToArray() is { Length: > 0 } array ? new HistoryList(array) : Empty,
        };

    public HistoryEntry this[int index] => _entries[index];
    public int Count => _entries.Length;
    public IEnumerator<HistoryEntry> GetEnumerator() => ((IEnumerable<HistoryEntry>)_entries).GetEnumerator();
    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    public bool Equals(HistoryList? other) => other is not null && _entries.AsSpan().SequenceEqual(other._entries);
    public override bool Equals(object? obj) => obj is HistoryList other && Equals(other);
    public override int GetHashCode() => _entries.Length == 0 ? 0 : HashCode.Combine(_entries.Length, _entries[^1]);
    public override string ToString() => $"{Count} entries";
}
