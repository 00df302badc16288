using System.Net;
using DevDb.Core.Model;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace DevDb.Core.Runtimes.Kubernetes;

/// <summary>
/// Appending to a record's status.history, for the engine and the reconciler alike: read, append,
/// replace the status with the read's resourceVersion; when another writer changed the record in
/// between (409), read again and append again, so neither loses the other's entries.
/// </summary>
internal static class KubeHistory
{
    private const int Attempts = 10;

    public static Task<DatabaseResource?> AppendAsync(CustomResources<DatabaseResource> databases, string name, HistoryEntry entry, CancellationToken cancellationToken) =>
        AppendAsync(databases, name, r => (r.Status ??= new DatabaseState()).History = HistoryItem.Appended(r.Status.History, entry), cancellationToken);

    public static Task<ProjectResource?> AppendAsync(CustomResources<ProjectResource> projects, string name, HistoryEntry entry, CancellationToken cancellationToken) =>
        AppendAsync(projects, name, r => (r.Status ??= new ProjectState()).History = HistoryItem.Appended(r.Status.History, entry), cancellationToken);

    /// <summary>Null when the record is gone (nothing to append to).</summary>
    private static async Task<T?> AppendAsync<T>(CustomResources<T> resources, string name, Action<T> append, CancellationToken cancellationToken)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        for (var attempt = 1; ; attempt++)
        {
            var record = await resources.FindAsync(name, cancellationToken);
            if (record is null) return null;
            append(record);
            try
            {
                return await resources.ReplaceStatusAsync(record, cancellationToken);
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict && attempt < Attempts)
            {
                // Someone wrote in between: read again, so their change and this entry both stay.
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
            {
                return null;
            }
        }
    }
}
