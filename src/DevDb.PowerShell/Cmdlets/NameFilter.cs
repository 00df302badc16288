using System.Management.Automation;
using DevDb.Core;

namespace DevDb.Commands;

/// <summary>The -Name rules of the Get cmdlets: wildcards filter; a plain name that matches nothing is an error.</summary>
internal static class NameFilter
{
    public static IEnumerable<T> Select<T>(Cmdlet cmdlet, IReadOnlyList<T> items, Func<T, string> nameOf,
        string[]? names, Func<string, DevDbException> notFound)
    {
        if (names is null || names.Length == 0)
        {
            return items;
        }
        var patterns = names.Select(n => WildcardPattern.Get(n, WildcardOptions.IgnoreCase)).ToList();
        foreach (string name in names.Where(n => !WildcardPattern.ContainsWildcardCharacters(n)))
        {
            if (!items.Any(item => string.Equals(nameOf(item), name, StringComparison.OrdinalIgnoreCase)))
            {
                cmdlet.WriteError(ErrorRecords.From(notFound(name)));
            }
        }
        return items.Where(item => patterns.Any(p => p.IsMatch(nameOf(item))));
    }
}
