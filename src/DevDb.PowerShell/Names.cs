using System.Collections;
using System.Management.Automation;
using DevDb.Core;
using DevDb.Core.Model;

namespace DevDb.Commands;

/// <summary>
/// Project and database names as users type them: DNS labels, so case does not matter. Applied to
/// every -Name and -Project parameter, so that everything after binding (lookups, -WhatIf text,
/// errors) uses the real, lower-case name.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
internal sealed class LowerCaseAttribute : ArgumentTransformationAttribute
{
    public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData) => Lower(inputData);

    private static object? Lower(object? value) => value switch
    {
        string text => text.ToLowerInvariant(),
        PSObject { BaseObject: string or IList } wrapped => Lower(wrapped.BaseObject),
        IList list => list.Cast<object?>().Select(Lower).ToArray(),
        _ => value,
    };
}

/// <summary>A project given as the object Get-DevDbProject returns stands for its name (Get-DevDbProject shop | New-DevDbDatabase -Name beta).</summary>
[AttributeUsage(AttributeTargets.Property)]
internal sealed class ProjectNameAttribute : ArgumentTransformationAttribute
{
    public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData) => inputData switch
    {
        DevDbProject project => project.Name,
        PSObject { BaseObject: DevDbProject project } => project.Name,
        _ => inputData,
    };
}

/// <summary>The module's check of a name before it goes anywhere: Core's NameInvalid, which echoes only a short prefix.</summary>
internal static class NameRules
{
    /// <summary>NameInvalid for a <paramref name="name"/> that can never be one of <paramref name="kind"/> ("project" or "database"); null for a valid one.</summary>
    public static DevDbException? Check(string name, string kind) => Names.Check(name, kind) is { } invalid ? DevDbException.From(invalid) : null;
}

/// <summary>
/// A time-to-live as people write it: 30m, 2h, 1d, 1h30m, 90s (or anything PowerShell turns into a
/// TimeSpan: '02:00:00', New-TimeSpan -Hours 2). Text that is neither stays as it is, so PowerShell
/// reports it as a parameter it cannot convert.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
internal sealed class DurationAttribute : ArgumentTransformationAttribute
{
    private static readonly System.Text.RegularExpressions.Regex Short = new(
        @"^\s*(?:(?<d>\d+)d)?(?:(?<h>\d+)h)?(?:(?<m>\d+)m)?(?:(?<s>\d+)s)?\s*$",
        System.Text.RegularExpressions.RegexOptions.IgnoreCase | System.Text.RegularExpressions.RegexOptions.CultureInvariant);

    public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData) => inputData switch
    {
        PSObject { BaseObject: string text } => Parse(text),
        string text => Parse(text),
        _ => inputData,
    };

    internal static object Parse(string text)
    {
        var match = Short.Match(text);
        if (!match.Success || text.Trim().Length == 0) return text;
        int Part(string group) => match.Groups[group].Success ? int.Parse(match.Groups[group].Value, System.Globalization.CultureInfo.InvariantCulture) : 0;
        return new TimeSpan(Part("d"), Part("h"), Part("m"), Part("s"));
    }
}
