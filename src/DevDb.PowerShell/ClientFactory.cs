using DevDb.Core.Client;
using DevDb.Core.Engine;

namespace DevDb.Commands;

/// <summary>
/// The one place that decides which <see cref="IDevDbClient"/> the cmdlets talk to. Today that is
/// always the embedded engine over $DEVDB_HOME; server mode (Connect-DevDb) plugs in here.
/// </summary>
internal static class ClientFactory
{
    public static IDevDbClient Create() => DevDbEngine.OpenLocal();
}
