using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace DevDb.Core.Runtimes.Kubernetes;

/// <summary>The reconciler's Kubernetes Events on its records.</summary>
public sealed partial class Reconciler
{
    /// <summary>
    /// Tells what happened to a record where `kubectl describe` and `kubectl get events` show it.
    /// Best effort: a refused event is logged, never a reason to stop reconciling.
    /// </summary>
    private async Task RecordEventAsync(IKubernetesObject<V1ObjectMeta> record, string type, string reason, string message, CancellationToken cancellationToken)
    {
        var now = _clock.GetUtcNow().UtcDateTime;
        try
        {
            await _client.CoreV1.CreateNamespacedEventAsync(new Corev1Event
            {
                Metadata = new V1ObjectMeta { GenerateName = record.Metadata.Name + ".", Labels = new Dictionary<string, string> { [KubeNames.ManagedBy] = KubeNames.Devdb } },
                InvolvedObject = new V1ObjectReference
                {
                    ApiVersion = record.ApiVersion, Kind = record.Kind, Name = record.Metadata.Name,
                    NamespaceProperty = Namespace, Uid = record.Metadata.Uid, ResourceVersion = record.Metadata.ResourceVersion,
                },
                Type = type, Reason = reason, Message = message.Length > 1024 ? message[..1021] + "..." : message,
                FirstTimestamp = now, LastTimestamp = now, Count = 1,
                Source = new V1EventSource { Component = "devdb" }, ReportingComponent = "devdb.io/reconciler",
            }, Namespace, cancellationToken: cancellationToken);
        }
        catch (Exception e) when (e is HttpOperationException or HttpRequestException)
        {
            _log.LogWarning("Could not record event {Reason} on {Kind} {Name}: {Error}", reason, record.Kind, record.Metadata.Name, e.Message);
        }
    }
}
