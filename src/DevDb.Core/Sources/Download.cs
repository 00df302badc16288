namespace DevDb.Core.Sources;

/// <summary>
/// Streams a remote dump into a new file in the work folder, reporting bytes as they arrive.
/// The file is deleted if anything fails or the caller cancels, so no partial download is left behind.
/// </summary>
internal static class Download
{
    private const int BufferSize = 128 * 1024;
    /// <summary>Progress is reported at most once per this many bytes (and once at the end).</summary>
    private const long ReportEvery = 1024 * 1024;

    /// <summary>A new, unique file name in <paramref name="workDirectory"/> that keeps the source's own name for humans.</summary>
    private static string NewTargetPath(string workDirectory, string sourceName)
    {
        Directory.CreateDirectory(workDirectory);
        var safe = new string(sourceName.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '_').ToArray())
            .Trim('.');
        if (safe.Length == 0) safe = "dump";
        if (safe.Length > 80) safe = safe[^80..];
        return Path.Combine(workDirectory, $"download-{Guid.NewGuid():N}-{safe}");
    }

    /// <summary>
    /// Copies <paramref name="source"/> to <paramref name="target"/>. Each read waits at most
    /// <paramref name="idleTimeout"/>; a stalled transfer ends in <see cref="TimeoutException"/>.
    /// When <paramref name="expectedBytes"/> is known, a shorter stream is an <see cref="IOException"/>.
    /// </summary>
    private static async Task<long> CopyAsync(Stream source, string target, long? expectedBytes, TimeSpan idleTimeout,
        IProgress<long>? bytesFetched, CancellationToken cancellationToken)
    {
        long total = 0, reported = 0;
        var buffer = new byte[BufferSize];
        await using var file = new FileStream(target, FileMode.CreateNew, FileAccess.Write, FileShare.None, BufferSize, useAsync: true);
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        while (true)
        {
            idle.CancelAfter(idleTimeout);
            int read;
            try
            {
                read = await source.ReadAsync(buffer, idle.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"no data arrived for {idleTimeout.TotalSeconds:0.#} s after {total} bytes.");
            }
            if (read == 0) break;
            await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            total += read;
            if (total - reported >= ReportEvery)
            {
                bytesFetched?.Report(total);
                reported = total;
            }
        }
        await file.FlushAsync(cancellationToken);
        if (expectedBytes is { } expected && total != expected)
            throw new IOException($"the transfer ended after {total} of {expected} bytes.");
        bytesFetched?.Report(total);
        return total;
    }

    /// <summary>
    /// Saves a remote dump's body as a new file in <paramref name="workDirectory"/> and detects its format.
    /// A broken transfer (<paramref name="isTransferError"/>) becomes SourceUnreachable; nothing partial is left.
    /// </summary>
    public static async Task<LocalDump> SaveAsync(string location, string workDirectory, string sourceName, Stream body,
        long? expectedBytes, TimeSpan idleTimeout, IProgress<long>? bytesFetched, Func<Exception, bool> isTransferError,
        CancellationToken cancellationToken)
    {
        var target = NewTargetPath(workDirectory, sourceName);
        long bytes;
        try
        {
            bytes = await CopyAsync(body, target, expectedBytes, idleTimeout, bytesFetched, cancellationToken);
        }
        catch (Exception e)
        {
            DeleteQuietly(target);
            if (e is OperationCanceledException && cancellationToken.IsCancellationRequested) throw;
            if (IO.DiskSpace.IsFull(e)) throw IO.DiskSpace.Full(workDirectory, $"downloading '{DevDbErrors.ShownSource(location)}'", expectedBytes, e);
            if (e is TimeoutException or IOException || isTransferError(e))
                throw DevDbErrors.SourceUnreachable(location, $"the download broke off: {e.Message}", inner: e);
            if (e is UnauthorizedAccessException)
                throw DevDbErrors.HomeNotAccessible(workDirectory, $"Could not write the download to '{workDirectory}': {e.Message}",
                    "Make sure the DevDb state folder is writable by this user.", e);
            throw;
        }
        return Finish(location, target, bytes);
    }

    /// <summary>Deletes a partial download; never throws, so the original error is the one reported.</summary>
    public static void DeleteQuietly(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>Detects the downloaded file's format; a file that is no dump is deleted, not handed on.</summary>
    private static LocalDump Finish(string location, string path, long bytes)
    {
        try
        {
            return new LocalDump(path, DumpFormatDetector.Detect(path), bytes, IsDownload: true);
        }
        catch (DevDbException e)
        {
            DeleteQuietly(path);
            // Name what the user gave, not the temporary file that no longer exists.
            throw e.WithText(e.Message.Replace($"'{DevDbErrors.ShownSource(path)}'", $"'{DevDbErrors.ShownSource(location)}'"),
                e.RecommendedAction, DevDbErrors.ShownSource(location));
        }
        catch
        {
            DeleteQuietly(path);
            throw;
        }
    }
}
