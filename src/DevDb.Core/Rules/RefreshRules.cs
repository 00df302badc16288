using Cronos;
using DevDb.Core.Model;

namespace DevDb.Core.Rules;

/// <summary>
/// Scheduled refresh, written once and used by both engines (the API's background service and the
/// reconciler run it): a project's schedule is a five-field cron expression in an IANA time zone
/// (default UTC); when its next occurrence has come by the engine's clock, the project is refreshed
/// from its source as Update-DevDbProject does, and the next occurrence after that moment is recorded.
/// Occurrences missed while no server ran are not made up one by one: one refresh, then the next one.
/// </summary>
public static class RefreshRules
{
    public const string DefaultTimeZone = "UTC";
    /// <summary>Longer than any cron expression or time zone id a person writes: bounded input.</summary>
    public const int MaxLength = 100;

    /// <summary>A checked schedule: the expression as given (trimmed) and the time zone's IANA id.</summary>
    public sealed record Schedule(string Cron, string TimeZone, CronExpression Expression, TimeZoneInfo Zone)
    {
        /// <summary>The first occurrence strictly after <paramref name="after"/> by the schedule's time zone (a time in a DST gap runs just after it, one in an overlap once), in UTC.</summary>
        public DateTimeOffset Next(DateTimeOffset after) =>
            Expression.GetNextOccurrence(after, Zone, inclusive: false)?.ToUniversalTime()
            ?? throw DevDbErrors.ScheduleInvalid("", $"'{UserInput.Shown(Cron)}' has no occurrence after {after:u}.");
    }

    /// <summary>Parses and checks a schedule; ScheduleInvalid naming the problem (and an example) for anything DevDb cannot run.</summary>
    public static Schedule Parse(string project, string cron, string? timeZone)
    {
        if (string.IsNullOrWhiteSpace(cron))
            throw DevDbErrors.ScheduleInvalid(project, "the cron expression is empty (to drop a schedule, use -NoRefreshSchedule).");
        if (cron.Length > MaxLength)
            throw DevDbErrors.ScheduleInvalid(project, $"the cron expression has {cron.Length} characters, more than the {MaxLength} DevDb takes.");
        var text = cron.Trim();
        var fields = text.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries).Length;
        if (fields != 5)
            throw DevDbErrors.ScheduleInvalid(project,
                $"'{UserInput.Shown(text)}' has {fields} field(s); a schedule has five: minute hour day-of-month month day-of-week.");
        CronExpression expression;
        try
        {
            expression = CronExpression.Parse(text, CronFormat.Standard);
        }
        catch (CronFormatException e)
        {
            throw DevDbErrors.ScheduleInvalid(project, $"'{UserInput.Shown(text)}' is not a valid cron expression ({e.Message.TrimEnd('.')}).");
        }
        var zone = FindZone(project, timeZone);
        // A schedule that never comes (30 February) is a mistake, not a setting.
        if (expression.GetNextOccurrence(DateTimeOffset.UnixEpoch, zone) is null
            && expression.GetNextOccurrence(new DateTimeOffset(2000, 1, 1, 0, 0, 0, TimeSpan.Zero), zone) is null)
            throw DevDbErrors.ScheduleInvalid(project, $"'{UserInput.Shown(text)}' never occurs.");
        return new Schedule(text, zone.Id, expression, zone);
    }

    /// <summary>The IANA time zone; null or empty is UTC. Windows ids are refused, so a schedule means the same on every machine.</summary>
    private static TimeZoneInfo FindZone(string project, string? timeZone)
    {
        if (string.IsNullOrWhiteSpace(timeZone)) return TimeZoneInfo.Utc;
        var id = timeZone.Trim();
        if (id.Length > MaxLength)
            throw DevDbErrors.ScheduleInvalid(project, $"the time zone has {id.Length} characters, more than the {MaxLength} DevDb takes.");
        if (string.Equals(id, DefaultTimeZone, StringComparison.OrdinalIgnoreCase)) return TimeZoneInfo.Utc;
        if (!TimeZoneInfo.TryFindSystemTimeZoneById(id, out var zone) || !zone.HasIanaId)
            throw DevDbErrors.ScheduleInvalid(project, $"'{UserInput.Shown(id)}' is not an IANA time zone id (e.g. 'Europe/Paris', 'America/New_York', 'UTC').");
        return zone;
    }

    /// <summary>
    /// A project with a request's schedule settings: a new schedule (or a new time zone for the
    /// current one) is checked and its next occurrence after <paramref name="now"/> recorded;
    /// <paramref name="noSchedule"/> drops it. What is not given is kept. ScheduleInvalid for both at once.
    /// </summary>
    public static Project Apply(Project project, string? schedule, string? timeZone, bool noSchedule, DateTimeOffset now)
    {
        if (noSchedule && (schedule is not null || timeZone is not null))
            throw DevDbErrors.ScheduleInvalid(project.Name, "it gives a schedule and no schedule at once. Give one of -RefreshSchedule or -NoRefreshSchedule.");
        if (noSchedule) return project with { RefreshSchedule = null, RefreshTimeZone = null, NextRefresh = null };
        if (schedule is null && timeZone is null) return project;
        var cron = schedule ?? project.RefreshSchedule
            ?? throw DevDbErrors.ScheduleInvalid(project.Name, "it gives a time zone but the project has no schedule. Give -RefreshSchedule too.");
        var parsed = Parse(project.Name, cron, timeZone ?? project.RefreshTimeZone);
        return project with { RefreshSchedule = parsed.Cron, RefreshTimeZone = parsed.TimeZone, NextRefresh = parsed.Next(now) };
    }

    /// <summary>A new project's schedule, checked before anything is looked up (ScheduleInvalid).</summary>
    public static void CheckNew(Client.NewProjectRequest request)
    {
        if (request.RefreshSchedule is null && request.RefreshTimeZone is null) return;
        if (request.RefreshSchedule is null)
            throw DevDbErrors.ScheduleInvalid(request.Name, "it gives a time zone but no schedule. Give -RefreshSchedule too.");
        Parse(request.Name, request.RefreshSchedule, request.RefreshTimeZone);
    }

    /// <summary>A new project with the request's schedule (if any) and its first refresh after <paramref name="now"/>.</summary>
    public static Project OfNew(Client.NewProjectRequest request, DateTimeOffset now, Project project) =>
        Apply(project, request.RefreshSchedule, request.RefreshTimeZone, noSchedule: false, now);

    /// <summary>The next occurrence of the project's schedule after <paramref name="after"/>; null without a schedule (or with one that no longer parses here).</summary>
    public static DateTimeOffset? NextAfter(Project project, DateTimeOffset after)
    {
        if (project.RefreshSchedule is null) return null;
        try
        {
            return Parse(project.Name, project.RefreshSchedule, project.RefreshTimeZone).Next(after);
        }
        catch (DevDbException)
        {
            // A time zone this machine lacks (a record written elsewhere): no refresh rather than a crash of the pass.
            return null;
        }
    }

    /// <summary>Whether a refresh pass refreshes the project now: it has a schedule and its next refresh has come.</summary>
    public static bool IsDue(Project project, DateTimeOffset now) =>
        project.RefreshSchedule is not null && project.NextRefresh is { } next && next <= now;

    /// <summary>What a pass records as it starts a due refresh: when, no outcome yet, and the next occurrence after now.</summary>
    public static Project Started(Project project, DateTimeOffset now) => project with
    {
        LastRefresh = now, LastRefreshOutcome = RefreshOutcome.Running, LastRefreshError = null, LastRefreshErrorCode = null,
        NextRefresh = NextAfter(project, now),
    };

    /// <summary>The outcome of the refresh started last: Succeeded, or Failed with the error (the previous image keeps serving).</summary>
    public static Project Finished(Project project, DevDbException? error) => project with
    {
        LastRefreshOutcome = error is null ? RefreshOutcome.Succeeded : RefreshOutcome.Failed,
        LastRefreshError = error?.Message, LastRefreshErrorCode = error?.Code,
    };
}
