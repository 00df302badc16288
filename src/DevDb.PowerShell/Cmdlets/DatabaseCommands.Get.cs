using System.Management.Automation;
using DevDb.Core;
using DevDb.Core.Model;

namespace DevDb.Commands;

/// <summary>Gets databases: by name (wildcards allowed), of one project, or all you may see.</summary>
/// <remarks>
/// <para>Get-DevDbDatabase returns databases with their connection details. Without parameters it lists
/// every database you may see (on a server, a developer sees only their own). -Name takes names or
/// wildcard patterns; -Project narrows the list to one project, and so does piping projects from
/// Get-DevDbProject.</para>
/// <para>A name that matches no database is a non-terminating DatabaseNotFound error, and an unknown
/// project is ProjectNotFound, so -ErrorAction SilentlyContinue (or Ignore) asks "is it there?"
/// without an error. A wildcard that matches nothing returns nothing. Names are compared in lower
/// case, as DevDb stores them.</para>
/// <para>Status is read when you ask: a server that died or was stopped outside DevDb shows as
/// Stopped.</para>
/// </remarks>
/// <example>
/// <para>List every database, then one project's</para>
/// <code>
/// Get-DevDbDatabase
/// Get-DevDbDatabase -Project shop
/// </code>
/// </example>
/// <example>
/// <para>Pipe names or projects</para>
/// <code>
/// 'dave', 'erin' | Get-DevDbDatabase
/// Get-DevDbProject shop | Get-DevDbDatabase -Name 'ci-*'
/// </code>
/// </example>
/// <example>
/// <para>A runbook: is the database there?</para>
/// <code>
/// if (-not (Get-DevDbDatabase -Name nightly -ErrorAction Ignore)) {
///     New-DevDbDatabase -Project shop -Name nightly | Out-Null
/// }
/// </code>
/// </example>
/// <example>
/// <para>Save the list for a report, without any password</para>
/// <code>Get-DevDbDatabase | Export-Csv -Path databases.csv -NoTypeInformation</code>
/// </example>
/// <seealso cref="NewDevDbDatabaseCommand"/>
/// <seealso cref="RemoveDevDbDatabaseCommand"/>
/// <seealso cref="GetDevDbConnectionStringCommand"/>
/// <seealso cref="GetDevDbProjectCommand"/>
/// <seealso href="about_DevDb"/>
[Cmdlet(VerbsCommon.Get, "DevDbDatabase", DefaultParameterSetName = NameSet)]
[OutputType(typeof(DevDbDatabase))]
public sealed class GetDevDbDatabaseCommand : DevDbCmdlet
{
    /// <summary>The parameter set with names and a project name.</summary>
    public const string NameSet = "Name";
    /// <summary>The parameter set with project objects from Get-DevDbProject.</summary>
    public const string InputObjectSet = "InputObject";

    /// <summary>Names or wildcard patterns of the databases to get; all when omitted. Takes strings, and objects with a Name property, from the pipeline.</summary>
    [Parameter(Position = 0, ParameterSetName = NameSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Parameter(Position = 0, ParameterSetName = InputObjectSet)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(DatabaseNameCompleter))]
    [LowerCase]
    public string[]? Name { get; set; }

    /// <summary>Only the databases of this project; an unknown project is ProjectNotFound.</summary>
    [Parameter(ParameterSetName = NameSet)]
    [ArgumentCompleter(typeof(ProjectNameCompleter))]
    [LowerCase]
    public string? Project { get; set; }

    /// <summary>Projects (from Get-DevDbProject) whose databases to get.</summary>
    [Parameter(Mandatory = true, ParameterSetName = InputObjectSet, ValueFromPipeline = true)]
    public DevDbProject[] InputObject { get; set; } = [];

    /// <summary>Gets the databases.</summary>
    protected override void ProcessRecord()
    {
        if (ParameterSetName == InputObjectSet)
        {
            foreach (DevDbProject project in InputObject) WriteProjectDatabases(project.Name);
            return;
        }
        // Plain names are looked up one by one: one request each, and a server's own answer for
        // them (Forbidden for someone else's database) rather than a filtered list's silence.
        if (Project is null && Name is { Length: > 0 } && !Name.Any(WildcardPattern.ContainsWildcardCharacters))
        {
            foreach (string name in Name.Where(n => IsValidName(n, "database")))
            {
                if (TryInvoke((client, _, ct) => client.GetDatabaseAsync(name, ct), out Database database))
                {
                    WriteDatabase(database);
                }
            }
            return;
        }
        WriteProjectDatabases(Project);
    }

    private void WriteProjectDatabases(string? project)
    {
        if (project is not null && !IsValidName(project, "project")) return;
        if (TryInvoke((client, _, ct) => client.GetDatabasesAsync(project, cancellationToken: ct), out IReadOnlyList<Database> databases))
        {
            WriteDatabases(NameFilter.Select(this, databases, d => d.Name, Name, "database",
                name => NotFound(name, project)).ToList());
        }
    }

    private static DevDbException NotFound(string name, string? project) => DevDbException.From(DevDbErrors.DatabaseNotFound(name, project));
}
