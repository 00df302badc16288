namespace DevDb.Core.Model;

/// <summary>
/// Who a request acts for: the user a database's history names and whose quota a create counts
/// against, whether they are an administrator (past quotas), and the request's id. Ambient
/// (AsyncLocal), so the contract's methods carry no extra parameter: the API sets it for each
/// authenticated request; a cmdlet on the embedded engine acts for the OS user, as a developer;
/// the engines' own passes (expiry, idle stop, refresh) act as <see cref="DevDb"/>.
/// </summary>
public sealed record Actor(string User, bool IsAdmin, string? RequestId = null)
{
    private static readonly AsyncLocal<Actor?> Ambient = new();

    /// <summary>The actor of the request under way; <see cref="Local"/> when nobody set one.</summary>
    public static Actor Current => Ambient.Value ?? Local;

    /// <summary>The person at this machine's terminal (the embedded engine): a developer, so local quotas apply to them too.</summary>
    public static Actor Local { get; } = new(Environment.UserName, IsAdmin: false);

    /// <summary>DevDb itself: what its background passes do (expire, stop when idle, refresh).</summary>
    public static Actor DevDb { get; } = new("devdb", IsAdmin: true);

    /// <summary>Acts as <paramref name="actor"/> until the returned scope is disposed (work started meanwhile keeps it).</summary>
    public static IDisposable Use(Actor actor)
    {
        var previous = Ambient.Value;
        Ambient.Value = actor;
        return new Scope(previous);
    }

    private sealed class Scope(Actor? previous) : IDisposable
    {
        public void Dispose() => Ambient.Value = previous;
    }
}
