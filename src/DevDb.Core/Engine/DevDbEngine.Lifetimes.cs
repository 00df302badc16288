using DevDb.Core.Catalog;
using DevDb.Core.Client;
using DevDb.Core.Model;
using DevDb.Core.Rules;

namespace DevDb.Core.Engine;

/// <summary>
/// Lifetimes: a database's expiry and protection, a project's lifetime settings, and the expiry
/// pass. With no server, nothing runs in between commands: the pass runs at the start of every
/// change made through the engine (so local expiry happens when DevDb next runs), and the API
/// that hosts the engine also runs it on a timer (LocalEngineService).
/// </summary>
public sealed partial class DevDbEngine
{
    /// <summary>How long the expiry pass waits for a database's lock before leaving it to the next pass.</summary>
    private static readonly TimeSpan ExpiryLockWait = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Before a change: finish what dead processes left, remove what expired, and stop what was idle. The idle pass
    /// samples every watched server (milliseconds each), so commands run it at most once per
    /// <see cref="IdleRules.PassInterval"/>: no timeout is shorter, so a stop comes at most that late.
    /// </summary>
    private async Task PrepareChangeAsync(CancellationToken cancellationToken)
    {
        await EnsureRecoveredAsync(cancellationToken);
        await ExpireDatabasesAsync(cancellationToken);
        if (IdleRules.PassDue(_catalog.LastIdlePass, _options.Clock.GetUtcNow()))
        {
            _catalog.LastIdlePass = _options.Clock.GetUtcNow();
            await StopIdleDatabasesAsync(cancellationToken);
        }
    }

    /// <summary>
    /// Removes every database whose expiry has come by the engine's clock (never a protected one,
    /// nor one an operation is under way on: the next pass takes it). Returns the names removed.
    /// </summary>
    public async Task<IReadOnlyList<string>> ExpireDatabasesAsync(CancellationToken cancellationToken = default)
    {
        // DevDb's own pass, whoever's command runs it: its entries name devdb.
        using var _ = Actor.Use(Actor.DevDb);
        var removed = new List<string>();
        foreach (var record in _catalog.Databases())
        {
            if (!LifetimeRules.IsExpired(Observed(record), _options.Clock.GetUtcNow())) continue;
            var name = record.Database.Name;
            IDisposable held;
            try
            {
                held = await _catalog.LockItemAsync(ItemKind.Database, name, ExpiryLockWait, () => $"Database '{name}' is busy", cancellationToken);
            }
            catch (DevDbException e) when (e.Code == ErrorCodes.StateLocked)
            {
                continue;
            }
            using (held)
            {
                await RepairDatabaseAsync(name, cancellationToken);
                // Looked at again under its lock: it may have been extended, protected or removed meanwhile.
                if (await RemoveDatabaseUnderLockAsync(name, cancellationToken,
                        onlyIf: current => LifetimeRules.IsExpired(Observed(current), _options.Clock.GetUtcNow()), why: HistoryAction.Expired))
                {
                    removed.Add(name);
                    _options.Counters.CountExpired();
                }
            }
            await PruneImagesAsync(record.Database.Project);
        }
        return removed;
    }

    public async Task<Database> SetDatabaseAsync(SetDatabaseRequest request, CancellationToken cancellationToken = default)
    {
        LifetimeRules.CheckShape(request.Name, request.TimeToLive, request.ExpiresAt, request.NoExpiry);
        IdleRules.CheckShape(request.Name, request.IdleTimeout, request.NoIdleTimeout);
        await PrepareChangeAsync(cancellationToken);
        // Only the catalog's lock: a lease is renewed even while a reset or stop runs (steps keep what Set records).
        using (await _catalog.LockAsync(cancellationToken))
        {
            var record = RequireDatabase(request.Name);
            var project = _catalog.FindProject(record.Database.Project)?.Project;
            var now = _options.Clock.GetUtcNow();
            var (expiresAt, isProtected) = LifetimeRules.Apply(request, record.Database, project, _options.MaxTimeToLive, now);
            var (idleTimeout, restart) = IdleRules.Apply(request, record.Database);
            var history = HistoryRules.OfSet(record.Database, expiresAt, isProtected, now).Aggregate(record.Database.History, HistoryRules.Append);
            var changed = record with
            {
                Database = record.Database with
                {
                    ExpiresAt = expiresAt, Protected = isProtected, IdleTimeout = idleTimeout, History = history,
                    LastActiveAt = restart ? now : record.Database.LastActiveAt,
                },
            };
            _catalog.Save(changed);
            return Observed(changed);
        }
    }

    public async Task<Project> SetProjectAsync(SetProjectRequest request, CancellationToken cancellationToken = default)
    {
        await PrepareChangeAsync(cancellationToken);
        using (await _catalog.LockAsync(cancellationToken))
        {
            var record = RequireProject(request.Name);
            var project = LifetimeSettings(record.Project, request, _options.Clock.GetUtcNow());
            LifetimeRules.CheckProjectSettings(project.Name, project.DefaultTimeToLive, project.MaxTimeToLive, _options.MaxTimeToLive);
            project = project with { History = HistoryRules.OfProjectSet(record.Project, project, _options.Clock.GetUtcNow()).Aggregate(project.History, HistoryRules.Append) };
            _catalog.Save(record with { Project = project });
            return Observed(record with { Project = project });
        }
    }

    /// <summary>A project with a Set request's settings: lifetimes, idle timeout, protection and refresh schedule (what it does not give is kept; ScheduleInvalid for a bad schedule).</summary>
    internal static Project LifetimeSettings(Project project, SetProjectRequest request, DateTimeOffset now) =>
        RefreshRules.Apply(project with
        {
            DefaultTimeToLive = request.NoDefaultTimeToLive ? null : request.DefaultTimeToLive ?? project.DefaultTimeToLive,
            MaxTimeToLive = request.NoMaxTimeToLive ? null : request.MaxTimeToLive ?? project.MaxTimeToLive,
            IdleTimeout = IdleRules.ProjectIdleTimeout(project, request),
            Protected = request.Protected ?? project.Protected,
        }, request.RefreshSchedule, request.RefreshTimeZone, request.NoRefreshSchedule, now);
}
