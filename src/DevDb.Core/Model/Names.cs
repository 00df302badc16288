using System.Text.RegularExpressions;

namespace DevDb.Core.Model;

/// <summary>
/// Project and database names become hostnames (<c>name.baseDomain</c>), so both are
/// RFC 1123 DNS labels: lowercase a-z, 0-9 and '-', 1 to 63 characters, starting and ending
/// with a letter or digit.
/// </summary>
public static partial class Names
{
    public const int MaxLength = 63;

    [GeneratedRegex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", RegexOptions.CultureInvariant)]
    private static partial Regex DnsLabel();

    public static bool IsValid(string? name) => name is not null && DnsLabel().IsMatch(name);

    /// <summary>Throws <see cref="ErrorCodes.NameInvalid"/> naming what is wrong with <paramref name="name"/>.</summary>
    public static void Validate(string? name, string kind)
    {
        if (Check(name, kind) is { } invalid) throw invalid;
    }

    /// <summary>NameInvalid naming what is wrong with <paramref name="name"/> as a <paramref name="kind"/> ("project", "database") name; null for a valid one.</summary>
    public static DevDbException? Check(string? name, string kind) => IsValid(name)
        ? null
        : DevDbErrors.NameInvalid(name ?? "", $"{kind} name", Problem(name),
            $"Use 1-{MaxLength} lowercase letters, digits or '-', starting and ending with a letter or digit, e.g. 'dave-shop'.");

    /// <summary>The database inside a server (a project's DatabaseName) is a Postgres identifier, not a DNS label.</summary>
    public static void ValidateDatabaseName(string name)
    {
        if (!string.IsNullOrWhiteSpace(name) && name.Length <= 63 && !name.Any(char.IsControl)) return;
        throw DevDbErrors.NameInvalid(name, "name for the database inside the server", "use 1-63 printable characters.", "Use a plain name such as 'app'.");
    }

    private static string Problem(string? name) => name switch
    {
        null or "" => "it is empty.",
        { Length: > MaxLength } => $"it has {name.Length} characters, more than {MaxLength}.",
        _ when name.Any(char.IsUpper) => "it has uppercase letters.",
        _ when name.StartsWith('-') || name.EndsWith('-') => "it starts or ends with '-'.",
        _ => "it has characters other than a-z, 0-9 and '-'.",
    };
}
