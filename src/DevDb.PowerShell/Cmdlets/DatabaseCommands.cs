using System.Management.Automation;
using DevDb.Core;
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
/// <para>Pipe the project</para>
/// <code>Get-DevDbProject shop | New-DevDbDatabase -Name beta</code>
/// </example>
/// <seealso cref="WaitDevDbDatabaseCommand"/>
/// <seealso cref="GetDevDbDatabaseCommand"/>
/// <seealso cref="GetDevDbConnectionStringCommand"/>
/// <seealso cref="RemoveDevDbDatabaseCommand"/>
/// <seealso href="about_DevDb"/>
[Cmdlet(VerbsCommon.New, "DevDbDatabase", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(DevDbDatabase))]
public sealed class NewDevDbDatabaseCommand : DevDbCmdlet
{
    /// <summary>
    /// The project to clone from (its newest ready image): a name (Tab completes them), or a project
    /// from Get-DevDbProject. Takes projects, names, and objects with a Project property from the pipeline.
    /// </summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(ProjectNameCompleter))]
    [ProjectName]
    [LowerCase]
    public string Project { get; set; } = "";

    /// <summary>The new database's name: a DNS label of 1-63 letters, digits and '-' (lower-cased), unique in the installation.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [LowerCase]
    public string Name { get; set; } = "";

    /// <summary>Who the database is for; when omitted, you (the OS user locally, the token's user on a server). Only admins may name another user on a server.</summary>
    [Parameter]
    public string? Owner { get; set; }

    /// <summary>Returns at once with the database Creating; Wait-DevDbDatabase waits for it. Locally the clone runs in this PowerShell process, so keep the session open until it is done.</summary>
    [Parameter]
    public SwitchParameter NoWait { get; set; }

    /// <summary>Creates the database.</summary>
    protected override void ProcessRecord()
    {
        if (!IsValidName(Project, "project") || !IsValidName(Name, "database")) return;
        if (!ShouldProcess(Name, $"Create database from project '{Project}'")) return;
        var request = new NewDatabaseRequest { Project = Project, Name = Name, Owner = Owner };
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
        $"Database '{database.Name}' is {database.Status} at {database.Host}:{database.Port}, image r{database.ImageRevision} of project '{database.Project}', owner {database.Owner}.";
}

/// <summary>Waits until databases created with -NoWait are running (or have failed).</summary>
/// <remarks>
/// <para>Wait-DevDbDatabase waits for each database until it is no longer Creating and returns it with
/// its connection details. A create that failed in the background is reported with the error that
/// failed it (for example ProjectNotReady), and the database stays listed with Status Failed until
/// you remove it or create it again.</para>
/// <para>Ctrl+C stops the waiting only: the clone goes on. With -Timeout, a database still being
/// created after that many seconds is WaitTimedOut.</para>
/// </remarks>
/// <example>
/// <para>Start two clones, then wait for both</para>
/// <code>
/// New-DevDbDatabase -Project shop -Name api-tests -NoWait | Out-Null
/// New-DevDbDatabase -Project shop -Name ui-tests -NoWait | Out-Null
/// Wait-DevDbDatabase -Name api-tests, ui-tests -Timeout 300
/// </code>
/// </example>
/// <example>
/// <para>Wait for what another command started</para>
/// <code>Get-DevDbDatabase | Where-Object Status -eq 'Creating' | Wait-DevDbDatabase</code>
/// </example>
/// <seealso cref="NewDevDbDatabaseCommand"/>
/// <seealso cref="GetDevDbDatabaseCommand"/>
/// <seealso href="about_DevDb"/>
[Cmdlet(VerbsLifecycle.Wait, "DevDbDatabase", DefaultParameterSetName = DatabaseCmdlet.NameSet)]
[OutputType(typeof(DevDbDatabase))]
public sealed class WaitDevDbDatabaseCommand : DatabaseCmdlet
{
    /// <summary>Seconds to wait for each database; -1 (the default) waits until it is done or Ctrl+C.</summary>
    [Parameter]
    [ValidateRange(-1, int.MaxValue)]
    public int Timeout { get; set; } = -1;

    /// <summary>Waits for one database.</summary>
    protected override void Process(string name)
    {
        if (TryInvoke((client, progress, ct) => WithTimeout(Timeout, ct, token => client.WaitDatabaseAsync(name, progress, token),
                () => DevDbException.From(DevDbErrors.WaitTimedOut($"Database '{name}' was still being created after {Timeout} s.",
                    $"Wait longer (Wait-DevDbDatabase -Name {name} -Timeout <seconds>), or look at it with Get-DevDbDatabase -Name {name}.", name))),
                out Database database, $"Creating database {name}"))
        {
            WriteDatabase(database);
        }
    }

    /// <summary>Runs <paramref name="wait"/> for at most <paramref name="seconds"/> (-1: no limit); running out is <paramref name="timedOut"/>'s error.</summary>
    internal static async Task<T> WithTimeout<T>(int seconds, CancellationToken cancellationToken, Func<CancellationToken, Task<T>> wait, Func<DevDbException> timedOut)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(seconds < 0 ? System.Threading.Timeout.InfiniteTimeSpan : TimeSpan.FromSeconds(seconds));
        try
        {
            return await wait(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw timedOut();
        }
    }
}

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

/// <summary>Puts databases back to their project's newest image, keeping name, port, user and password.</summary>
/// <remarks>
/// <para>Reset-DevDbDatabase throws away every change made in a database and clones it again from the
/// project's newest ready image, which may be newer than the one it was created from (see
/// Update-DevDbProject). The name, host, port, user and password stay, so connection strings keep
/// working. It asks for confirmation first; -Force skips the prompt.</para>
/// </remarks>
/// <example>
/// <para>Back to a clean copy after a test run</para>
/// <code>Reset-DevDbDatabase -Name dave -Force</code>
/// </example>
/// <example>
/// <para>A nightly runbook: new image from the latest dump, then move every database onto it</para>
/// <code>
/// Update-DevDbProject -Name shop -Confirm:$false | Out-Null
/// Get-DevDbDatabase -Project shop | Reset-DevDbDatabase -Force
/// </code>
/// </example>
/// <seealso cref="UpdateDevDbProjectCommand"/>
/// <seealso cref="GetDevDbDatabaseCommand"/>
/// <seealso href="about_DevDb"/>
[Cmdlet(VerbsCommon.Reset, "DevDbDatabase", DefaultParameterSetName = DatabaseCmdlet.NameSet,
    SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(DevDbDatabase))]
public sealed class ResetDevDbDatabaseCommand : DatabaseCmdlet
{
    /// <summary>Resets without asking for confirmation (-WhatIf still only reports).</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Resets one database.</summary>
    protected override void Process(string name)
    {
        if (!ShouldProcessUnlessForced(name, "Discard all changes and reset database to the project's newest image", Force)) return;
        if (TryInvoke((client, progress, ct) => client.ResetDatabaseAsync(name, progress, ct), out Database reset, $"Resetting database {name}"))
        {
            WriteVerbose(NewDevDbDatabaseCommand.Describe(reset));
            WriteDatabase(reset);
        }
    }
}

/// <summary>Stops databases' servers, keeping their data and port.</summary>
/// <remarks>
/// <para>Stop-DevDbDatabase shuts a database's server down cleanly. Its data, port, user and password
/// are kept; Start-DevDbDatabase starts it again. A stopped database uses no memory.</para>
/// </remarks>
/// <example>
/// <para>Stop a database and see it stopped</para>
/// <code>Stop-DevDbDatabase -Name dave -PassThru</code>
/// </example>
/// <example>
/// <para>End of the day: stop all of your running databases</para>
/// <code>Get-DevDbDatabase | Where-Object Status -eq 'Running' | Stop-DevDbDatabase -Confirm:$false</code>
/// </example>
/// <seealso cref="StartDevDbDatabaseCommand"/>
/// <seealso cref="GetDevDbDatabaseCommand"/>
/// <seealso href="about_DevDb"/>
[Cmdlet(VerbsLifecycle.Stop, "DevDbDatabase", DefaultParameterSetName = DatabaseCmdlet.NameSet,
    SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(DevDbDatabase))]
public sealed class StopDevDbDatabaseCommand : DatabaseCmdlet
{
    /// <summary>Writes the stopped database to the pipeline (nothing is written without it).</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>Stops one database.</summary>
    protected override void Process(string name)
    {
        if (!ShouldProcess(name, "Stop database server")) return;
        if (TryInvoke((client, _, ct) => client.StopDatabaseAsync(name, ct), out Database stopped, $"Stopping database {name}") && PassThru)
        {
            WriteDatabase(stopped);
        }
    }
}

/// <summary>Starts stopped databases' servers.</summary>
/// <remarks>
/// <para>Start-DevDbDatabase starts the server of a stopped database on the port it had, with its data
/// as it was left. Starting a running database changes nothing. If another program took the port
/// meanwhile, the start fails with PortInUse.</para>
/// </remarks>
/// <example>
/// <para>Start a database and get its connection details</para>
/// <code>Start-DevDbDatabase -Name dave -PassThru</code>
/// </example>
/// <example>
/// <para>Start every stopped database of a project</para>
/// <code>Get-DevDbDatabase -Project shop | Where-Object Status -eq 'Stopped' | Start-DevDbDatabase</code>
/// </example>
/// <seealso cref="StopDevDbDatabaseCommand"/>
/// <seealso cref="GetDevDbDatabaseCommand"/>
/// <seealso href="about_DevDb"/>
[Cmdlet(VerbsLifecycle.Start, "DevDbDatabase", DefaultParameterSetName = DatabaseCmdlet.NameSet)]
[OutputType(typeof(DevDbDatabase))]
public sealed class StartDevDbDatabaseCommand : DatabaseCmdlet
{
    /// <summary>Writes the started database to the pipeline (nothing is written without it).</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>Starts one database.</summary>
    protected override void Process(string name)
    {
        if (TryInvoke((client, _, ct) => client.StartDatabaseAsync(name, ct), out Database started, $"Starting database {name}") && PassThru)
        {
            WriteDatabase(started);
        }
    }
}

/// <summary>Writes a database's connection string, password included, in the format a client needs.</summary>
/// <remarks>
/// <para>Get-DevDbConnectionString writes one string per database: a postgresql:// URI (the default),
/// libpq key=value pairs, an Npgsql (ADO.NET) connection string, a JDBC URL, or Env lines
/// (PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD and DATABASE_URL) for an --env-file or dotenv
/// file. Every format escapes the password so that the client reads it back exactly.</para>
/// <para>The string holds the password in plain text: keep it out of logs and files others can read.</para>
/// </remarks>
/// <example>
/// <para>The default URI, for DATABASE_URL</para>
/// <code>$env:DATABASE_URL = Get-DevDbConnectionString -Name dave</code>
/// </example>
/// <example>
/// <para>A CI job: an env file for docker run --env-file</para>
/// <code>Get-DevDbConnectionString -Name $name -Format Env | Set-Content -Path db.env</code>
/// </example>
/// <example>
/// <para>An ADO.NET connection string from a piped database</para>
/// <code>Get-DevDbDatabase dave | Get-DevDbConnectionString -Format Npgsql</code>
/// </example>
/// <seealso cref="GetDevDbDatabaseCommand"/>
/// <seealso cref="NewDevDbDatabaseCommand"/>
/// <seealso href="about_DevDb"/>
[Cmdlet(VerbsCommon.Get, "DevDbConnectionString", DefaultParameterSetName = DatabaseCmdlet.NameSet)]
[OutputType(typeof(string))]
public sealed class GetDevDbConnectionStringCommand : DatabaseCmdlet
{
    // A string, not Core's enum: see ModuleInitializer.
    /// <summary>Uri (postgresql://..., the default), KeyValue (libpq), Npgsql (ADO.NET), Jdbc, or Env (one VARIABLE=value line each).</summary>
    [Parameter]
    [ValidateSet(nameof(ConnectionStringFormat.Uri), nameof(ConnectionStringFormat.KeyValue), nameof(ConnectionStringFormat.Npgsql),
        nameof(ConnectionStringFormat.Jdbc), nameof(ConnectionStringFormat.Env))]
    public string Format { get; set; } = nameof(ConnectionStringFormat.Uri);

    /// <summary>Writes one database's connection string.</summary>
    protected override void Process(string name)
    {
        if (TryInvoke((client, _, ct) => client.GetConnectionAsync(name, ct), out ConnectionInfo connection))
        {
            WriteObject(ConnectionStrings.Format(connection, Enum.Parse<ConnectionStringFormat>(Format, ignoreCase: true)));
        }
    }
}

/// <summary>Cmdlets that act on databases given by -Name (or piped names, or objects with a Name property) or by -InputObject.</summary>
public abstract class DatabaseCmdlet : DevDbCmdlet
{
    /// <summary>The parameter set with database names.</summary>
    public const string NameSet = "Name";
    /// <summary>The parameter set with database objects.</summary>
    public const string InputObjectSet = "InputObject";

    /// <summary>Names of the databases (lower-cased). Takes strings, and objects with a Name property, from the pipeline. Tab completes database names.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = NameSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(DatabaseNameCompleter))]
    [LowerCase]
    public string[] Name { get; set; } = [];

    /// <summary>Databases as returned by Get-DevDbDatabase or New-DevDbDatabase (piped).</summary>
    [Parameter(Mandatory = true, ParameterSetName = InputObjectSet, ValueFromPipeline = true)]
    public DevDbDatabase[] InputObject { get; set; } = [];

    /// <summary>Acts on each database given.</summary>
    protected override void ProcessRecord()
    {
        IEnumerable<string> names = ParameterSetName == InputObjectSet ? InputObject.Select(d => d.Name) : Name;
        foreach (string name in names.Where(n => IsValidName(n, "database")))
        {
            Process(name);
        }
    }

    /// <summary>Acts on one database.</summary>
    protected abstract void Process(string name);
}
