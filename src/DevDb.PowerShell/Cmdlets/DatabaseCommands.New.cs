using System.Management.Automation;
using DevDb.Core.Client;
using DevDb.Core.Model;

namespace DevDb.Commands;

/// <summary>Creates a database: a copy of the project's newest image with its own server, port, user and password.</summary>
/// <remarks>
/// <para>New-DevDbDatabase clones the newest ready image of a project into a new database, starts its
/// server, gives its login role a fresh random password, waits until it answers, and returns it with
/// its connection details. The password is only in the returned object's GetCredential() and in
/// Get-DevDbConnectionString; no default view shows it.</para>
/// <para>Repeating the same command (same name, project and owner) returns the existing database, so
/// scripts can be run again. A name taken by another owner or project is DatabaseExists. Names are
/// DNS labels (each database becomes a host name): what you type is lower-cased, and a name that can
/// never be a DNS label is NameInvalid.</para>
/// <para>With -NoWait the command returns at once with the database Creating while the clone goes on
/// (in the server, or locally in this PowerShell process); Wait-DevDbDatabase waits for it. Against a
/// DevDb server the database belongs to your token's user; admins may create one for another user
/// with -Owner.</para>
/// <para>Lifetimes: -TimeToLive (30m, 2h, 1d, or a TimeSpan) or -ExpiresAt removes the database when
/// its time comes; without either, the project's DefaultTimeToLive applies (none: it does not expire,
/// unless the project or installation has a maximum). Set-DevDbDatabase extends it; renewing a CI job's
/// lease is Set-DevDbDatabase -TimeToLive 30m. -Protected makes Remove and Reset refuse
/// (DatabaseProtected) and keeps it from expiring or being idle-stopped. -IdleTimeout 30m stops it (data,
/// port and password kept) once no client has been connected for 30 minutes; running the same
/// New-DevDbDatabase again, or Start-DevDbDatabase, starts it again. On a server or cluster expiry happens on time;
/// with the local engine, when DevDb next runs a changing command.</para>
/// </remarks>
/// <example>
/// <para>Create a database for yourself and look at it</para>
/// <code>
/// $db = New-DevDbDatabase -Project shop -Name dave
/// $db | Format-List Name, Status, Host, Port, DatabaseName, Username, ImageRevision
/// </code>
/// <para>The object carries everything needed to connect; the password stays inside it.</para>
/// </example>
/// <example>
/// <para>Connect with psql, the password in its environment rather than on the command line</para>
/// <code>
/// $db = New-DevDbDatabase -Project shop -Name dave
/// $env:PGPASSWORD = $db.GetCredential().GetNetworkCredential().Password
/// psql -h $db.Host -p $db.Port -U $db.Username -d $db.DatabaseName
/// </code>
/// </example>
/// <example>
/// <para>A CI job: clone while the build runs, wait for it before the tests</para>
/// <code>
/// $name = "ci-$($env:BUILD_ID)"
/// New-DevDbDatabase -Project shop -Name $name -NoWait | Out-Null
/// dotnet build
/// Wait-DevDbDatabase -Name $name -Timeout 300 | Out-Null
/// $env:DATABASE_URL = Get-DevDbConnectionString -Name $name
/// dotnet test
/// Remove-DevDbDatabase -Name $name -Force
/// </code>
/// <para>BUILD_ID may hold upper-case letters: the name is lower-cased.</para>
/// </example>
/// <example>
/// <para>A branch: a database of your own from another database's data, with its own login and password</para>
/// <code>
/// Checkpoint-DevDbDatabase -Name dave -Checkpoint before-migration
/// New-DevDbDatabase -Name erin -FromDatabase dave -Checkpoint before-migration
/// </code>
/// <para>Without -Checkpoint the branch starts from dave's current data (dave stops for a moment while it is copied).</para>
/// </example>
/// <example>
/// <para>A CI job's lease: the database is removed 30 minutes after the job stops renewing it, whatever killed the job</para>
/// <code>
/// New-DevDbDatabase -Project shop -Name "ci-$($env:BUILD_ID)" -TimeToLive 30m
/// # ... between test stages:
/// Set-DevDbDatabase -Name "ci-$($env:BUILD_ID)" -TimeToLive 30m
/// </code>
/// </example>
/// <example>
/// <para>A database for a demo next week that nobody may remove or reset by mistake</para>
/// <code>New-DevDbDatabase -Project shop -Name demo -ExpiresAt (Get-Date).AddDays(8) -Protected</code>
/// </example>
/// <example>
/// <para>Pipe the project</para>
/// <code>Get-DevDbProject shop | New-DevDbDatabase -Name beta</code>
/// </example>
/// <seealso cref="WaitDevDbDatabaseCommand"/>
/// <seealso cref="GetDevDbDatabaseCommand"/>
/// <seealso cref="GetDevDbConnectionStringCommand"/>
/// <seealso cref="RemoveDevDbDatabaseCommand"/>
/// <seealso cref="SetDevDbDatabaseCommand"/>
/// <seealso href="about_DevDb"/>
[Cmdlet(VerbsCommon.New, "DevDbDatabase", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low, DefaultParameterSetName = ImageSet)]
[OutputType(typeof(DevDbDatabase))]
public sealed class NewDevDbDatabaseCommand : DevDbCmdlet
{
    /// <summary>The parameter set that clones the project's newest image.</summary>
    public const string ImageSet = "Image";
    /// <summary>The parameter set that branches another database.</summary>
    public const string BranchSet = "Branch";

    /// <summary>
    /// The project to clone from (its newest ready image): a name (Tab completes them), or a project
    /// from Get-DevDbProject. Takes projects, names, and objects with a Project property from the pipeline.
    /// </summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = ImageSet)]
    [ArgumentCompleter(typeof(ProjectNameCompleter))]
    [ProjectName]
    [LowerCase]
    public string Project { get; set; } = "";

    /// <summary>The new database's name: a DNS label of 1-63 letters, digits and '-' (lower-cased), unique in the installation.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [LowerCase]
    public string Name { get; set; } = "";

    /// <summary>A branch: the database whose current data (or -Checkpoint's) the new one starts from, instead of the project's image. Your own databases; admins any. Tab completes database names.</summary>
    [Parameter(Mandatory = true, ParameterSetName = BranchSet)]
    [ArgumentCompleter(typeof(DatabaseNameCompleter))]
    [LowerCase]
    public string FromDatabase { get; set; } = "";

    /// <summary>With -FromDatabase: the checkpoint of that database to start from (Tab completes its checkpoints).</summary>
    [Parameter(ParameterSetName = BranchSet)]
    [ArgumentCompleter(typeof(CheckpointNameCompleter))]
    [LowerCase]
    public string? Checkpoint { get; set; }

    /// <summary>Who the database is for; when omitted, you (the OS user locally, the token's user on a server). Only admins may name another user on a server.</summary>
    [Parameter]
    public string? Owner { get; set; }

    /// <summary>Removes the database this long after it is created: 30m, 2h, 1d, 1h30m, or a TimeSpan. Not with -ExpiresAt. Default: the project's DefaultTimeToLive, if any.</summary>
    [Parameter]
    [Duration]
    public TimeSpan? TimeToLive { get; set; }

    /// <summary>Removes the database at this moment. Not with -TimeToLive.</summary>
    [Parameter]
    public DateTimeOffset? ExpiresAt { get; set; }

    /// <summary>Refuses Remove-DevDbDatabase and Reset-DevDbDatabase (DatabaseProtected) and never expires, until Set-DevDbDatabase -Protected:$false.</summary>
    [Parameter]
    public SwitchParameter Protected { get; set; }

    /// <summary>
    /// Stops the database (keeping data, port and password) after this long with no client connection: 30m, 2h, or a
    /// TimeSpan; at least a minute. Default: the project's IdleTimeout, else the installation's, else never.
    /// </summary>
    [Parameter]
    [Duration]
    public TimeSpan? IdleTimeout { get; set; }

    /// <summary>Returns at once with the database Creating; Wait-DevDbDatabase waits for it. Locally the clone runs in this PowerShell process, so keep the session open until it is done.</summary>
    [Parameter]
    public SwitchParameter NoWait { get; set; }

    /// <summary>Creates the database.</summary>
    protected override void ProcessRecord()
    {
        bool branch = ParameterSetName == BranchSet;
        if (branch ? !IsValidName(FromDatabase, "database") : !IsValidName(Project, "project")) return;
        if (!IsValidName(Name, "database")) return;
        if (!ShouldProcess(Name, branch ? $"Create database as a branch of '{FromDatabase}'{(Checkpoint is null ? "" : $" at checkpoint '{Checkpoint}'")}" : $"Create database from project '{Project}'")) return;
        var request = new NewDatabaseRequest
        {
            Project = branch ? "" : Project, Name = Name, Owner = Owner, FromDatabase = branch ? FromDatabase : null, Checkpoint = branch ? Checkpoint : null,
            TimeToLive = TimeToLive, ExpiresAt = ExpiresAt, Protected = Protected.IsPresent, IdleTimeout = IdleTimeout,
        };
        bool done = NoWait
            ? TryInvoke((client, _, ct) => client.BeginNewDatabaseAsync(request, ct), out Database created, $"Starting database {Name}")
            : TryInvoke((client, progress, ct) => client.NewDatabaseAsync(request, progress, ct), out created, $"Creating database {Name}");
        if (done)
        {
            WriteVerbose(Describe(created));
            WriteDatabase(created);
        }
    }

    internal static string Describe(Database database) =>
        $"Database '{database.Name}' is {database.Status} at {database.Host}:{database.Port}, image r{database.ImageRevision} of project '{database.Project}', owner {database.Owner}"
        + (database.Parent is null ? "" : $", a branch of '{database.Parent}'{(database.ParentCheckpoint is null ? "" : $" at checkpoint '{database.ParentCheckpoint}'")}")
        + (database.Protected ? ", protected" : "") + (database.StopReason is { } reason ? $", stopped ({reason})" : "")
        + (database.IdleTimeout is { } idle ? $", stops after {DevDb.Core.Rules.LifetimeRules.Shown(idle)} idle" : "")
        + (database.ExpiresAt is { } at ? $", expires {at:u}." : ".");
}
