namespace DevDb.Testing;

/// <summary>
/// A clock the test moves by hand: the engines' records and lifetime rules read it, so expiry is
/// tested without sleeping. Starts at the real time (records look as usual); only moves forward.
/// Timers and delays keep real time (DevDb waits with them, it decides by the clock).
/// </summary>
public sealed class ManualClock : TimeProvider
{
    private readonly object _gate = new();
    private DateTimeOffset _now = DateTimeOffset.UtcNow;

    public override DateTimeOffset GetUtcNow()
    {
        lock (_gate) return _now;
    }

    public void Advance(TimeSpan by)
    {
        if (by < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(by), "The clock only moves forward.");
        lock (_gate) _now += by;
    }
}
