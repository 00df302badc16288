using DevDb.Conformance.Tests.Configurations;
using DevDb.Core;
using DevDb.Core.Client;
using DevDb.Core.Model;
using Xunit;
using static DevDb.Conformance.Tests.Configurations.Configuration;

namespace DevDb.Conformance.Tests;

/// <summary>
/// The contract's scenarios, written once against <see cref="IDevDbClient"/> and run in every
/// configuration (one sealed class per configuration, in Configurations.cs). Each scenario makes
/// the databases and projects it needs under names of its own, and leaves the shared project "shop" as it found it.
/// </summary>
public abstract partial class Scenarios<TConfiguration>(TConfiguration configuration) : IClassFixture<TConfiguration>
    where TConfiguration : Configuration
{
    protected TConfiguration Configuration { get; } = configuration;
    protected IDevDbClient Client => Configuration.Client;
    protected IntendedDifferences Differences => Configuration.Differences;

    [Fact]
    public async Task A_new_project_is_Ready_with_image_revision_1_and_listed()
    {
        var project = await Client.GetProjectAsync(SharedProject);

        Assert.Equal((ProjectStatus.Ready, PostgresVersion, Configuration.Shop.Source, "app"),
            (project.Status, project.PostgresVersion, project.Source, project.DatabaseName));
        Assert.Equal(1, project.LatestImage?.Revision);
        Assert.Null(project.Error);
        Assert.Contains(await Client.GetProjectsAsync(), p => p.Name == SharedProject);
    }

    [Fact]
    public async Task Repeating_an_identical_project_request_returns_the_project_without_building_again()
    {
        var before = await Client.GetProjectAsync(SharedProject);

        var again = await Client.NewProjectAsync(Configuration.Shop);
        var begun = await Client.BeginNewProjectAsync(Configuration.Shop);

        foreach (var project in new[] { again, begun })
        {
            Assert.Equal(ProjectStatus.Ready, project.Status);
            Assert.Equal(before.Images.Select(i => i.Revision), project.Images.Select(i => i.Revision));
        }
    }

    [Fact]
    public async Task A_different_project_under_a_taken_name_is_ProjectExists_and_changes_nothing()
    {
        var before = await Client.GetProjectAsync(SharedProject);

        await Refused(ErrorCodes.ProjectExists, () => Client.NewProjectAsync(Configuration.Shop with { PostRestoreSql = "SELECT 1" }));
        await Refused(ErrorCodes.ProjectExists, () => Client.BeginNewProjectAsync(Configuration.Shop with { Source = Configuration.Source("other.dump") }));

        var after = await Client.GetProjectAsync(SharedProject);
        Assert.Equal((before.Source, before.PostRestoreSql, before.Images.Count), (after.Source, after.PostRestoreSql, after.Images.Count));
    }

    [Fact]
    public async Task A_project_that_does_not_exist_is_ProjectNotFound_for_every_method()
    {
        await Refused(ErrorCodes.ProjectNotFound, () => Client.GetProjectAsync("nope"));
        await Refused(ErrorCodes.ProjectNotFound, () => Client.UpdateProjectAsync(new UpdateProjectRequest { Name = "nope" }));
        await Refused(ErrorCodes.ProjectNotFound, () => Client.BeginUpdateProjectAsync(new UpdateProjectRequest { Name = "nope" }));
        await Refused(ErrorCodes.ProjectNotFound, () => Client.WaitProjectAsync("nope"));
        await Refused(ErrorCodes.ProjectNotFound, () => Client.RemoveProjectAsync("nope"));
        await Refused(ErrorCodes.ProjectNotFound, () => Client.NewDatabaseAsync(new NewDatabaseRequest { Project = "nope", Name = "orphan", Owner = "dave" }));
        await Refused(ErrorCodes.ProjectNotFound, () => Client.BeginNewDatabaseAsync(new NewDatabaseRequest { Project = "nope", Name = "orphan", Owner = "dave" }));
        await Refused(ErrorCodes.DatabaseNotFound, () => Client.GetDatabaseAsync("orphan"));
    }

    [Theory]
    [InlineData("Shop EU")]
    [InlineData("shop;drop")]
    [InlineData("../shop")]
    [InlineData("-shop")]
    [InlineData("")]
    public async Task A_project_name_that_is_not_a_DNS_label_is_NameInvalid_and_nothing_is_recorded(string name)
    {
        await Refused(ErrorCodes.NameInvalid, () => Client.NewProjectAsync(Configuration.Shop with { Name = name }));
        Assert.DoesNotContain(await Client.GetProjectsAsync(), p => p.Name == name);
    }

    [Fact]
    public async Task A_huge_name_is_NameInvalid_and_its_error_does_not_echo_it()
    {
        var huge = new string('a', 100_000);

        var project = await Refused(ErrorCodes.NameInvalid, () => Client.NewProjectAsync(Configuration.Shop with { Name = huge }));
        var database = await Refused(ErrorCodes.NameInvalid, () => Client.NewDatabaseAsync(new NewDatabaseRequest { Project = SharedProject, Name = huge, Owner = "dave" }));

        Assert.All(new[] { project, database }, e => Assert.True(e.Message.Length < 500, $"{e.Message.Length} characters"));
    }

    [Fact]
    public async Task A_Postgres_version_no_runtime_runs_is_PostgresVersionUnsupported()
    {
        await Refused(ErrorCodes.PostgresVersionUnsupported, () => Client.NewProjectAsync(Configuration.Shop with { Name = "old", PostgresVersion = 9 }));
        await Refused(ErrorCodes.ProjectNotFound, () => Client.GetProjectAsync("old"));
    }

    [Fact]
    public async Task A_source_that_does_not_exist_is_SourceNotFound()
    {
        var request = Configuration.Shop with { Name = "ghost", Source = Configuration.Source("missing.dump") };

        await Refused(ErrorCodes.SourceNotFound, () => Client.NewProjectAsync(request));

        if (Differences.SourcesCheckedBeforeRecording)
        {
            await Refused(ErrorCodes.ProjectNotFound, () => Client.GetProjectAsync("ghost"));
            return;
        }
        var failed = await Client.GetProjectAsync("ghost");
        Assert.Equal((ProjectStatus.Failed, ErrorCodes.SourceNotFound), (failed.Status, failed.ErrorCode));
        await Refused(ErrorCodes.ProjectNotReady, () => Client.NewDatabaseAsync(new NewDatabaseRequest { Project = "ghost", Name = "ghost-db", Owner = "dave" }));
        await Client.RemoveProjectAsync("ghost");
        await Refused(ErrorCodes.ProjectNotFound, () => Client.GetProjectAsync("ghost"));
    }

    [Fact]
    public async Task A_dump_at_a_path_on_this_machine_is_restored_locally_and_refused_by_a_cluster()
    {
        var request = Configuration.Shop with { Name = "from-file", Source = RepoPaths.SampleDump };

        if (!Differences.FileSources)
        {
            await Refused(ErrorCodes.SourceInvalid, () => Client.NewProjectAsync(request));
            await Refused(ErrorCodes.ProjectNotFound, () => Client.GetProjectAsync("from-file"));
            return;
        }
        var project = await Client.NewProjectAsync(request);
        Assert.Equal((ProjectStatus.Ready, 1), (project.Status, project.LatestImage?.Revision));
        await Client.RemoveProjectAsync("from-file");
        await Refused(ErrorCodes.ProjectNotFound, () => Client.GetProjectAsync("from-file"));
    }

    [Fact]
    public async Task A_project_lives_its_whole_life_building_refreshing_and_removed_with_its_databases()
    {
        var request = Configuration.Shop with { Name = "stock" };

        var building = await Client.BeginNewProjectAsync(request);
        Assert.Equal(ProjectStatus.Building, building.Status);
        await Refused(ErrorCodes.ProjectNotReady, () => Client.NewDatabaseAsync(new NewDatabaseRequest { Project = "stock", Name = "stock-early", Owner = "dave" }));
        var progress = new Reports();
        var ready = await Client.WaitProjectAsync("stock", progress);
        Assert.Equal((ProjectStatus.Ready, 1), (ready.Status, ready.LatestImage?.Revision));
        Assert.NotEmpty(progress.All);

        var database = await Client.NewDatabaseAsync(new NewDatabaseRequest { Project = "stock", Name = "stock-db", Owner = "dave" });
        var refreshed = await Client.UpdateProjectAsync(new UpdateProjectRequest { Name = "stock", PostRestoreSql = "DELETE FROM orders WHERE order_id % 2 = 0" });
        Assert.Equal((ProjectStatus.Ready, 2), (refreshed.Status, refreshed.LatestImage?.Revision));
        Assert.Equal(1, (await Client.GetDatabaseAsync("stock-db")).ImageRevision);
        var reset = await Client.ResetDatabaseAsync("stock-db");
        Assert.Equal((DatabaseStatus.Running, 2), (reset.Status, reset.ImageRevision));
        Assert.Equal("2500", await Configuration.ScalarAsync(await Client.GetConnectionAsync("stock-db"), "SELECT count(*) FROM orders"));

        var refused = await Refused(ErrorCodes.ProjectHasDatabases, () => Client.RemoveProjectAsync("stock"));
        Assert.Contains("stock-db", refused.Message);
        Assert.Equal(DatabaseStatus.Running, (await Client.GetDatabaseAsync("stock-db")).Status);
        await Client.RemoveProjectAsync("stock", force: true);
        await Refused(ErrorCodes.ProjectNotFound, () => Client.GetProjectAsync("stock"));
        await Refused(ErrorCodes.DatabaseNotFound, () => Client.GetDatabaseAsync(database.Name));
    }

    [Fact]
    public async Task A_source_or_post_restore_SQL_over_its_limit_is_RequestInvalid_naming_the_limit()
    {
        var longSource = await Refused(ErrorCodes.RequestInvalid, () => Client.NewProjectAsync(Configuration.Shop with { Name = "long", Source = Configuration.Source(new string('k', 5000)) }));
        var longSql = await Refused(ErrorCodes.RequestInvalid, () => Client.NewProjectAsync(Configuration.Shop with { Name = "long", PostRestoreSql = new string(' ', 70_000) + "SELECT 1" }));

        Assert.Contains("4096", longSource.Message.Replace(",", ""));
        Assert.Contains("65536", longSql.Message.Replace(",", ""));
        await Refused(ErrorCodes.ProjectNotFound, () => Client.GetProjectAsync("long"));
    }

    [Fact]
    public async Task A_project_whose_dump_is_not_a_dump_fails_with_DumpCorrupt_refuses_databases_and_is_rebuilt_by_a_corrected_request()
    {
        var garbage = Path.Combine(Path.GetTempPath(), $"devdb-conformance-{Guid.NewGuid():N}.dump");
        await File.WriteAllBytesAsync(garbage, Enumerable.Range(0, 64 * 1024).Select(i => (byte)(i * 7919 % 251)).ToArray());
        try
        {
            await Configuration.S3.UploadAsync(Bucket, "garbage.dump", garbage);
        }
        finally
        {
            File.Delete(garbage);
        }
        var broken = Configuration.Shop with { Name = "broken", Source = Configuration.Source("garbage.dump") };

        await Refused(ErrorCodes.DumpCorrupt, () => Client.NewProjectAsync(broken));

        var failed = await Client.GetProjectAsync("broken");
        Assert.Equal((ProjectStatus.Failed, ErrorCodes.DumpCorrupt), (failed.Status, failed.ErrorCode));
        Assert.Null(failed.LatestImage);
        await Refused(ErrorCodes.ProjectNotReady, () => Client.NewDatabaseAsync(new NewDatabaseRequest { Project = "broken", Name = "broken-db", Owner = "dave" }));
        var rebuilt = await Client.NewProjectAsync(broken with { Source = Configuration.Shop.Source });
        Assert.Equal((ProjectStatus.Ready, Configuration.Shop.Source), (rebuilt.Status, rebuilt.Source));
        Assert.NotNull(rebuilt.LatestImage);
        await Client.RemoveProjectAsync("broken");
    }

    /// <summary>Asserts that <paramref name="call"/> fails with <paramref name="code"/> and an error a user can act on.</summary>
    protected static async Task<DevDbException> Refused(string code, Func<Task> call)
    {
        var error = await Assert.ThrowsAsync<DevDbException>(call);
        Assert.True(code == error.Code, $"Expected {code}, got {error.Code}: {error.Message}");
        Assert.False(string.IsNullOrWhiteSpace(error.Message));
        Assert.DoesNotContain("System.", error.Message, StringComparison.Ordinal);
        return error;
    }

    /// <summary>Collects progress reports as they are made (Progress&lt;T&gt; would post them later).</summary>
    protected sealed class Reports(Action<DevDbProgress>? onReport = null) : IProgress<DevDbProgress>
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<DevDbProgress> _all = new();
        public IReadOnlyCollection<DevDbProgress> All => _all.ToArray();

        public void Report(DevDbProgress value)
        {
            _all.Enqueue(value);
            onReport?.Invoke(value);
        }
    }
}
