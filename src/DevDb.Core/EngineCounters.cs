namespace DevDb.Core;

/// <summary>
/// What an engine's own passes did, counted for the API's /metrics: databases removed because they
/// expired and databases stopped because they were idle. One instance per host, shared by its
/// engine and reconciler; counts only grow.
/// </summary>
public sealed class EngineCounters
{
    private long _expired;
    private long _idleStopped;

    public long Expired => Interlocked.Read(ref _expired);
    public long IdleStopped => Interlocked.Read(ref _idleStopped);

    public void CountExpired() => Interlocked.Increment(ref _expired);
    public void CountIdleStopped() => Interlocked.Increment(ref _idleStopped);
}
