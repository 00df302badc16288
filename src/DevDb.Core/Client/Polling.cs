namespace DevDb.Core.Client;

/// <summary>
/// The one way DevDb waits for long work (a build, a clone, a reset, a pod): ask, report progress,
/// sleep, ask again. There is no hidden timeout: the caller's token decides (Ctrl+C, a cmdlet's
/// -Timeout), and stopping the wait never stops the work.
/// </summary>
public static class Polling
{
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromMilliseconds(250);

    /// <param name="check">The outcome once there is one (or throws the failure); null while the work goes on.</param>
    /// <param name="describe">What to report while waiting, given how long it has been.</param>
    public static async Task<T> UntilAsync<T>(Func<CancellationToken, Task<T?>> check, IProgress<DevDbProgress>? progress,
        Func<TimeSpan, DevDbProgress> describe, CancellationToken cancellationToken, TimeSpan? interval = null) where T : class
    {
        var started = TimeProvider.System.GetTimestamp();
        while (true)
        {
            if (await check(cancellationToken) is { } outcome) return outcome;
            progress?.Report(describe(TimeProvider.System.GetElapsedTime(started)));
            await Task.Delay(interval ?? DefaultInterval, cancellationToken);
        }
    }

    /// <summary>"12 s", "3 min 05 s": how long a wait has lasted, for progress bars.</summary>
    public static string Elapsed(TimeSpan elapsed) =>
        elapsed < TimeSpan.FromMinutes(1) ? $"{elapsed.TotalSeconds:0} s" : $"{(int)elapsed.TotalMinutes} min {elapsed.Seconds:00} s";
}
