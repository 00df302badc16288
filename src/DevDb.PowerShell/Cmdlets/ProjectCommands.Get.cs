using System.Management.Automation;
using DevDb.Core;
using DevDb.Core.Model;

namespace DevDb.Commands;

/// <summary>Gets projects: all of them, or by name (wildcards allowed).</summary>
/// <remarks>
/// <para>Get-DevDbProject returns each project with its status, PostgreSQL version, source, newest image
/// revision and its images. A name that matches no project is a non-terminating ProjectNotFound
/// error, so -ErrorAction SilentlyContinue (or Ignore) asks "is it there?"; a wildcard that matches
/// nothing returns nothing.</para>
/// </remarks>
/// <example>
/// <para>List projects, then look at one in full</para>
/// <code>
/// Get-DevDbProject
/// Get-DevDbProject shop | Format-List
/// </code>
/// </example>
/// <example>
/// <para>The images of a project, with their size and build time</para>
/// <code>(Get-DevDbProject shop).Images | Format-Table</code>
/// </example>
/// <example>
/// <para>A runbook: register the project only if it is missing</para>
/// <code>
/// if (-not (Get-DevDbProject -Name shop -ErrorAction Ignore)) {
///     New-DevDbProject -Name shop -Source s3://dumps/shop.dump | Out-Null
/// }
/// </code>
/// </example>
/// <seealso cref="NewDevDbProjectCommand"/>
/// <seealso cref="GetDevDbDatabaseCommand"/>
/// <seealso href="about_DevDb"/>
[Cmdlet(VerbsCommon.Get, "DevDbProject")]
[OutputType(typeof(DevDbProject))]
public sealed class GetDevDbProjectCommand : DevDbCmdlet
{
    /// <summary>Names or wildcard patterns of the projects to get; all when omitted. Takes strings, and objects with a Name property, from the pipeline.</summary>
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ProjectNameCompleter))]
    [LowerCase]
    public string[]? Name { get; set; }

    /// <summary>Gets the projects.</summary>
    protected override void ProcessRecord()
    {
        IReadOnlyList<Project> projects = Invoke((client, _, ct) => client.GetProjectsAsync(ct));
        foreach (Project project in NameFilter.Select(this, projects, p => p.Name, Name, "project", NotFound))
        {
            WriteObject(DevDbProject.From(project));
        }
    }

    private static DevDbException NotFound(string name) => DevDbException.From(DevDbErrors.ProjectNotFound(name));
}
