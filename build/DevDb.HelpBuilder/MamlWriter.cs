using System.Xml;
using System.Xml.Linq;

namespace DevDb.HelpBuilder;

/// <summary>Writes the MAML file Get-Help reads for the cmdlets of a binary module (en-US/&lt;dll&gt;-Help.xml).</summary>
public static class MamlWriter
{
    private static readonly XNamespace Msh = "http://msh";
    private static readonly XNamespace Maml = "http://schemas.microsoft.com/maml/2004/10";
    private static readonly XNamespace Command = "http://schemas.microsoft.com/maml/dev/command/2004/10";
    private static readonly XNamespace Dev = "http://schemas.microsoft.com/maml/dev/2004/10";

    /// <summary>The two parameters SupportsShouldProcess adds, described as PowerShell's own help does.</summary>
    private static readonly (string Name, string Description)[] ShouldProcessParameters =
    [
        ("WhatIf", "Shows what would happen if the cmdlet runs. The cmdlet is not run."),
        ("Confirm", "Prompts you for confirmation before running the cmdlet."),
    ];

    public static void Write(IReadOnlyList<CmdletModel> cmdlets, HelpText docs, string path)
    {
        var names = HelpChecks.CmdletNames(cmdlets);
        var root = new XElement(Msh + "helpItems", new XAttribute("schema", "maml"),
            cmdlets.Select(c => CommandElement(c, docs.For(c.DocId, names)!, docs, names)));
        var document = new XDocument(new XDeclaration("1.0", "utf-8", null), root);
        using var writer = XmlWriter.Create(path, new XmlWriterSettings { Indent = true, Encoding = new System.Text.UTF8Encoding(false) });
        document.Save(writer);
    }

    private static XElement CommandElement(CmdletModel cmdlet, HelpEntry help, HelpText docs, Func<string, string> names)
    {
        string ParameterText(CmdletParameter p) => docs.For(p.DocId, names)!.Summary;
        return new XElement(Command + "command",
            new XAttribute(XNamespace.Xmlns + "maml", Maml),
            new XAttribute(XNamespace.Xmlns + "command", Command),
            new XAttribute(XNamespace.Xmlns + "dev", Dev),
            new XElement(Command + "details",
                new XElement(Command + "name", cmdlet.Name),
                new XElement(Command + "verb", cmdlet.Verb),
                new XElement(Command + "noun", cmdlet.Noun),
                Description(help.Summary)),
            Description(help.Description.ToArray()),
            new XElement(Command + "syntax", cmdlet.ParameterSets.Select(set => new XElement(Command + "syntaxItem",
                new XElement(Maml + "name", cmdlet.Name),
                SyntaxOrder(cmdlet, set).Select(p => Parameter(p, ParameterText(p), p.In(set)!, inSyntax: true)),
                ShouldProcess(cmdlet)))),
            new XElement(Command + "parameters",
                cmdlet.Parameters.OrderBy(p => p.Name, StringComparer.Ordinal).Select(p => Parameter(p, ParameterText(p), Merged(p), inSyntax: false)),
                ShouldProcess(cmdlet)),
            new XElement(Command + "inputTypes", InputTypes(cmdlet)),
            new XElement(Command + "returnValues", cmdlet.OutputTypes.Select(type => new XElement(Command + "returnValue",
                TypeElement(type),
                Description(type == "None" ? "This cmdlet writes nothing to the pipeline." : docs.For("T:" + type, names)?.Summary ?? type)))),
            new XElement(Command + "examples", help.Examples.Select((example, index) => new XElement(Command + "example",
                new XElement(Maml + "title", $"--------- Example {index + 1}: {example.Title} ---------"),
                new XElement(Dev + "code", example.Code),
                new XElement(Dev + "remarks", example.Remarks.Select(Para))))),
            new XElement(Command + "relatedLinks", help.Links.Select(link => new XElement(Maml + "navigationLink",
                new XElement(Maml + "linkText", link.CmdletDocId is { } docId ? names(docId) : link.Text),
                new XElement(Maml + "uri", link.Uri ?? "")))));
    }

    /// <summary>Positional parameters by position, then mandatory ones, then the rest, each group in declared order.</summary>
    private static IEnumerable<CmdletParameter> SyntaxOrder(CmdletModel cmdlet, string set) =>
        cmdlet.Parameters.Where(p => p.In(set) is not null)
            .Select((p, index) => (Parameter: p, Use: p.In(set)!, Index: index))
            .OrderBy(x => x.Use.Position ?? int.MaxValue).ThenBy(x => x.Use.Mandatory ? 0 : 1).ThenBy(x => x.Index)
            .Select(x => x.Parameter);

    /// <summary>A parameter across all its sets, for the parameters section: required only if required in every set.</summary>
    private static ParameterSetUse Merged(CmdletParameter parameter) => new(
        parameter.Sets.Values.All(s => s.Mandatory),
        parameter.Sets.Values.Select(s => s.Position).Distinct().Count() == 1 ? parameter.Sets.Values.First().Position : null,
        parameter.Sets.Values.Any(s => s.ByValue),
        parameter.Sets.Values.Any(s => s.ByPropertyName));

    private static XElement Parameter(CmdletParameter parameter, string description, ParameterSetUse use, bool inSyntax)
    {
        var element = new XElement(Command + "parameter",
            new XAttribute("required", Bool(use.Mandatory)),
            new XAttribute("variableLength", Bool(parameter.IsArray)),
            new XAttribute("globbing", Bool(parameter.SupportsWildcards)),
            new XAttribute("pipelineInput", PipelineInput(use)),
            new XAttribute("position", use.Position?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "named"),
            new XAttribute("aliases", parameter.Aliases.Count == 0 ? "none" : string.Join(", ", parameter.Aliases)),
            new XElement(Maml + "name", parameter.Name),
            Description(description));
        if (parameter.ValidValues.Count > 0)
        {
            element.Add(new XElement(Command + "parameterValueGroup", parameter.ValidValues.Select(v =>
                new XElement(Command + "parameterValue", new XAttribute("required", "false"), new XAttribute("variableLength", "false"), v))));
        }
        // A switch takes no value: the syntax shows [-NoWait], the parameters section says SwitchParameter.
        if (!parameter.IsSwitch || !inSyntax)
        {
            element.Add(new XElement(Command + "parameterValue", new XAttribute("required", Bool(!parameter.IsSwitch)),
                new XAttribute("variableLength", Bool(parameter.IsArray)), parameter.TypeName));
        }
        element.Add(TypeElement(parameter.TypeName), new XElement(Dev + "defaultValue", parameter.IsSwitch ? "False" : "None"));
        return element;
    }

    private static IEnumerable<XElement> ShouldProcess(CmdletModel cmdlet) => cmdlet.SupportsShouldProcess
        ? ShouldProcessParameters.Select(p => new XElement(Command + "parameter",
            new XAttribute("required", "false"), new XAttribute("variableLength", "false"), new XAttribute("globbing", "false"),
            new XAttribute("pipelineInput", "False"), new XAttribute("position", "named"), new XAttribute("aliases", p.Name == "WhatIf" ? "wi" : "cf"),
            new XElement(Maml + "name", p.Name), Description(p.Description),
            TypeElement("SwitchParameter"), new XElement(Dev + "defaultValue", "False")))
        : [];

    private static IEnumerable<XElement> InputTypes(CmdletModel cmdlet)
    {
        var piped = cmdlet.Parameters.Where(p => p.TakesPipelineInput).ToList();
        if (piped.Count == 0)
        {
            return [new XElement(Command + "inputType", TypeElement("None"), Description("This cmdlet takes no input from the pipeline."))];
        }
        return piped.GroupBy(p => p.TypeName).Select(group => new XElement(Command + "inputType", TypeElement(group.Key),
            Description(group.Select(p => $"-{p.Name} takes it from the pipeline ({Ways(Merged(p))}).").ToArray())));
    }

    private static string Ways(ParameterSetUse use) => string.Join(", ", new[] { use.ByValue ? "by value" : null, use.ByPropertyName ? "by property name" : null }.OfType<string>());

    private static string PipelineInput(ParameterSetUse use) => use switch
    {
        { ByValue: true, ByPropertyName: true } => "True (ByValue, ByPropertyName)",
        { ByValue: true } => "True (ByValue)",
        { ByPropertyName: true } => "True (ByPropertyName)",
        _ => "False",
    };

    private static XElement TypeElement(string name) => new(Dev + "type", new XElement(Maml + "name", name), new XElement(Maml + "uri"));

    private static XElement Description(params string[] paragraphs) => new(Maml + "description", paragraphs.Select(Para));

    private static XElement Para(string text) => new(Maml + "para", text);

    private static string Bool(bool value) => value ? "true" : "false";
}
