using System.Management.Automation;
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
/// <para>A source that ends in / names the newest dump: s3://bucket/prefix/ the newest object under the
/// prefix (by LastModified), a folder path its newest file. With -RefreshSchedule (five-field cron) and
/// -RefreshTimeZone (IANA id, default UTC) the project refreshes itself from its source when the
/// schedule comes, keeping the previous image when a refresh fails. Schedules run only where a DevDb
/// server runs (the API's background service or the Kubernetes reconciler): in local mode without a
/// server the schedule is recorded and shown (NextRefresh) but no command runs it. A bad schedule is
/// ScheduleInvalid and nothing is recorded.</para>
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
/// <example>
/// <para>The newest dump under an S3 prefix, refreshed every night at 03:00 Paris time by the DevDb server</para>
/// <code>New-DevDbProject -Name shop -Source s3://dumps/shop/ -RefreshSchedule '0 3 * * *' -RefreshTimeZone 'Europe/Paris'</code>
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

    /// <summary>The time-to-live of the project's databases created without one (30m, 2h, 1d, or a TimeSpan); default: they do not expire.</summary>
    [Parameter]
    [Duration]
    public TimeSpan? DefaultTimeToLive { get; set; }

    /// <summary>The longest any of its databases may live from now, at create and at each extension (30m, 2h, 1d, or a TimeSpan).</summary>
    [Parameter]
    [Duration]
    public TimeSpan? MaxTimeToLive { get; set; }

    /// <summary>The idle timeout of its databases created without one (30m, 2h, or a TimeSpan): each stops after that long with no client. Default: the installation's, if any.</summary>
    [Parameter]
    [Duration]
    public TimeSpan? IdleTimeout { get; set; }

    /// <summary>Makes Remove-DevDbProject refuse (DatabaseProtected) until Update-DevDbProject -Protected:$false.</summary>
    [Parameter]
    public SwitchParameter Protected { get; set; }

    /// <summary>Refresh the project from its source on this cron schedule (five fields: minute hour day-of-month month day-of-week, e.g. '0 3 * * *'), where a DevDb server runs.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? RefreshSchedule { get; set; }

    /// <summary>The IANA time zone of -RefreshSchedule (e.g. Europe/Paris); default UTC.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? RefreshTimeZone { get; set; }

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
            DefaultTimeToLive = DefaultTimeToLive,
            MaxTimeToLive = MaxTimeToLive,
            IdleTimeout = IdleTimeout,
            Protected = Protected.IsPresent,
            RefreshSchedule = RefreshSchedule,
            RefreshTimeZone = RefreshTimeZone,
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
