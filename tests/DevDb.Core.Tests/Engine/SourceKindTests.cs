using DevDb.Core.Client;
using DevDb.Core.Engine;
using DevDb.Core.Model;
using DevDb.Core.Sources;
using DevDb.Core.Tests.Fixtures;
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
