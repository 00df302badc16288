using DevDb.Core.Model;

namespace DevDb.Core.Rules;

/// <summary>
/// A record's history, written once and used by both engines: each project and database keeps its
/// last <see cref="Capacity"/> changes, oldest first; who and which request come from <see cref="Actor.Current"/>.
/// </summary>
public static class HistoryRules
{
    /// <summary>How many changes a record keeps.</summary>
    public const int Capacity = 50;

    /// <summary>The history with <paramref name="entry"/> added at the end, keeping the newest <see cref="Capacity"/>.</summary>
    public static IReadOnlyList<HistoryEntry> Append(IReadOnlyList<HistoryEntry>? history, HistoryEntry entry)
    {
        history ??= [];
        var skip = Math.Max(0, history.Count + 1 - Capacity);
        return [.. history.Skip(skip), entry];
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
