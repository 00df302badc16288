using System.Management.Automation;
using DevDb.Core;
using DevDb.Core.Model;

namespace DevDb.Commands;

/// <summary>Removes projects and their images; with -IncludeDatabases, their databases too.</summary>
/// <remarks>
/// <para>Remove-DevDbProject deletes a project's images and record. A project that still has databases
/// is refused with ProjectHasDatabases, unless -IncludeDatabases is given: then its databases are
/// removed first, one by one with a progress bar, and the project after them.</para>
/// <para>It asks for confirmation first (ConfirmImpact High). -Force skips the prompt and nothing else;
/// -WhatIf and an explicit -Confirm still apply. Against a DevDb server only admins may remove projects.</para>
/// </remarks>
/// <example>
/// <para>Remove a project that has no databases</para>
/// <code>Remove-DevDbProject -Name shop-old</code>
/// </example>
/// <example>
/// <para>A runbook: preview, then remove a project and all its databases without a prompt</para>
/// <code>
/// Remove-DevDbProject -Name shop -IncludeDatabases -WhatIf
/// Remove-DevDbProject -Name shop -IncludeDatabases -Force
/// </code>
/// </example>
/// <example>
/// <para>Clear out every project whose build failed</para>
/// <code>Get-DevDbProject | Where-Object Status -eq 'Failed' | Remove-DevDbProject -Force</code>
/// </example>
/// <seealso cref="NewDevDbProjectCommand"/>
/// <seealso cref="RemoveDevDbDatabaseCommand"/>
/// <seealso href="about_DevDb"/>
[Cmdlet(VerbsCommon.Remove, "DevDbProject", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(void))]
public sealed class RemoveDevDbProjectCommand : DevDbCmdlet
{
    private const int ProgressActivityId = 0x0DEC;

    /// <summary>Names of the projects to remove (lower-cased). Takes strings, and objects with a Name property such as Get-DevDbProject's, from the pipeline.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(ProjectNameCompleter))]
    [LowerCase]
    public string[] Name { get; set; } = [];

    /// <summary>Also removes the project's databases (without it, a project with databases is ProjectHasDatabases).</summary>
    [Parameter]
    public SwitchParameter IncludeDatabases { get; set; }

    /// <summary>Removes without asking for confirmation (-WhatIf still only reports). It does not remove databases: that is -IncludeDatabases.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Removes each project.</summary>
    protected override void ProcessRecord()
    {
        foreach (string name in Name.Where(n => IsValidName(n, "project")))
        {
            string action = IncludeDatabases ? "Remove project, its images and all its databases" : "Remove project and its images";
            if (!ShouldProcessUnlessForced(name, action, Force)) continue;
            // The engine or server decides first (ProjectNotFound, Forbidden, ProjectHasDatabases), so no database goes when the project may not.
            DevDbException? error = TryRemove(name, includeDatabases: false);
            if (error is { ErrorCode: ErrorCodes.ProjectHasDatabases } && IncludeDatabases)
            {
                if (!TryInvoke((client, _, ct) => client.GetDatabasesAsync(name, cancellationToken: ct), out IReadOnlyList<Database> databases)
                    || !RemoveDatabases(name, databases)) continue;
                error = TryRemove(name, includeDatabases: true);
            }
            if (error is not null) WriteError(error);
        }
    }

    private DevDbException? TryRemove(string name, bool includeDatabases) =>
        InvokeForError((client, _, ct) => client.RemoveProjectAsync(name, includeDatabases, ct), $"Removing project {name}");

    /// <summary>Removes the project's databases one by one with a progress bar; false if one could not be removed (its error is written).</summary>
    private bool RemoveDatabases(string project, IReadOnlyList<Database> databases)
    {
        string activity = $"Removing project {project}";
        bool removedAll = true;
        for (int i = 0; i < databases.Count; i++)
        {
            string database = databases[i].Name;
            WriteProgress(new ProgressRecord(ProgressActivityId, activity, $"Database {i + 1} of {databases.Count}: {database}")
            {
                PercentComplete = 100 * i / databases.Count,
            });
            removedAll &= TryInvoke((client, _, ct) => client.RemoveDatabaseAsync(database, ct), $"Removing database {database}");
        }
        WriteProgress(new ProgressRecord(ProgressActivityId, activity, $"{databases.Count} database(s) removed")
        {
            PercentComplete = 100,
            RecordType = ProgressRecordType.Completed,
        });
        return removedAll;
    }
}
