using System.Management.Automation;
using DevDb.Core;
using DevDb.Core.Client;
using DevDb.Core.Model;

namespace DevDb.Commands;

/// <summary>Registers a project (a pg_dump and a PostgreSQL version) and restores its dump into image revision 1.</summary>
/// <remarks>
/// <para>New-DevDbProject records the project, fetches the dump, restores it once into a prepared image
/// (pg_restore --no-owner --no-acl, or psql for plain SQL dumps), runs the post-restore SQL, and
/// returns the project Ready. Every database of the project is then a fast copy of that image.</para>
/// <para>The source is a path (relative to the current PowerShell location), a file:// address, an
/// http(s):// URL or s3://bucket/key. The dump's format is read from its content: custom, tar,
/// directory, plain SQL or gzip-compressed plain SQL. Against a DevDb server, the server fetches the
/// source, so give it an address the server can reach.</para>
/// <para>Building takes about as long as pg_restore of the dump. With -NoWait the command returns at
/// once with the project Building; Wait-DevDbProject waits for it. Repeating the same command returns
/// the existing project; a different definition under the same name is ProjectExists.</para>
/// <para>A dump is data, never commands: a plain SQL dump holding a psql meta-command other than those
/// pg_dump writes is refused (DumpUnsafe, naming the line), and the restore runs as the database's
/// owner, not a superuser. Each database's login owns its data and is no superuser unless
/// -SuperuserLogins asks for it (see about_DevDb).</para>
/// </remarks>
/// <example>
/// <para>Register the sample dump</para>
/// <code>New-DevDbProject -Name shop -Source ./samples/shop.dump</code>
/// </example>
/// <example>
/// <para>A dump in S3, a fixed PostgreSQL version and masking SQL that must succeed before the image is published</para>
/// <code>
/// New-DevDbProject -Name billing -Source s3://dumps/billing.dump -PostgresVersion 15 `
///     -PostRestoreSql "UPDATE customers SET email = 'user' || customer_id || '@example.com'"
/// </code>
/// </example>
/// <example>
/// <para>A runbook: register several projects, build them side by side, then wait for all</para>
/// <code>
/// Import-Csv projects.csv | New-DevDbProject -NoWait | Out-Null
/// Get-DevDbProject | Wait-DevDbProject
/// </code>
/// <para>projects.csv has the columns Name and Source (and optionally PostgresVersion, DatabaseName, PostRestoreSql).</para>
/// </example>
/// <seealso cref="GetDevDbProjectCommand"/>
/// <seealso cref="WaitDevDbProjectCommand"/>
/// <seealso cref="UpdateDevDbProjectCommand"/>
/// <seealso cref="NewDevDbDatabaseCommand"/>
/// <seealso href="about_DevDb"/>
[Cmdlet(VerbsCommon.New, "DevDbProject", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(DevDbProject))]
public sealed class NewDevDbProjectCommand : DevDbCmdlet
{
    /// <summary>The project's name: a DNS label of 1-63 letters, digits and '-' (lower-cased).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [LowerCase]
    public string Name { get; set; } = "";

    /// <summary>The pg_dump to restore: a path, file://..., http(s)://... or s3://bucket/key.</summary>
    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    public string Source { get; set; } = "";

    /// <summary>The PostgreSQL major version the project's images and databases run; when omitted, the newest one installed (locally) or the server's default. Tab completes the installed versions.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(PostgresVersionCompleter))]
    public int? PostgresVersion { get; set; }

    /// <summary>The database the dump is restored into, inside every clone's server (default app).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string DatabaseName { get; set; } = Project.DefaultDatabaseName;

    /// <summary>SQL run after each restore (for example masking personal data); it must succeed, or no image is published (PostRestoreSqlFailed).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? PostRestoreSql { get; set; }

    /// <summary>Returns at once with the project Building; Wait-DevDbProject waits for the image. Locally the build runs in this PowerShell process, so keep the session open until it is done.</summary>
    [Parameter]
    public SwitchParameter NoWait { get; set; }

    /// <summary>
    /// Makes each database's login a PostgreSQL superuser instead of the owner of its data. A superuser
    /// can run programs and read files as its server's OS user, so use it only where each database has
    /// OS-level isolation of its own; refused with SuperuserLoginsNotAllowed where the installation does not allow it (a DevDb server, by default).
    /// </summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public SwitchParameter SuperuserLogins { get; set; }

    /// <summary>Creates the project.</summary>
    protected override void ProcessRecord()
    {
        if (!IsValidName(Name, "project")) return;
        if (!ShouldProcess(Name, $"Create project from '{SourceText.Shown(Source)}' and restore its first image")) return;
        var request = new NewProjectRequest
        {
            Name = Name,
            Source = ResolveSource(Source),
            PostgresVersion = PostgresVersion,
            DatabaseName = DatabaseName,
            PostRestoreSql = PostRestoreSql,
            SuperuserLogins = SuperuserLogins,
        };
        WriteVerbose(SourceText.Fetching(request.Source, ClientIsLocal));
        bool done = NoWait
            ? TryInvoke((client, _, ct) => client.BeginNewProjectAsync(request, ct), out Project project, $"Starting project {Name}")
            : TryInvoke((client, progress, ct) => client.NewProjectAsync(request, progress, ct), out project, $"Creating project {Name}");
        if (done)
        {
            WriteVerbose(Describe(project));
            WriteObject(DevDbProject.From(project));
        }
    }

    internal static string Describe(Project project)
    {
        string images = string.Join("; ", project.Images.OrderBy(i => i.Revision).Select(i => i.Status == ImageStatus.Ready
            ? $"image r{i.Revision} Ready ({i.SourceFormat} dump of {Megabytes(i.SourceBytes)} restored to {Megabytes(i.SizeBytes)} in {i.BuildDuration.TotalSeconds:0.00} s)"
            : $"image r{i.Revision} {i.Status}"));
        return $"Project '{project.Name}' is {project.Status}, PostgreSQL {project.PostgresVersion}: {(images.Length == 0 ? "no image" : images)}.";
    }

    private static string Megabytes(long bytes) => $"{bytes / 1048576.0:0.0} MB";
}

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

/// <summary>Fetches the project's source again (or a new one) and builds the next image revision.</summary>
/// <remarks>
/// <para>Update-DevDbProject builds a new image of the project: from its source fetched again, from a new
/// -Source, and with new -PostRestoreSql if given. New databases are cloned from the new image once it
/// is ready; existing databases keep theirs until Reset-DevDbDatabase. An image that no database uses
/// any more, and that is not the newest, is deleted.</para>
/// <para>A build that fails leaves the project as it was (its newest ready image stays in use) and
/// reports the error, which also stays in the project's Error and ErrorCode. With -NoWait the command
/// returns at once; Wait-DevDbProject waits for the build.</para>
/// </remarks>
/// <example>
/// <para>Refresh from the same source</para>
/// <code>Update-DevDbProject -Name shop</code>
/// </example>
/// <example>
/// <para>A nightly runbook: the latest dump, then every database onto it</para>
/// <code>
/// Update-DevDbProject -Name shop -Source s3://dumps/shop-latest.dump -Confirm:$false | Out-Null
/// Get-DevDbDatabase -Project shop | Reset-DevDbDatabase -Force
/// </code>
/// </example>
/// <example>
/// <para>Start the build, do other work, then wait</para>
/// <code>
/// Update-DevDbProject -Name shop -NoWait -Confirm:$false | Out-Null
/// # ...
/// Wait-DevDbProject -Name shop -Timeout 1800
/// </code>
/// </example>
/// <seealso cref="NewDevDbProjectCommand"/>
/// <seealso cref="WaitDevDbProjectCommand"/>
/// <seealso cref="ResetDevDbDatabaseCommand"/>
/// <seealso href="about_DevDb"/>
[Cmdlet(VerbsData.Update, "DevDbProject", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(DevDbProject))]
public sealed class UpdateDevDbProjectCommand : DevDbCmdlet
{
    /// <summary>The project to refresh (lower-cased). Takes objects with a Name property, such as Get-DevDbProject's, from the pipeline.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(ProjectNameCompleter))]
    [LowerCase]
    public string Name { get; set; } = "";

    /// <summary>A new dump address (path, file://, http(s):// or s3://); when omitted the current one is fetched again.</summary>
    [Parameter]
    public string? Source { get; set; }

    /// <summary>New post-restore SQL; when omitted the current one is kept.</summary>
    [Parameter]
    public string? PostRestoreSql { get; set; }

    /// <summary>Returns at once with the new image Building; Wait-DevDbProject waits for it.</summary>
    [Parameter]
    public SwitchParameter NoWait { get; set; }

    /// <summary>Refreshes the project.</summary>
    protected override void ProcessRecord()
    {
        if (!IsValidName(Name, "project")) return;
        if (!ShouldProcess(Name, Source is null ? "Restore the source again into a new image" : $"Restore '{SourceText.Shown(Source)}' into a new image")) return;
        var request = new UpdateProjectRequest
        {
            Name = Name,
            Source = Source is null ? null : ResolveSource(Source),
            PostRestoreSql = PostRestoreSql,
        };
        if (request.Source is not null) WriteVerbose(SourceText.Fetching(request.Source, ClientIsLocal));
        bool done = NoWait
            ? TryInvoke((client, _, ct) => client.BeginUpdateProjectAsync(request, ct), out Project project, $"Starting an image of project {Name}")
            : TryInvoke((client, progress, ct) => client.UpdateProjectAsync(request, progress, ct), out project, $"Updating project {Name}");
        if (done)
        {
            WriteVerbose(NewDevDbProjectCommand.Describe(project));
            WriteObject(DevDbProject.From(project));
        }
    }
}

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

/// <summary>How the cmdlets show a dump's address: without user name, password or query string (a presigned URL's signature), and only a short prefix.</summary>
internal static class SourceText
{
    public static string Shown(string source) => DevDbErrors.ShownSource(source);

    /// <summary>Who reads the dump at <paramref name="source"/> and from where, for -Verbose; <paramref name="local"/> is true when this process (the local engine) fetches it, false when a server or cluster does.</summary>
    public static string Fetching(string source, bool local)
    {
        if (!local) return $"Source {Shown(source)}: fetched by the DevDb server or cluster, with its own settings and credentials.";
        if (source.StartsWith("s3://", StringComparison.OrdinalIgnoreCase))
        {
            // The engine's rule (S3DumpSource): AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL, else AWS itself.
            string? endpoint = new[] { "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL" }
                .Select(name => Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? $"{SourceText.Shown(value)} ({name})" : null)
                .FirstOrDefault(value => value is not null);
            return $"Source {Shown(source)}: fetched by this machine from the S3 endpoint {endpoint ?? "of AWS (region from AWS_REGION or the AWS profile)"}, with the standard AWS credential chain.";
        }
        return Uri.TryCreate(source, UriKind.Absolute, out Uri? uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
            ? $"Source {Shown(source)}: downloaded by this machine."
            : $"Source {Shown(source)}: read from this machine's file system.";
    }
}
