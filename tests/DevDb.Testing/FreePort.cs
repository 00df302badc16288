using System.Net;
using System.Net.Sockets;

namespace DevDb.Testing;

/// <summary>Ports on 127.0.0.1 for test servers.</summary>
public static class FreePort
{
    /// <summary>A port nothing listens on right now (the OS picks it; a tiny race with other processes remains).</summary>
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Waits until something accepts TCP connections on 127.0.0.1:<paramref name="port"/>.</summary>
    public static async Task WaitUntilListeningAsync(int port, TimeSpan timeout, Func<bool>? stillStarting = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline && (stillStarting?.Invoke() ?? true))
            {
                await Task.Delay(50);
            }
        }
    }
}
