using System.IO.Compression;
using DevDb.Core.Sources;
using Xunit;

namespace DevDb.Core.Tests.Sources;

[Collection(DumpCollection.Name)]
public sealed class DumpFormatDetectorTests(DumpFixture dumps) : IDisposable
{
    private readonly TempFolder _scratch = new("devdb-detect");

    public void Dispose() => _scratch.Dispose();

    [Theory]
    [InlineData(DumpFormat.Custom)]
    [InlineData(DumpFormat.Tar)]
    [InlineData(DumpFormat.Directory)]
    [InlineData(DumpFormat.PlainSql)]
    [InlineData(DumpFormat.GzipPlainSql)]
    public void Detects_each_format_pg_dump_writes(DumpFormat format)
    {
        Assert.Equal(format, DumpFormatDetector.Detect(dumps.DumpPath(format)));
    }

    [Fact]
    public void Detects_the_committed_sample_dump_as_custom()
    {
        Assert.Equal(DumpFormat.Custom, DumpFormatDetector.Detect(RepoPaths.SampleDump));
    }

    [Fact]
    public void Detects_the_sample_sql_source_as_plain_sql()
    {
        Assert.Equal(DumpFormat.PlainSql, DumpFormatDetector.Detect(RepoPaths.SampleSql));
    }

    [Fact]
    public void A_truncated_custom_dump_still_detects_as_custom_for_pg_restore_to_reject()
    {
        Assert.Equal(DumpFormat.Custom, DumpFormatDetector.Detect(dumps.TruncatedCustomDump));
    }

    [Fact]
    public void Garbage_is_not_a_dump()
    {
        var error = Assert.Throws<DevDbException>(() => DumpFormatDetector.Detect(dumps.GarbageFile));
        Assert.Equal(ErrorCodes.DumpCorrupt, error.Code);
        Assert.Equal(DevDbErrorCategory.InvalidData, error.Category);
        Assert.Contains("not a pg_dump file (custom, tar, directory or plain SQL)", error.Message);
        Assert.False(string.IsNullOrWhiteSpace(error.RecommendedAction));
    }

    [Fact]
    public void An_empty_file_is_not_a_dump()
    {
        var empty = _scratch.Combine("empty.dump");
        File.WriteAllBytes(empty, []);
        var error = Assert.Throws<DevDbException>(() => DumpFormatDetector.Detect(empty));
        Assert.Equal(ErrorCodes.DumpCorrupt, error.Code);
        Assert.Contains("empty", error.Message);
    }

    [Fact]
    public void Text_that_is_not_sql_is_not_a_dump()
    {
        var text = _scratch.Combine("readme.txt");
        File.WriteAllText(text, "Hello! This is a README, not a database dump.\n");
        var error = Assert.Throws<DevDbException>(() => DumpFormatDetector.Detect(text));
        Assert.Equal(ErrorCodes.DumpCorrupt, error.Code);
    }

    [Fact]
    public void A_gzipped_custom_dump_is_refused_with_advice_to_decompress_it()
    {
        var gzipped = _scratch.Combine("shop.dump.gz");
        using (var output = File.Create(gzipped))
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest))
        using (var input = File.OpenRead(dumps.CustomDump))
            input.CopyTo(gzip);

        var error = Assert.Throws<DevDbException>(() => DumpFormatDetector.Detect(gzipped));
        Assert.Equal(ErrorCodes.DumpCorrupt, error.Code);
        Assert.Contains("gzip-compressed pg_dump custom-format dump", error.Message);
        Assert.Contains("Decompress it first", error.RecommendedAction);
    }

    [Fact]
    public void Gzipped_garbage_is_not_a_dump()
    {
        var gzipped = _scratch.Combine("garbage.gz");
        using (var output = File.Create(gzipped))
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest))
            gzip.Write(File.ReadAllBytes(dumps.GarbageFile));

        var error = Assert.Throws<DevDbException>(() => DumpFormatDetector.Detect(gzipped));
        Assert.Equal(ErrorCodes.DumpCorrupt, error.Code);
        Assert.Contains("gzip-compressed", error.Message);
    }

    [Fact]
    public void A_folder_without_a_table_of_contents_is_not_a_directory_dump()
    {
        var folder = _scratch.Combine("not-a-dump");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "notes.txt"), "nothing here");
        var error = Assert.Throws<DevDbException>(() => DumpFormatDetector.Detect(folder));
        Assert.Equal(ErrorCodes.DumpCorrupt, error.Code);
        Assert.Contains("toc.dat", error.Message);
    }

    [Fact]
    public void A_tar_archive_that_pg_dump_did_not_write_is_not_a_dump()
    {
        var tar = _scratch.Combine("other.tar");
        var content = _scratch.Combine("content");
        Directory.CreateDirectory(content);
        File.WriteAllText(Path.Combine(content, "hello.txt"), "hello");
        System.Formats.Tar.TarFile.CreateFromDirectory(content, tar, includeBaseDirectory: false);

        var error = Assert.Throws<DevDbException>(() => DumpFormatDetector.Detect(tar));
        Assert.Equal(ErrorCodes.DumpCorrupt, error.Code);
        Assert.Contains("tar archive but not a pg_dump", error.Message);
    }

    [Fact]
    public void A_missing_file_is_not_found()
    {
        var error = Assert.Throws<DevDbException>(() => DumpFormatDetector.Detect(_scratch.Combine("missing.dump")));
        Assert.Equal(ErrorCodes.SourceNotFound, error.Code);
    }
}
