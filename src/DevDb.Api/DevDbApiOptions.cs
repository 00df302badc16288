using DevDb.Core.Engine;

namespace DevDb.Api;

/// <summary>Configuration section <c>DevDb</c> (environment: <c>DEVDB__HOME</c>, <c>DEVDB__TOKENSFILE</c>).</summary>
public sealed class DevDbApiOptions
{
    public const string Section = "DevDb";

    /// <summary>The engine's state folder; null uses the engine's default (DEVDB_HOME, else the platform's).</summary>
    public string? Home { get; set; }

    /// <summary>The tokens file; null is <c>&lt;Home&gt;/api-tokens.json</c>.</summary>
    public string? TokensFile { get; set; }

    public string ResolvedHome => Path.GetFullPath(string.IsNullOrEmpty(Home) ? LocalLayout.DefaultHome() : Home);

    public string ResolvedTokensFile => Path.GetFullPath(string.IsNullOrEmpty(TokensFile) ? Path.Combine(ResolvedHome, "api-tokens.json") : TokensFile);
}
