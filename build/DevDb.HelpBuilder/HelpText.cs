using System.Text;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace DevDb.HelpBuilder;

/// <summary>An example: a title, the code, and what it shows.</summary>
public sealed record HelpExample(string Title, string Code, IReadOnlyList<string> Remarks);

/// <summary>
/// The help text of one type or property, from its XML documentation comment:
/// &lt;summary&gt; (a cmdlet's synopsis, a parameter's or type's description), &lt;remarks&gt; with
/// &lt;para&gt;s (a cmdlet's description), &lt;example&gt;s (a &lt;para&gt; title, &lt;code&gt;, then
/// &lt;para&gt; remarks) and &lt;seealso&gt; (cref to a cmdlet, or href for an about_ topic or a URL).
/// </summary>
public sealed record HelpEntry(string Summary, IReadOnlyList<string> Description, IReadOnlyList<HelpExample> Examples, IReadOnlyList<HelpLink> Links);

/// <summary>A related link: a cmdlet (by its type's documentation id) or a topic or URL.</summary>
public sealed record HelpLink(string? CmdletDocId, string? Text, string? Uri);

/// <summary>The XML documentation file the compiler wrote for the cmdlet assembly.</summary>
public sealed partial class HelpText
{
    private readonly Dictionary<string, XElement> _members;

    private HelpText(Dictionary<string, XElement> members) => _members = members;

    public static HelpText Load(string path) => new(XDocument.Load(path).Root!.Element("members")!.Elements("member")
        .ToDictionary(m => (string)m.Attribute("name")!, StringComparer.Ordinal));

    /// <summary>The entry for a documentation id (T:Namespace.Type, P:Namespace.Type.Property); null when it has no comment.</summary>
    public HelpEntry? For(string docId, Func<string, string> cmdletNameOf)
    {
        if (!_members.TryGetValue(docId, out var member)) return null;
        return new HelpEntry(
            Paragraph(member.Element("summary"), cmdletNameOf),
            member.Element("remarks") is { } remarks ? Paragraphs(remarks, cmdletNameOf) : [],
            member.Elements("example").Select(e => Example(e, cmdletNameOf)).ToList(),
            member.Elements("seealso").Select(Link).ToList());
    }

    private static HelpExample Example(XElement example, Func<string, string> cmdletNameOf)
    {
        var code = example.Element("code");
        var before = example.Elements("para").Where(p => code is null || p.IsBefore(code));
        var after = example.Elements("para").Where(p => code is not null && p.IsAfter(code));
        return new HelpExample(string.Join(" ", before.Select(p => Paragraph(p, cmdletNameOf))), code is null ? "" : Code(code.Value),
            after.Select(p => Paragraph(p, cmdletNameOf)).ToList());
    }

    private static HelpLink Link(XElement seeAlso) =>
        (string?)seeAlso.Attribute("cref") is { } cref
            ? new HelpLink(cref, null, null)
            : new HelpLink(null, seeAlso.Value.Trim() is { Length: > 0 } text ? text : (string?)seeAlso.Attribute("href"),
                (string?)seeAlso.Attribute("href") is { } href && href.StartsWith("https://", StringComparison.Ordinal) ? href : null);

    /// <summary>A remarks element as paragraphs: each &lt;para&gt;, or the whole text when there is none.</summary>
    private static List<string> Paragraphs(XElement element, Func<string, string> cmdletNameOf)
    {
        var paras = element.Elements("para").Select(p => Paragraph(p, cmdletNameOf)).Where(p => p.Length > 0).ToList();
        return paras.Count > 0 ? paras : [Paragraph(element, cmdletNameOf)];
    }

    /// <summary>Running text: whitespace collapsed, &lt;c&gt; as its text, &lt;see cref&gt; as the cmdlet or type name.</summary>
    private static string Paragraph(XElement? element, Func<string, string> cmdletNameOf)
    {
        if (element is null) return "";
        var text = new StringBuilder();
        foreach (var node in element.Nodes())
        {
            text.Append(node switch
            {
                XText t => t.Value,
                XElement { Name.LocalName: "see" } see when (string?)see.Attribute("cref") is { } cref => cmdletNameOf(cref),
                XElement { Name.LocalName: "see" } see => (string?)see.Attribute("langword") ?? see.Value,
                XElement { Name.LocalName: "paramref" or "typeparamref" } reference => "-" + (string?)reference.Attribute("name"),
                XElement other => other.Value,
                _ => "",
            });
        }
        return Whitespace().Replace(text.ToString(), " ").Trim();
    }

    /// <summary>A code block without the comment's indentation, and without leading or trailing blank lines.</summary>
    private static string Code(string code)
    {
        var lines = code.Replace("\r\n", "\n").Split('\n').ToList();
        while (lines.Count > 0 && string.IsNullOrWhiteSpace(lines[0])) lines.RemoveAt(0);
        while (lines.Count > 0 && string.IsNullOrWhiteSpace(lines[^1])) lines.RemoveAt(lines.Count - 1);
        var indent = lines.Where(l => l.Trim().Length > 0).Select(l => l.Length - l.TrimStart().Length).DefaultIfEmpty(0).Min();
        return string.Join("\n", lines.Select(l => l.Length >= indent ? l[indent..].TrimEnd() : l.Trim()));
    }

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
