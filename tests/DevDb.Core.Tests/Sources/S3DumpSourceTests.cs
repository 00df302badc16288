using System.Diagnostics;
using DevDb.Core.Sources;
using Xunit;

namespace DevDb.Core.Tests.Sources;

[Collection(DumpCollection.Name)]
public sealed class S3DumpSourceTests(DumpFixture dumps, S3rverFixture s3) : IClassFixture<S3rverFixture>, IDisposable
{
    private const string Bucket = "devdb-dumps";
    private readonly TempFolder _work = new("devdb-work");

    private DumpSourceOptions Options => new() { S3ServiceUrl = s3.ServiceUrl };

    public void Dispose() => _work.Dispose();

    [Theory]
    [InlineData(DumpFormat.Custom, "shop/custom.dump")]
    [InlineData(DumpFormat.Tar, "shop/tar/shop.tar")]
    [InlineData(DumpFormat.PlainSql, "shop plain.sql")]
    [InlineData(DumpFormat.GzipPlainSql, "shop/plain.sql.gz")]
    public async Task Downloads_the_object_byte_for_byte_and_detects_its_format(DumpFormat format, string key)
    {
        var original = dumps.DumpPath(format);
        await s3.UploadAsync(Bucket, key, original);
        var source = DumpSources.Open($"s3://{Bucket}/{key}", Options);
        var progress = new ProgressRecorder();

        await source.ProbeAsync(CancellationToken.None);
        var dump = await source.FetchAsync(_work.Path, progress, CancellationToken.None);

        Downloads.AssertCopyOf(dump, original, format, _work.Path, progress);
    }

    [Fact]
    public async Task A_prefix_reads_its_newest_object_by_LastModified_and_keeps_it_between_probe_and_fetch()
    {
        var prefix = $"newest-{Guid.NewGuid():N}"[..15] + "/";
        // Uploaded first but named last: LastModified decides, not the key.
        await s3.UploadAsync(Bucket, prefix + "z-older.dump", dumps.GarbageFile);
        await Task.Delay(1100);
        await s3.UploadAsync(Bucket, prefix + "a-newer.dump", dumps.CustomDump);
        var source = DumpSources.Open($"s3://{Bucket}/{prefix}", Options);

        await source.ProbeAsync(CancellationToken.None);
        Assert.Equal(prefix + "a-newer.dump", source.Dump);
        // A newer object arriving between probe and fetch does not change what this build reads.
        await Task.Delay(1100);
        await s3.UploadAsync(Bucket, prefix + "m-newest.dump", dumps.GarbageFile);
        var progress = new ProgressRecorder();
        var dump = await source.FetchAsync(_work.Path, progress, CancellationToken.None);
        Downloads.AssertCopyOf(dump, dumps.CustomDump, DumpFormat.Custom, _work.Path, progress);

        // A fresh source picks the newest; its garbage is reported naming the object.
        var error = await Assert.ThrowsAsync<DevDbException>(() => DumpSources.Open($"s3://{Bucket}/{prefix}", Options).FetchAsync(_work.Path, null, CancellationToken.None));
        Assert.Equal(ErrorCodes.DumpCorrupt, error.Code);
        Assert.Contains(prefix + "m-newest.dump", error.Message);
    }

    [Fact]
    public async Task An_empty_prefix_is_not_found_and_named()
    {
        await s3.CreateBucketAsync(Bucket);
        var error = await Assert.ThrowsAsync<DevDbException>(() => DumpSources.Open($"s3://{Bucket}/nothing-here-{Guid.NewGuid():N}/", Options).ProbeAsync(CancellationToken.None));
        Assert.Equal(ErrorCodes.SourceNotFound, error.Code);
        Assert.Contains("there is no object under the prefix", error.Message);
    }

    [Fact]
    public async Task The_endpoint_can_come_from_AWS_ENDPOINT_URL_S3()
    {
        await s3.UploadAsync(Bucket, "env/shop.dump", RepoPaths.SampleDump);
        Environment.SetEnvironmentVariable("AWS_ENDPOINT_URL_S3", s3.ServiceUrl);
        try
        {
            var source = DumpSources.Open($"s3://{Bucket}/env/shop.dump", new DumpSourceOptions());
            var dump = await source.FetchAsync(_work.Path, null, CancellationToken.None);
            Assert.Equal(Hashes.OfFile(RepoPaths.SampleDump), Hashes.OfFile(dump.Path));
        }
        finally
        {
            Environment.SetEnvironmentVariable("AWS_ENDPOINT_URL_S3", null);
        }
    }

    [Fact]
    public async Task A_missing_bucket_is_not_found_and_named()
    {
        var source = DumpSources.Open("s3://no-such-bucket/shop.dump", Options);
        var probe = await Assert.ThrowsAsync<DevDbException>(() => source.ProbeAsync(CancellationToken.None));
        var fetch = await Assert.ThrowsAsync<DevDbException>(() => source.FetchAsync(_work.Path, null, CancellationToken.None));

        foreach (var error in new[] { probe, fetch })
        {
            Assert.Equal(ErrorCodes.SourceNotFound, error.Code);
            Assert.Contains("the bucket 'no-such-bucket' does not exist", error.Message);
        }
        Assert.Empty(_work.Entries());
    }

    [Fact]
    public async Task A_missing_key_is_not_found_and_named()
    {
        await s3.CreateBucketAsync(Bucket);
        var source = DumpSources.Open($"s3://{Bucket}/missing/shop.dump", Options);
        var probe = await Assert.ThrowsAsync<DevDbException>(() => source.ProbeAsync(CancellationToken.None));
        var fetch = await Assert.ThrowsAsync<DevDbException>(() => source.FetchAsync(_work.Path, null, CancellationToken.None));

        foreach (var error in new[] { probe, fetch })
        {
            Assert.Equal(ErrorCodes.SourceNotFound, error.Code);
            Assert.Contains($"has no object with the key 'missing/shop.dump'", error.Message);
        }
        Assert.Empty(_work.Entries());
    }

    [Fact]
    public async Task Credentials_the_store_rejects_are_access_denied()
    {
        await s3.UploadAsync(Bucket, "denied/shop.dump", RepoPaths.SampleDump);
        Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", "NOT-S3RVER");
        try
        {
            var source = DumpSources.Open($"s3://{Bucket}/denied/shop.dump", Options);
            var probe = await Assert.ThrowsAsync<DevDbException>(() => source.ProbeAsync(CancellationToken.None));
            var fetch = await Assert.ThrowsAsync<DevDbException>(() => source.FetchAsync(_work.Path, null, CancellationToken.None));

            Assert.Equal(ErrorCodes.SourceAccessDenied, probe.Code);
            Assert.Equal(ErrorCodes.SourceAccessDenied, fetch.Code);
            Assert.Contains("AWS_ACCESS_KEY_ID", fetch.RecommendedAction);
            Assert.Empty(_work.Entries());
        }
        finally
        {
            Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", S3rverFixture.AccessKey);
        }
    }

    [Fact]
    public async Task An_unreachable_endpoint_fails_within_seconds_and_leaves_nothing_behind()
    {
        var closed = $"http://127.0.0.1:{FreePort.Next()}";
        var source = DumpSources.Open($"s3://{Bucket}/shop.dump", new DumpSourceOptions { S3ServiceUrl = closed });
        var clock = Stopwatch.StartNew();
        var probe = await Assert.ThrowsAsync<DevDbException>(() => source.ProbeAsync(CancellationToken.None));
        var fetch = await Assert.ThrowsAsync<DevDbException>(() => source.FetchAsync(_work.Path, null, CancellationToken.None));
        clock.Stop();

        Assert.Equal(ErrorCodes.SourceUnreachable, probe.Code);
        Assert.Equal(ErrorCodes.SourceUnreachable, fetch.Code);
        Assert.Contains(closed, fetch.Message);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"two attempts took {clock.Elapsed}");
        Assert.Empty(_work.Entries());
    }

    [Fact]
    public async Task An_endpoint_that_never_answers_fails_within_seconds()
    {
        using var hung = new SilentServer();
        var source = DumpSources.Open($"s3://{Bucket}/shop.dump", new DumpSourceOptions
        {
            S3ServiceUrl = $"http://127.0.0.1:{hung.Port}",
            ConnectTimeout = TimeSpan.FromSeconds(1),
        });
        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<DevDbException>(() => source.FetchAsync(_work.Path, null, CancellationToken.None));

        Assert.Equal(ErrorCodes.SourceUnreachable, error.Code);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(6), $"took {clock.Elapsed}");
        Assert.Empty(_work.Entries());
    }

    [Fact]
    public async Task An_object_that_is_no_dump_is_deleted_after_download_and_reported_as_corrupt()
    {
        await s3.UploadAsync(Bucket, "garbage.bin", dumps.GarbageFile);
        var error = await Assert.ThrowsAsync<DevDbException>(() =>
            DumpSources.Open($"s3://{Bucket}/garbage.bin", Options).FetchAsync(_work.Path, null, CancellationToken.None));
        Assert.Equal(ErrorCodes.DumpCorrupt, error.Code);
        Assert.Contains($"s3://{Bucket}/garbage.bin", error.Message);
        Assert.Empty(_work.Entries());
    }

    [Fact]
    public async Task Cancelling_a_download_deletes_the_partial_file()
    {
        var big = _work.Combine("..", Path.GetFileName(_work.Path) + "-big.dump");
        try
        {
            var content = new byte[16 * 1024 * 1024];
            "PGDMP"u8.CopyTo(content);
            await File.WriteAllBytesAsync(big, content);
            await s3.UploadAsync(Bucket, "big.dump", big);
        }
        finally
        {
            File.Delete(big);
        }
        using var cancel = new CancellationTokenSource();
        var progress = new ProgressRecorder(_ => cancel.Cancel());

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            DumpSources.Open($"s3://{Bucket}/big.dump", Options).FetchAsync(_work.Path, progress, cancel.Token));

        Assert.NotEmpty(progress.Reports);
        Assert.Empty(_work.Entries());
    }
}
