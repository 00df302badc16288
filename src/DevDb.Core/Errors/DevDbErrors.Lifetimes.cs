namespace DevDb.Core;

/// <summary>Lifetimes: expiry and protection, in the same words from both engines.</summary>
public static partial class DevDbErrors
{
    /// <param name="what">What is wrong with the request's lifetime, as a sentence.</param>
    /// <param name="action">What to ask for instead.</param>
    public static DevDbException LifetimeInvalid(string name, string what, string action) =>
        new(ErrorCodes.LifetimeInvalid, $"The lifetime asked for '{UserInput.Shown(name)}' cannot be used: {what}", action, UserInput.Shown(name), null);

    /// <param name="name">The protected database, or the protected project when <paramref name="isProject"/>.</param>
    /// <param name="refused">What was refused, e.g. "removed", "reset".</param>
    public static DevDbException DatabaseProtected(string name, string refused, bool isProject = false) =>
        new(ErrorCodes.DatabaseProtected,
            $"{(isProject ? "Project" : "Database")} '{name}' is protected: it cannot be {refused}.",
            isProject
                ? $"Unprotect it first if you mean it: Update-DevDbProject -Name {name} -Protected:$false."
                : $"Unprotect it first if you mean it: Set-DevDbDatabase -Name {name} -Protected:$false.",
            name, null);

    /// <param name="what">What is wrong with the schedule, as a sentence.</param>
    public static DevDbException ScheduleInvalid(string project, string what) =>
        new(ErrorCodes.ScheduleInvalid, $"The refresh schedule asked for project '{UserInput.Shown(project)}' cannot be used: {what}",
            "Give a five-field cron expression and an IANA time zone, e.g. -RefreshSchedule '0 3 * * *' -RefreshTimeZone 'Europe/Paris' (03:00 every day, Paris time).",
            UserInput.Shown(project), null);
}
