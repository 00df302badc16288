using System.Collections.Concurrent;
using System.Management.Automation;
using DevDb.Core;
using DevDb.Core.Client;
using DevDb.Core.Model;

namespace DevDb.Commands;

/// <summary>
/// Base of every DevDb cmdlet. Runs client calls on the thread pool while the pipeline thread
/// pumps their progress, because PowerShell allows WriteProgress/WriteObject/WriteError only on
/// the pipeline thread. Ctrl+C (StopProcessing) cancels the running call; the pump still waits for
/// it to finish, so the engine can clean up before the pipeline stops.
/// </summary>
public abstract class DevDbCmdlet : PSCmdlet, IDisposable
{
    private const int ProgressActivityId = 0x0DEB;

    private CancellationTokenSource? _cancellation;
    private IDevDbClient? _client;

    protected override void BeginProcessing() => _cancellation ??= new CancellationTokenSource();

    protected override void EndProcessing() => Dispose();

    // Only cancels: the call in flight still uses the client; Dispose (called by PowerShell once
    // the pipeline has stopped) releases it.
    protected override void StopProcessing() => _cancellation?.Cancel();

    public void Dispose()
    {
        _client?.Dispose();
        _client = null;
        _cancellation?.Dispose();
        _cancellation = null;
        GC.SuppressFinalize(this);
    }

    /// <summary>Runs a client call on the thread pool; a failure ends the whole command (a terminating error).</summary>
    /// <param name="activity">Progress activity shown until the call ends; null for quick calls that report no progress.</param>
    protected T Invoke<T>(Func<IDevDbClient, IProgress<DevDbProgress>, CancellationToken, Task<T>> call, string? activity = null) =>
        OrTerminate(() => Call(call, activity));

    /// <summary>Runs a client call on the thread pool; a failure comes back as its <see cref="DevDbException"/>.</summary>
    private T Call<T>(Func<IDevDbClient, IProgress<DevDbProgress>, CancellationToken, Task<T>> call, string? activity) =>
        Run((progress, ct) =>
        {
            _client ??= ClientFactory.Create();
            return call(_client, progress, ct);
        }, activity);

    /// <summary>
    /// Runs async work on the thread pool while this (pipeline) thread writes its progress; Ctrl+C
    /// cancels it. A failure comes back as thrown by the work.
    /// </summary>
    protected T Run<T>(Func<IProgress<DevDbProgress>, CancellationToken, Task<T>> work, string? activity = null)
    {
        _cancellation ??= new CancellationTokenSource();
        CancellationToken cancellationToken = _cancellation.Token;
        var reports = new BlockingCollection<DevDbProgress>();
        var progress = new QueuedProgress(reports);
        Task<T> running = Task.Run(async () =>
        {
            try
            {
                return await work(progress, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                reports.CompleteAdding();
            }
        });

        string lastActivity = activity ?? "DevDb";
        string lastStatus = "Done";
        foreach (DevDbProgress report in reports.GetConsumingEnumerable())
        {
            lastActivity = report.Activity;
            lastStatus = report.Status;
            WriteProgressUnlessStopping(ToRecord(report, ProgressRecordType.Processing));
        }
        if (activity is not null)
        {
            WriteProgressUnlessStopping(ToRecord(new DevDbProgress(lastActivity, lastStatus, 100), ProgressRecordType.Completed));
        }

        try
        {
            return running.GetAwaiter().GetResult();
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw new PipelineStoppedException();
        }
    }

    /// <summary>Like <see cref="Invoke{T}"/>, but a failure is written as a non-terminating error (one item failed; go on with the next).</summary>
    protected bool TryInvoke<T>(Func<IDevDbClient, IProgress<DevDbProgress>, CancellationToken, Task<T>> call, out T result, string? activity = null)
    {
        try
        {
            result = Call(call, activity);
            return true;
        }
        catch (DevDbException exception)
        {
            WriteError(ErrorRecords.From(exception));
            result = default!;
            return false;
        }
    }

    protected bool TryInvoke(Func<IDevDbClient, IProgress<DevDbProgress>, CancellationToken, Task> call, string? activity = null) =>
        TryInvoke<bool>(async (client, progress, ct) =>
        {
            await call(client, progress, ct).ConfigureAwait(false);
            return true;
        }, out _, activity);

    /// <summary>Writes a database with its credential: the one way every cmdlet returns a database. A Failed one has no credential.</summary>
    protected void WriteDatabase(Database database) => WriteDatabases([database]);

    /// <summary>
    /// Writes databases with their credentials, in order. The credentials are fetched a few at a
    /// time: against a server each is a request, and a list of many should not wait for each in turn.
    /// </summary>
    protected void WriteDatabases(IReadOnlyList<Database> databases)
    {
        const int ConcurrentFetches = 8;
        var connections = Invoke(async (client, _, ct) =>
        {
            using var slots = new SemaphoreSlim(ConcurrentFetches);
            return await Task.WhenAll(databases.Select(async database =>
            {
                if (database.Status == DatabaseStatus.Failed) return (Connection: (ConnectionInfo?)null, Error: (DevDbException?)null);
                await slots.WaitAsync(ct).ConfigureAwait(false);
                try
                {
                    return (await client.GetConnectionAsync(database.Name, ct).ConfigureAwait(false), null);
                }
                catch (DevDbException e)
                {
                    return (null, e);
                }
                finally
                {
                    slots.Release();
                }
            })).ConfigureAwait(false);
        });
        for (int i = 0; i < databases.Count; i++)
        {
            if (connections[i].Error is { } error)
            {
                WriteError(ErrorRecords.From(error));
            }
            else
            {
                WriteObject(DevDbDatabase.From(databases[i], connections[i].Connection));
            }
        }
    }

    /// <summary>The whole call cannot go on (invalid input, engine unusable): a terminating error.</summary>
    protected void Terminate(DevDbException exception) => ThrowTerminatingError(ErrorRecords.From(exception));

    /// <summary>Runs <paramref name="check"/> (e.g. a name rule) and terminates the call with its error if it fails.</summary>
    protected void Require(Action check) => OrTerminate(() =>
    {
        check();
        return true;
    });

    /// <summary>The whole call cannot go on without <paramref name="action"/>: its <see cref="DevDbException"/> becomes a terminating error.</summary>
    protected T OrTerminate<T>(Func<T> action)
    {
        try
        {
            return action();
        }
        catch (DevDbException exception)
        {
            Terminate(exception);
            throw; // Not reached: Terminate throws.
        }
    }

    /// <summary>
    /// ShouldProcess, where -Force skips the confirmation prompt but -WhatIf and an explicit
    /// -Confirm still apply.
    /// </summary>
    protected bool ShouldProcessUnlessForced(string target, string action, bool force)
    {
        if (force && !MyInvocation.BoundParameters.ContainsKey("Confirm") && !IsWhatIf())
        {
            return true;
        }
        return ShouldProcess(target, action);
    }

    private bool IsWhatIf() =>
        MyInvocation.BoundParameters.TryGetValue("WhatIf", out object? whatIf)
            ? whatIf is SwitchParameter { IsPresent: true }
            : LanguagePrimitives.IsTrue(GetVariableValue("WhatIfPreference"));

    /// <summary>A path the user typed is relative to PowerShell's location, not the process's.</summary>
    protected string ResolveSource(string source) =>
        source.Contains("://", StringComparison.Ordinal) ? source : GetUnresolvedProviderPathFromPSPath(source);

    private void WriteProgressUnlessStopping(ProgressRecord record)
    {
        if (Stopping) return;
        try
        {
            WriteProgress(record);
        }
        catch (PipelineStoppedException)
        {
            // Ctrl+C arrived between the check and the write: keep draining until the call has ended.
        }
    }

    private static ProgressRecord ToRecord(DevDbProgress report, ProgressRecordType type) =>
        new(ProgressActivityId, Text(report.Activity, "DevDb"), Text(report.Status, "Working"))
        {
            PercentComplete = Math.Clamp(report.PercentComplete ?? -1, -1, 100),
            RecordType = type,
        };

    // ProgressRecord rejects empty activity and status text.
    private static string Text(string? value, string fallback) => string.IsNullOrWhiteSpace(value) ? fallback : value;

    /// <summary>Queues reports for the pipeline thread instead of raising them on the engine's thread.</summary>
    private sealed class QueuedProgress(BlockingCollection<DevDbProgress> reports) : IProgress<DevDbProgress>
    {
        public void Report(DevDbProgress value)
        {
            try
            {
                reports.TryAdd(value);
            }
            catch (InvalidOperationException)
            {
                // The call already ended; a late report has nowhere to go.
            }
        }
    }
}
