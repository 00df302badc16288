using DevDb.Core.Sources;
using Xunit;

namespace DevDb.Testing;

/// <summary>
/// One scratch server loaded with samples/shop.sql into database <c>app</c>, and real pg_dump output
/// of it in every format, plus a damaged dump and a file that is no dump at all. Built once per test
/// run for every class in <see cref="DumpCollection"/>; everything is deleted afterwards.
/// </summary>
public sealed class DumpFixture : IAsyncLifetime
{
    public const string DatabaseName = "app";

    private readonly TempFolder _folder = new("devdb-dumps");

    /// <summary>The server the dumps were taken from (still running, database <c>app</c>).</summary>
    public ScratchPostgres Postgres { get; private set; } = null!;

    public string CustomDump => _folder.Combine("shop.dump");
    public string TarDump => _folder.Combine("shop.tar");
    public string DirectoryDump => _folder.Combine("shop.dir");
    public string PlainDump => _folder.Combine("shop-plain.sql");
    public string GzipPlainDump => _folder.Combine("shop-plain.sql.gz");
    /// <summary>The custom dump cut off at half its length: still detected as custom, rejected by pg_restore.</summary>
    public string TruncatedCustomDump => _folder.Combine("shop-truncated.dump");
    /// <summary>64 KiB of deterministic random bytes.</summary>
    public string GarbageFile => _folder.Combine("garbage.bin");

    /// <summary>Number of rows per table in the sample, as loaded from samples/shop.sql.</summary>
    public static IReadOnlyDictionary<string, long> SampleRowCounts { get; } = new Dictionary<string, long>
    {
        ["customers"] = 1000, ["products"] = 200, ["orders"] = 5000, ["order_items"] = 15000,
    };

    /// <summary>The dump written in <paramref name="format"/>.</summary>
    public string DumpPath(DumpFormat format) => format switch
    {
        DumpFormat.Custom => CustomDump,
        DumpFormat.Tar => TarDump,
        DumpFormat.Directory => DirectoryDump,
        DumpFormat.PlainSql => PlainDump,
        DumpFormat.GzipPlainSql => GzipPlainDump,
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, null),
    };

    public async Task InitializeAsync()
    {
        Postgres = await ScratchPostgres.StartAsync();
        await Postgres.CreateDatabaseAsync(DatabaseName);
        await Postgres.RunSqlFileAsync(RepoPaths.SampleSql, DatabaseName);
        foreach (var format in Enum.GetValues<DumpFormat>())
            await Postgres.DumpAsync(format, DumpPath(format), DatabaseName);

        var custom = await File.ReadAllBytesAsync(CustomDump);
        await File.WriteAllBytesAsync(TruncatedCustomDump, custom[..(custom.Length / 2)]);
        var garbage = new byte[64 * 1024];
        new Random(20240611).NextBytes(garbage);
        await File.WriteAllBytesAsync(GarbageFile, garbage);
    }

    public async Task DisposeAsync()
    {
        try
        {
            if (Postgres is not null) await Postgres.DisposeAsync();
        }
        finally
        {
            _folder.Dispose();
        }
    }
}
