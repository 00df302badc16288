using k8s.Models;

namespace DevDb.Core.Runtimes.Kubernetes;

/// <summary>How a database is reached: its ClusterIP Service, its SNI route (Traefik IngressRouteTCP) and the host names clients use.</summary>
public sealed partial class Manifests
{
    public V1Service DatabaseService(DatabaseResource database) => new()
    {
        ApiVersion = "v1", Kind = "Service",
        Metadata = Meta(KubeNames.DatabaseObject(database.Name()), DatabaseLabels(database), database),
        Spec = new V1ServiceSpec
        {
            Type = "ClusterIP",
            Selector = PodSelector(database),
            Ports = [new V1ServicePort { Name = "postgres", Port = PostgresPort, TargetPort = PostgresPort, Protocol = "TCP" }],
        },
    };

    public IngressRouteTcp DatabaseRoute(DatabaseResource database) => new()
    {
        Metadata = Meta(KubeNames.DatabaseObject(database.Name()), DatabaseLabels(database), database),
        Spec = new IngressRouteTcpSpec
        {
            EntryPoints = [options.Traefik.EntryPoint],
            Routes =
            [
                new IngressRouteTcpRoute
                {
                    Match = $"HostSNI(`{SniHost(database.Name())}`)",
                    Services = [new IngressRouteTcpService { Name = KubeNames.DatabaseObject(database.Name()), Port = PostgresPort }],
                },
            ],
            Tls = new IngressRouteTcpTls { SecretName = options.Traefik.TlsSecret },
        },
    };

    /// <summary>The name a database answers to through the SNI router.</summary>
    public string SniHost(string database) => $"{database}.{options.BaseDomain}";

    /// <summary>The in-cluster name of a database's Service, for when neither SNI routing nor the load balancer is on.</summary>
    public string ServiceHost(string database) => $"{KubeNames.DatabaseObject(database)}.{options.Namespace}.svc";
}
