using DevDb.Core.Client;
using Xunit;

namespace DevDb.Core.Tests.Client;

/// <summary>Saved contexts (Connect-DevDb): which one is current, and where the token is kept.</summary>
public sealed class ClientContextsTests : IDisposable
{
    private readonly TempFolder _folder = new("devdb-contexts-");

    public void Dispose() => _folder.Dispose();

    private static ClientContext Context(string name, string server = "https://devdb.example.com") => new()
    {
        Name = name, Server = new Uri(server), User = "dave", Role = ApiRoles.Developer,
    };

    [Fact]
    public void With_nothing_saved_the_local_engine_is_current()
    {
        Assert.True(new ClientContexts(_folder.Path).Current().IsLocal);
    }

    [Fact]
    public void A_saved_context_becomes_current_with_its_token_and_the_token_is_not_in_the_contexts_file()
    {
        var contexts = new ClientContexts(_folder.Path);
        contexts.Save(Context("work"), "s3cret-token");

        var current = new ClientContexts(_folder.Path).Current();

        Assert.Equal("work", current.Context?.Name);
        Assert.Equal("s3cret-token", current.Token);
        Assert.DoesNotContain("s3cret-token", File.ReadAllText(_folder.Combine("contexts.json")));
        if (!OperatingSystem.IsWindows())
        {
            var token = Assert.Single(Directory.GetFiles(_folder.Combine("tokens")));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(token));
            Assert.Equal("File", current.Context?.TokenStore);
        }
    }

    [Fact]
    public void Local_becomes_current_again_and_the_saved_context_stays()
    {
        var contexts = new ClientContexts(_folder.Path);
        contexts.Save(Context("work"), "token");
        contexts.UseLocal();

        Assert.True(contexts.Current().IsLocal);
        Assert.Equal(["work"], contexts.List().Select(c => c.Name));
    }

    [Fact]
    public void Removing_the_current_context_forgets_its_token_and_goes_local()
    {
        var contexts = new ClientContexts(_folder.Path);
        contexts.Save(Context("home"), "token-1");
        contexts.Save(Context("work"), "token-2");

        contexts.Remove("work");

        Assert.True(contexts.Current().IsLocal);
        Assert.Equal(["home"], contexts.List().Select(c => c.Name));
        Assert.Single(Directory.GetFiles(_folder.Combine("tokens")));
    }

    [Fact]
    public void Removing_an_unknown_context_is_ContextNotFound()
    {
        var error = Assert.Throws<DevDbException>(() => new ClientContexts(_folder.Path).Remove("nope"));
        Assert.Equal(ErrorCodes.ContextNotFound, error.Code);
    }

    [Fact]
    public void Saving_a_context_under_a_used_name_replaces_it()
    {
        var contexts = new ClientContexts(_folder.Path);
        contexts.Save(Context("work", "https://old.example.com"), "old");
        contexts.Save(Context("work", "https://new.example.com"), "new");

        Assert.Equal("https://new.example.com/", Assert.Single(contexts.List()).Server?.ToString());
        Assert.Equal("new", contexts.Current().Token);
    }
}
