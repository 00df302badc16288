using System.Collections.Concurrent;
using DevDb.Core.Catalog;
using DevDb.Core.Model;
using DevDb.Core.Rules;
using DevDb.Core.Runtimes;
using DevDb.Core.Runtimes.Local;
using DevDb.Core.Sources;

namespace DevDb.Core.Engine;

/// <summary>Options of the embedded (local) engine.</summary>
public sealed record LocalEngineOptions
{
    /// <summary>State folder; null uses DEVDB_HOME, else the user's local app-data folder (or /var/lib/devdb as root).</summary>
    public string? Home { get; init; }
    public DumpSourceOptions Sources { get; init; } = new();
    /// <summary>Where database servers listen and which host their connection details name.</summary>
    public DatabaseNetwork Network { get; init; } = new();
    /// <summary>
    /// Whether a project may ask for superuser logins (New-DevDbProject -SuperuserLogins). True for
    /// the local engine of one user; the API allows it only when its DevDb:AllowSuperuserLogins is set.
    /// </summary>
    public bool AllowSuperuserLogins { get; init; } = true;
    /// <summary>How long an operation waits for another one on the same project or database to finish before StateLocked.</summary>
    public TimeSpan BusyWait { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>The clock of records and time-based rules (tests use a controllable one); waits and locks use real time.</summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;
    /// <summary>The installation's longest database lifetime (from now, at create and at each extension); null: none.</summary>
    public TimeSpan? MaxTimeToLive { get; init; }
    /// <summary>What one user may hold (QuotaRules); null: the state folder's settings.json, if any.</summary>
    public QuotaLimits? Quotas { get; init; }
    /// <summary>Where the expiry and idle passes count what they did (the API's /metrics).</summary>
    public EngineCounters Counters { get; init; } = new();
    /// <summary>The installation's idle timeout: databases created without one, in projects without one, stop after this long with no client; null: none.</summary>
    public TimeSpan? IdleTimeout { get; init; }
    /// <summary>
    /// Image retention: how many of a project's newest ready images are kept (plus any a database or
    /// checkpoint uses). At least 1. Default: DEVDB_IMAGES_TO_KEEP, else 3.
    /// </summary>
    public int ImagesToKeep { get; init; } = ImagesToKeepFromEnvironment();

    /// <summary>DEVDB_IMAGES_TO_KEEP (SettingInvalid unless a whole number of at least 1), else the default.</summary>
    public static int ImagesToKeepFromEnvironment()
    {
        const string variable = "DEVDB_IMAGES_TO_KEEP";
        var text = Environment.GetEnvironmentVariable(variable);
        if (string.IsNullOrWhiteSpace(text)) return ProjectRules.DefaultImagesToKeep;
        if (!int.TryParse(text.Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var keep))
            throw DevDbErrors.SettingInvalid(variable, $"{variable} '{UserInput.Shown(text)}' is not a whole number.",
                $"Set {variable} to how many of each project's newest images to keep, e.g. 3 (the default).");
        return ProjectRules.CheckImagesToKeep(keep, variable);
    }
    /// <summary>Where a removed database's one log line goes (<see cref="RemovalLog"/>); null: nowhere (a PowerShell session).</summary>
    public Microsoft.Extensions.Logging.ILogger? Log { get; init; }
}

/// <summary>
/// The engine: validates requests, records intent in the catalog before each step and the
/// outcome after it, and asks the runtime to do the work. Every operation on a project or a
/// database holds that item's lock from start to end (racing requests run one after the other);
/// catalog changes happen under the catalog lock; a <see cref="PendingOperation"/> marks the
/// work in flight, so that the next engine to change anything finishes or rolls back the work of
/// a process that died (<c>DevDbEngine.Recovery.cs</c>). Reading never repairs anything.
/// </summary>
public sealed partial class DevDbEngine : IDevDbService
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    private readonly FileCatalog _catalog;
    private readonly SecretStore _secrets;
    private readonly IRuntime _runtime;
    private readonly LocalEngineOptions _options;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<int, Task> _background = new();
    private readonly SemaphoreSlim _recovery = new(1, 1);
    private bool _recovered;

    private DevDbEngine(string home, FileCatalog catalog, SecretStore secrets, IRuntime runtime, LocalEngineOptions options)
    {
        Home = home;
        _catalog = catalog;
        _secrets = secrets;
        _runtime = runtime;
        _options = options;
        _quotas = options.Quotas ?? LocalSettings.Read(home).Quotas;
    }

    private readonly QuotaLimits _quotas;

    /// <summary>The state folder (for -Verbose and messages).</summary>
    public string Home { get; }

    /// <summary>Opens the embedded engine on this machine, creating its state folder. Work a crashed process left is repaired by the first change made through it.</summary>
    public static DevDbEngine OpenLocal(LocalEngineOptions? options = null)
    {
        options ??= new LocalEngineOptions();
        var layout = new LocalLayout(options.Home ?? LocalLayout.DefaultHome());
        var runtime = new LocalRuntime(layout, ServerUser.Resolve(), options.Network);
        layout.EnsureCreated();
        return new DevDbEngine(layout.Home, new FileCatalog(layout.Catalog), new SecretStore(layout.Secrets), runtime, options);
    }

    /// <summary>Releases nothing: work started with Start* goes on in this process (a PowerShell session ends each command this way).</summary>
    public void Dispose()
    {
    }

    /// <summary>
    /// Graceful shutdown of a host (the API): cancels work started with Start* and waits until it
    /// has recorded its outcome (accepted work that could not finish stays Failed, with why).
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        try
        {
            await Task.WhenAll(_background.Values);
        }
        catch (Exception)
        {
            // Each background step records its own outcome; shutdown only waits for them.
        }
        _stopping.Dispose();
    }

    /// <summary>Runs long work after the request that started it has returned; it records its own outcome and releases <paramref name="held"/>.</summary>
    /// <param name="then">What runs after the lock is released (work that takes other locks, such as pruning images).</param>
    private void RunInBackground(IDisposable held, Func<CancellationToken, Task> work, Func<Task>? then = null)
    {
        var task = Task.Run(async () =>
        {
            try
            {
                using (held) await work(_stopping.Token);
                if (then is not null) await then();
            }
            catch (Exception)
            {
                // Recorded by the work itself (a Failed database or project, a step's Error); nobody awaits it.
            }
        });
        _background[task.Id] = task;
        task.ContinueWith(t => _background.TryRemove(t.Id, out _), TaskScheduler.Default);
    }

    /// <summary>True when background work was cancelled because the host is stopping, not because its caller gave up.</summary>
    private bool HostIsStopping => _stopping.IsCancellationRequested;

    /// <summary>
    /// Finishes or rolls back now what dead processes left, instead of at the first change: what the
    /// API does when it starts, so work it had accepted before it died is reported at once.
    /// </summary>
    public Task RecoverAsync(CancellationToken cancellationToken = default) => EnsureRecoveredAsync(cancellationToken);

    /// <summary>Before the first change through this engine: finish or roll back what dead processes left (once per engine).</summary>
    private async Task EnsureRecoveredAsync(CancellationToken cancellationToken)
    {
        if (_recovered) return;
        await _recovery.WaitAsync(cancellationToken);
        try
        {
            if (_recovered) return;
            await SweepAsync(cancellationToken);
            _recovered = true;
        }
        finally
        {
            _recovery.Release();
        }
    }

    private Task<IDisposable> LockProjectAsync(string name, CancellationToken cancellationToken) =>
        _catalog.LockItemAsync(ItemKind.Project, name, _options.BusyWait,
            () => $"Project '{name}' is busy: another session is {_catalog.FindProject(name)?.Pending?.Describe() ?? "working on it"}", cancellationToken);

    private Task<IDisposable> LockDatabaseAsync(string name, CancellationToken cancellationToken) =>
        _catalog.LockItemAsync(ItemKind.Database, name, _options.BusyWait,
            () => $"Database '{name}' is busy: another session is {_catalog.FindDatabase(name)?.Pending?.Describe() ?? "working on it"}", cancellationToken);

    public Task<IReadOnlyList<string>> GetDamagedRecordsAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult(_catalog.DamagedRecords());

    // ---- helpers --------------------------------------------------------------------------

    private ProjectRecord RequireProject(string name) =>
        _catalog.FindProject(Names.IsValid(name) ? name : "") is { } record ? record : throw DevDbErrors.ProjectNotFound(name);

    private DatabaseRecord RequireDatabase(string name) =>
        _catalog.FindDatabase(Names.IsValid(name) ? name : "") is { } record ? record : throw DevDbErrors.DatabaseNotFound(name);

    /// <summary>A history entry by the current actor at the engine's clock.</summary>
    private HistoryEntry Entry(HistoryAction action, Exception? failure = null, string? detail = null) =>
        HistoryRules.Entry(action, _options.Clock.GetUtcNow(), failure, detail);

    /// <summary>Appends to a database's history (nothing when it is gone); the caller must not hold the catalog lock.</summary>
    private async Task RecordDatabaseAsync(string name, HistoryEntry entry)
    {
        using (await _catalog.LockAsync(CancellationToken.None))
            if (_catalog.FindDatabase(name) is { } record)
                _catalog.Save(record with { Database = record.Database with { History = HistoryRules.Append(record.Database.History, entry) } });
    }

    /// <summary>Appends to a project's history (nothing when it is gone); the caller must not hold the catalog lock.</summary>
    private async Task RecordProjectAsync(string name, HistoryEntry entry)
    {
        using (await _catalog.LockAsync(CancellationToken.None))
            if (_catalog.FindProject(name) is { } record)
                _catalog.Save(record with { Project = record.Project with { History = HistoryRules.Append(record.Project.History, entry) } });
    }

    private static HistoryAction ActionOf(OperationKind kind) => kind switch
    {
        OperationKind.ResetDatabase => HistoryAction.Reset,
        OperationKind.StopDatabase => HistoryAction.Stopped,
        OperationKind.StartDatabase => HistoryAction.Started,
        OperationKind.RestoreDatabase => HistoryAction.Restored,
        OperationKind.CheckpointDatabase => HistoryAction.Checkpointed,
        OperationKind.RemoveCheckpoint => HistoryAction.CheckpointRemoved,
        OperationKind.CreateDatabase => HistoryAction.Created,
        OperationKind.RemoveDatabase or OperationKind.RemoveProject => HistoryAction.Removed,
        _ => HistoryAction.Refreshed,
    };

    private static DevDbException Busy(string kind, string name, PendingOperation pending) =>
        DevDbErrors.StateLocked($"{kind} '{name}' is busy: another session is {pending.Describe()}.", name);
}
