namespace DevDb.Core.IO;

/// <summary>
/// The one rule for a full file system: whatever step met it (a download, a clone, a restore, a
/// catalog write), the user gets DiskFull naming the folder, what is free there and what the step
/// needed, instead of the OS's words from deep inside.
/// </summary>
public static class DiskSpace
{
    private const int NoSpaceErrno = 28; // ENOSPC
    private const string NoSpaceText = "No space left on device";

    /// <summary>True when <paramref name="error"/> (or one it wraps, or a tool's words) says the disk is full.</summary>
    public static bool IsFull(Exception error) => error switch
    {
        AggregateException aggregate => aggregate.InnerExceptions.Any(IsFull),
        DevDbException devDb => devDb.Code == ErrorCodes.DiskFull || IsFull(devDb.Message) || devDb.InnerException is { } inner && IsFull(inner),
        IOException io when io.HResult == NoSpaceErrno || (io.HResult & 0xFFFF) == 0x70 /* ERROR_DISK_FULL */ || IsFull(io.Message) => true,
        _ => error.InnerException is { } wrapped && IsFull(wrapped),
    };

    public static bool IsFull(string toolOutput) => toolOutput.Contains(NoSpaceText, StringComparison.OrdinalIgnoreCase);

    /// <param name="folder">Where the step was writing.</param>
    /// <param name="step">What DevDb was doing, e.g. "cloning image shop r1 into database dave".</param>
    /// <param name="neededBytes">What the step needed, when known.</param>
    public static DevDbException Full(string folder, string step, long? neededBytes, Exception? inner = null)
    {
        return DevDbErrors.DiskFull(folder, step, Megabytes(FreeBytes(folder)), neededBytes is { } needed ? Megabytes(needed) : null, inner);
    }

    private static long? FreeBytes(string folder)
    {
        try
        {
            var existing = folder;
            while (!Directory.Exists(existing) && Path.GetDirectoryName(existing) is { } parent) existing = parent;
            return new DriveInfo(existing).AvailableFreeSpace;
        }
        catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static string Megabytes(long? bytes) => bytes is { } value ? $"{value / 1048576.0:0.0} MB" : "an unknown amount";
}
