using System.Collections.Concurrent;
using System.Security.Cryptography;
using DevDb.Core.Sources;
using Xunit;

namespace DevDb.Core.Tests.Sources;

/// <summary>Records progress reports synchronously (Progress&lt;T&gt; would post them later).</summary>
internal sealed class ProgressRecorder(Action<long>? onReport = null) : IProgress<long>
{
    private readonly ConcurrentQueue<long> _reports = new();
    public IReadOnlyList<long> Reports => _reports.ToArray();

    public void Report(long value)
    {
        _reports.Enqueue(value);
        onReport?.Invoke(value);
    }
}

internal static class Hashes
{
    public static string OfFile(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexString(SHA256.HashData(stream));
    }
}

internal static class Downloads
{
    /// <summary>A fetched dump is a byte-for-byte copy of <paramref name="original"/> in <paramref name="folder"/>, of its format, with progress up to its last byte.</summary>
    public static void AssertCopyOf(LocalDump dump, string original, DumpFormat format, string folder, ProgressRecorder progress)
    {
        Assert.Equal(format, dump.Format);
        Assert.True(dump.IsDownload);
        Assert.Equal(folder, Path.GetDirectoryName(dump.Path));
        Assert.Equal(new FileInfo(original).Length, dump.Bytes);
        Assert.Equal(Hashes.OfFile(original), Hashes.OfFile(dump.Path));
        Assert.Equal(dump.Bytes, progress.Reports[^1]);
    }
}
