using DevDb.Core.Client;
using DevDb.Core.Engine;
using DevDb.Core.Model;
using DevDb.Core.Sources;
using Xunit;

namespace DevDb.Core.Tests.Engine;

/// <summary>A project can come from every dump format and every kind of address, and its clones hold the same data.</summary>
[Collection(DumpCollection.Name)]
public sealed class SourceKindTests(DumpFixture dumps)
{
    [Theory]
    [InlineData(DumpFormat.Custom)]
    [InlineData(DumpFormat.Tar)]
    [InlineData(DumpFormat.Directory)]
    [InlineData(DumpFormat.PlainSql)]
    [InlineData(DumpFormat.GzipPlainSql)]
    public async Task Every_dump_format_restores_into_databases_with_the_same_data(DumpFormat format)
    {
        await using var home = new EngineHome();
        var project = await home.Engine.NewProjectAsync(new NewProjectRequest { Name = "shop", Source = dumps.DumpPath(format) });
        Assert.Equal(format.ToString(), project.LatestImage!.SourceFormat);

        await AssertSampleDataAsync(home.Engine, "shop");
    }

    [Theory]
    [InlineData(DumpFormat.PlainSql)]
    [InlineData(DumpFormat.GzipPlainSql)]
    public async Task A_plain_sql_dump_with_owners_and_grants_restores_with_those_roles(DumpFormat format)
    {
        var database = "owned_" + format.ToString().ToLowerInvariant();
        await dumps.Postgres.CreateDatabaseAsync(database);
        await dumps.Postgres.RunSqlAsync($"""
            DO $$ BEGIN CREATE ROLE shop_owner NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
            DO $$ BEGIN CREATE ROLE "Shop Reader" NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
            CREATE TABLE notes (id int PRIMARY KEY, body text);
            INSERT INTO notes VALUES (1, 'owned');
            ALTER TABLE notes OWNER TO shop_owner;
            GRANT SELECT ON notes TO "Shop Reader";
            """, database);
        using var folder = new TempFolder("devdb-owned");
        var path = folder.Combine("owned.sql");
        await dumps.Postgres.DumpAsync(format, path, database, keepOwnersAndGrants: true);
        Assert.Contains("OWNER TO shop_owner", await ReadScriptAsync(path, format));

        await using var home = new EngineHome();
        await home.Engine.NewProjectAsync(new NewProjectRequest { Name = "owned", Source = path, DatabaseName = database });
        await home.Engine.NewDatabaseAsync(new NewDatabaseRequest { Project = "owned", Name = "check" });

        var connection = await home.Engine.GetConnectionAsync("check");
        Assert.Equal("shop_owner", await Clients.ScalarAsync<string>(connection, "SELECT tableowner::text FROM pg_tables WHERE tablename = 'notes'"));
        Assert.True(await Clients.ScalarAsync<bool>(connection, "SELECT has_table_privilege('Shop Reader', 'notes', 'SELECT')"));
        Assert.Equal("owned", await Clients.ScalarAsync<string>(connection, "SELECT body FROM notes"));
    }

    private static async Task<string> ReadScriptAsync(string path, DumpFormat format)
    {
        await using var file = File.OpenRead(path);
        await using Stream script = format == DumpFormat.GzipPlainSql ? new System.IO.Compression.GZipStream(file, System.IO.Compression.CompressionMode.Decompress) : file;
        return await new StreamReader(script).ReadToEndAsync();
    }

    [Fact]
    public async Task A_project_from_an_http_address_downloads_restores_and_cleans_up_its_download()
    {
        await using var server = new HttpFileServer(Path.GetDirectoryName(dumps.CustomDump)!);
        await using var home = new EngineHome();
        var progress = new List<DevDbProgress>();

        await home.Engine.NewProjectAsync(new NewProjectRequest { Name = "shop", Source = server.UrlFor(Path.GetFileName(dumps.CustomDump)) },
            new SynchronousProgress<DevDbProgress>(progress.Add));

        await AssertSampleDataAsync(home.Engine, "shop");
        Assert.Contains(progress, p => p.Status.StartsWith("Fetching"));
        Assert.Contains(progress, p => p.Status.Contains("pg_restore"));
        Assert.Empty(home.Entries("work"));
    }

    [Fact]
    public async Task A_project_from_s3_downloads_through_the_s3_protocol()
    {
        await using var s3 = new S3rverFixture();
        await s3.InitializeAsync();
        await s3.CreateBucketAsync("dumps");
        await s3.UploadAsync("dumps", "nightly/shop.dump", dumps.CustomDump);
        await using var home = new EngineHome();
        var engine = DevDbEngine.OpenLocal(new LocalEngineOptions { Home = home.Path, Sources = new DumpSourceOptions { S3ServiceUrl = s3.ServiceUrl } });

        await engine.NewProjectAsync(new NewProjectRequest { Name = "shop", Source = "s3://dumps/nightly/shop.dump" });

        await AssertSampleDataAsync(engine, "shop");
        Assert.Empty(home.Entries("work"));
    }

    private static async Task AssertSampleDataAsync(DevDbEngine engine, string project)
    {
        await engine.NewDatabaseAsync(new NewDatabaseRequest { Project = project, Name = "check" });
        var connection = await engine.GetConnectionAsync("check");
        foreach (var (table, rows) in DumpFixture.SampleRowCounts)
            Assert.Equal(rows, await Clients.ScalarAsync<long>(connection, $"SELECT count(*) FROM {table}"));
        await engine.RemoveDatabaseAsync("check");
    }
}

/// <summary>An IProgress that reports on the calling thread, so a test sees every report before the call returns.</summary>
public sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
{
    private readonly object _gate = new();
    public void Report(T value)
    {
        lock (_gate) report(value);
    }
}
