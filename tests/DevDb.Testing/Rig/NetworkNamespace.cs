using System.Runtime.Versioning;
using System.ComponentModel;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace DevDb.Testing.Rig;

/// <summary>
/// Connections into a pod's own network namespace (the rig gives each pod with ports one, held by its sandbox
/// container, as a real pod has): the socket is made on a thread that entered that namespace with setns(2), and a
/// socket keeps the namespace it was made in. Needs root (CAP_SYS_ADMIN).
/// </summary>
[SupportedOSPlatform("linux")]
internal static partial class NetworkNamespace
{
    private const int CloneNewNet = 0x40000000;

    [LibraryImport("libc", SetLastError = true)]
    private static partial int setns(int fd, int nstype);

    /// <summary>Connects to <paramref name="port"/> on 127.0.0.1 inside the network namespace of process <paramref name="pid"/>.</summary>
    public static async Task<Socket> ConnectAsync(int pid, int port, CancellationToken cancellationToken)
    {
        var socket = CreateSocketIn(pid);
        try
        {
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), cancellationToken);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static Socket CreateSocketIn(int pid)
    {
        Socket? socket = null;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                using var own = File.OpenHandle("/proc/thread-self/ns/net");
                using var target = File.OpenHandle($"/proc/{pid}/ns/net");
                if (setns((int)target.DangerousGetHandle(), CloneNewNet) != 0) throw new Win32Exception(Marshal.GetLastPInvokeError());
                try
                {
                    socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                }
                finally
                {
                    // Back home before the thread ends, whatever the runtime does with it afterwards.
                    if (setns((int)own.DangerousGetHandle(), CloneNewNet) != 0) Environment.FailFast("setns back to the test's own network namespace failed");
                }
            }
            catch (Exception e)
            {
                failure = e;
            }
        }) { IsBackground = true, Name = "rig-netns" };
        thread.Start();
        thread.Join();
        return socket ?? throw new InvalidOperationException($"Could not make a socket in the network namespace of pid {pid}.", failure);
    }
}
