using System.Management.Automation;
using DevDb.Core;
using DevDb.Core.Model;

namespace DevDb.Commands;

/// <summary>Waits until projects have no image being built, and reports a build that failed.</summary>
/// <remarks>
/// <para>Wait-DevDbProject waits for each project until no image of it is being built (after
/// New-DevDbProject -NoWait or Update-DevDbProject -NoWait) and returns it. If the project's last
/// build failed, its error is written instead (for example DumpCorrupt or PostRestoreSqlFailed): the
/// same error New-DevDbProject or Update-DevDbProject would have reported.</para>
/// <para>Ctrl+C stops the waiting only: the build goes on. With -Timeout, a build still running after
/// that many seconds is WaitTimedOut.</para>
/// </remarks>
/// <example>
/// <para>Start a build and wait for it later</para>
/// <code>
/// New-DevDbProject -Name shop -Source s3://dumps/shop.dump -NoWait | Out-Null
/// Wait-DevDbProject -Name shop -Timeout 1800
/// </code>
/// </example>
/// <example>
/// <para>A runbook: wait for every project, and stop at the first failed build</para>
/// <code>Get-DevDbProject | Wait-DevDbProject -ErrorAction Stop</code>
/// </example>
/// <seealso cref="NewDevDbProjectCommand"/>
/// <seealso cref="UpdateDevDbProjectCommand"/>
/// <seealso cref="GetDevDbProjectCommand"/>
/// <seealso href="about_DevDb"/>
[Cmdlet(VerbsLifecycle.Wait, "DevDbProject")]
[OutputType(typeof(DevDbProject))]
public sealed class WaitDevDbProjectCommand : DevDbCmdlet
{
    /// <summary>Names of the projects to wait for (lower-cased). Takes strings, and objects with a Name property, from the pipeline.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(ProjectNameCompleter))]
    [LowerCase]
    public string[] Name { get; set; } = [];

    /// <summary>Seconds to wait for each project; -1 (the default) waits until its build is done or Ctrl+C.</summary>
    [Parameter]
    [ValidateRange(-1, int.MaxValue)]
    public int Timeout { get; set; } = -1;

    /// <summary>Waits for each project.</summary>
    protected override void ProcessRecord()
    {
        foreach (string name in Name.Where(n => IsValidName(n, "project")))
        {
            if (TryInvoke((client, progress, ct) => WaitDevDbDatabaseCommand.WithTimeout(Timeout, ct, token => client.WaitProjectAsync(name, progress, token),
                    () => DevDbException.From(DevDbErrors.WaitTimedOut($"An image of project '{name}' was still being built after {Timeout} s.",
                        $"Wait longer (Wait-DevDbProject -Name {name} -Timeout <seconds>), or look at it with Get-DevDbProject -Name {name}.", name))),
                    out Project project, $"Building an image of project {name}"))
            {
                WriteVerbose(NewDevDbProjectCommand.Describe(project));
                WriteObject(DevDbProject.From(project));
            }
        }
    }
}
