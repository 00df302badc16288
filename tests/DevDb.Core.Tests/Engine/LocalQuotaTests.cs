using DevDb.Core.Client;
using DevDb.Core.Engine;
using DevDb.Core.Model;
using Xunit;

namespace DevDb.Core.Tests.Engine;

/// <summary>The local engine's quotas, set in the state folder's settings.json, on real servers.</summary>
[Collection(DumpCollection.Name)]
public sealed class LocalQuotaTests(DumpFixture dumps) : IAsyncLifetime
{
    private readonly List<EngineHome> _homes = [];

    private EngineHome HomeWithSettings(string json)
    {
        var home = new EngineHome();
        _homes.Add(home);
        File.WriteAllText(Path.Combine(home.Path, LocalSettings.FileName), json);
        return home;
    }

    [Fact]
    public async Task Settings_json_limits_a_projects_databases_and_a_users_checkpoints_and_the_admin_of_a_server_is_past_them()
    {
        var home = HomeWithSettings("""{ "quotas": { "databasesPerProject": 1, "checkpointsPerUser": 1 } }""");
        var engine = home.Open();
        await engine.NewProjectAsync(new NewProjectRequest { Name = "shop", Source = dumps.CustomDump });
        await engine.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "first" });

        var refused = await Assert.ThrowsAsync<DevDbException>(() => engine.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "second" }));
        Assert.Equal(ErrorCodes.QuotaExceeded, refused.Code);
        Assert.Contains("DatabasesPerProject = 1", refused.Message);
        // Nothing half-made: no record, no folder, no server.
        Assert.DoesNotContain(await engine.GetDatabasesAsync(), d => d.Name == "second");
        Assert.DoesNotContain("second", home.Entries("databases"));

        await engine.CheckpointDatabaseAsync("first", "one");
        var checkpoint = await Assert.ThrowsAsync<DevDbException>(() => engine.CheckpointDatabaseAsync("first", "two"));
        Assert.Equal(ErrorCodes.QuotaExceeded, checkpoint.Code);
        Assert.Single(await engine.GetCheckpointsAsync("first"));

        var quota = await engine.GetQuotaAsync();
        Assert.Equal((Environment.UserName, 1, 1, 1, (int?)1), (quota.User, quota.Databases, quota.RunningDatabases, quota.Checkpoints, quota.Limits.DatabasesPerProject));

        // The API's administrator is past them.
        using (Actor.Use(new Actor("ada", IsAdmin: true)))
        {
            await engine.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "second", Owner = "dave" });
            await engine.CheckpointDatabaseAsync("first", "two");
        }
    }

    [Theory]
    [InlineData("""{ "quotas": { "databasesPerUsr": 1 } }""", "databasesPerUsr")]
    [InlineData("""{ "quotas": { "databasesPerUser": -1 } }""", "DatabasesPerUser")]
    [InlineData("""{ "quotas": """, "settings.json")]
    public void A_settings_file_that_cannot_be_used_is_SettingInvalid_naming_it_not_no_limits(string json, string named)
    {
        var home = HomeWithSettings(json);
        var refused = Assert.Throws<DevDbException>(() => home.Open());
        Assert.Equal(ErrorCodes.SettingInvalid, refused.Code);
        Assert.Contains(named, refused.Message);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var home in _homes)
        {
            File.Delete(Path.Combine(home.Path, LocalSettings.FileName));
            await home.DisposeAsync();
        }
    }
}
