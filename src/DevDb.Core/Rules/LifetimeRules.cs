using DevDb.Core.Client;
using DevDb.Core.Model;

namespace DevDb.Core.Rules;

/// <summary>
/// Expiry and protection, written once and used by both engines (and by the API's background
/// pass and the reconciler, which remove what expired). Times are the engine's clock.
/// </summary>
public static class LifetimeRules
{
    /// <summary>The longest lifetime DevDb takes (about 100 years): beyond it, a date is a mistake.</summary>
    public static readonly TimeSpan Longest = TimeSpan.FromDays(36_525);

    /// <summary>The maximum that applies to a project's databases: the smaller of the project's and the installation's.</summary>
    public static TimeSpan? MaximumOf(Project project, TimeSpan? installationMax) =>
        (project.MaxTimeToLive, installationMax) switch
        {
            ({ } p, { } i) => p < i ? p : i,
            ({ } p, null) => p,
            (null, var i) => i,
        };

    /// <summary>A request's shape, before anything is looked up: LifetimeInvalid for both at once or a time-to-live that is not positive.</summary>
    public static void CheckShape(string name, TimeSpan? timeToLive, DateTimeOffset? expiresAt, bool noExpiry = false)
    {
        if ((timeToLive is not null ? 1 : 0) + (expiresAt is not null ? 1 : 0) + (noExpiry ? 1 : 0) > 1)
            throw DevDbErrors.LifetimeInvalid(name, "it gives more than one of a time-to-live, an expiry time and no expiry.",
                "Give one of -TimeToLive, -ExpiresAt or -NoExpiry.");
        if (timeToLive is { } ttl && (ttl <= TimeSpan.Zero || ttl > Longest))
            throw DevDbErrors.LifetimeInvalid(name, $"the time-to-live {Shown(ttl)} is not between a second and 100 years.",
                "Give a positive time-to-live, e.g. -TimeToLive (New-TimeSpan -Hours 2) or '02:00:00'.");
    }

    /// <summary>A project's settings: positive, and the default no longer than the maximum (LifetimeInvalid).</summary>
    public static void CheckProjectSettings(string project, TimeSpan? defaultTimeToLive, TimeSpan? maxTimeToLive, TimeSpan? installationMax)
    {
        CheckShape(project, defaultTimeToLive, null);
        CheckShape(project, maxTimeToLive, null);
        var max = maxTimeToLive is { } m && installationMax is { } i ? (m < i ? m : i) : maxTimeToLive ?? installationMax;
        if (defaultTimeToLive is { } d && max is { } limit && d > limit)
            throw DevDbErrors.LifetimeInvalid(project, $"the default time-to-live {Shown(d)} is longer than the maximum {Shown(limit)}.",
                $"Give a default of at most {Shown(limit)}.");
    }

    /// <summary>
    /// When a new database expires: its own time-to-live or expiry time; else the project's default;
    /// else, where a maximum applies, that maximum; else never. LifetimeInvalid past the maximum or in the past.
    /// </summary>
    public static DateTimeOffset? ExpiresAtOfNew(NewDatabaseRequest request, Project project, TimeSpan? installationMax, DateTimeOffset now)
    {
        CheckShape(request.Name, request.TimeToLive, request.ExpiresAt);
        var max = MaximumOf(project, installationMax);
        var asked = request.ExpiresAt ?? (request.TimeToLive is { } ttl ? now + ttl : (DateTimeOffset?)null);
        if (asked is null)
        {
            var fallback = project.DefaultTimeToLive ?? max;
            return fallback is { } f ? now + (max is { } m && m < f ? m : f) : null;
        }
        return Checked(request.Name, asked.Value, max, now);
    }

    /// <summary>What a Set request leaves: the new expiry and protection of <paramref name="database"/>.</summary>
    public static (DateTimeOffset? ExpiresAt, bool Protected) Apply(SetDatabaseRequest request, Database database, Project? project, TimeSpan? installationMax,
        DateTimeOffset now)
    {
        CheckShape(request.Name, request.TimeToLive, request.ExpiresAt, request.NoExpiry);
        var max = project is null ? installationMax : MaximumOf(project, installationMax);
        var expiresAt = database.ExpiresAt;
        if (request.NoExpiry)
        {
            if (max is { } limit)
                throw DevDbErrors.LifetimeInvalid(request.Name, $"databases of project '{database.Project}' live at most {Shown(limit)}.",
                    $"Extend it instead: Set-DevDbDatabase -Name {request.Name} -TimeToLive {Shown(limit)}; or protect it (-Protected).");
            expiresAt = null;
        }
        else if ((request.ExpiresAt ?? (request.TimeToLive is { } ttl ? now + ttl : (DateTimeOffset?)null)) is { } asked)
            expiresAt = Checked(request.Name, asked, max, now);
        return (expiresAt, request.Protected ?? database.Protected);
    }

    /// <summary>Whether an expiry pass removes the database now: not protected, its time come, and no operation under way on it.</summary>
    public static bool IsExpired(Database database, DateTimeOffset now) =>
        !database.Protected && database.ExpiresAt is { } at && at <= now && !DatabaseRules.IsBusy(database.Status);

    /// <summary>A protected database is not removed (nor, with its project, removed by force).</summary>
    public static void CheckRemovable(Database database)
    {
        if (database.Protected) throw DevDbErrors.DatabaseProtected(database.Name, "removed");
    }

    /// <summary>A protected database keeps its data: no reset.</summary>
    public static void CheckResettable(Database database)
    {
        if (database.Protected) throw DevDbErrors.DatabaseProtected(database.Name, "reset");
    }

    /// <summary>A protected project is not removed; nor are protected databases with it.</summary>
    public static void CheckProjectRemovable(Project project, IEnumerable<Database> databases, bool force)
    {
        if (project.Protected) throw DevDbErrors.DatabaseProtected(project.Name, "removed", isProject: true);
        if (force && databases.FirstOrDefault(d => d.Protected) is { } kept)
            throw DevDbErrors.DatabaseProtected(kept.Name, $"removed with project '{project.Name}'");
    }

    private static DateTimeOffset Checked(string name, DateTimeOffset asked, TimeSpan? max, DateTimeOffset now)
    {
        if (asked <= now)
            throw DevDbErrors.LifetimeInvalid(name, $"the expiry time {asked:u} has passed.", "Give a time in the future, or a time-to-live (-TimeToLive).");
        if (asked - now > Longest)
            throw DevDbErrors.LifetimeInvalid(name, $"the expiry time {asked:u} is more than 100 years away.", "Give a nearer time, or no expiry (-NoExpiry).");
        if (max is { } limit && asked - now > limit)
            throw DevDbErrors.LifetimeInvalid(name, $"it would live {Shown(asked - now)}, longer than the maximum {Shown(limit)}.",
                $"Ask for at most {Shown(limit)}; it can be extended again later (Set-DevDbDatabase -TimeToLive).");
        return asked;
    }

    /// <summary>A span as people write it: 30m, 2h, 1d2h, 45s.</summary>
    public static string Shown(TimeSpan span)
    {
        if (span < TimeSpan.Zero) return "-" + Shown(span.Negate());
        var parts = new List<string>();
        if (span.Days > 0) parts.Add($"{span.Days}d");
        if (span.Hours > 0) parts.Add($"{span.Hours}h");
        if (span.Minutes > 0) parts.Add($"{span.Minutes}m");
        if (span.Seconds > 0 || parts.Count == 0) parts.Add($"{span.Seconds}s");
        return string.Concat(parts);
    }
}
