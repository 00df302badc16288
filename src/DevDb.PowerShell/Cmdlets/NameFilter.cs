using System.Management.Automation;

namespace DevDb.Commands;

/// <summary>The -Name rules of the Get cmdlets: wildcards filter; a plain name that matches nothing, or can never be a name, is an error.</summary>
internal static class NameFilter
{
    /// <summary>The items whose names match <paramref name="names"/> (all when none); <paramref name="kind"/> ("project" or "database") names them in NameInvalid.</summary>
    public static IEnumerable<T> Select<T>(Cmdlet cmdlet, IReadOnlyList<T> items, Func<T, string> nameOf,
        string[]? names, string kind, Func<string, DevDbException> notFound)
    {
        if (names is null || names.Length == 0)
        {
            return items;
        }
        var patterns = names.Select(n => WildcardPattern.Get(n, WildcardOptions.IgnoreCase)).ToList();
        foreach (string name in names.Where(n => !WildcardPattern.ContainsWildcardCharacters(n)))
        {
            if (NameRules.Check(name, kind) is { } invalid)
            {
                cmdlet.WriteError(ErrorRecords.From(invalid));
            }
            else if (!items.Any(item => nameOf(item) == name))
            {
                cmdlet.WriteError(ErrorRecords.From(notFound(name)));
            }
        }
        return items.Where(item => patterns.Any(p => p.IsMatch(nameOf(item))));
    }
}
