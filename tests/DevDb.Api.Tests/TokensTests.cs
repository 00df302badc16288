using System.Text.Json.Nodes;
using DevDb.Api.Auth;
using DevDb.Core;
using DevDb.Core.Client;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace DevDb.Api.Tests;

/// <summary>The tokens command (DevDb.Api tokens add|list|remove) and how the server reads its file.</summary>
public sealed class TokensTests : IDisposable
{
    private readonly TempFolder _folder = new("devdb-tokens");
    private string File => _folder.Combine("api-tokens.json");

    public void Dispose() => _folder.Dispose();

    private (int Exit, string Output, string Error) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = TokensCommand.Run([.. args, "--file", File], output, error);
        return (exit, output.ToString(), error.ToString());
    }

    [Fact]
    public void Add_prints_a_new_token_once_and_stores_only_its_hash_readable_by_the_owner_only()
    {
        var (exit, output, error) = Run("add", "--user", "dave", "--role", "developer");
        Assert.Equal(0, exit);
        var token = output.Trim();
        Assert.Equal(43, token.Length);
        Assert.Contains("shown this once", error);

        var text = System.IO.File.ReadAllText(File);
        Assert.DoesNotContain(token, text);
        var entry = JsonNode.Parse(text)!["tokens"]!.AsArray().Single()!;
        Assert.Equal("dave", (string?)entry["user"]);
        Assert.Equal("developer", (string?)entry["role"]);
        Assert.Equal(TokenFile.Hash(token), (string?)entry["sha256"]);
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, System.IO.File.GetUnixFileMode(File));

        var second = Run("add", "--user", "ada", "--role", "admin");
        Assert.Equal(0, second.Exit);
        Assert.NotEqual(token, second.Output.Trim());
        Assert.Equal(2, TokenFile.Read(File).Count);
    }

    [Fact]
    public void List_shows_users_roles_and_times_but_never_hashes()
    {
        Run("add", "--user", "dave", "--role", "developer");
        Run("add", "--user", "ada", "--role", "admin");
        var (exit, output, _) = Run("list");
        Assert.Equal(0, exit);
        var lines = output.Trim().Split('\n');
        Assert.StartsWith("USER", lines[0]);
        Assert.Matches(@"^ada\s+admin\s+\d{4}-\d\d-\d\dT", lines[1]);
        Assert.Matches(@"^dave\s+developer\s+\d{4}-", lines[2]);
        foreach (var entry in TokenFile.Read(File)) Assert.DoesNotContain(entry.Sha256, output);
    }

    [Fact]
    public void Remove_takes_away_every_token_of_a_user()
    {
        Run("add", "--user", "dave", "--role", "developer");
        Run("add", "--user", "dave", "--role", "developer");
        Run("add", "--user", "ada", "--role", "admin");
        var (exit, output, _) = Run("remove", "--user", "dave");
        Assert.Equal(0, exit);
        Assert.Contains("Removed 2 token(s) of 'dave'", output);
        Assert.Equal(["ada"], TokenFile.Read(File).Select(t => t.User));

        var again = Run("remove", "--user", "dave");
        Assert.Equal(1, again.Exit);
        Assert.Contains("RequestInvalid: User 'dave' has no token", again.Error);
    }

    [Fact]
    public void Bad_input_is_refused_with_a_reason_and_changes_nothing()
    {
        var role = Run("add", "--user", "dave", "--role", "root");
        Assert.Equal(1, role.Exit);
        Assert.Contains("'root' is not a role", role.Error);
        var user = Run("add", "--user", "dave smith", "--role", "developer");
        Assert.Equal(1, user.Exit);
        Assert.Contains("not a valid user name", user.Error);
        Assert.False(System.IO.File.Exists(File));

        Run("add", "--user", "dave", "--role", "developer");
        var otherRole = Run("add", "--user", "dave", "--role", "admin");
        Assert.Equal(1, otherRole.Exit);
        Assert.Contains("already has tokens with the role 'developer'", otherRole.Error);

        var usage = Run("add", "--role", "developer");
        Assert.Equal(2, usage.Exit);
        Assert.Contains("--user is required", usage.Error);
        Assert.Contains("Usage:", usage.Error);
        Assert.Equal(2, Run("rotate").Exit);

        System.IO.File.WriteAllText(File, """{ "tokens": [ { "user": "x", "role": "admin", "sha256": "abc" } ] }""");
        var invalid = Run("list");
        Assert.Equal(1, invalid.Exit);
        Assert.Contains(ErrorCodes.TokensFileInvalid, invalid.Error);
    }

    [Fact]
    public void The_server_picks_up_a_changed_file_and_keeps_its_tokens_while_the_file_is_broken()
    {
        var clock = new ManualClock();
        var (_, output, _) = Run("add", "--user", "ada", "--role", "admin");
        var ada = output.Trim();
        var store = new TokenStore(File, NullLogger<TokenStore>.Instance, clock);
        store.Initialize();
        Assert.Equal(new ApiIdentity("ada", ApiRoles.Admin), store.Authenticate(ada));
        Assert.Null(store.Authenticate(ada + "x"));

        var dave = Run("add", "--user", "dave", "--role", "developer").Output.Trim();
        clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(new ApiIdentity("dave", ApiRoles.Developer), store.Authenticate(dave));

        var entries = TokenFile.Read(File);
        System.IO.File.WriteAllText(File, "{ half-written");
        clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal("dave", store.Authenticate(dave)?.User);

        TokenFile.Write(File, entries.Where(e => e.User != "dave").ToList());
        clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Null(store.Authenticate(dave));
        Assert.Equal("ada", store.Authenticate(ada)?.User);
    }

    [Fact]
    public void A_server_without_tokens_creates_a_bootstrap_admin_token()
    {
        var logs = new Fixtures.LogCapture();
        var store = new TokenStore(File, Microsoft.Extensions.Logging.LoggerFactoryExtensions.CreateLogger<TokenStore>(new Microsoft.Extensions.Logging.LoggerFactory([logs])), TimeProvider.System);
        store.Initialize();
        var entry = TokenFile.Read(File).Single();
        Assert.Equal(("admin", ApiRoles.Admin), (entry.User, entry.Role));
        var warning = logs.Lines.Single(l => l.StartsWith("Warning"));
        var token = warning.Split("BootstrapToken=")[1].Split(' ', '|')[0];
        Assert.Equal(entry.Sha256, TokenFile.Hash(token));
        Assert.Equal("admin", store.Authenticate(token)?.User);

        // Tokens exist now: a second start creates none.
        new TokenStore(File, Microsoft.Extensions.Logging.LoggerFactoryExtensions.CreateLogger<TokenStore>(new Microsoft.Extensions.Logging.LoggerFactory([logs])), TimeProvider.System).Initialize();
        Assert.Single(TokenFile.Read(File));
        Assert.Single(logs.Lines, l => l.StartsWith("Warning"));
    }

    private sealed class ManualClock : TimeProvider
    {
        private DateTimeOffset _now = DateTimeOffset.UtcNow;
        public override DateTimeOffset GetUtcNow() => _now;
        public void Advance(TimeSpan by) => _now += by;
    }
}
