using System.Management.Automation;
using DevDb.Core.Client;
using DevDb.Core.Model;

namespace DevDb.Commands;

/// <summary>Fetches the project's source again (or a new one) and builds the next image revision.</summary>
/// <remarks>
/// <para>Update-DevDbProject builds a new image of the project: from its source fetched again, from a new
/// -Source, and with new -PostRestoreSql if given. New databases are cloned from the new image once it
/// is ready; existing databases keep theirs until Reset-DevDbDatabase. An image that no database uses
/// any more, and that is not the newest, is deleted.</para>
/// <para>A build that fails leaves the project as it was (its newest ready image stays in use) and
/// reports the error, which also stays in the project's Error and ErrorCode. With -NoWait the command
/// returns at once; Wait-DevDbProject waits for the build.</para>
/// <para>-DefaultTimeToLive, -MaxTimeToLive and -Protected change the project's lifetime settings
/// instead, without a new image (unless -Source or -PostRestoreSql is given too): databases created
/// from then on get the default time-to-live, no create or extension may pass the maximum, and a
/// protected project refuses Remove-DevDbProject (DatabaseProtected) until -Protected:$false.
/// -IdleTimeout sets (and -NoIdleTimeout drops) the idle timeout its new databases get.</para>
/// <para>-RefreshSchedule (a five-field cron expression) with -RefreshTimeZone (an IANA id, default UTC)
/// makes the project refresh itself: when the schedule comes, the next image is built from the
/// project's source as this command does (a source ending in / names the newest dump under an S3
/// prefix or in a folder). A failed refresh builds nothing: the previous image keeps serving, and
/// LastRefreshOutcome and LastRefreshError say why. -NoRefreshSchedule drops the schedule. Schedules
/// run only where a DevDb server runs (the API's background service, or the Kubernetes reconciler);
/// in local mode without a server a schedule is recorded and shown (NextRefresh) but no command runs
/// it. A bad schedule is ScheduleInvalid and changes nothing.</para>
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
/// <example>
/// <para>Databases of shop live 8 hours unless asked otherwise, at most 3 days; the project cannot be removed by mistake</para>
/// <code>Update-DevDbProject -Name shop -DefaultTimeToLive 8h -MaxTimeToLive 3d -Protected</code>
/// </example>
/// <example>
/// <para>Refresh every night at 03:00 Paris time from the newest dump under an S3 prefix</para>
/// <code>Update-DevDbProject -Name shop -Source s3://dumps/shop/ -Confirm:$false | Out-Null
/// Update-DevDbProject -Name shop -RefreshSchedule '0 3 * * *' -RefreshTimeZone 'Europe/Paris'</code>
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

    /// <summary>The time-to-live of databases created without one from now on (30m, 2h, 1d, or a TimeSpan); no new image is built for it.</summary>
    [Parameter]
    [Duration]
    public TimeSpan? DefaultTimeToLive { get; set; }

    /// <summary>The longest a database of the project may live from now, at create and at each extension; no new image is built for it.</summary>
    [Parameter]
    [Duration]
    public TimeSpan? MaxTimeToLive { get; set; }

    /// <summary>The idle timeout of its databases created from now on without one (30m, 2h, or a TimeSpan). No new image is built for it.</summary>
    [Parameter]
    [Duration]
    public TimeSpan? IdleTimeout { get; set; }

    /// <summary>Drops the project's idle timeout (the installation's, if any, then applies to new databases).</summary>
    [Parameter]
    public SwitchParameter NoIdleTimeout { get; set; }

    /// <summary>Protects the project (Remove-DevDbProject refuses); -Protected:$false unprotects it. No new image is built for it.</summary>
    [Parameter]
    public SwitchParameter Protected { get; set; }

    /// <summary>Refresh the project on this cron schedule (five fields: minute hour day-of-month month day-of-week, e.g. '0 3 * * *'), where a DevDb server runs; no new image is built now.</summary>
    [Parameter]
    public string? RefreshSchedule { get; set; }

    /// <summary>The IANA time zone of the schedule (e.g. Europe/Paris); default UTC.</summary>
    [Parameter]
    public string? RefreshTimeZone { get; set; }

    /// <summary>Drops the refresh schedule.</summary>
    [Parameter]
    public SwitchParameter NoRefreshSchedule { get; set; }

    /// <summary>Returns at once with the new image Building; Wait-DevDbProject waits for it.</summary>
    [Parameter]
    public SwitchParameter NoWait { get; set; }

    /// <summary>Refreshes the project.</summary>
    protected override void ProcessRecord()
    {
        if (!IsValidName(Name, "project")) return;
        bool settings = DefaultTimeToLive is not null || MaxTimeToLive is not null || MyInvocation.BoundParameters.ContainsKey(nameof(Protected))
            || IdleTimeout is not null || NoIdleTimeout.IsPresent
            || RefreshSchedule is not null || RefreshTimeZone is not null || NoRefreshSchedule;
        if (settings)
        {
            var change = new SetProjectRequest
            {
                Name = Name, DefaultTimeToLive = DefaultTimeToLive, MaxTimeToLive = MaxTimeToLive,
                IdleTimeout = IdleTimeout, NoIdleTimeout = NoIdleTimeout.IsPresent,
                Protected = MyInvocation.BoundParameters.ContainsKey(nameof(Protected)) ? Protected.IsPresent : null,
                RefreshSchedule = RefreshSchedule, RefreshTimeZone = RefreshTimeZone, NoRefreshSchedule = NoRefreshSchedule,
            };
            if (!ShouldProcess(Name, "Change the project's settings")) return;
            if (!TryInvoke((client, _, ct) => client.SetProjectAsync(change, ct), out Project changed, $"Changing project {Name}")) return;
            if (Source is null && PostRestoreSql is null)
            {
                WriteObject(DevDbProject.From(changed));
                return;
            }
        }
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
