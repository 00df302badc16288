using System.Runtime.InteropServices;

namespace DevDb.Core.IO;

/// <summary>
/// The one way DevDb replaces a file that holds state or a secret (catalog records, passwords,
/// tokens, contexts): readable by its owner alone, atomic and durable. The content goes to a
/// temporary file of a unique name, which is flushed to disk and renamed over the target; then
/// the folder is flushed, so a crash at any moment leaves the old file or the new one, never an
/// empty or half-written one.
/// </summary>
public static partial class PrivateFiles
{
    /// <summary>rwx------: the folders of state and secrets.</summary>
    public const UnixFileMode UserOnlyFolder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>Creates a folder with <paramref name="mode"/> (user-only by default) when it does not exist; an existing one is left as it is.</summary>
    public static void CreateFolder(string path, UnixFileMode mode = UserOnlyFolder)
    {
        if (OperatingSystem.IsWindows()) Directory.CreateDirectory(path);
        else if (!Directory.Exists(path)) Directory.CreateDirectory(path, mode);
    }

    public static void Write(string path, ReadOnlySpan<byte> content)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var temporary = Path.Combine(folder, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        try
        {
            using (var stream = new FileStream(temporary, options))
            {
                stream.Write(content);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, path, overwrite: true);
            FlushFolder(folder);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    /// <summary>Makes a rename in the folder durable (fsync of the folder; Windows needs no such step).</summary>
    public static void FlushFolder(string folder)
    {
        if (OperatingSystem.IsWindows()) return;
        var descriptor = Open(folder, 0 /* O_RDONLY */);
        if (descriptor < 0) throw new IOException($"Could not open '{folder}' to flush it: error {Marshal.GetLastPInvokeError()}.");
        try
        {
            if (Fsync(descriptor) != 0) throw new IOException($"Could not flush '{folder}': error {Marshal.GetLastPInvokeError()}.");
        }
        finally
        {
            Close(descriptor);
        }
    }

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int descriptor);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int descriptor);
}
