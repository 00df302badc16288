using DevDb.Core.Engine;
using DevDb.Core.Model;
using DevDb.Core.Rules;

namespace DevDb.Core.Runtimes.Kubernetes;

/// <summary>
/// History on Kubernetes: the engine appends each request it records (who asked, and the request id) to the
/// record's status.history, and each refusal as a failed entry; the reconciler appends what it finds out later
/// (a create or reset that failed, an expiry), by devdb. See <see cref="KubeHistory"/> for how two writers keep both.
/// </summary>
public sealed partial class KubernetesEngine
{
    private HistoryEntry Entry(HistoryAction action, Exception? failure = null, string? detail = null) =>
        HistoryRules.Entry(action, _engineOptions.Clock.GetUtcNow(), failure, detail);

    /// <summary>Appends to a database's history; returns the record as written (null when it is gone).</summary>
    private Task<DatabaseResource?> RecordDatabaseAsync(string name, HistoryEntry entry, CancellationToken cancellationToken) =>
        KubeHistory.AppendAsync(_databases, name, entry, cancellationToken);

    private Task<ProjectResource?> RecordProjectAsync(string name, HistoryEntry entry, CancellationToken cancellationToken) =>
        KubeHistory.AppendAsync(_projects, name, entry, cancellationToken);

    /// <summary>A refusal of a request on a database (e.g. DatabaseProtected): a failed entry, then the refusal is thrown on.</summary>
    private async Task RefusedAsync(string name, HistoryAction action, Action check, CancellationToken cancellationToken)
    {
        try
        {
            check();
        }
        catch (DevDbException refused)
        {
            await RecordDatabaseAsync(name, Entry(action, refused), cancellationToken);
            throw;
        }
    }

    /// <summary>A database's record is deleted: its project's history names it, and the log has its one line.</summary>
    private async Task RecordRemovalAsync(Database removed, CancellationToken cancellationToken)
    {
        var removal = Entry(HistoryAction.Removed) with { Database = removed.Name, Owner = removed.Owner };
        await RecordProjectAsync(removed.Project, removal, cancellationToken);
        RemovalLog.Write(_engineOptions.Log, removed, removal);
    }
}
