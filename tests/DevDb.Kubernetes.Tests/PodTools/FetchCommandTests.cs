using DevDb.Core.Postgres;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using DevDb.Api.PodTools;
using DevDb.Core.Sources;
using Xunit;

namespace DevDb.Kubernetes.Tests.PodTools;

/// <summary>
/// <c>DevDb.Api fetch</c>, the restore Job's init container, against real sources: files, a real
/// HTTP server and a real s3rver (reached through the standard AWS_* environment, as in a pod).
/// </summary>
[Collection(DumpCollection.Name)]
public sealed class FetchCommandTests : IClassFixture<S3rverFixture>, IDisposable
{
    private const string Bucket = "devdb-fetch";

    private readonly DumpFixture _dumps;
    private readonly S3rverFixture _s3;
    private readonly TempFolder _folder = new("devdb-k8s-fetch");
    private readonly Dictionary<string, string?> _savedEnvironment = new();

    public FetchCommandTests(DumpFixture dumps, S3rverFixture s3)
    {
        _dumps = dumps;
        _s3 = s3;
        // What the restore Job's pod gets for an S3-compatible store (credentials: S3rverFixture sets AWS_ACCESS_KEY_ID/SECRET).
        SetEnvironment("AWS_ENDPOINT_URL_S3", s3.ServiceUrl);
        SetEnvironment("AWS_REGION", S3rverFixture.Region);
    }

    private string Output => _folder.Combine("dump");
    private string TerminationLog => _folder.Combine("termination-log");

    [Theory]
    [InlineData(DumpFormat.Custom)]
    [InlineData(DumpFormat.Tar)]
    [InlineData(DumpFormat.PlainSql)]
    [InlineData(DumpFormat.GzipPlainSql)]
    public async Task Copies_a_local_dump_file_and_names_its_format(DumpFormat format)
    {
        var run = await FetchAsync(_dumps.DumpPath(format));

        Assert.True(run.ExitCode == 0, run.Error);
        AssertFetched(_dumps.DumpPath(format), format);
    }

    [Fact]
    public async Task Downloads_over_http_and_starts_from_an_empty_folder()
    {
        await using var http = new HttpFileServer(Path.GetDirectoryName(_dumps.CustomDump)!);
        Directory.CreateDirectory(Output);
        await File.WriteAllTextAsync(Path.Combine(Output, "left-by-an-earlier-attempt"), "x");

        var run = await FetchAsync(http.UrlFor("shop.dump"));

        Assert.True(run.ExitCode == 0, run.Error);
        AssertFetched(_dumps.CustomDump, DumpFormat.Custom);
        Assert.Contains($"fetched {new FileInfo(_dumps.CustomDump).Length} bytes", run.Output);
    }

    [Fact]
    public async Task Downloads_from_s3_through_the_standard_aws_environment_without_printing_credentials()
    {
        await _s3.UploadAsync(Bucket, "shop/shop.sql.gz", _dumps.GzipPlainDump);

        var run = await FetchAsync($"s3://{Bucket}/shop/shop.sql.gz");

        Assert.True(run.ExitCode == 0, run.Error);
        AssertFetched(_dumps.GzipPlainDump, DumpFormat.GzipPlainSql);
        Assert.DoesNotContain(S3rverFixture.SecretKey, run.Output + run.Error);
    }

    [Fact]
    public async Task A_missing_object_exits_1_with_SourceNotFound_in_the_termination_log_and_an_empty_folder()
    {
        await _s3.CreateBucketAsync(Bucket);
        Directory.CreateDirectory(Output);
        await File.WriteAllTextAsync(Path.Combine(Output, "dump"), "a partial dump from an earlier attempt");

        var run = await FetchAsync($"s3://{Bucket}/no/such.dump");

        Assert.Equal(1, run.ExitCode);
        var (code, message, action) = ReadTerminationLog();
        Assert.Equal("SourceNotFound", code);
        Assert.Contains("no/such.dump", message);
        Assert.False(string.IsNullOrWhiteSpace(action));
        Assert.Contains("SourceNotFound", run.Error);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Output));
    }

    [Fact]
    public async Task An_unreachable_server_is_SourceUnreachable_and_the_url_credentials_are_never_shown()
    {
        var port = FreePort.Next();

        var run = await FetchAsync($"https://devdb:hunter2-secret@127.0.0.1:{port}/shop.dump?X-Amz-Signature=sig-secret");

        Assert.Equal(1, run.ExitCode);
        var (code, message, _) = ReadTerminationLog();
        Assert.Equal("SourceUnreachable", code);
        Assert.Contains($"127.0.0.1:{port}/shop.dump", message);
        var everything = run.Output + run.Error + await File.ReadAllTextAsync(TerminationLog);
        Assert.DoesNotContain("hunter2", everything);
        Assert.DoesNotContain("sig-secret", everything);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Output));
    }

    [Fact]
    public async Task A_file_that_is_no_dump_is_DumpCorrupt_and_its_download_is_deleted()
    {
        await using var http = new HttpFileServer(Path.GetDirectoryName(_dumps.GarbageFile)!);

        var run = await FetchAsync(http.UrlFor(Path.GetFileName(_dumps.GarbageFile)));

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("DumpCorrupt", ReadTerminationLog().Code);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Output));
    }

    [Fact]
    public async Task A_directory_dump_is_refused_since_only_a_file_can_be_fetched_into_a_pod()
    {
        var run = await FetchAsync(_dumps.DirectoryDump);

        Assert.Equal(1, run.ExitCode);
        var (code, message, _) = ReadTerminationLog();
        Assert.Equal("SourceInvalid", code);
        Assert.Contains("directory-format", message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Output));
    }

    [Fact]
    public async Task A_termination_log_that_cannot_be_written_is_skipped_and_the_error_still_reported()
    {
        var run = await FetchAsync(_folder.Combine("no-such.dump"), terminationLog: _folder.Combine("missing-folder", "termination-log"));

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("SourceNotFound", run.Error);
    }

    [Fact]
    public async Task Missing_arguments_print_the_usage_and_exit_2()
    {
        var error = new StringWriter();

        var exitCode = await FetchCommand.RunAsync(["--source", "s3://bucket/key"], TextWriter.Null, error, CancellationToken.None);

        Assert.Equal(2, exitCode);
        Assert.Contains("--output is required", error.ToString());
        Assert.Contains("Usage:", error.ToString());
    }

    [Fact]
    public async Task Runs_as_the_init_container_does_a_dotnet_DevDb_Api_process_with_only_the_pods_environment()
    {
        await _s3.UploadAsync(Bucket, "shop.dump", _dumps.CustomDump);

        var run = await RunApiProcessAsync(["fetch", "--source", $"s3://{Bucket}/shop.dump", "--output", Output, "--termination-log", TerminationLog],
            _s3.ServiceUrl);

        Assert.True(run.ExitCode == 0, run.Error);
        AssertFetched(_dumps.CustomDump, DumpFormat.Custom);
        Assert.DoesNotContain(S3rverFixture.SecretKey, run.Output + run.Error);
        // What the reconciler records as the image's source format, size and the dump it read.
        Assert.Equal($"{{\"format\":\"Custom\",\"bytes\":{new FileInfo(_dumps.CustomDump).Length},\"dump\":\"shop.dump\"}}", File.ReadAllText(TerminationLog));

        var unreachable = await RunApiProcessAsync(["fetch", "--source", $"s3://{Bucket}/shop.dump", "--output", Output, "--termination-log", TerminationLog],
            $"http://127.0.0.1:{FreePort.Next()}");

        Assert.Equal(1, unreachable.ExitCode);
        Assert.Equal("SourceUnreachable", ReadTerminationLog().Code);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Output));
    }

    private sealed record Run(int ExitCode, string Output, string Error);

    private async Task<Run> FetchAsync(string source, string? terminationLog = null)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exitCode = await FetchCommand.RunAsync(
            ["--source", source, "--output", Output, "--termination-log", terminationLog ?? TerminationLog], output, error, CancellationToken.None);
        return new Run(exitCode, output.ToString(), error.ToString());
    }

    private static async Task<Run> RunApiProcessAsync(string[] arguments, string s3Endpoint)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "DevDb.Api.dll"));
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("AWS_", StringComparison.Ordinal)).ToList())
            start.Environment.Remove(name);
        start.Environment["AWS_ENDPOINT_URL_S3"] = s3Endpoint;
        start.Environment["AWS_REGION"] = S3rverFixture.Region;
        start.Environment["AWS_ACCESS_KEY_ID"] = S3rverFixture.AccessKey;
        start.Environment["AWS_SECRET_ACCESS_KEY"] = S3rverFixture.SecretKey;
        start.Environment["AWS_EC2_METADATA_DISABLED"] = "true";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        return new Run(process.ExitCode, await output, await error);
    }

    /// <summary>Exactly the two files the restore container reads, the dump byte for byte.</summary>
    /// <summary>An archive is left as it was; a plain SQL script is left decompressed, for psql's restricted mode.</summary>
    private void AssertFetched(string original, DumpFormat format)
    {
        Assert.Equal(["dump", "format"], Directory.EnumerateFileSystemEntries(Output).Select(Path.GetFileName).Order());
        if (format is DumpFormat.PlainSql or DumpFormat.GzipPlainSql)
        {
            Assert.Equal(PsqlScript.PreparedFormat, File.ReadAllText(Path.Combine(Output, "format")));
            var prepared = File.ReadAllText(Path.Combine(Output, "dump"));
            Assert.Matches(@"^\\restrict [A-Za-z0-9]{32}\n", prepared);
            Assert.Contains("-- PostgreSQL database dump complete", prepared);
            return;
        }
        Assert.Equal(Hash(original), Hash(Path.Combine(Output, "dump")));
        Assert.Equal(format.ToString(), File.ReadAllText(Path.Combine(Output, "format")));
    }

    [Fact]
    public async Task A_plain_script_with_a_psql_command_exits_1_with_DumpUnsafe_naming_the_line_and_an_empty_folder()
    {
        var script = Path.Combine(Path.GetDirectoryName(Output)!, "hostile.sql");
        await File.WriteAllTextAsync(script, "CREATE TABLE t (a int);\n\\! id\n");

        var run = await FetchAsync(script);

        Assert.Equal(1, run.ExitCode);
        var (code, message, _) = ReadTerminationLog();
        Assert.Equal("DumpUnsafe", code);
        Assert.Contains("line 2 ", message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Output));
    }

    private (string Code, string Message, string? RecommendedAction) ReadTerminationLog()
    {
        using var json = JsonDocument.Parse(File.ReadAllText(TerminationLog));
        var root = json.RootElement;
        return (root.GetProperty("code").GetString()!, root.GetProperty("message").GetString()!,
            root.TryGetProperty("recommendedAction", out var action) ? action.GetString() : null);
    }

    private static string Hash(string file)
    {
        using var stream = File.OpenRead(file);
        return Convert.ToHexString(SHA256.HashData(stream));
    }

    private void SetEnvironment(string name, string value)
    {
        _savedEnvironment.TryAdd(name, Environment.GetEnvironmentVariable(name));
        Environment.SetEnvironmentVariable(name, value);
    }

    public void Dispose()
    {
        foreach (var (name, value) in _savedEnvironment) Environment.SetEnvironmentVariable(name, value);
        _folder.Dispose();
    }
}
