using DevDb.Core.Client;
using DevDb.Core.Tests.Engine;
using Xunit;

namespace DevDb.Core.Tests.Resilience;

/// <summary>A catalog record an interrupted write of an older DevDb left empty or half-written: moved aside, named, and the rest keeps working.</summary>
[Collection(DumpCollection.Name)]
public sealed class DamagedRecordTests(DumpFixture dumps)
{
    [Theory]
    [InlineData("")]
    [InlineData("{\"Database\": {\"Name\": \"half")]
    [InlineData("null")]
    public async Task A_record_that_cannot_be_read_is_moved_aside_and_everything_else_keeps_working(string content)
    {
        await using var home = new EngineHome();
        await home.Engine.NewProjectAsync(new NewProjectRequest { Name = "shop", Source = dumps.CustomDump });
        await home.Engine.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "fine" });
        await File.WriteAllTextAsync(Path.Combine(home.Path, "catalog", "databases", "broken.json"), content);

        var engine = home.Open();
        Assert.Equal(["fine"], (await engine.GetDatabasesAsync()).Select(d => d.Name));
        Assert.Equal("shop", (await engine.GetProjectsAsync()).Single().Name);
        var damaged = Assert.Single(await engine.GetDamagedRecordsAsync());
        Assert.StartsWith("databases-broken-", damaged);
        Assert.False(File.Exists(Path.Combine(home.Path, "catalog", "databases", "broken.json")));
        Assert.Equal(content, await File.ReadAllTextAsync(Path.Combine(home.Path, "catalog", "damaged", damaged)));
        await engine.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "broken" });
    }
}
