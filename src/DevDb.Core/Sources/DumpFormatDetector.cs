using System.Formats.Tar;
using System.IO.Compression;
using System.Text;

namespace DevDb.Core.Sources;

/// <summary>
/// Tells which pg_dump format a file or folder is, from its content (never its name), so the engine
/// knows whether to use pg_restore or psql. It only looks at the head: a truncated custom dump
/// still detects as custom, and pg_restore reports the damage later.
/// </summary>
public static class DumpFormatDetector
{
    /// <summary>How much of a text (or decompressed gzip) head is read to decide whether it is SQL.</summary>
    private const int TextHeadBytes = 64 * 1024;

    private const string NotADump = "is not a pg_dump file (custom, tar, directory or plain SQL).";

    private static readonly byte[] CustomMagic = "PGDMP"u8.ToArray();
    private static readonly byte[] TarMagic = "ustar"u8.ToArray();

    // First words a SQL script (pg_dump -Fp or hand-written) can start with, after comments.
    private static readonly HashSet<string> SqlFirstWords = new(StringComparer.OrdinalIgnoreCase)
    {
        "ABORT", "ALTER", "ANALYZE", "BEGIN", "CALL", "CHECKPOINT", "CLUSTER", "COMMENT", "COMMIT", "COPY",
        "CREATE", "DECLARE", "DELETE", "DISCARD", "DO", "DROP", "END", "GRANT", "IMPORT", "INSERT", "LOCK",
        "MERGE", "REFRESH", "REINDEX", "RESET", "REVOKE", "ROLLBACK", "SECURITY", "SELECT", "SET", "SHOW",
        "START", "TRUNCATE", "UPDATE", "VACUUM", "VALUES", "WITH",
    };

    /// <summary>
    /// The format of the dump at <paramref name="path"/>. Throws DumpCorrupt when it is none of
    /// pg_dump's formats (or a compressed one pg_restore cannot read), SourceNotFound when it is missing.
    /// </summary>
    public static DumpFormat Detect(string path)
    {
        if (Directory.Exists(path))
        {
            if (File.Exists(Path.Combine(path, "toc.dat"))) return DumpFormat.Directory;
            throw DevDbErrors.DumpCorrupt(path,
                "is a folder but not a pg_dump directory-format dump (it has no toc.dat).",
                "Point the project at the folder pg_dump -Fd wrote, or at a dump file.");
        }
        if (!File.Exists(path))
            throw DevDbErrors.SourceNotFound(path, "there is no such file or folder.");

        byte[] head;
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            head = ReadHead(stream, 512);
        }
        catch (UnauthorizedAccessException e)
        {
            throw DevDbErrors.SourceAccessDenied(path, e.Message, "Give the user running DevDb read access to the file.", e);
        }

        if (head.Length == 0)
            throw DevDbErrors.DumpCorrupt(path, "is empty, so it is not a pg_dump file.",
                "The dump was probably cut off while it was written or copied: make it again with pg_dump.");
        if (head.AsSpan().StartsWith(CustomMagic)) return DumpFormat.Custom;
        if (IsTar(head))
        {
            if (TarHasTableOfContents(path)) return DumpFormat.Tar;
            throw DevDbErrors.DumpCorrupt(path, "is a tar archive but not a pg_dump tar-format dump (it has no toc.dat).");
        }
        if (head.Length >= 2 && head[0] == 0x1f && head[1] == 0x8b) return DetectGzip(path);

        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read))
        {
            if (LooksLikeSql(ReadHead(stream, TextHeadBytes), stream.Length <= TextHeadBytes)) return DumpFormat.PlainSql;
        }
        throw DevDbErrors.DumpCorrupt(path, NotADump);
    }

    private static DumpFormat DetectGzip(string path)
    {
        byte[] inner;
        bool wholeFile;
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            using var gzip = new GZipStream(file, CompressionMode.Decompress);
            inner = ReadHead(gzip, TextHeadBytes + 1);
            wholeFile = inner.Length <= TextHeadBytes;
            if (!wholeFile) Array.Resize(ref inner, TextHeadBytes);
        }
        catch (InvalidDataException e)
        {
            throw DevDbErrors.DumpCorrupt(path, "is a damaged gzip file.",
                "Copy or download the dump again, or make it again with pg_dump.", e);
        }

        if (inner.AsSpan().StartsWith(CustomMagic))
            throw DevDbErrors.DumpCorrupt(path,
                "is a gzip-compressed pg_dump custom-format dump; pg_restore cannot read it compressed.",
                "Decompress it first (gunzip), or publish the custom dump as pg_dump wrote it: -Fc is already compressed.");
        if (IsTar(inner))
            throw DevDbErrors.DumpCorrupt(path,
                "is a gzip-compressed tar archive; pg_restore cannot read it compressed.",
                "Decompress it first (gunzip), and point the project at the .tar file pg_dump -Ft wrote.");
        if (LooksLikeSql(inner, wholeFile)) return DumpFormat.GzipPlainSql;
        throw DevDbErrors.DumpCorrupt(path, "is gzip-compressed, but what is inside " + NotADump);
    }

    private static byte[] ReadHead(Stream stream, int count)
    {
        var buffer = new byte[count];
        Array.Resize(ref buffer, stream.ReadAtLeast(buffer, count, throwOnEndOfStream: false));
        return buffer;
    }

    private static bool IsTar(byte[] head) => head.Length >= 262 && head.AsSpan(257, 5).SequenceEqual(TarMagic);

    private static bool TarHasTableOfContents(string path)
    {
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            using var reader = new TarReader(file);
            // pg_dump writes toc.dat first; look a little further for archives rewritten by other tools.
            for (var i = 0; i < 1000 && reader.GetNextEntry(copyData: false) is { } entry; i++)
                if (entry.Name is "toc.dat" or "./toc.dat") return true;
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or FormatException)
        {
            // A damaged archive: whether it had a table of contents is decided by what was read.
        }
        return false;
    }

    /// <param name="complete">True when <paramref name="head"/> is the whole text, so a multi-byte character cannot be cut at its end.</param>
    private static bool LooksLikeSql(byte[] head, bool complete)
    {
        if (head.Length == 0 || Array.IndexOf(head, (byte)0) >= 0) return false;
        var span = head.AsSpan();
        if (span.StartsWith("\xEF\xBB\xBF"u8)) span = span[3..];
        if (!complete) span = span[..LastWholeUtf8Boundary(span)];
        string text;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(span);
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
        return FirstWordIsSql(text);
    }

    /// <summary>Length of <paramref name="bytes"/> without a multi-byte UTF-8 character cut off at the end.</summary>
    private static int LastWholeUtf8Boundary(ReadOnlySpan<byte> bytes)
    {
        // Step back over at most 3 continuation bytes to the lead byte of the last character.
        for (var back = 1; back <= Math.Min(4, bytes.Length); back++)
        {
            var b = bytes[^back];
            if ((b & 0xC0) == 0x80) continue;
            var needed = b < 0x80 ? 1 : (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3 : 4;
            return needed > back ? bytes.Length - back : bytes.Length;
        }
        return bytes.Length;
    }

    private static bool FirstWordIsSql(string text)
    {
        var i = 0;
        var sawComment = false;
        while (i < text.Length)
        {
            if (char.IsWhiteSpace(text[i])) { i++; continue; }
            if (text.AsSpan(i).StartsWith("--"))
            {
                sawComment = true;
                var end = text.IndexOf('\n', i);
                if (end < 0) return text.Contains("PostgreSQL database dump", StringComparison.Ordinal);
                i = end + 1;
                continue;
            }
            if (text.AsSpan(i).StartsWith("/*"))
            {
                sawComment = true;
                var end = text.IndexOf("*/", i + 2, StringComparison.Ordinal);
                if (end < 0) return false;
                i = end + 2;
                continue;
            }
            // psql meta-commands (\connect, \set, \restrict) appear in pg_dump and pg_dumpall scripts.
            if (text[i] == '\\') return i + 1 < text.Length && char.IsAsciiLetter(text[i + 1]);
            var start = i;
            while (i < text.Length && char.IsAsciiLetter(text[i])) i++;
            return SqlFirstWords.Contains(text[start..i]);
        }
        // Only comments in the head: a SQL script that starts with a long comment, or a text file.
        return sawComment && text.Contains("PostgreSQL database dump", StringComparison.Ordinal);
    }
}
