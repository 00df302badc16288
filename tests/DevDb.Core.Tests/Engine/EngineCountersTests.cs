using DevDb.Core.Client;
using DevDb.Core.Engine;
using Xunit;

namespace DevDb.Core.Tests.Engine;

/// <summary>What the engine's passes count for the API's /metrics.</summary>
[Collection(DumpCollection.Name)]
public sealed class EngineCountersTests(DumpFixture dumps)
{
    [Fact]
    public async Task Each_database_the_expiry_pass_removes_is_counted_once()
    {
        var clock = new ManualClock();
        var counters = new EngineCounters();
        await using var home = new EngineHome(new LocalEngineOptions { Clock = clock, Counters = counters });
        await home.Engine.NewProjectAsync(new NewProjectRequest { Name = "shop", Source = dumps.CustomDump });
        await home.Engine.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "leased", TimeToLive = TimeSpan.FromMinutes(1) });
        await home.Engine.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "kept" });

        Assert.Empty(await home.Engine.ExpireDatabasesAsync());
        Assert.Equal(0, counters.Expired);
        clock.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(["leased"], await home.Engine.ExpireDatabasesAsync());
        Assert.Empty(await home.Engine.ExpireDatabasesAsync());
        Assert.Equal(1, counters.Expired);
    }
}
