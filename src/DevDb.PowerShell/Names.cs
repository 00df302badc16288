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

/// <summary>The module's check of a name before it goes anywhere: a clear NameInvalid that echoes only a short prefix.</summary>
internal static class NameRules
{
    /// <summary>NameInvalid for a <paramref name="name"/> that can never be one of <paramref name="kind"/> ("project" or "database"); null for a valid one.</summary>
    public static DevDbException? Check(string name, string kind) => Names.IsValid(name)
        ? null
        : new DevDbException(ErrorCodes.NameInvalid, ErrorCategory.InvalidArgument,
            $"'{UserInput.Shown(name)}' is not a valid {kind} name: {Problem(name)}.",
            $"Use 1-{Names.MaxLength} lowercase letters, digits or '-', starting and ending with a letter or digit, e.g. 'dave-shop'.",
            UserInput.Shown(name));

    // The name has been lower-cased already (LowerCaseAttribute), so upper case is never the problem.
    private static string Problem(string name) => name switch
    {
        "" => "it is empty",
        { Length: > Names.MaxLength } => $"it has {name.Length} characters, more than {Names.MaxLength}",
        _ when name.StartsWith('-') || name.EndsWith('-') => "it starts or ends with '-'",
        _ => "it has characters other than a-z, 0-9 and '-'",
    };
}
