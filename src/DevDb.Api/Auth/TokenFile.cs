using DevDb.Core.IO;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using DevDb.Core;
using DevDb.Core.Engine;
using DevDb.Core.Client;

namespace DevDb.Api.Auth;

/// <summary>One API token as stored: who it is for, the role, and the SHA-256 of the token (never the token).</summary>
public sealed record TokenEntry(string User, string Role, string Sha256, DateTimeOffset Created);

/// <summary>
/// The tokens file, <c>{ "tokens": [ { "user", "role", "sha256", "created" } ] }</c>: written by the
/// <c>tokens</c> command and the bootstrap, read by the server (a mounted Kubernetes Secret works too).
/// </summary>
public static partial class TokenFile
{
    private static readonly JsonSerializerOptions Json = new(ApiContract.Json) { WriteIndented = true };

    private sealed record Content(IReadOnlyList<TokenEntry>? Tokens);

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$", RegexOptions.CultureInvariant)]
    private static partial Regex UserName();

    [GeneratedRegex("^[0-9a-f]{64}$", RegexOptions.CultureInvariant)]
    private static partial Regex Sha256Hex();

    /// <summary>A new token: 32 random bytes, base64url (43 characters).</summary>
    public static string NewToken() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

    /// <summary>
    /// Tokens are 256-bit random secrets, not passwords: guessing one is hopeless, so a plain
    /// SHA-256 is enough; a slow password hash would only slow every request down.
    /// </summary>
    public static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    public static bool IsValidUser(string? user) => user is not null && UserName().IsMatch(user);

    public static bool IsValidRole(string? role) => role is ApiRoles.Admin or ApiRoles.Developer;

    /// <summary>The file's tokens; none when the file does not exist. A malformed file is TokensFileInvalid.</summary>
    public static IReadOnlyList<TokenEntry> Read(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return [];
        }
        return Parse(bytes, path);
    }

    public static IReadOnlyList<TokenEntry> Parse(byte[] bytes, string path)
    {
        Content? content;
        try
        {
            content = bytes.Length == 0 ? new Content([]) : JsonSerializer.Deserialize<Content>(bytes, Json);
        }
        catch (JsonException e)
        {
            throw Invalid(path, $"it is not valid JSON ({e.Message})");
        }
        var tokens = content?.Tokens ?? [];
        foreach (var token in tokens)
        {
            if (!IsValidUser(token.User)) throw Invalid(path, $"user '{token.User}' is not a valid user name");
            if (!IsValidRole(token.Role)) throw Invalid(path, $"user '{token.User}' has role '{token.Role}'; roles are '{ApiRoles.Admin}' and '{ApiRoles.Developer}'");
            if (token.Sha256 is null || !Sha256Hex().IsMatch(token.Sha256)) throw Invalid(path, $"the sha256 of user '{token.User}' is not 64 lowercase hex digits");
        }
        return tokens;
    }

    /// <summary>Replaces the file atomically; readable by this user only (it holds hashes, still nobody else's business).</summary>
    public static void Write(string path, IReadOnlyList<TokenEntry> tokens)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        PrivateFiles.Write(path, JsonSerializer.SerializeToUtf8Bytes(new Content(tokens), Json));
    }

    private static DevDbException Invalid(string path, string problem) => DevDbErrors.TokensFileInvalid(path, problem);
}
