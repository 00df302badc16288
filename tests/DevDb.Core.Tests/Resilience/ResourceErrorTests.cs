using System.Net;
using System.Net.Sockets;
using DevDb.Core.Client;
using DevDb.Core.Engine;
using DevDb.Core.Runtimes.Local;
using DevDb.Core.Tests.Engine;
using Xunit;

namespace DevDb.Core.Tests.Resilience;

/// <summary>
/// Failures a user can meet that are not DevDb's own (a full disk, a state folder in the wrong
/// place, a newer dump, a redirect loop, no free port): each gets a DevDb ErrorId that names the
/// problem and what to do, never an exception type of .NET's, and nothing half-made is left.
/// </summary>
[Collection(DumpCollection.Name)]
public sealed class ResourceErrorTests(DumpFixture dumps)
{
    [Fact]
    public async Task A_clone_on_a_full_disk_is_DiskFull_naming_the_folder_and_the_space_needed_and_leaves_nothing()
    {
        Unix.RequireRoot();
        // Room for the image (about 42 MB), not for a clone of it.
        await using var disk = await SmallDisk.MountAsync(sizeMegabytes: 60);
        await using var home = new EngineHome(new LocalEngineOptions(), parent: disk.Path);
        await home.Engine.NewProjectAsync(new NewProjectRequest { Name = "shop", Source = dumps.CustomDump });

        var refused = await Assert.ThrowsAsync<DevDbException>(() => home.Engine.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "big" }));

        Assert.Equal(ErrorCodes.DiskFull, refused.Code);
        Assert.Contains(Path.Combine(home.Path, "databases"), refused.Message);
        Assert.Contains("MB free", refused.Message);
        Assert.Contains("needs about", refused.Message);
        Assert.Empty(await home.Engine.GetDatabasesAsync());
        Assert.Empty(home.Entries("databases"));
        EngineHome.AssertNoPostgresUnder(home.Path);
    }

    [Fact]
    public async Task A_restore_on_a_full_disk_is_DiskFull_and_leaves_no_image()
    {
        Unix.RequireRoot();
        await using var disk = await SmallDisk.MountAsync(sizeMegabytes: 16);
        await using var home = new EngineHome(new LocalEngineOptions(), parent: disk.Path);

        var refused = await Assert.ThrowsAsync<DevDbException>(() => home.Engine.NewProjectAsync(new NewProjectRequest { Name = "shop", Source = dumps.CustomDump }));

        Assert.Equal(ErrorCodes.DiskFull, refused.Code);
        Assert.Empty(home.Entries("images"));
        Assert.Empty(home.Entries("work"));
        EngineHome.AssertNoPostgresUnder(home.Path);
    }

    [Fact]
    public void A_state_folder_the_servers_users_cannot_pass_through_is_HomeNotAccessible_naming_the_folder_and_the_fix()
    {
        Unix.RequireRoot();
        using var folder = new TempFolder("devdb-private");
        Assert.Equal(0, Unix.Run("chmod", "700", folder.Path).ExitCode);
        var home = Path.Combine(folder.Path, "home");

        var refused = Assert.Throws<DevDbException>(() => DevDbEngine.OpenLocal(new LocalEngineOptions { Home = home }));

        Assert.Equal(ErrorCodes.HomeNotAccessible, refused.Code);
        Assert.Contains($"'{folder.Path}'", refused.Message);
        Assert.Contains($"chmod o+x '{folder.Path}'", refused.RecommendedAction);
        Assert.False(Directory.Exists(home));
    }

    [Fact]
    public async Task A_dump_from_a_newer_pg_dump_is_DumpVersionUnsupported_naming_both_versions()
    {
        using var folder = new TempFolder("devdb-newer");
        var path = folder.Combine("from-pg17.dump");
        var bytes = await File.ReadAllBytesAsync(dumps.CustomDump);
        // The custom format's header: "PGDMP", then the archive version (major, minor, revision); pg_dump 17 writes 1.16.
        (bytes[5], bytes[6], bytes[7]) = (1, 16, 0);
        await File.WriteAllBytesAsync(path, bytes);
        await using var home = new EngineHome();

        var refused = await Assert.ThrowsAsync<DevDbException>(() => home.Engine.NewProjectAsync(new NewProjectRequest { Name = "shop", Source = path }));

        Assert.Equal(ErrorCodes.DumpVersionUnsupported, refused.Code);
        Assert.Contains("PostgreSQL 17 or later (archive format 1.16)", refused.Message);
        Assert.Contains("PostgreSQL 15's pg_restore", refused.Message);
        Assert.Contains("-PostgresVersion 17", refused.RecommendedAction);
    }

    [Fact]
    public async Task A_source_that_redirects_in_a_loop_is_SourceRedirectLoop()
    {
        await using var server = new HttpFileServer(Path.GetDirectoryName(dumps.CustomDump)!);
        server.RedirectTo("a.dump", "b.dump");
        server.RedirectTo("b.dump", "a.dump");
        await using var home = new EngineHome();

        var refused = await Assert.ThrowsAsync<DevDbException>(() => home.Engine.NewProjectAsync(new NewProjectRequest { Name = "shop", Source = server.UrlFor("a.dump") }));

        Assert.Equal(ErrorCodes.SourceRedirectLoop, refused.Code);
        Assert.Contains("redirects", refused.Message);
        Assert.Empty(await home.Engine.GetProjectsAsync());
    }

    [Fact]
    public void NoFreePort_counts_only_the_ports_of_the_range()
    {
        var first = FreePort.Next();
        using var listener = new TcpListener(IPAddress.Loopback, first);
        listener.Start();
        var saved = Environment.GetEnvironmentVariable("DEVDB_PORT_RANGE");
        Environment.SetEnvironmentVariable("DEVDB_PORT_RANGE", $"{first}-{first}");
        try
        {
            var refused = Assert.Throws<DevDbException>(() => PortAllocator.Allocate([1, 2, 3, 40000]));
            Assert.Equal(ErrorCodes.NoFreePort, refused.Code);
            Assert.Contains("0 of its 1 are held by DevDb databases, the other 1 by other programs", refused.Message);
        }
        finally
        {
            Environment.SetEnvironmentVariable("DEVDB_PORT_RANGE", saved);
        }
    }
}

/// <summary>A small file system of its own (tmpfs), mounted for a test and removed after it, as root.</summary>
public sealed class SmallDisk : IAsyncDisposable
{
    private SmallDisk(string path) => Path = path;

    public string Path { get; }

    public static Task<SmallDisk> MountAsync(int sizeMegabytes)
    {
        var path = $"/tmp/devdb-disk-{Guid.NewGuid():N}"[..26];
        Directory.CreateDirectory(path);
        var mount = Unix.Run("mount", "-t", "tmpfs", "-o", $"size={sizeMegabytes}m,mode=755", "tmpfs", path);
        Assert.True(mount.ExitCode == 0, $"mount failed: {mount.Output}");
        return Task.FromResult(new SmallDisk(path));
    }

    public ValueTask DisposeAsync()
    {
        Unix.Run("umount", "--lazy", Path);
        Directory.Delete(Path);
        return ValueTask.CompletedTask;
    }
}
