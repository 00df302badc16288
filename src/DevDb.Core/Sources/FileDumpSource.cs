namespace DevDb.Core.Sources;

/// <summary>A dump already on this machine: a file, or a pg_dump -Fd folder. Used in place, never copied.</summary>
internal sealed class FileDumpSource(string location, string path) : IDumpSource
{
    public string Location { get; } = location;

    /// <summary>The full path the address points at.</summary>
    public string Path { get; } = path;

    public Task ProbeAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (Directory.Exists(Path))
        {
            var toc = System.IO.Path.Combine(Path, "toc.dat");
            if (!File.Exists(toc))
                throw SourceErrors.Corrupt(Path,
                    "is a folder but not a pg_dump directory-format dump (it has no toc.dat).",
                    "Point the project at the folder pg_dump -Fd wrote, or at a dump file.");
            CheckReadable(toc);
            return Task.CompletedTask;
        }
        if (!File.Exists(Path))
        {
            var parent = System.IO.Path.GetDirectoryName(Path);
            var what = parent is not null && !Directory.Exists(parent)
                ? $"the folder '{parent}' does not exist."
                : "there is no such file.";
            throw SourceErrors.NotFound(Location, what,
                "Check the path (relative paths are resolved against the current directory).");
        }
        CheckReadable(Path);
        return Task.CompletedTask;
    }

    public async Task<LocalDump> FetchAsync(string workDirectory, IProgress<long>? bytesFetched, CancellationToken cancellationToken)
    {
        await ProbeAsync(cancellationToken);
        var format = DumpFormatDetector.Detect(Path);
        var bytes = format == DumpFormat.Directory
            ? new DirectoryInfo(Path).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length)
            : new FileInfo(Path).Length;
        // Nothing is copied: the whole dump is available at once.
        bytesFetched?.Report(bytes);
        return new LocalDump(Path, format, bytes, IsDownload: false);
    }

    private void CheckReadable(string file)
    {
        try
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        }
        catch (UnauthorizedAccessException e)
        {
            throw SourceErrors.AccessDenied(Location, $"'{file}' cannot be read by this user.",
                "Give the user running DevDb read access to the dump (and to the folders above it).", e);
        }
        catch (IOException e) when (e is not FileNotFoundException and not DirectoryNotFoundException)
        {
            throw SourceErrors.AccessDenied(Location, $"'{file}' cannot be opened: {e.Message}",
                "Make sure no other program holds the dump open exclusively, then try again.", e);
        }
    }
}
