using System.Management.Automation;
using DevDb.Core;
using DevDb.Core.Client;
using DevDb.Core.Model;

namespace DevDb.Commands;

/// <summary>Registers a project and restores its dump into image revision 1.</summary>
[Cmdlet(VerbsCommon.New, "DevDbProject", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(DevDbProject))]
public sealed class NewDevDbProjectCommand : DevDbCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    public string Name { get; set; } = "";

    /// <summary>A pg_dump: a file path, https://..., or s3://bucket/key.</summary>
    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    public string Source { get; set; } = "";

    /// <summary>Postgres major version; the newest installed one when omitted.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public int? PostgresVersion { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string DatabaseName { get; set; } = Project.DefaultDatabaseName;

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? PostRestoreSql { get; set; }

    protected override void ProcessRecord()
    {
        Require(() => Names.Validate(Name, "project"));
        if (!ShouldProcess(Name, $"Create project from '{Source}' and restore its first image")) return;
        var request = new NewProjectRequest
        {
            Name = Name,
            Source = ResolveSource(Source),
            PostgresVersion = PostgresVersion,
            DatabaseName = DatabaseName,
            PostRestoreSql = PostRestoreSql,
        };
        if (TryInvoke((client, progress, ct) => client.NewProjectAsync(request, progress, ct), out Project project,
                $"Creating project {Name}"))
        {
            WriteObject(DevDbProject.From(project));
        }
    }
}

/// <summary>Lists projects; -Name takes wildcards.</summary>
[Cmdlet(VerbsCommon.Get, "DevDbProject")]
[OutputType(typeof(DevDbProject))]
public sealed class GetDevDbProjectCommand : DevDbCmdlet
{
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ProjectNameCompleter))]
    public string[]? Name { get; set; }

    protected override void ProcessRecord()
    {
        IReadOnlyList<Project> projects = Invoke((client, _, ct) => client.GetProjectsAsync(ct));
        foreach (Project project in NameFilter.Select(this, projects, p => p.Name, Name, NotFound))
        {
            WriteObject(DevDbProject.From(project));
        }
    }

    private static DevDbException NotFound(string name) => new(ErrorCodes.ProjectNotFound, DevDbErrorCategory.ObjectNotFound,
        $"There is no project named '{name}'.", "Run Get-DevDbProject to list projects, or New-DevDbProject to register one.", name);
}

/// <summary>Fetches the project's source again (or a new one) and builds the next image revision.</summary>
[Cmdlet(VerbsData.Update, "DevDbProject", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(DevDbProject))]
public sealed class UpdateDevDbProjectCommand : DevDbCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(ProjectNameCompleter))]
    public string Name { get; set; } = "";

    /// <summary>A new dump address; the current one is fetched again when omitted.</summary>
    [Parameter]
    public string? Source { get; set; }

    /// <summary>New post-restore SQL; the current one is kept when omitted.</summary>
    [Parameter]
    public string? PostRestoreSql { get; set; }

    protected override void ProcessRecord()
    {
        if (!ShouldProcess(Name, Source is null ? "Restore the source again into a new image" : $"Restore '{Source}' into a new image")) return;
        var request = new UpdateProjectRequest
        {
            Name = Name,
            Source = Source is null ? null : ResolveSource(Source),
            PostRestoreSql = PostRestoreSql,
        };
        if (TryInvoke((client, progress, ct) => client.UpdateProjectAsync(request, progress, ct), out Project project,
                $"Updating project {Name}"))
        {
            WriteObject(DevDbProject.From(project));
        }
    }
}

/// <summary>Removes a project and its images; -Force also removes its databases.</summary>
[Cmdlet(VerbsCommon.Remove, "DevDbProject", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(void))]
public sealed class RemoveDevDbProjectCommand : DevDbCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(ProjectNameCompleter))]
    public string[] Name { get; set; } = [];

    /// <summary>Also removes the project's databases, and does not ask for confirmation.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        foreach (string name in Name)
        {
            string action = Force ? "Remove project, its images and all its databases" : "Remove project and its images";
            if (!ShouldProcessUnlessForced(name, action, Force)) continue;
            TryInvoke((client, _, ct) => client.RemoveProjectAsync(name, Force, ct));
        }
    }
}
