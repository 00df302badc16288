using System.Collections.Concurrent;
using System.Diagnostics;
using System.Management.Automation;
using System.Text.RegularExpressions;
using DevDb.Core.Client;
using DevDb.Core.Engine;
using DevDb.Core.Model;

namespace DevDb.Commands;

/// <summary>
/// Base of every DevDb cmdlet. Runs client calls on the thread pool while the pipeline thread
/// pumps their progress, because PowerShell allows WriteProgress/WriteObject/WriteError only on
/// the pipeline thread. Ctrl+C (StopProcessing) cancels the running call; the pump still waits for
/// it to finish, so the engine can clean up before the pipeline stops. -Verbose says where the
/// cmdlets go, each step with the time it started and how long each call took; debug output
/// ($DebugPreference = 'Continue', or -Debug, which asks at each line) has every progress report.
/// </summary>
public abstract partial class DevDbCmdlet : PSCmdlet, IDisposable
{
    private const int ProgressActivityId = 0x0DEB;

    private CancellationTokenSource? _cancellation;
    private IDevDbClient? _client;

    /// <summary>Prepares the cancellation that Ctrl+C triggers.</summary>
    protected override void BeginProcessing() => _cancellation ??= new CancellationTokenSource();

    /// <summary>Releases the client.</summary>
    protected override void EndProcessing() => Dispose();

    /// <summary>Ctrl+C: cancels the call in flight. It still uses the client; Dispose (called by PowerShell once the pipeline has stopped) releases it.</summary>
    protected override void StopProcessing() => _cancellation?.Cancel();

    /// <summary>Releases the client and the cancellation source.</summary>
    public void Dispose()
    {
        _client?.Dispose();
        _client = null;
        _cancellation?.Dispose();
        _cancellation = null;
        GC.SuppressFinalize(this);
    }

    /// <summary>The client of the current context, made on first use on the pipeline thread (so -Verbose can say where it goes).</summary>
    private IDevDbClient Client
    {
        get
        {
            if (_client is null)
            {
                var (client, description) = OrTerminate(ClientFactory.Connect);
                _client = client;
                WriteVerbose($"Using {description}.");
            }
            return _client;
        }
    }

    /// <summary>True when the cmdlets run the embedded engine in this process (not a server or cluster).</summary>
    protected bool ClientIsLocal => Client is DevDbEngine;

    /// <summary>
    /// Runs a client <paramref name="call"/> on the thread pool; a failure ends the whole command (a terminating error).
    /// <paramref name="activity"/> says what it does, for its progress bar and -Verbose timing; null for quick calls.
    /// </summary>
    protected T Invoke<T>(Func<IDevDbClient, IProgress<DevDbProgress>, CancellationToken, Task<T>> call, string? activity = null) =>
        OrTerminate(() => Call(call, activity));

    /// <summary>Like <see cref="Invoke{T}"/>, but a failure is written as a non-terminating error (one item failed; go on with the next).</summary>
    protected bool TryInvoke<T>(Func<IDevDbClient, IProgress<DevDbProgress>, CancellationToken, Task<T>> call, out T result, string? activity = null)
    {
        try
        {
            result = Call(call, activity);
            return true;
        }
        catch (Exception e) when (AsDevDbError(e) is { } error)
        {
            WriteError(error);
            result = default!;
            return false;
        }
    }

    /// <summary>Like <see cref="TryInvoke{T}"/>, for calls with no result.</summary>
    protected bool TryInvoke(Func<IDevDbClient, IProgress<DevDbProgress>, CancellationToken, Task> call, string? activity = null)
    {
        if (InvokeForError(call, activity) is not { } error) return true;
        WriteError(error);
        return false;
    }

    /// <summary>Runs a client call; its DevDb error comes back instead of being written (null when it succeeded), for a cmdlet that decides what an error means.</summary>
    protected DevDbException? InvokeForError(Func<IDevDbClient, IProgress<DevDbProgress>, CancellationToken, Task> call, string? activity = null)
    {
        try
        {
            Call(async (client, progress, ct) =>
            {
                await call(client, progress, ct).ConfigureAwait(false);
                return true;
            }, activity);
            return null;
        }
        catch (Exception e) when (AsDevDbError(e) is { } error)
        {
            return error;
        }
    }

    private T Call<T>(Func<IDevDbClient, IProgress<DevDbProgress>, CancellationToken, Task<T>> call, string? activity)
    {
        IDevDbClient client = Client;
        return Run((progress, ct) => call(client, progress, ct), activity);
    }

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
        var clock = Stopwatch.StartNew();
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
        string? lastStep = null;
        string? lastStepKind = null;
        bool shown = false;
        foreach (DevDbProgress report in reports.GetConsumingEnumerable())
        {
            shown = true;
            lastActivity = report.Activity;
            lastStatus = report.Status;
            string step = $"{report.Activity}: {report.Status}";
            string line = $"{clock.Elapsed.TotalSeconds,7:0.00} s  {step}";
            // -Verbose: each new step once (a status that only counts on, "3 s" or "12.5 MB", is the same step); -Debug: every report.
            string stepKind = Digits().Replace(step, "#");
            if (stepKind != lastStepKind)
            {
                WriteUnlessStopping(() => WriteVerbose(line));
                lastStepKind = stepKind;
            }
            if (step != lastStep)
            {
                WriteUnlessStopping(() => WriteDebug(line));
                lastStep = step;
            }
            WriteUnlessStopping(() => WriteProgress(ToRecord(report, ProgressRecordType.Processing)));
        }
        // A progress bar that was shown is always closed.
        if (shown)
        {
            WriteUnlessStopping(() => WriteProgress(ToRecord(new DevDbProgress(lastActivity, lastStatus, 100), ProgressRecordType.Completed)));
        }

        try
        {
            T result = running.GetAwaiter().GetResult();
            if (activity is not null) WriteVerbose($"{activity}: done in {clock.Elapsed.TotalSeconds:0.00} s.");
            return result;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw new PipelineStoppedException();
        }
        catch (Exception e) when (activity is not null && AsDevDbError(e) is { } error)
        {
            WriteVerbose($"{activity}: failed after {clock.Elapsed.TotalSeconds:0.00} s ({error.ErrorCode}).");
            throw;
        }
    }

    /// <summary>Writes databases with their credentials: the one way every cmdlet returns a database. A Failed one has no credential.</summary>
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
                catch (Core.DevDbException e)
                {
                    return (null, DevDbException.From(e));
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
                WriteError(error);
            }
            else
            {
                WriteObject(DevDbDatabase.From(databases[i], connections[i].Connection));
            }
        }
    }

    /// <summary>Writes a non-terminating error: this item failed, the command goes on with the next.</summary>
    protected void WriteError(DevDbException error) => WriteError(ErrorRecords.From(error));

    /// <summary>True for a valid <paramref name="name"/> of a <paramref name="kind"/> ("project" or "database"); otherwise writes NameInvalid (this item is skipped).</summary>
    protected bool IsValidName(string name, string kind)
    {
        if (NameRules.Check(name, kind) is not { } invalid) return true;
        WriteError(invalid);
        return false;
    }

    /// <summary>The whole call cannot go on without <paramref name="action"/>: its DevDb error becomes a terminating error.</summary>
    protected T OrTerminate<T>(Func<T> action)
    {
        try
        {
            return action();
        }
        catch (Exception e) when (AsDevDbError(e) is { } error)
        {
            ThrowTerminatingError(ErrorRecords.From(error));
            throw; // Not reached: ThrowTerminatingError throws.
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
    /// <remarks>A trailing separator (a folder of dumps: its newest file) is kept, whatever the provider does with it.</remarks>
    protected string ResolveSource(string source)
    {
        if (source.Contains("://", StringComparison.Ordinal)) return source;
        var resolved = GetUnresolvedProviderPathFromPSPath(source);
        var folder = source.EndsWith('/') || source.EndsWith('\\');
        return folder && !resolved.EndsWith(System.IO.Path.DirectorySeparatorChar) ? resolved + System.IO.Path.DirectorySeparatorChar : resolved;
    }

    /// <summary>The module's own error, or the engine's or server's one as the module's; null for anything else.</summary>
    private static DevDbException? AsDevDbError(Exception exception) => exception switch
    {
        DevDbException error => error,
        Core.DevDbException error => DevDbException.From(error),
        _ => null,
    };

    [GeneratedRegex(@"\d+")]
    private static partial Regex Digits();

    private void WriteUnlessStopping(Action write)
    {
        if (Stopping) return;
        try
        {
            write();
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
