using DevDb.Core.Catalog;
using Xunit;

namespace DevDb.Core.Tests.Engine;

/// <summary>The per-item locks of the local catalog: nothing left for items that are gone, and no lock on a deleted file.</summary>
public sealed class ItemLockTests : IDisposable
{
    private readonly TempFolder _folder = new("devdb-locks");
    private string Locks => Path.Combine(_folder.Path, "locks");

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task Locking_a_name_that_has_no_record_leaves_no_file()
    {
        var catalog = new FileCatalog(_folder.Path);
        using (await catalog.LockItemAsync(ItemKind.Database, "nope", TimeSpan.Zero, () => "busy", CancellationToken.None))
            Assert.Single(Directory.GetFiles(Locks));
        Assert.Empty(Directory.GetFiles(Locks));
    }

    [Fact]
    public async Task Holders_that_delete_the_lock_file_on_release_never_let_two_sessions_in_at_once()
    {
        // Every release deletes the file (no record), so waiters keep opening files that are being deleted.
        var inside = 0;
        var overlaps = 0;
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            var catalog = new FileCatalog(_folder.Path);
            for (var round = 0; round < 60; round++)
            {
                using (await catalog.LockItemAsync(ItemKind.Project, "gone", TimeSpan.FromSeconds(60), () => "busy", CancellationToken.None))
                {
                    if (Interlocked.Increment(ref inside) != 1) Interlocked.Increment(ref overlaps);
                    await Task.Yield();
                    Interlocked.Decrement(ref inside);
                }
            }
        })));
        Assert.Equal(0, overlaps);
        Assert.Empty(Directory.GetFiles(Locks));
    }
}
