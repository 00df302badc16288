using System.Net;
using System.Net.Sockets;

namespace DevDb.Core.Runtimes.Local;

/// <summary>
/// Picks a 127.0.0.1 port for a new database from DEVDB_PORT_RANGE (default 54400-54999): the lowest
/// one that no recorded database holds (stopped ones keep theirs) and that nothing else is listening on.
/// Called under the catalog lock, so two sessions never pick the same port.
/// </summary>
public static class PortAllocator
{
    public static (int First, int Last) Range()
    {
        var text = Environment.GetEnvironmentVariable("DEVDB_PORT_RANGE");
        if (string.IsNullOrEmpty(text)) return (54400, 54999);
        var parts = text.Split('-', StringSplitOptions.TrimEntries);
        if (parts.Length == 2 && int.TryParse(parts[0], out var first) && int.TryParse(parts[1], out var last)
            && first is > 1024 and <= 65535 && last >= first && last <= 65535)
            return (first, last);
        throw DevDbErrors.SettingInvalid("DEVDB_PORT_RANGE", $"DEVDB_PORT_RANGE '{UserInput.Shown(text)}' is not a port range.",
            "Set it like '54400-54999' (ports above 1024), or unset it.");
    }

    public static int Allocate(IEnumerable<int> recordedPorts)
    {
        var (first, last) = Range();
        var taken = recordedPorts.Where(port => port >= first && port <= last).ToHashSet();
        for (var port = first; port <= last; port++)
            if (!taken.Contains(port) && IsFree(port))
                return port;
        throw DevDbErrors.NoFreePort(first, last, taken.Count);
    }

    public static bool IsFree(int port)
    {
        try
        {
            using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new IPEndPoint(IPAddress.Loopback, port));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
