using System.Security.Cryptography;
using DevDb.Core;
using DevDb.Core.Client;

namespace DevDb.Api.Auth;

/// <summary>
/// The server's view of the tokens file. Re-reads the file when its content changes (checked at
/// most once a second), so tokens added with the <c>tokens</c> command or a Kubernetes Secret
/// updated under the running process take effect without a restart.
/// </summary>
public sealed class TokenStore(string path, ILogger<TokenStore> logger, TimeProvider clock)
{
    private static readonly TimeSpan RecheckInterval = TimeSpan.FromSeconds(1);

    private readonly Lock _reloadLock = new();
    private volatile Entry[] _entries = [];
    private byte[] _fileBytes = [];
    private DateTimeOffset _checked = DateTimeOffset.MinValue;

    private sealed record Entry(ApiIdentity Identity, byte[] Hash);

    public string Path { get; } = path;

    /// <summary>
    /// Loads the file; when it is missing or holds no token, creates a bootstrap admin token, stores
    /// its hash and logs the token once (the only time it is ever shown).
    /// </summary>
    public void Initialize()
    {
        var tokens = TokenFile.Read(Path);
        if (tokens.Count == 0)
        {
            var token = TokenFile.NewToken();
            TokenFile.Write(Path, [new TokenEntry("admin", ApiRoles.Admin, TokenFile.Hash(token), clock.GetUtcNow())]);
            logger.LogWarning(
                "No API tokens existed, so a bootstrap admin token was created for user 'admin'. It is shown this once only: {BootstrapToken} " +
                "Store it in a secret store now, create personal tokens with 'DevDb.Api tokens add --user NAME --role developer|admin', " +
                "then remove this one with 'DevDb.Api tokens remove --user admin'. Its hash is in {TokensFile}.",
                token, Path);
        }
        Reload(force: true);
        logger.LogInformation("Loaded {TokenCount} API token(s) from {TokensFile}.", _entries.Length, Path);
    }

    /// <summary>The identity a presented token belongs to, or null. Compares with every stored hash in constant time.</summary>
    public ApiIdentity? Authenticate(string token)
    {
        Reload(force: false);
        Span<byte> presented = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(token), presented);
        ApiIdentity? match = null;
        // No early exit: the time taken does not depend on which entry (if any) matched.
        foreach (var entry in _entries)
            if (CryptographicOperations.FixedTimeEquals(presented, entry.Hash))
                match = entry.Identity;
        return match;
    }

    private void Reload(bool force)
    {
        var now = clock.GetUtcNow();
        if (!force && now - _checked < RecheckInterval) return;
        lock (_reloadLock)
        {
            if (!force && now - _checked < RecheckInterval) return;
            _checked = now;
            byte[] bytes;
            try
            {
                bytes = File.Exists(Path) ? File.ReadAllBytes(Path) : [];
            }
            catch (IOException e)
            {
                logger.LogError(e, "Could not read the API tokens file {TokensFile}; keeping the {TokenCount} token(s) loaded before.", Path, _entries.Length);
                return;
            }
            if (!force && bytes.AsSpan().SequenceEqual(_fileBytes)) return;
            try
            {
                _entries = TokenFile.Parse(bytes, Path)
                    .Select(t => new Entry(new ApiIdentity(t.User, t.Role), Convert.FromHexString(t.Sha256)))
                    .ToArray();
                _fileBytes = bytes;
                if (!force) logger.LogInformation("The API tokens file changed; {TokenCount} token(s) loaded from {TokensFile}.", _entries.Length, Path);
            }
            catch (DevDbException e) when (!force)
            {
                // A half-edited file must not lock everyone out: keep serving the tokens loaded before.
                logger.LogError("{Error} Keeping the {TokenCount} token(s) loaded before.", e.Message, _entries.Length);
                _fileBytes = bytes;
            }
        }
    }
}
