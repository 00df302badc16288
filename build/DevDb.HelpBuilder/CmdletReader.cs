using System.Reflection;

namespace DevDb.HelpBuilder;

/// <summary>How a parameter takes part in one parameter set.</summary>
public sealed record ParameterSetUse(bool Mandatory, int? Position, bool ByValue, bool ByPropertyName);

/// <summary>A cmdlet parameter as PowerShell binds it, read from the property's attributes.</summary>
public sealed record CmdletParameter(
    string Name,
    string TypeName,
    bool IsSwitch,
    bool IsArray,
    string DocId,
    IReadOnlyDictionary<string, ParameterSetUse> Sets,
    bool SupportsWildcards,
    IReadOnlyList<string> ValidValues,
    IReadOnlyList<string> Aliases)
{
    /// <summary>PowerShell's name for a parameter that belongs to every set.</summary>
    public const string AllSets = "__AllParameterSets";

    public bool TakesPipelineInput => Sets.Values.Any(s => s.ByValue || s.ByPropertyName);

    public ParameterSetUse? In(string set) => Sets.TryGetValue(set, out var use) ? use : Sets.GetValueOrDefault(AllSets);
}

/// <summary>A cmdlet as PowerShell sees it: its name, parameter sets, parameters and output types.</summary>
public sealed record CmdletModel(
    string Name,
    string Verb,
    string Noun,
    string DocId,
    bool SupportsShouldProcess,
    string? DefaultParameterSet,
    IReadOnlyList<CmdletParameter> Parameters,
    IReadOnlyList<string> OutputTypes)
{
    /// <summary>The parameter sets in PowerShell's order: the default first, then by name.</summary>
    public IReadOnlyList<string> ParameterSets
    {
        get
        {
            var named = Parameters.SelectMany(p => p.Sets.Keys).Where(s => s != CmdletParameter.AllSets).Distinct().ToList();
            if (named.Count == 0) return [CmdletParameter.AllSets];
            return named.OrderBy(s => s == DefaultParameterSet ? 0 : 1).ThenBy(s => s, StringComparer.Ordinal).ToList();
        }
    }
}

/// <summary>
/// Reads the cmdlets of an assembly by reflection over metadata only (MetadataLoadContext): nothing
/// is loaded for execution, so the net8.0 module and its reference System.Management.Automation
/// need no PowerShell here.
/// </summary>
public static class CmdletReader
{
    private const string Automation = "System.Management.Automation.";

    public static IReadOnlyList<CmdletModel> Read(string assemblyPath, IEnumerable<string> references)
    {
        var paths = references.Append(assemblyPath).Select(Path.GetFullPath).Distinct(StringComparer.Ordinal).ToList();
        using var context = new MetadataLoadContext(new PathAssemblyResolver(paths));
        var assembly = context.LoadFromAssemblyPath(Path.GetFullPath(assemblyPath));
        return assembly.GetExportedTypes()
            .Where(t => !t.IsAbstract && Attribute(t, "CmdletAttribute") is not null)
            .Select(ReadCmdlet)
            .OrderBy(c => c.Noun, StringComparer.Ordinal).ThenBy(c => c.Verb, StringComparer.Ordinal)
            .ToList();
    }

    private static CmdletModel ReadCmdlet(Type type)
    {
        var cmdlet = Attribute(type, "CmdletAttribute")!;
        var verb = (string)cmdlet.ConstructorArguments[0].Value!;
        var noun = (string)cmdlet.ConstructorArguments[1].Value!;
        var parameters = type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Select(ReadParameter).OfType<CmdletParameter>()
            // Declared order, base class members last (PowerShell lists them in this order too).
            .ToList();
        var outputTypes = type.GetCustomAttributesData()
            .Where(a => a.AttributeType.FullName == Automation + "OutputTypeAttribute")
            .SelectMany(a => a.ConstructorArguments)
            .SelectMany(arg => arg.Value is IReadOnlyCollection<CustomAttributeTypedArgument> many ? many.Select(m => m.Value) : [arg.Value])
            .OfType<Type>()
            .Select(t => t.FullName == "System.Void" ? "None" : t.FullName!)
            .ToList();
        return new CmdletModel($"{verb}-{noun}", verb, noun, "T:" + type.FullName, Named<bool>(cmdlet, "SupportsShouldProcess"),
            Named<string>(cmdlet, "DefaultParameterSetName"), parameters, outputTypes);
    }

    private static CmdletParameter? ReadParameter(PropertyInfo property)
    {
        var declarations = property.GetCustomAttributesData().Where(a => a.AttributeType.FullName == Automation + "ParameterAttribute").ToList();
        if (declarations.Count == 0) return null;
        var sets = declarations.ToDictionary(
            a => Named<string>(a, "ParameterSetName") ?? CmdletParameter.AllSets,
            a => new ParameterSetUse(Named<bool>(a, "Mandatory"), Named<int?>(a, "Position") is { } p && p >= 0 ? p : null,
                Named<bool>(a, "ValueFromPipeline"), Named<bool>(a, "ValueFromPipelineByPropertyName")));
        var type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
        var validValues = Attribute(property, "ValidateSetAttribute") is { } validateSet
            ? ((IReadOnlyCollection<CustomAttributeTypedArgument>)validateSet.ConstructorArguments[0].Value!).Select(v => (string)v.Value!).ToList()
            : [];
        var aliases = Attribute(property, "AliasAttribute") is { } alias
            ? ((IReadOnlyCollection<CustomAttributeTypedArgument>)alias.ConstructorArguments[0].Value!).Select(v => (string)v.Value!).ToList()
            : [];
        return new CmdletParameter(property.Name, ShortName(type), type.FullName == Automation + "SwitchParameter", type.IsArray,
            $"P:{property.DeclaringType!.FullName}.{property.Name}", sets, Attribute(property, "SupportsWildcardsAttribute") is not null,
            validValues, aliases);
    }

    /// <summary>The type name Get-Help shows: String, String[], Int32, PSCredential, DevDbDatabase[].</summary>
    private static string ShortName(Type type) => type.IsArray ? ShortName(type.GetElementType()!) + "[]" : type.Name;

    private static CustomAttributeData? Attribute(MemberInfo member, string name) =>
        member.GetCustomAttributesData().FirstOrDefault(a => a.AttributeType.Name == name
                                                             && a.AttributeType.Namespace == Automation.TrimEnd('.'));

    private static T? Named<T>(CustomAttributeData attribute, string name) =>
        attribute.NamedArguments.FirstOrDefault(a => a.MemberName == name) is { MemberInfo: not null } argument
            ? (T?)argument.TypedValue.Value
            : default;
}
