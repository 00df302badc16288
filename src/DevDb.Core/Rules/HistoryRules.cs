using DevDb.Core.Model;

namespace DevDb.Core.Rules;

/// <summary>
/// A record's history, written once and used by both engines: each project and database keeps its
/// last <see cref="Capacity"/> changes, oldest first; who and which request come from <see cref="Actor.Current"/>.
/// A project also keeps the last <see cref="Capacity"/> removals of its databases (entries naming a database),
/// counted apart, so a CI's churn of databases never pushes out the project's own changes.
/// </summary>
public static class HistoryRules
{
    /// <summary>How many of its own changes a record keeps (and how many removals of its databases a project keeps).</summary>
    public const int Capacity = 50;

    /// <summary>The most entries a history holds: its own changes and its databases' removals.</summary>
    public const int MaxEntries = 2 * Capacity;

    /// <summary>The history with <paramref name="entry"/> added at the end, keeping the newest <see cref="Capacity"/> of each kind.</summary>
    public static IReadOnlyList<HistoryEntry> Append(IReadOnlyList<HistoryEntry>? history, HistoryEntry entry)
    {
        IReadOnlyList<HistoryEntry> all = [.. history ?? [], entry];
        var ownBeyond = Math.Max(0, all.Count(e => e.Database is null) - Capacity);
        var removalsBeyond = Math.Max(0, all.Count(e => e.Database is not null) - Capacity);
        if (ownBeyond == 0 && removalsBeyond == 0) return all;
        var kept = new List<HistoryEntry>(all.Count);
        foreach (var e in all)
        {
            if (e.Database is null ? ownBeyond-- > 0 : removalsBeyond-- > 0) continue;
            kept.Add(e);
        }
        return kept;
    }

    /// <summary>An entry for <paramref name="action"/> by the current actor at <paramref name="now"/>; a failure carries its error's code.</summary>
    public static HistoryEntry Entry(HistoryAction action, DateTimeOffset now, Exception? failure = null, string? detail = null, Actor? actor = null)
    {
        actor ??= Actor.Current;
        return new HistoryEntry
        {
            At = now,
            Action = action,
            User = actor.User,
            RequestId = actor.RequestId,
            Outcome = failure is null ? HistoryOutcome.Succeeded : HistoryOutcome.Failed,
            ErrorCode = failure is null ? null : (failure as DevDbException)?.Code ?? ErrorCodeOf(failure),
            Detail = detail,
        };
    }

    /// <summary>A failed entry with a code already known (a recorded Error's ErrorCode).</summary>
    public static HistoryEntry Failed(HistoryAction action, DateTimeOffset now, string? code, string? detail = null, Actor? actor = null) =>
        Entry(action, now, detail: detail, actor: actor) with { Outcome = HistoryOutcome.Failed, ErrorCode = code ?? ErrorCodes.ServerError };

    /// <summary>What Set-DevDbDatabase changed, as entries: protection, then the lifetime (none when nothing changed).</summary>
    public static IEnumerable<HistoryEntry> OfSet(Database before, DateTimeOffset? expiresAt, bool isProtected, DateTimeOffset now)
    {
        if (isProtected != before.Protected) yield return Entry(isProtected ? HistoryAction.Protected : HistoryAction.Unprotected, now);
        if (expiresAt != before.ExpiresAt)
            yield return Entry(HistoryAction.LifetimeSet, now, detail: expiresAt is { } at ? $"expires {at.ToUniversalTime():u}" : "no expiry");
    }

    /// <summary>What Set-DevDbProject changed, as entries: protection, then the lifetime settings.</summary>
    public static IEnumerable<HistoryEntry> OfProjectSet(Project before, Project after, DateTimeOffset now)
    {
        if (after.Protected != before.Protected) yield return Entry(after.Protected ? HistoryAction.Protected : HistoryAction.Unprotected, now);
        if (after.DefaultTimeToLive != before.DefaultTimeToLive || after.MaxTimeToLive != before.MaxTimeToLive)
            yield return Entry(HistoryAction.LifetimeSet, now, detail:
                $"default {(after.DefaultTimeToLive is { } d ? LifetimeRules.Shown(d) : "none")}, maximum {(after.MaxTimeToLive is { } m ? LifetimeRules.Shown(m) : "none")}");
    }

    private static string ErrorCodeOf(Exception e) => e is OperationCanceledException ? ErrorCodes.OperationInterrupted : ErrorCodes.ServerError;
}
