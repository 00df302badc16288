using System.Text.Json.Serialization;
using k8s;
using k8s.Models;

namespace DevDb.Kubernetes.Tests.Chart;

/// <summary>cert-manager's Certificate (cert-manager.io/v1): only the fields the chart sets.</summary>
public sealed class CertManagerCertificate : IKubernetesObject<V1ObjectMeta>
{
    [JsonPropertyName("apiVersion")] public string ApiVersion { get; set; } = "cert-manager.io/v1";
    [JsonPropertyName("kind")] public string Kind { get; set; } = "Certificate";
    [JsonPropertyName("metadata")] public V1ObjectMeta Metadata { get; set; } = new();
    [JsonPropertyName("spec")] public CertificateSpec Spec { get; set; } = new();

    public sealed class CertificateSpec
    {
        [JsonPropertyName("secretName")] public string? SecretName { get; set; }
        [JsonPropertyName("dnsNames")] public List<string>? DnsNames { get; set; }
        [JsonPropertyName("issuerRef")] public IssuerReference? IssuerRef { get; set; }
    }

    public sealed class IssuerReference
    {
        [JsonPropertyName("name")] public string? Name { get; set; }
        [JsonPropertyName("kind")] public string? Kind { get; set; }
        [JsonPropertyName("group")] public string? Group { get; set; }
    }
}
