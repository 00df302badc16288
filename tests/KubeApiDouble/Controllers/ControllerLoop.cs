using System.Threading.Channels;

namespace KubeApiDouble.Controllers;

/// <summary>A controller: one full reconcile pass over the store. Passes repeat until nothing changes.</summary>
internal interface IController
{
    void Reconcile();
}

/// <summary>
/// Runs the enabled controllers asynchronously, as a cluster's controllers run: every store change (or a poke from
/// the test API) schedules a pass; passes repeat until one changes nothing (a fixed point).
/// </summary>
internal sealed class ControllerLoop : IAsyncDisposable
{
    private readonly ObjectStore store;
    private readonly IReadOnlyList<IController> controllers;
    private readonly Channel<bool> wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly CancellationTokenSource stopping = new();
    private readonly Task loop;
    private readonly Task resync;
    private long requested;
    private long quietThrough;
    private Exception? failure;

    public ControllerLoop(ObjectStore store, IReadOnlyList<IController> controllers)
    {
        this.store = store;
        this.controllers = controllers;
        store.Changed += Poke;
        loop = Task.Run(RunAsync);
        resync = Task.Run(ResyncAsync);
    }

    public void Poke()
    {
        Interlocked.Increment(ref requested);
        wake.Writer.TryWrite(true);
    }

    /// <summary>Completes when a pass that started after this call changed nothing (every controller is at rest).</summary>
    public async Task SettleAsync(TimeSpan timeout)
    {
        var target = Interlocked.Increment(ref requested);
        wake.Writer.TryWrite(true);
        var deadline = DateTime.UtcNow + timeout;
        while (Interlocked.Read(ref quietThrough) < target)
        {
            if (failure is not null) throw new InvalidOperationException("A controller of the API-server double failed.", failure);
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"The controllers of the API-server double did not settle within {timeout}.");
            await Task.Delay(5);
        }
        if (failure is not null) throw new InvalidOperationException("A controller of the API-server double failed.", failure);
    }

    private async Task RunAsync()
    {
        try
        {
            while (await wake.Reader.WaitToReadAsync(stopping.Token))
            {
                wake.Reader.TryRead(out _);
                var startedFor = Interlocked.Read(ref requested);
                var before = store.ResourceVersion;
                try
                {
                    foreach (var controller in controllers) controller.Reconcile();
                }
                catch (ApiError error) when (error.Code is 404 or 409)
                {
                    // Raced with a client write; the next pass sees the new state.
                    wake.Writer.TryWrite(true);
                    continue;
                }
                catch (Exception e)
                {
                    failure = e;
                    continue;
                }
                if (store.ResourceVersion == before) InterlockedMax(ref quietThrough, startedFor);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Time-driven work (a Job's activeDeadlineSeconds) needs passes without a change: one every 250 ms.</summary>
    private async Task ResyncAsync()
    {
        try
        {
            using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(250));
            while (await timer.WaitForNextTickAsync(stopping.Token)) wake.Writer.TryWrite(true);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static void InterlockedMax(ref long location, long value)
    {
        long current;
        while ((current = Interlocked.Read(ref location)) < value && Interlocked.CompareExchange(ref location, value, current) != current)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        store.Changed -= Poke;
        await stopping.CancelAsync();
        await loop;
        await resync;
        stopping.Dispose();
    }
}
