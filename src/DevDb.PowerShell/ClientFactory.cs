using DevDb.Core.Client;
using DevDb.Core.Engine;
using DevDb.Core.Runtimes.Kubernetes;

namespace DevDb.Commands;

/// <summary>
/// The one place that decides which <see cref="IDevDbClient"/> the cmdlets talk to: the DevDb API
/// of the current context (Connect-DevDb, or DEVDB_SERVER and DEVDB_TOKEN), a Kubernetes namespace
/// (Connect-DevDb -Kubernetes), else the embedded engine over $DEVDB_HOME.
/// </summary>
internal static class ClientFactory
{
    public static IDevDbClient Create() => Connect().Client;

    /// <summary>The client, and where it goes in words (for -Verbose).</summary>
    public static (IDevDbClient Client, string Description) Connect()
    {
        ClientTarget target = ClientContexts.Default().Current();
        switch (target.Context)
        {
            case { Kubernetes: { } cluster } context:
                return (KubernetesEngine.Connect(cluster.Context, cluster.Namespace),
                    $"Kubernetes: kubeconfig context {cluster.Context ?? "(current)"}, namespace {cluster.Namespace}, with the kubeconfig's credentials (context '{context.Name}')");
            case { Server: { } server } context:
                return (new HttpDevDbClient(server, target.Token ?? "", context.AllowUnencryptedAuthentication),
                    $"the DevDb API at {server} as {context.User} ({context.Role}), context '{context.Name}'");
            default:
                var engine = DevDbEngine.OpenLocal();
                return (engine, $"the local engine, state folder {engine.Home}");
        }
    }
}
