using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace DevDb.Core.Runtimes.Kubernetes;

/// <summary>The reconciler's shared load balancer: one Service port per database, and the address clients use.</summary>
public sealed partial class Reconciler
{
    // ---- the shared load balancer ----------------------------------------------------------------

    /// <summary>One port per database on the chart's shared load balancer Service; ports of removed databases go.</summary>
    private async Task ReconcileLoadBalancerAsync(IReadOnlyList<DatabaseResource> databases, V1Service? service, CancellationToken cancellationToken)
    {
        if (service is null)
        {
            _log.LogWarning("The shared load balancer Service {Service} does not exist; install it with the chart (loadBalancer.enabled)", _options.LoadBalancerService);
            return;
        }
        var ports = (service.Spec.Ports ?? []).Where(p => p.Name?.StartsWith("lb-", StringComparison.Ordinal) != true).ToList();
        ports.AddRange(databases
            .Where(d => d.Status?.LoadBalancerPort is not null && d.Status.Phase != DatabasePhase.Failed)
            .OrderBy(d => d.Status!.LoadBalancerPort)
            .Select(d => new V1ServicePort
            {
                Name = KubeNames.LoadBalancerPortName(d.Status!.LoadBalancerPort!.Value), Port = d.Status.LoadBalancerPort.Value,
                TargetPort = KubeNames.LoadBalancerPortName(d.Status.LoadBalancerPort.Value), Protocol = "TCP",
            }));
        if (KubernetesJson.Serialize(ports.Select(p => new { p.Name, p.Port })) == KubernetesJson.Serialize((service.Spec.Ports ?? []).Select(p => new { p.Name, p.Port }))) return;
        // A merge patch replaces the whole list; the resourceVersion makes a concurrent change fail rather than be lost.
        await _client.CoreV1.PatchNamespacedServiceAsync(new V1Patch(new
        {
            metadata = new { resourceVersion = service.Metadata.ResourceVersion },
            spec = new { ports },
        }, V1Patch.PatchType.MergePatch), _options.LoadBalancerService, Namespace, cancellationToken: cancellationToken);
    }

    /// <summary>The shared load balancer Service as this pass sees it (null when it does not exist).</summary>
    private async Task<V1Service?> ReadLoadBalancerAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await _client.CoreV1.ReadNamespacedServiceAsync(_options.LoadBalancerService, Namespace, cancellationToken: cancellationToken);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    /// <summary>
    /// The host name clients of a database on the shared load balancer use: loadBalancer.host; else, with a
    /// wildcard DNS record, &lt;name&gt;.&lt;baseDomain&gt;; else the address the cloud gave the Service (so a
    /// default install has an address to give); else, until it has one, the in-cluster Service name.
    /// </summary>
    private string LoadBalancerHost(string database, V1Service? service) =>
        _options.LoadBalancer.Host
        ?? (_options.BaseDomain is not null ? _manifests.SniHost(database) : null)
        ?? service?.Status?.LoadBalancer?.Ingress?.Select(i => i.Hostname ?? i.Ip).FirstOrDefault(a => !string.IsNullOrEmpty(a))
        ?? _manifests.ServiceHost(database);
}
