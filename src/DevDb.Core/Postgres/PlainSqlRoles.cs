using System.Text.RegularExpressions;

namespace DevDb.Core.Postgres;

/// <summary>
/// The roles a plain SQL dump names as owners or grantees. pg_restore can skip ownership and
/// privileges (--no-owner --no-acl), but psql replays a script as written, so these roles are
/// created (NOLOGIN, nothing more) in the image's cluster before the script runs, and granted to
/// <see cref="ClusterRoles.Owner"/> so that the restore can hand objects to them.
/// </summary>
public static partial class PlainSqlRoles
{
    private const string Role = @"(""(?:[^""]|"""")+""|[A-Za-z_][A-Za-z0-9_$]*)";

    [GeneratedRegex(@"\b(?:OWNER TO|AUTHORIZATION|FOR ROLE) " + Role, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex SingleRole();

    [GeneratedRegex(@"^(?:ALTER DEFAULT PRIVILEGES .*?)?(?:GRANT\b.*\bTO|REVOKE\b.*\bFROM) (?<list>.+?)(?: WITH (?:GRANT|ADMIN) OPTION)?(?: GRANTED BY .+)?;\s*$",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex GranteeList();

    [GeneratedRegex(Role, RegexOptions.CultureInvariant)]
    private static partial Regex AnyRole();

    private static readonly HashSet<string> NotRoles = new(StringComparer.OrdinalIgnoreCase)
        { "PUBLIC", "CURRENT_USER", "SESSION_USER", "CURRENT_ROLE", "GROUP" };

    /// <summary>Adds the roles one line of SQL names, looking only at the statements pg_dump writes at the start of a line.</summary>
    public static void Collect(string line, ISet<string> roles)
    {
        if (!StartsLikeOwnershipStatement(line)) return;
        foreach (Match match in SingleRole().Matches(line)) Add(roles, match.Groups[1].Value);
        if (GranteeList().Match(line) is { Success: true } grant)
            foreach (Match match in AnyRole().Matches(grant.Groups["list"].Value)) Add(roles, match.Value);
    }

    private static bool StartsLikeOwnershipStatement(string line) =>
        line.StartsWith("ALTER ", StringComparison.Ordinal) || line.StartsWith("GRANT ", StringComparison.Ordinal)
        || line.StartsWith("REVOKE ", StringComparison.Ordinal) || line.StartsWith("CREATE SCHEMA ", StringComparison.Ordinal);

    private static void Add(ISet<string> roles, string token)
    {
        if (NotRoles.Contains(token)) return;
        roles.Add(token.StartsWith('"') ? token[1..^1].Replace("\"\"", "\"") : token.ToLowerInvariant());
    }
}
