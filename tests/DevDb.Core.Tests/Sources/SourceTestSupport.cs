using System.Collections.Concurrent;
using System.Security.Cryptography;

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
