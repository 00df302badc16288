namespace DevDb.Core.Runtimes.Local;

/// <summary>Copies of data folders: an image into a clone, a dump folder into a build's work folder.</summary>
internal static class DataFolders
{
    /// <summary>
    /// Copies a folder tree to <paramref name="target"/>, every entry given to <paramref name="owner"/>:
    /// folders first, then files in parallel (a cluster is over a thousand mostly small files).
    /// File.Copy makes copy-on-write clones where the file system can (FICLONE, clonefile).
    /// </summary>
    public static void Copy(string source, string target, ServerUser owner, CancellationToken cancellationToken)
    {
        var files = new List<(string From, string To)>();
        CreateFolders(source, target, owner, files);
        Parallel.ForEach(files, new ParallelOptions { MaxDegreeOfParallelism = 2 * Environment.ProcessorCount, CancellationToken = cancellationToken },
            file =>
            {
                File.Copy(file.From, file.To);
                owner.Own(file.To);
            });
    }

    public static long Size(string folder) =>
        new DirectoryInfo(folder).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length);

    /// <summary>Recreates the folder tree and its links, and lists the files to copy.</summary>
    private static void CreateFolders(string source, string target, ServerUser owner, List<(string From, string To)> files)
    {
        if (OperatingSystem.IsWindows()) Directory.CreateDirectory(target);
        else Directory.CreateDirectory(target, File.GetUnixFileMode(source));
        owner.Own(target);
        foreach (var entry in new DirectoryInfo(source).EnumerateFileSystemInfos())
        {
            var destination = Path.Combine(target, entry.Name);
            if (entry.LinkTarget is { } link)
            {
                File.CreateSymbolicLink(destination, link);
                owner.Own(destination);
            }
            else if (entry is DirectoryInfo)
                CreateFolders(entry.FullName, destination, owner, files);
            else
                files.Add((entry.FullName, destination));
        }
    }
}
