using DevDb.Core.Client;
using DevDb.Core.Model;
using DevDb.Core.Rules;
using Xunit;

namespace DevDb.Core.Tests.Rules;

/// <summary>The data-state rules both engines use, without any engine.</summary>
public sealed class CheckpointRulesTests
{
    private static Image Ready(int revision) => new() { Project = "shop", Revision = revision, Status = ImageStatus.Ready };

    private static Database Db(int revision, DatabaseStatus status = DatabaseStatus.Running) => new()
    {
        Name = "dave", Project = "shop", ImageRevision = revision, Status = status, Host = "127.0.0.1", Port = 1, DatabaseName = "app", Username = "dave", Owner = "dave",
    };

    private static Checkpoint At(int revision) => new() { Database = "dave", Name = $"r{revision}", Project = "shop", ImageRevision = revision, Status = CheckpointStatus.Ready };

    [Fact]
    public void An_image_a_checkpoint_or_a_branch_origin_descends_from_is_never_pruned()
    {
        Image[] images = [Ready(1), Ready(2), Ready(3), Ready(4)];
        var held = CheckpointRules.RevisionsHeld(Db(4), [At(1)], originRevision: 2);
        Assert.Equal([3], ProjectRules.PrunableImages(images, held, keep: 1));
        // A Failed database holds nothing.
        Assert.Equal([1, 2, 3], ProjectRules.PrunableImages(images, CheckpointRules.RevisionsHeld(Db(4, DatabaseStatus.Failed), [At(1)], 2), keep: 1));
    }

    [Theory]
    [InlineData("x'; DROP TABLE orders; --")]
    [InlineData("$(id)")]
    [InlineData("../up")]
    [InlineData("a/b")]
    [InlineData("")]
    public void A_checkpoint_name_with_metacharacters_is_NameInvalid(string name)
    {
        var error = Assert.Throws<DevDbException>(() => CheckpointRules.ValidateName(name));
        Assert.Equal(ErrorCodes.NameInvalid, error.Code);
    }

    [Fact]
    public void A_taken_name_is_CheckpointExists_and_an_unknown_or_unready_one_CheckpointNotFound()
    {
        Assert.Equal(ErrorCodes.CheckpointExists, Assert.Throws<DevDbException>(() => CheckpointRules.CheckNew(Db(1), "r1", [At(1)])).Code);
        Assert.Equal(ErrorCodes.CheckpointNotFound, Assert.Throws<DevDbException>(() => CheckpointRules.Find("dave", "r2", [At(1)])).Code);
        Assert.Equal(ErrorCodes.CheckpointNotFound,
            Assert.Throws<DevDbException>(() => CheckpointRules.Find("dave", "r1", [At(1) with { Status = CheckpointStatus.Creating }])).Code);
    }

    [Fact]
    public void A_branch_belongs_to_its_parents_project_and_a_checkpoint_needs_a_parent()
    {
        var request = new NewDatabaseRequest { Project = "", Name = "erin", FromDatabase = "dave" };
        Assert.Equal("shop", CheckpointRules.BranchProject(request, Db(1)));
        Assert.Equal(ErrorCodes.RequestInvalid, Assert.Throws<DevDbException>(() => CheckpointRules.BranchProject(request with { Project = "other" }, Db(1))).Code);
        Assert.Equal(ErrorCodes.RequestInvalid, Assert.Throws<DevDbException>(() => CheckpointRules.CheckBranchRequest(new NewDatabaseRequest { Project = "shop", Name = "erin", Checkpoint = "x" })).Code);
        Assert.Equal(ErrorCodes.RequestInvalid, Assert.Throws<DevDbException>(() => CheckpointRules.CheckBranchRequest(request with { FromDatabase = "erin" })).Code);
        Assert.Equal(ErrorCodes.StateLocked, Assert.Throws<DevDbException>(() => CheckpointRules.CheckBranchable(Db(1, DatabaseStatus.Resetting), null)).Code);
    }
}
