using DevDb.Core.Client;
using DevDb.Core.Engine;

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
        return target.Context is { } context
            ? new HttpDevDbClient(context.Server, target.Token ?? "", context.AllowUnencryptedAuthentication)
            : DevDbEngine.OpenLocal();
    }
}
