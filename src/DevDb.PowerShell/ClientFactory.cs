using DevDb.Core.Client;
using DevDb.Core.Engine;
using DevDb.Core.Runtimes.Kubernetes;

namespace DevDb.Commands;

/// <summary>
/// The one place that decides which <see cref="IDevDbClient"/> the cmdlets talk to: the DevDb API
/// of the current context (Connect-DevDb, or DEVDB_SERVER and DEVDB_TOKEN), else the embedded
/// engine over $DEVDB_HOME.
/// </summary>
internal static class ClientFactory
{
    public static IDevDbClient Create()
    {
        ClientTarget target = ClientContexts.Default().Current();
        return target.Context switch
        {
            { Kubernetes: { } cluster } => KubernetesEngine.Connect(cluster.Context, cluster.Namespace),
            { Server: { } server } => new HttpDevDbClient(server, target.Token ?? "", target.Context.AllowUnencryptedAuthentication),
            _ => DevDbEngine.OpenLocal(),
        };
    }
}
