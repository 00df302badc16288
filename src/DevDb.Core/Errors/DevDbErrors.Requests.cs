namespace DevDb.Core;

/// <summary>
/// The one factory of each error code (a test holds every code to exactly one): each fixes its
/// code's wording, its target (only a short prefix of what was typed) and, through the code, its
/// category. The callers pass what only they know.
/// </summary>
public static partial class DevDbErrors
{
    /// <param name="what">What the name is for: "project name", "database name", "name for the database inside the server".</param>
    /// <param name="problem">What is wrong with it, e.g. "it is empty".</param>
    public static DevDbException NameInvalid(string name, string what, string problem, string action) =>
        new(ErrorCodes.NameInvalid, $"'{UserInput.Shown(name)}' is not a valid {what}: {problem}", action, UserInput.Shown(name), null);

    public static DevDbException RequestInvalid(string message, string action, string? target = null) =>
        new(ErrorCodes.RequestInvalid, message, action, target, null);

    /// <param name="setting">The setting's name, e.g. DEVDB_SERVER_USER or DevDb:Tokens.</param>
    /// <param name="message">What is wrong with its value, naming the setting.</param>
    public static DevDbException SettingInvalid(string setting, string message, string action) =>
        new(ErrorCodes.SettingInvalid, message, action, setting, null);

    public static DevDbException SuperuserLoginsNotAllowed(string project) =>
        new(ErrorCodes.SuperuserLoginsNotAllowed,
            $"Project '{UserInput.Shown(project)}' asks for superuser logins, which this installation does not allow: a superuser can run programs and read files as its server's OS user.",
            "Leave out -SuperuserLogins, or ask the DevDb admin to allow it where each database has OS-level isolation of its own (AllowSuperuserLogins).",
            UserInput.Shown(project), null);

    public static DevDbException PostgresVersionUnsupported(int version, int oldest, int newest) =>
        new(ErrorCodes.PostgresVersionUnsupported,
            $"PostgreSQL {version} is not a major version DevDb can run: it runs {oldest} to {newest}.",
            "Give -PostgresVersion a supported major version such as 16 or 17 (leave it out for the newest one available).", version.ToString(), null);

    public static DevDbException StateLocked(string message, string target, string action = "Wait for it to finish, then try again.", Exception? inner = null) =>
        new(ErrorCodes.StateLocked, message, action, target, inner);

    /// <param name="message">What was still going on, and for how long it was waited for.</param>
    public static DevDbException WaitTimedOut(string message, string action, string target) =>
        new(ErrorCodes.WaitTimedOut, message, action, target, null);
}
