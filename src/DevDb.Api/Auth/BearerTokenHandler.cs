using System.Security.Claims;
using System.Text.Encodings.Web;
using DevDb.Core;
using DevDb.Core.Client;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace DevDb.Api.Auth;

/// <summary>
/// Authenticates <c>Authorization: Bearer &lt;token&gt;</c> against the <see cref="TokenStore"/>, and
/// answers 401/403 with DevDb problem documents. Never logs the header or the token.
/// </summary>
public sealed class BearerTokenHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory loggerFactory, UrlEncoder encoder, TokenStore tokens)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    public const string SchemeName = "Bearer";
    private const string Prefix = "Bearer ";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? header = Request.Headers.Authorization;
        if (string.IsNullOrEmpty(header)) return Task.FromResult(AuthenticateResult.NoResult());
        if (!header.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase))
            return Task.FromResult(AuthenticateResult.Fail("The Authorization header is not a bearer token."));
        var identity = tokens.Authenticate(header[Prefix.Length..].Trim());
        if (identity is null) return Task.FromResult(AuthenticateResult.Fail("The bearer token is not known to this server."));
        var principal = new ClaimsPrincipal(new ClaimsIdentity(
            [new Claim(ClaimTypes.Name, identity.User), new Claim(ClaimTypes.Role, identity.Role)], SchemeName));
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName)));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.Headers.WWWAuthenticate = SchemeName;
        var hasToken = !string.IsNullOrEmpty(Request.Headers.Authorization);
        await Problems.WriteAsync(Context, DevDbErrors.Unauthenticated(
            hasToken ? "The bearer token is not known to this DevDb server." : "This DevDb API call needs a bearer token.",
            hasToken
                ? "Check the token (it may have been removed), or ask an admin for a new one."
                : "Send 'Authorization: Bearer <token>'; an admin creates tokens with 'DevDb.Api tokens add'."));
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        var caller = Caller.From(Context.User);
        return Problems.WriteAsync(Context, DevDbErrors.Forbidden(
            $"Only admins can do this; '{caller.User}' has the role '{caller.Role}'.",
            "Ask a DevDb admin to do it, or for an admin token."));
    }
}

/// <summary>The authenticated user of a request.</summary>
public sealed record Caller(string User, string Role)
{
    public bool IsAdmin => Role == ApiRoles.Admin;

    public static Caller From(ClaimsPrincipal principal) =>
        new(principal.Identity?.Name ?? "", principal.FindFirstValue(ClaimTypes.Role) ?? "");
}
