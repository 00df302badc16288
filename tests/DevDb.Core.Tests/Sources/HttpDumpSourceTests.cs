using System.Diagnostics;
using System.Net;
using DevDb.Core.Sources;
using Xunit;

namespace DevDb.Core.Tests.Sources;

[Collection(DumpCollection.Name)]
public sealed class HttpDumpSourceTests : IAsyncLifetime
{
    private readonly DumpFixture _dumps;
    private readonly TempFolder _served = new("devdb-served");
    private readonly TempFolder _work = new("devdb-work");
    private readonly HttpFileServer _server;

    public HttpDumpSourceTests(DumpFixture dumps)
    {
        _dumps = dumps;
        foreach (var format in new[] { DumpFormat.Custom, DumpFormat.Tar, DumpFormat.PlainSql, DumpFormat.GzipPlainSql })
            File.Copy(dumps.DumpPath(format), _served.Combine(format.ToString()));
        File.Copy(dumps.GarbageFile, _served.Combine("garbage.bin"));
        _server = new HttpFileServer(_served.Path);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _served.Dispose();
        _work.Dispose();
    }

    [Theory]
    [InlineData(DumpFormat.Custom)]
    [InlineData(DumpFormat.Tar)]
    [InlineData(DumpFormat.PlainSql)]
    [InlineData(DumpFormat.GzipPlainSql)]
    public async Task Downloads_the_dump_byte_for_byte_and_detects_its_format(DumpFormat format)
    {
        var original = _dumps.DumpPath(format);
        var source = DumpSources.Open(_server.UrlFor(format.ToString()), new DumpSourceOptions());
        var progress = new ProgressRecorder();

        await source.ProbeAsync(CancellationToken.None);
        var dump = await source.FetchAsync(_work.Path, progress, CancellationToken.None);

        Downloads.AssertCopyOf(dump, original, format, _work.Path, progress);
        Assert.Contains($"HEAD /{format}", _server.Requests);
    }

    [Fact]
    public async Task Probing_falls_back_to_a_ranged_get_when_head_is_refused()
    {
        _server.RefuseHead = true;
        var source = DumpSources.Open(_server.UrlFor("Custom"), new DumpSourceOptions());
        await source.ProbeAsync(CancellationToken.None);
        Assert.Contains("HEAD /Custom", _server.Requests);
        Assert.Contains("GET /Custom", _server.Requests);
    }

    [Fact]
    public async Task Progress_is_reported_as_a_large_download_arrives()
    {
        // A big custom-looking file: the header is all detection needs.
        var big = _served.Combine("big.dump");
        var content = new byte[5 * 1024 * 1024];
        new Random(7).NextBytes(content);
        "PGDMP"u8.CopyTo(content);
        await File.WriteAllBytesAsync(big, content);
        var progress = new ProgressRecorder();

        var dump = await DumpSources.Open(_server.UrlFor("big.dump"), new DumpSourceOptions())
            .FetchAsync(_work.Path, progress, CancellationToken.None);

        Assert.True(progress.Reports.Count >= 4, $"only {progress.Reports.Count} progress reports");
        Assert.Equal(progress.Reports.Order(), progress.Reports);
        Assert.Equal(content.Length, progress.Reports[^1]);
        Assert.Equal(Hashes.OfFile(big), Hashes.OfFile(dump.Path));
    }

    [Fact]
    public async Task A_missing_file_is_not_found_and_leaves_nothing_behind()
    {
        var source = DumpSources.Open(_server.UrlFor("no-such.dump"), new DumpSourceOptions());
        var probe = await Assert.ThrowsAsync<DevDbException>(() => source.ProbeAsync(CancellationToken.None));
        var fetch = await Assert.ThrowsAsync<DevDbException>(() => source.FetchAsync(_work.Path, null, CancellationToken.None));

        Assert.Equal(ErrorCodes.SourceNotFound, probe.Code);
        Assert.Equal(ErrorCodes.SourceNotFound, fetch.Code);
        Assert.Contains("404", fetch.Message);
        Assert.Empty(_work.Entries());
    }

    [Fact]
    public async Task A_gone_file_is_not_found()
    {
        _server.RespondWith("old.dump", HttpStatusCode.Gone);
        var error = await Assert.ThrowsAsync<DevDbException>(() =>
            DumpSources.Open(_server.UrlFor("old.dump"), new DumpSourceOptions()).ProbeAsync(CancellationToken.None));
        Assert.Equal(ErrorCodes.SourceNotFound, error.Code);
    }

    [Theory]
    [InlineData(HttpStatusCode.Forbidden)]
    [InlineData(HttpStatusCode.Unauthorized)]
    public async Task A_refused_file_is_access_denied_and_leaves_nothing_behind(HttpStatusCode status)
    {
        _server.RespondWith("secret/shop.dump", status);
        var source = DumpSources.Open(_server.UrlFor("secret/shop.dump"), new DumpSourceOptions());
        var probe = await Assert.ThrowsAsync<DevDbException>(() => source.ProbeAsync(CancellationToken.None));
        var fetch = await Assert.ThrowsAsync<DevDbException>(() => source.FetchAsync(_work.Path, null, CancellationToken.None));

        Assert.Equal(ErrorCodes.SourceAccessDenied, probe.Code);
        Assert.Equal(ErrorCodes.SourceAccessDenied, fetch.Code);
        Assert.Equal(DevDbErrorCategory.PermissionDenied, fetch.Category);
        Assert.Contains(((int)status).ToString(), fetch.Message);
        Assert.Empty(_work.Entries());
    }

    [Fact]
    public async Task A_server_error_is_reported_with_its_status()
    {
        _server.RespondWith("broken.dump", HttpStatusCode.InternalServerError);
        var source = DumpSources.Open(_server.UrlFor("broken.dump"), new DumpSourceOptions());
        var error = await Assert.ThrowsAsync<DevDbException>(() => source.FetchAsync(_work.Path, null, CancellationToken.None));
        Assert.Equal(ErrorCodes.SourceUnreachable, error.Code);
        Assert.Contains("HTTP 500", error.Message);
        Assert.Empty(_work.Entries());
    }

    [Fact]
    public async Task A_closed_port_is_unreachable_at_once_and_leaves_nothing_behind()
    {
        var closedPort = FreePort.Next();
        var source = DumpSources.Open($"http://127.0.0.1:{closedPort}/shop.dump", new DumpSourceOptions());
        var clock = Stopwatch.StartNew();
        var probe = await Assert.ThrowsAsync<DevDbException>(() => source.ProbeAsync(CancellationToken.None));
        var fetch = await Assert.ThrowsAsync<DevDbException>(() => source.FetchAsync(_work.Path, null, CancellationToken.None));

        Assert.Equal(ErrorCodes.SourceUnreachable, probe.Code);
        Assert.Equal(ErrorCodes.SourceUnreachable, fetch.Code);
        Assert.Equal(DevDbErrorCategory.ConnectionError, fetch.Category);
        Assert.Contains($"127.0.0.1:{closedPort}", fetch.Message);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
        Assert.Empty(_work.Entries());
    }

    [Fact]
    public async Task A_server_that_never_answers_is_unreachable_after_the_connect_timeout()
    {
        using var hung = new SilentServer();
        var source = DumpSources.Open($"http://127.0.0.1:{hung.Port}/shop.dump",
            new DumpSourceOptions { ConnectTimeout = TimeSpan.FromSeconds(1) });
        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<DevDbException>(() => source.FetchAsync(_work.Path, null, CancellationToken.None));

        Assert.Equal(ErrorCodes.SourceUnreachable, error.Code);
        Assert.Contains("did not answer within 1 s", error.Message);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
        Assert.Empty(_work.Entries());
    }

    [Fact]
    public async Task A_download_that_is_no_dump_is_deleted_and_reported_as_corrupt()
    {
        var url = _server.UrlFor("garbage.bin");
        var error = await Assert.ThrowsAsync<DevDbException>(() =>
            DumpSources.Open(url, new DumpSourceOptions()).FetchAsync(_work.Path, null, CancellationToken.None));
        Assert.Equal(ErrorCodes.DumpCorrupt, error.Code);
        Assert.Contains(url, error.Message);
        Assert.Empty(_work.Entries());
    }

    [Fact]
    public async Task Cancelling_a_download_deletes_the_partial_file()
    {
        var big = _served.Combine("big.dump");
        var content = new byte[16 * 1024 * 1024];
        "PGDMP"u8.CopyTo(content);
        await File.WriteAllBytesAsync(big, content);
        using var cancel = new CancellationTokenSource();
        var progress = new ProgressRecorder(_ => cancel.Cancel());

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            DumpSources.Open(_server.UrlFor("big.dump"), new DumpSourceOptions()).FetchAsync(_work.Path, progress, cancel.Token));

        Assert.NotEmpty(progress.Reports);
        Assert.Empty(_work.Entries());
    }
}
