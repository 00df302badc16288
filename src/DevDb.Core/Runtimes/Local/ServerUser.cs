using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Security.Cryptography;

namespace DevDb.Core.Runtimes.Local;

/// <summary>
/// An OS identity Postgres processes run as. Postgres refuses to run as root, so when DevDb runs
/// as root it runs image builds as an unprivileged user (DEVDB_SERVER_USER, default 'postgres')
/// and each database's server as a user id of its own (<see cref="ServerUids"/>), which owns that
/// database's folders alone: no server can read another's files. Otherwise every server runs as
/// the current user.
/// </summary>
public sealed partial class ServerUser
{
    private ServerUser(string? name, int uid, int gid)
    {
        Name = name;
        Uid = uid;
        Gid = gid;
    }

    /// <summary>The user's name; null for a user id without an account (a database's own).</summary>
    public string? Name { get; }
    public int Uid { get; }
    public int Gid { get; }

    /// <summary>True when DevDb runs as root (on Unix): servers then run as other users, and files are handed to them.</summary>
    [UnsupportedOSPlatformGuard("windows")]
    public static bool DevDbIsRoot { get; } = !OperatingSystem.IsWindows() && Environment.IsPrivilegedProcess;

    /// <summary>True when commands must switch to this user (only on Unix: a guard the platform-compatibility analyzer knows).</summary>
    [UnsupportedOSPlatformGuard("windows")]
    public bool RunsAsOtherUser => DevDbIsRoot && Uid != 0;

    /// <summary>DevDb's own identity (root when it runs as root).</summary>
    public static ServerUser Current { get; } = DevDbIsRoot ? new ServerUser("root", 0, 0) : new ServerUser(CurrentName(), -1, -1);

    /// <summary>The user that builds images: DEVDB_SERVER_USER (default 'postgres') when DevDb runs as root, else the current user.</summary>
    public static ServerUser Resolve()
    {
        if (!DevDbIsRoot) return Current;
        var name = Environment.GetEnvironmentVariable("DEVDB_SERVER_USER");
        if (string.IsNullOrEmpty(name)) name = "postgres";
        var entry = GetPasswordEntryByName(name);
        if (entry == IntPtr.Zero)
            throw DevDbErrors.ServerUserMissing(name);
        var passwd = Marshal.PtrToStructure<Passwd>(entry);
        if (passwd.Uid == 0)
            throw DevDbErrors.SettingInvalid("DEVDB_SERVER_USER", $"DEVDB_SERVER_USER '{UserInput.Shown(name)}' is root; Postgres refuses to run as root.",
                "Set DEVDB_SERVER_USER to an unprivileged user such as 'postgres'.");
        return new ServerUser(name, (int)passwd.Uid, (int)passwd.Gid);
    }

    /// <summary>A database's own server user: a user id (and group id) with no account; without one (older records) the build user; the current user when DevDb is not root.</summary>
    public static ServerUser ForUid(int? uid) => DevDbIsRoot && uid is { } id ? new ServerUser(null, id, id) : Resolve();

    /// <summary>The user a running process runs as (Linux: /proc), so a server is stopped by the user that started it.</summary>
    public static ServerUser OfProcess(int pid)
    {
        if (!DevDbIsRoot) return Current;
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (!line.StartsWith("Uid:", StringComparison.Ordinal)) continue;
            var uid = int.Parse(line.Split('\t', StringSplitOptions.RemoveEmptyEntries)[2]);
            var gid = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("Gid:", StringComparison.Ordinal))
                .Split('\t', StringSplitOptions.RemoveEmptyEntries)[2];
            return new ServerUser(null, uid, int.Parse(gid));
        }
        throw new IOException($"/proc/{pid}/status names no user.");
    }

    /// <summary>The name pg_ident.conf maps for this user: its account name, or its user id.</summary>
    public string PeerName => Name ?? Uid.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Gives a file or folder (not following links) to this user; a no-op when DevDb is not root.</summary>
    public void Own(string path)
    {
        if (!DevDbIsRoot) return;
        if (LChown(path, Uid, Gid) != 0)
            throw new IOException($"Could not give '{path}' to user {PeerName}: error {Marshal.GetLastPInvokeError()}.");
    }

    /// <summary>Gives a folder and everything in it to this user.</summary>
    public void OwnTree(string folder)
    {
        if (!DevDbIsRoot) return;
        Own(folder);
        foreach (var entry in new DirectoryInfo(folder).EnumerateFileSystemInfos("*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }))
            Own(entry.FullName);
    }

    /// <summary>True when a user id has an account on this machine (a database's own ids must not).</summary>
    [UnsupportedOSPlatform("windows")]
    internal static bool HasAccount(int uid) => GetPasswordEntryById((uint)uid) != IntPtr.Zero;

    private static string CurrentName()
    {
        if (OperatingSystem.IsWindows()) return Environment.UserName;
        var entry = GetPasswordEntryById(GetEffectiveUserId());
        return entry == IntPtr.Zero ? Environment.UserName : Marshal.PtrToStringUTF8(Marshal.PtrToStructure<Passwd>(entry).Name) ?? Environment.UserName;
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
    private static partial IntPtr GetPasswordEntryByName(string name);

    [UnsupportedOSPlatform("windows")]
    [LibraryImport("libc", EntryPoint = "getpwuid")]
    private static partial IntPtr GetPasswordEntryById(uint uid);

    [UnsupportedOSPlatform("windows")]
    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint GetEffectiveUserId();

    [UnsupportedOSPlatform("windows")]
    [LibraryImport("libc", EntryPoint = "lchown", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int LChown(string path, int owner, int group);
}

/// <summary>
/// The user ids a root DevDb gives databases' servers: DEVDB_SERVER_UIDS (default
/// 2000000000-2099999999), ids no account on this machine has. Chosen at random, so two
/// installations on one machine are unlikely to meet, and never one another database holds.
/// </summary>
public static class ServerUids
{
    public const string Variable = "DEVDB_SERVER_UIDS";

    public static (int First, int Last) Range()
    {
        var text = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrEmpty(text)) return (2000000000, 2099999999);
        var parts = text.Split('-', StringSplitOptions.TrimEntries);
        if (parts.Length == 2 && int.TryParse(parts[0], out var first) && int.TryParse(parts[1], out var last)
            && first >= 100000 && last >= first + 999)
            return (first, last);
        throw DevDbErrors.SettingInvalid(Variable, $"{Variable} '{UserInput.Shown(text)}' is not a range of at least 1000 user ids from 100000 up.",
            "Set it like '2000000000-2099999999' (ids no account uses), or unset it.");
    }

    /// <summary>A free id for a new database's server; null when DevDb is not root (servers run as the current user).</summary>
    public static int? Allocate(IEnumerable<int> taken)
    {
        if (!ServerUser.DevDbIsRoot) return null;
        var (first, last) = Range();
        var held = taken.ToHashSet();
        for (var attempt = 0; attempt < 1000; attempt++)
        {
            var uid = first + RandomNumberGenerator.GetInt32(last - first + 1);
            if (!held.Contains(uid) && !ServerUser.HasAccount(uid)) return uid;
        }
        throw DevDbErrors.SettingInvalid(Variable, $"No free server user id was found in {Variable} {first}-{last}.", $"Widen {Variable}.");
    }
}
