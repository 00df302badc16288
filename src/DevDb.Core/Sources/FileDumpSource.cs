namespace DevDb.Core.Sources;

/// <summary>
/// A dump already on this machine: a file, or a pg_dump -Fd folder. Used in place, never copied.
/// A folder path that ends in a separator, or a folder that is no -Fd dump (no toc.dat), is a folder
/// of dumps: the source reads its newest regular file (<see cref="NewestDump"/>; names starting with
/// '.' are skipped, as copies in progress often are).
/// </summary>
internal sealed class FileDumpSource(string location, string path) : IDumpSource
{
    public string Location { get; } = location;

    /// <summary>The full path the address points at (for a folder of dumps, the folder).</summary>
    public string Path { get; } = path;

    /// <summary>The file read: <see cref="Path"/>, or the folder's newest file once picked (then kept, so probe and fetch read the same).</summary>
    private string? _file;

    public string? Dump => _file is not null ? System.IO.Path.GetFileName(_file) : IsFolderOfDumps ? null : System.IO.Path.GetFileName(Path.TrimEnd('/', '\\'));

    private bool IsFolderOfDumps =>
        Location.TrimEnd().EndsWith('/') || Location.TrimEnd().EndsWith('\\')
        || (Directory.Exists(Path) && !File.Exists(System.IO.Path.Combine(Path, "toc.dat")));

    /// <summary>Reading a local dump's head is cheap, so the probe also refuses a file that is no dump, before anything is recorded.</summary>
    public Task ProbeAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Inspect(Resolve());
        return Task.CompletedTask;
    }

    public Task<LocalDump> FetchAsync(string workDirectory, IProgress<long>? bytesFetched, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var path = Resolve();
        var format = Inspect(path);
        var bytes = format == DumpFormat.Directory
            ? new DirectoryInfo(path).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length)
            : new FileInfo(path).Length;
        // Nothing is copied: the whole dump is available at once.
        bytesFetched?.Report(bytes);
        return Task.FromResult(new LocalDump(path, format, bytes, IsDownload: false));
    }

    /// <summary>The path to read: the address's, or the newest regular file of a folder of dumps (SourceNotFound when it has none).</summary>
    private string Resolve()
    {
        if (_file is not null) return _file;
        if (!IsFolderOfDumps) return Path;
        if (!Directory.Exists(Path))
            throw DevDbErrors.SourceNotFound(Location, $"the folder '{Path}' does not exist.",
                "Check the path (relative paths are resolved against the current directory).");
        List<NewestDump.Candidate> candidates;
        try
        {
            candidates = new DirectoryInfo(Path).EnumerateFiles()
                .Where(f => !f.Name.StartsWith('.') && (f.Attributes & (FileAttributes.ReparsePoint | FileAttributes.Hidden)) == 0)
                .Select(f => new NewestDump.Candidate(f.FullName, new DateTimeOffset(f.LastWriteTimeUtc, TimeSpan.Zero)))
                .ToList();
        }
        catch (UnauthorizedAccessException e)
        {
            throw DevDbErrors.SourceAccessDenied(Location, $"the folder '{Path}' cannot be listed by this user.",
                "Give the user running DevDb read access to the folder.", e);
        }
        var newest = NewestDump.Pick(candidates)
            ?? throw DevDbErrors.SourceNotFound(Location, $"the folder '{Path}' holds no dump file.",
                "Put a dump in the folder, or point the project at one file.");
        return _file = newest.Name;
    }

    /// <summary>Checks that the dump is there, readable and a pg_dump, and returns its format.</summary>
    private DumpFormat Inspect(string path)
    {
        if (!Directory.Exists(path) && !File.Exists(path))
        {
            var parent = System.IO.Path.GetDirectoryName(path);
            var what = parent is not null && !Directory.Exists(parent)
                ? $"the folder '{parent}' does not exist."
                : "there is no such file.";
            throw DevDbErrors.SourceNotFound(Location, what,
                "Check the path (relative paths are resolved against the current directory).");
        }
        if (File.Exists(path)) CheckReadable(path);
        var format = DumpFormatDetector.Detect(path);
        if (format == DumpFormat.Directory) CheckReadable(System.IO.Path.Combine(path, "toc.dat"));
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
