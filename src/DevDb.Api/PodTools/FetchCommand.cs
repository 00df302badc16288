using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Encodings.Web;
using System.Text.Json;
using DevDb.Core;
using DevDb.Core.Sources;
using DevDb.Core.Postgres;

namespace DevDb.Api.PodTools;

/// <summary>
/// <c>DevDb.Api fetch --source URI --output DIR [--termination-log PATH]</c>: the restore Job's init
/// container. Fetches a project's dump with Core's dump sources (S3 settings and credentials from the
/// standard AWS_* environment and the SDK's default chain, so IRSA works) and leaves
/// <c>DIR/dump</c> and <c>DIR/format</c> (a <see cref="DumpFormat"/> name; a plain SQL dump is read whole and
/// written as a restricted psql script, format <see cref="PsqlScript.PreparedFormat"/>, with <c>DIR/roles.sql</c>). On failure it exits 1,
/// leaves DIR empty and writes <c>{"code","message","recommendedAction"}</c> to the termination log,
/// which Kubernetes shows in the pod's status.
/// </summary>
public static class FetchCommand
{
    public const string DumpFile = "dump";
    public const string FormatFile = "format";
    /// <summary>For a plain SQL dump: the SQL that makes the roles it names (run by restore.sh as DevDb's admin).</summary>
    public const string RolesFile = "roles.sql";
    public const string DefaultTerminationLog = "/dev/termination-log";

    public const string Usage = """
        Usage:
          DevDb.Api fetch --source URI --output DIR [--termination-log PATH]
            URI: s3://bucket/key, s3://bucket/prefix/ (the newest object under it), https://host/path or a file path. DIR receives the files 'dump' and 'format'.
            On success: exit 0, {"format","bytes","dump"} in PATH (default /dev/termination-log).
            On failure: exit 1, DIR left empty, {"code","message","recommendedAction"} in PATH.
        """;

    /// <summary>How often, at most, a progress line is printed.</summary>
    private static readonly TimeSpan ProgressEvery = TimeSpan.FromSeconds(2);

    private static readonly JsonSerializerOptions TerminationJson = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        // Read by people in `kubectl describe`, never put in HTML: keep quotes and apostrophes readable.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>The process entry point: SIGTERM and Ctrl+C stop the fetch and clean up, rather than leave a partial dump.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error)
    {
        using var stopping = new CancellationTokenSource();
        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            stopping.Cancel();
        }
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        return await RunAsync(args, output, error, stopping.Token);
    }

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        Dictionary<string, string> options;
        try
        {
            options = CommandLineOptions.Parse(args, ["source", "output", "termination-log"], "source", "output");
        }
        catch (ArgumentException e)
        {
            error.WriteLine(e.Message);
            error.WriteLine(Usage);
            return 2;
        }
        var location = options["source"];
        var folder = Path.GetFullPath(options["output"]);
        var terminationLog = options.GetValueOrDefault("termination-log") ?? DefaultTerminationLog;
        try
        {
            var (format, dump) = await FetchAsync(location, folder, output, cancellationToken);
            var bytes = new FileInfo(Path.Combine(folder, DumpFile)).Length;
            output.WriteLine($"fetched {bytes} bytes: a {format} dump from {Redacted(location)}");
            // The reconciler reads this from the pod's status to record the image's source format and size.
            WriteTerminationLog(terminationLog, JsonSerializer.Serialize(new FetchedMessage(format.ToString(), bytes, dump), TerminationJson));
            return 0;
        }
        catch (Exception e)
        {
            EmptyFolder(folder);
            var failure = Describe(e, location, cancellationToken);
            error.WriteLine($"{failure.Code}: {failure.Message}");
            if (failure.RecommendedAction is not null) error.WriteLine(failure.RecommendedAction);
            WriteTerminationLog(terminationLog, Describe(failure));
            return 1;
        }
    }

    /// <summary>Fetches the dump; returns its format and which dump it was (for s3://bucket/prefix/, the newest key: NewestDump, as the engine picks it).</summary>
    private static async Task<(DumpFormat Format, string? Dump)> FetchAsync(string location, string folder, TextWriter output, CancellationToken cancellationToken)
    {
        // A Job retry reuses the volume: start from an empty folder.
        Directory.CreateDirectory(folder);
        EmptyFolder(folder);
        var source = DumpSources.Open(location, new DumpSourceOptions());
        output.WriteLine($"fetching {Redacted(location)}");
        await source.ProbeAsync(cancellationToken);

        var progress = new ThrottledProgress(output);
        var dump = await source.FetchAsync(folder, progress, cancellationToken);
        var target = Path.Combine(folder, DumpFile);
        if (dump.IsDownload)
        {
            File.Move(dump.Path, target);
        }
        else
        {
            if (dump.Format == DumpFormat.Directory)
                throw DevDbErrors.SourceInvalid(location, "it is a pg_dump directory-format dump, and only a single dump file can be fetched into a pod.",
                    "Publish a custom-format dump (pg_dump -Fc) or a tar (-Ft) or plain SQL dump, and point the project at that file.");
            await CopyAsync(dump.Path, target, progress, cancellationToken);
        }
        if (dump.Format is DumpFormat.PlainSql or DumpFormat.GzipPlainSql)
        {
            // A dump is data, never commands: read whole here (DumpUnsafe, DumpCorrupt), and handed to the restore's psql in restricted mode.
            output.WriteLine("reading the script before anything of it runs");
            var prepared = Path.Combine(folder, DumpFile + ".prepared");
            await PsqlScript.PrepareFileAsync(target, dump.Format == DumpFormat.GzipPlainSql, location, prepared, Path.Combine(folder, RolesFile), cancellationToken);
            File.Move(prepared, target, overwrite: true);
        }
        var written = dump.Format is DumpFormat.PlainSql or DumpFormat.GzipPlainSql ? PsqlScript.PreparedFormat : dump.Format.ToString();
        await File.WriteAllTextAsync(Path.Combine(folder, FormatFile), written, cancellationToken);
        if (source.Dump is { } picked) output.WriteLine($"the dump read: {picked}");
        return (dump.Format, source.Dump);
    }

    private static async Task CopyAsync(string from, string to, IProgress<long> progress, CancellationToken cancellationToken)
    {
        var buffer = new byte[128 * 1024];
        await using var source = new FileStream(from, FileMode.Open, FileAccess.Read, FileShare.Read, buffer.Length, useAsync: true);
        await using var target = new FileStream(to, FileMode.CreateNew, FileAccess.Write, FileShare.None, buffer.Length, useAsync: true);
        long total = 0;
        int read;
        while ((read = await source.ReadAsync(buffer, cancellationToken)) > 0)
        {
            await target.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            progress.Report(total += read);
        }
    }

    /// <summary>What went wrong, as the reconciler reads it: DevDb's own errors as they are, anything else as RestoreFailed.</summary>
    private static DevDbException Describe(Exception e, string location, CancellationToken cancellationToken)
    {
        var safeLocation = Redacted(location);
        return e switch
        {
            DevDbException known => known.WithText(Redact(known.Message, location, safeLocation),
                known.RecommendedAction is null ? null : Redact(known.RecommendedAction, location, safeLocation), safeLocation),
            OperationCanceledException when cancellationToken.IsCancellationRequested =>
                DevDbErrors.RestoreFailed($"Fetching '{safeLocation}' was stopped before it finished.", "The restore Job is retried or the image build is started again.", safeLocation),
            _ => DevDbErrors.RestoreFailed(
                $"Fetching '{safeLocation}' failed: {Redact(e.Message, location, safeLocation)}",
                "Check the restore volume (free space, permissions) and the fetch container's log, then refresh the project.", safeLocation),
        };
    }

    private static string Redact(string text, string location, string safeLocation) =>
        location.Length == 0 ? text : text.Replace(location, safeLocation, StringComparison.Ordinal);

    /// <summary>
    /// The address without what may be a credential: the user:password part of a URL and its query
    /// string (a presigned URL's signature). S3 credentials never appear in an s3:// address.
    /// </summary>
    public static string Redacted(string location)
    {
        if (!Uri.TryCreate(location.Trim(), UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")) return location;
        if (uri.UserInfo.Length == 0 && uri.Query.Length == 0) return location;
        var builder = new UriBuilder(uri) { UserName = "", Password = "", Query = "" };
        var text = builder.Uri.GetLeftPart(UriPartial.Path);
        if (uri.UserInfo.Length > 0) text = text.Replace("://", "://***@", StringComparison.Ordinal);
        return uri.Query.Length > 0 ? text + "?***" : text;
    }

    private static string Describe(DevDbException failure)
    {
        // Kubernetes keeps at most 4096 bytes of it.
        static string Limit(string text, int length) => text.Length <= length ? text : text[..(length - 3)] + "...";
        return JsonSerializer.Serialize(new TerminationMessage(failure.Code, Limit(failure.Message, 2500),
            failure.RecommendedAction is null ? null : Limit(failure.RecommendedAction, 600)), TerminationJson);
    }

    private static void WriteTerminationLog(string path, string json)
    {
        try
        {
            File.WriteAllText(path, json);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            // Not in a pod (or no such file allowed): stderr already has the message.
        }
    }

    /// <summary>Deletes everything in <paramref name="folder"/>, so a failed fetch leaves no partial dump.</summary>
    private static void EmptyFolder(string folder)
    {
        if (!Directory.Exists(folder)) return;
        foreach (var entry in new DirectoryInfo(folder).EnumerateFileSystemInfos())
        {
            try
            {
                if (entry is DirectoryInfo directory) directory.Delete(recursive: true);
                else entry.Delete();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Reported by the next attempt's own clean-up if it still stands.
            }
        }
    }

    private sealed record TerminationMessage(string Code, string Message, string? RecommendedAction);

    private sealed record FetchedMessage(string Format, long Bytes, string? Dump);

    /// <summary>Prints the bytes fetched so far, at most every <see cref="ProgressEvery"/>, on the caller's thread.</summary>
    private sealed class ThrottledProgress(TextWriter output) : IProgress<long>
    {
        private readonly Stopwatch _sinceLast = Stopwatch.StartNew();

        public void Report(long value)
        {
            if (_sinceLast.Elapsed < ProgressEvery) return;
            _sinceLast.Restart();
            output.WriteLine($"fetched {value} bytes");
        }
    }
}
