using DevDb.Core.Sources;
using Xunit;

namespace DevDb.Core.Tests.Sources;

[Collection(DumpCollection.Name)]
public sealed class FileDumpSourceTests(DumpFixture dumps) : IDisposable
{
    private readonly TempFolder _work = new("devdb-work");

    public void Dispose() => _work.Dispose();

    [Theory]
    [InlineData(DumpFormat.Custom)]
    [InlineData(DumpFormat.Tar)]
    [InlineData(DumpFormat.PlainSql)]
    [InlineData(DumpFormat.GzipPlainSql)]
    public async Task A_dump_file_is_used_in_place_with_its_format_and_size(DumpFormat format)
    {
        var path = dumps.DumpPath(format);
        var source = DumpSources.Open(path, new DumpSourceOptions());
        var progress = new ProgressRecorder();

        await source.ProbeAsync(CancellationToken.None);
        var dump = await source.FetchAsync(_work.Path, progress, CancellationToken.None);

        Assert.Equal(new LocalDump(path, format, new FileInfo(path).Length, IsDownload: false), dump);
        Assert.Equal(new FileInfo(path).Length, progress.Reports[^1]);
        Assert.Empty(_work.Entries());
    }

    [Fact]
    public async Task A_file_uri_reaches_the_same_file()
    {
        var source = DumpSources.Open(new Uri(dumps.CustomDump).AbsoluteUri, new DumpSourceOptions());
        var dump = await source.FetchAsync(_work.Path, null, CancellationToken.None);
        Assert.Equal(dumps.CustomDump, dump.Path);
        Assert.Equal(DumpFormat.Custom, dump.Format);
    }

    [Fact]
    public async Task A_directory_dump_is_used_in_place_and_sized_as_all_its_files()
    {
        var source = DumpSources.Open(dumps.DirectoryDump, new DumpSourceOptions());
        await source.ProbeAsync(CancellationToken.None);
        var dump = await source.FetchAsync(_work.Path, new ProgressRecorder(), CancellationToken.None);

        var expectedBytes = Directory.EnumerateFiles(dumps.DirectoryDump).Sum(f => new FileInfo(f).Length);
        Assert.Equal(new LocalDump(dumps.DirectoryDump, DumpFormat.Directory, expectedBytes, IsDownload: false), dump);
        Assert.Empty(_work.Entries());
    }

    [Fact]
    public async Task A_missing_file_is_not_found()
    {
        var missing = _work.Combine("no-such.dump");
        var source = DumpSources.Open(missing, new DumpSourceOptions());

        var probe = await Assert.ThrowsAsync<DevDbException>(() => source.ProbeAsync(CancellationToken.None));
        var fetch = await Assert.ThrowsAsync<DevDbException>(() => source.FetchAsync(_work.Path, null, CancellationToken.None));

        Assert.Equal(ErrorCodes.SourceNotFound, probe.Code);
        Assert.Equal(ErrorCodes.SourceNotFound, fetch.Code);
        Assert.Equal(DevDbErrorCategory.ObjectNotFound, probe.Category);
        Assert.Contains(missing, probe.Message);
        Assert.Empty(_work.Entries());
    }

    [Fact]
    public async Task A_path_in_a_missing_folder_says_which_folder_is_missing()
    {
        var missing = _work.Combine("no-such-folder", "shop.dump");
        var error = await Assert.ThrowsAsync<DevDbException>(() =>
            DumpSources.Open(missing, new DumpSourceOptions()).ProbeAsync(CancellationToken.None));
        Assert.Equal(ErrorCodes.SourceNotFound, error.Code);
        Assert.Contains("no-such-folder' does not exist", error.Message);
    }

    [Fact]
    public async Task A_folder_that_is_not_a_directory_dump_is_a_folder_of_dumps_and_an_empty_one_is_not_found()
    {
        var folder = _work.Combine("just-a-folder");
        Directory.CreateDirectory(folder);
        var error = await Assert.ThrowsAsync<DevDbException>(() =>
            DumpSources.Open(folder, new DumpSourceOptions()).ProbeAsync(CancellationToken.None));
        Assert.Equal(ErrorCodes.SourceNotFound, error.Code);
        Assert.Contains("holds no dump file", error.Message);

        File.Copy(dumps.CustomDump, Path.Combine(folder, "shop.dump"));
        var source = DumpSources.Open(folder, new DumpSourceOptions());
        var dump = await source.FetchAsync(_work.Path, null, CancellationToken.None);
        Assert.Equal((Path.Combine(folder, "shop.dump"), DumpFormat.Custom, "shop.dump"), (dump.Path, dump.Format, source.Dump));
    }

    [Fact]
    public async Task A_directory_dump_is_still_one_dump()
    {
        var source = DumpSources.Open(dumps.DirectoryDump, new DumpSourceOptions());
        var dump = await source.FetchAsync(_work.Path, null, CancellationToken.None);
        Assert.Equal((dumps.DirectoryDump, DumpFormat.Directory), (dump.Path, dump.Format));
    }

    [Fact]
    public async Task Fetching_a_file_that_is_no_dump_fails_as_corrupt()
    {
        var error = await Assert.ThrowsAsync<DevDbException>(() =>
            DumpSources.Open(dumps.GarbageFile, new DumpSourceOptions()).FetchAsync(_work.Path, null, CancellationToken.None));
        Assert.Equal(ErrorCodes.DumpCorrupt, error.Code);
        Assert.True(File.Exists(dumps.GarbageFile), "a local source must never be deleted");
    }
}
