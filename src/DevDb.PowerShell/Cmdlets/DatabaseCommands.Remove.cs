using System.Management.Automation;
using DevDb.Core.Model;

namespace DevDb.Commands;

/// <summary>Removes databases: their server, files and record.</summary>
/// <remarks>
/// <para>Remove-DevDbDatabase stops each database's server and deletes its data, credentials and record.
/// It asks for confirmation first (ConfirmImpact High); -Force skips the prompt, while -WhatIf and an
/// explicit -Confirm still apply.</para>
/// <para>Each database is removed on its own: one that cannot be removed (DatabaseNotFound, Forbidden,
/// StateLocked) is a non-terminating error and the others go on.</para>
/// </remarks>
/// <example>
/// <para>Remove one database without a prompt</para>
/// <code>Remove-DevDbDatabase -Name dave -Force</code>
/// </example>
/// <example>
/// <para>A runbook: preview, then clear out a project's stopped databases</para>
/// <code>
/// Get-DevDbDatabase -Project shop | Where-Object Status -eq 'Stopped' | Remove-DevDbDatabase -WhatIf
/// Get-DevDbDatabase -Project shop | Where-Object Status -eq 'Stopped' | Remove-DevDbDatabase -Force
/// </code>
/// </example>
/// <seealso cref="NewDevDbDatabaseCommand"/>
/// <seealso cref="GetDevDbDatabaseCommand"/>
/// <seealso cref="RemoveDevDbProjectCommand"/>
/// <seealso href="about_DevDb"/>
[Cmdlet(VerbsCommon.Remove, "DevDbDatabase", DefaultParameterSetName = DatabaseCmdlet.NameSet,
    SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(void))]
public sealed class RemoveDevDbDatabaseCommand : DatabaseCmdlet
{
    /// <summary>Removes without asking for confirmation (-WhatIf still only reports).</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Removes one database.</summary>
    protected override void Process(string name)
    {
        if (!ShouldProcessUnlessForced(name, "Remove database and all its data", Force)) return;
        TryInvoke((client, _, ct) => client.RemoveDatabaseAsync(name, ct), $"Removing database {name}");
    }
}
