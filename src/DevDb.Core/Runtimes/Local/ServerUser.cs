using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace DevDb.Core.Runtimes.Local;

/// <summary>
/// The OS user Postgres server processes run as. Postgres refuses to run as root, so when DevDb
/// runs as root it runs them as an unprivileged user (DEVDB_SERVER_USER, default 'postgres') and
/// hands that user the folders they need. Otherwise they run as the current user.
/// </summary>
public sealed partial class ServerUser
{
    private ServerUser(string? name, int uid, int gid)
    {
        Name = name;
        Uid = uid;
        Gid = gid;
    }

    /// <summary>The user to switch to, or null when servers run as the current user.</summary>
    public string? Name { get; }
    public int Uid { get; }
    public int Gid { get; }
    /// <summary>True only on Unix (root there): a guard the platform-compatibility analyzer knows.</summary>
    [UnsupportedOSPlatformGuard("windows")]
    public bool RunsAsOtherUser => Name is not null;

    public static ServerUser Current { get; } = new(null, -1, -1);

    public static ServerUser Resolve()
    {
        if (OperatingSystem.IsWindows() || !Environment.IsPrivilegedProcess) return Current;
        var name = Environment.GetEnvironmentVariable("DEVDB_SERVER_USER");
        if (string.IsNullOrEmpty(name)) name = "postgres";
        var entry = GetPasswordEntry(name);
        if (entry == IntPtr.Zero)
            throw new DevDbException(ErrorCodes.ServerUserMissing, DevDbErrorCategory.NotInstalled,
                $"DevDb is running as root and Postgres servers cannot; the OS user '{name}' to run them as does not exist.",
                "Create it (installing the PostgreSQL server package does), or set DEVDB_SERVER_USER to another unprivileged user.",
                name);
        var passwd = Marshal.PtrToStructure<Passwd>(entry);
        return new ServerUser(name, (int)passwd.Uid, (int)passwd.Gid);
    }

    /// <summary>Gives a file or folder (not following links) to the server user; a no-op when servers run as the current user.</summary>
    public void Own(string path)
    {
        if (!RunsAsOtherUser) return;
        if (LChown(path, Uid, Gid) != 0)
            throw new IOException($"Could not give '{path}' to user '{Name}': error {Marshal.GetLastPInvokeError()}.");
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Passwd
    {
        public IntPtr Name;
        public IntPtr Password;
        public uint Uid;
        public uint Gid;
    }

    [UnsupportedOSPlatform("windows")]
    [LibraryImport("libc", EntryPoint = "getpwnam", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr GetPasswordEntry(string name);

    [UnsupportedOSPlatform("windows")]
    [LibraryImport("libc", EntryPoint = "lchown", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int LChown(string path, int owner, int group);
}
