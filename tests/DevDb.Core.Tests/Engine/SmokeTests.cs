using Xunit;
using DevDb.Core.Client;
using DevDb.Core.Model;

using Npgsql;

namespace DevDb.Core.Tests.Engine;

public sealed class SmokeTests
{
    private static readonly string SampleDump = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../../../samples/shop.dump"));

    [Fact]
    public async Task Project_and_database_from_the_sample_dump_answer_queries()
    {
        await using var home = new EngineHome();
        var project = await home.Engine.NewProjectAsync(new NewProjectRequest { Name = "shop", Source = SampleDump });
        Assert.Equal(ProjectStatus.Ready, project.Status);
        var database = await home.Engine.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "dave" });
        var connection = await home.Engine.GetConnectionAsync("dave");
        await using var npgsql = new NpgsqlConnection($"Host={connection.Host};Port={connection.Port};Database={connection.DatabaseName};Username={connection.Username};Password={connection.Password}");
        await npgsql.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM customers", npgsql);
        Assert.True((long)(await command.ExecuteScalarAsync())! > 0);
    }
}
