namespace DevDb.Core.Sources;

/// <summary>A dump already on this machine: a file, or a pg_dump -Fd folder. Used in place, never copied.</summary>
internal sealed class FileDumpSource(string location, string path) : IDumpSource
{
    public string Location { get; } = location;

    /// <summary>The full path the address points at.</summary>
    public string Path { get; } = path;

    /// <summary>Reading a local dump's head is cheap, so the probe also refuses a file that is no dump, before anything is recorded.</summary>
    public Task ProbeAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Inspect();
        return Task.CompletedTask;
    }

    public Task<LocalDump> FetchAsync(string workDirectory, IProgress<long>? bytesFetched, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var format = Inspect();
        var bytes = format == DumpFormat.Directory
            ? new DirectoryInfo(Path).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length)
            : new FileInfo(Path).Length;
        // Nothing is copied: the whole dump is available at once.
        bytesFetched?.Report(bytes);
        return Task.FromResult(new LocalDump(Path, format, bytes, IsDownload: false));
    }

    /// <summary>Checks that the dump is there, readable and a pg_dump, and returns its format.</summary>
    private DumpFormat Inspect()
    {
        if (!Directory.Exists(Path) && !File.Exists(Path))
        {
            var parent = System.IO.Path.GetDirectoryName(Path);
            var what = parent is not null && !Directory.Exists(parent)
                ? $"the folder '{parent}' does not exist."
                : "there is no such file.";
            throw DevDbErrors.SourceNotFound(Location, what,
                "Check the path (relative paths are resolved against the current directory).");
        }
        if (File.Exists(Path)) CheckReadable(Path);
        var format = DumpFormatDetector.Detect(Path);
        if (format == DumpFormat.Directory) CheckReadable(System.IO.Path.Combine(Path, "toc.dat"));
        return format;
    }

    private void CheckReadable(string file)
    {
        try
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        }
        catch (UnauthorizedAccessException e)
        {
            throw DevDbErrors.SourceAccessDenied(Location, $"'{file}' cannot be read by this user.",
                "Give the user running DevDb read access to the dump (and to the folders above it).", e);
        }
        catch (IOException e) when (e is not FileNotFoundException and not DirectoryNotFoundException)
        {
            throw DevDbErrors.SourceAccessDenied(Location, $"'{file}' cannot be opened: {e.Message}",
                "Make sure no other program holds the dump open exclusively, then try again.", e);
        }
    }
}
