using System.Text.Json.Nodes;

namespace KubeApiDouble;

/// <summary>A parsed labelSelector / fieldSelector query parameter; comma means AND.</summary>
internal sealed class Selector
{
    private readonly List<Func<JsonObject, bool>> requirements = [];

    public bool Matches(JsonObject obj) => requirements.All(r => r(obj));

    public static Selector Everything { get; } = new();

    public static Selector Parse(string? labelSelector, string? fieldSelector)
    {
        var selector = new Selector();
        if (!string.IsNullOrWhiteSpace(labelSelector))
            foreach (var term in SplitTerms(labelSelector))
                selector.requirements.Add(ParseLabelTerm(term));
        if (!string.IsNullOrWhiteSpace(fieldSelector))
            foreach (var term in SplitTerms(fieldSelector))
                selector.requirements.Add(ParseFieldTerm(term));
        return selector;
    }

    /// <summary>Splits on commas that are not inside an <c>in (...)</c> set.</summary>
    private static IEnumerable<string> SplitTerms(string text)
    {
        var depth = 0;
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '(') depth++;
            else if (text[i] == ')') depth--;
            else if (text[i] == ',' && depth == 0)
            {
                yield return text[start..i].Trim();
                start = i + 1;
            }
        }
        yield return text[start..].Trim();
    }

    private static Func<JsonObject, bool> ParseLabelTerm(string term)
    {
        if (term.Length == 0) throw ApiError.BadRequest("unable to parse requirement: found '', expected: identifier");
        if (term.StartsWith('!'))
        {
            var key = term[1..].Trim();
            return o => Label(o, key) is null;
        }
        foreach (var op in new[] { "!=", "==", "=" })
        {
            var at = term.IndexOf(op, StringComparison.Ordinal);
            if (at > 0)
            {
                var key = term[..at].Trim();
                var value = term[(at + op.Length)..].Trim();
                return op == "!=" ? o => Label(o, key) != value : o => Label(o, key) == value;
            }
        }
        var words = term.Split(' ', 2, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (words.Length == 1) return o => Label(o, words[0]) is not null;
        var rest = words[1];
        bool notIn;
        if (rest.StartsWith("notin", StringComparison.Ordinal)) { notIn = true; rest = rest[5..].Trim(); }
        else if (rest.StartsWith("in", StringComparison.Ordinal)) { notIn = false; rest = rest[2..].Trim(); }
        else throw ApiError.BadRequest($"unable to parse requirement: {term}");
        if (!rest.StartsWith('(') || !rest.EndsWith(')')) throw ApiError.BadRequest($"unable to parse requirement: {term}: expected a set in parentheses");
        var values = rest[1..^1].Split(',', StringSplitOptions.TrimEntries).ToHashSet();
        var labelKey = words[0];
        return notIn
            ? o => Label(o, labelKey) is not { } v || !values.Contains(v)
            : o => Label(o, labelKey) is { } v && values.Contains(v);
    }

    private static Func<JsonObject, bool> ParseFieldTerm(string term)
    {
        var negate = term.Contains("!=", StringComparison.Ordinal);
        var op = negate ? "!=" : term.Contains("==", StringComparison.Ordinal) ? "==" : "=";
        var at = term.IndexOf(op, StringComparison.Ordinal);
        if (at <= 0) throw ApiError.BadRequest($"invalid selector: '{term}'; can't understand '{term}'");
        var field = term[..at].Trim();
        var value = term[(at + op.Length)..].Trim();
        if (field is not ("metadata.name" or "metadata.namespace"))
            throw ApiError.BadRequest($"field label not supported: {field}");
        var key = field["metadata.".Length..];
        return o => (o["metadata"]?[key]?.GetValue<string>() == value) != negate;
    }

    private static string? Label(JsonObject obj, string key) => obj["metadata"]?["labels"]?[key]?.GetValue<string>();
}
