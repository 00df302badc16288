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
