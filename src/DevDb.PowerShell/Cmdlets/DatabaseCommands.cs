using System.Management.Automation;
using DevDb.Core;
using DevDb.Core.Client;
using DevDb.Core.Model;

namespace DevDb.Commands;

/// <summary>Clones the project's newest image into a new running database with its own port, user and password.</summary>
[Cmdlet(VerbsCommon.New, "DevDbDatabase", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(DevDbDatabase))]
public sealed class NewDevDbDatabaseCommand : DevDbCmdlet
{
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(ProjectNameCompleter))]
    public string Project { get; set; } = "";

    [Parameter(Mandatory = true, Position = 0)]
    public string Name { get; set; } = "";

    /// <summary>Who the database is for; when omitted, you (the OS user locally, the token's user on a server).</summary>
    [Parameter]
    public string? Owner { get; set; }

    /// <summary>Returns at once with the database Creating; Wait-DevDbDatabase waits for it later.</summary>
    [Parameter]
    public SwitchParameter NoWait { get; set; }

    protected override void ProcessRecord()
    {
        Require(() => Names.Validate(Name, "database"));
        if (!ShouldProcess(Name, $"Create database from project '{Project}'")) return;
        var request = new NewDatabaseRequest { Project = Project, Name = Name, Owner = Owner };
        bool done = NoWait
            ? TryInvoke((client, _, ct) => client.StartNewDatabaseAsync(request, ct), out Database created)
            : TryInvoke((client, progress, ct) => client.NewDatabaseAsync(request, progress, ct), out created, $"Creating database {Name}");
        if (done)
        {
            WriteDatabase(created);
        }
    }
}

/// <summary>Waits until databases created with -NoWait are running (or have failed).</summary>
[Cmdlet(VerbsLifecycle.Wait, "DevDbDatabase", DefaultParameterSetName = DatabaseCmdlet.NameSet)]
[OutputType(typeof(DevDbDatabase))]
public sealed class WaitDevDbDatabaseCommand : DatabaseCmdlet
{
    /// <summary>Seconds to wait for each database; -1 (the default) waits until it is done or Ctrl+C.</summary>
    [Parameter]
    [ValidateRange(-1, int.MaxValue)]
    public int Timeout { get; set; } = -1;

    protected override void Process(string name)
    {
        var timeout = Timeout < 0 ? System.Threading.Timeout.InfiniteTimeSpan : TimeSpan.FromSeconds(Timeout);
        if (TryInvoke(async (client, progress, ct) =>
            {
                using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
                deadline.CancelAfter(timeout);
                try
                {
                    return await client.WaitDatabaseAsync(name, progress, deadline.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    throw new DevDbException(ErrorCodes.WaitTimedOut, DevDbErrorCategory.ResourceBusy,
                        $"Database '{name}' was still being created after {Timeout} s.",
                        $"Wait longer (Wait-DevDbDatabase -Name {name} -Timeout <seconds>), or look at it with Get-DevDbDatabase -Name {name}.", name);
                }
            }, out Database database, $"Creating database {name}"))
        {
            WriteDatabase(database);
        }
    }
}

/// <summary>Lists databases; -Name takes wildcards, -Project narrows to one project.</summary>
[Cmdlet(VerbsCommon.Get, "DevDbDatabase")]
[OutputType(typeof(DevDbDatabase))]
public sealed class GetDevDbDatabaseCommand : DevDbCmdlet
{
    [Parameter(Position = 0)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(DatabaseNameCompleter))]
    public string[]? Name { get; set; }

    [Parameter]
    [ArgumentCompleter(typeof(ProjectNameCompleter))]
    public string? Project { get; set; }

    protected override void ProcessRecord()
    {
        // Plain names are looked up one by one: one request each, and a server's own answer for
        // them (Forbidden for someone else's database) rather than a filtered list's silence.
        if (Project is null && Name is { Length: > 0 } && !Name.Any(WildcardPattern.ContainsWildcardCharacters))
        {
            foreach (string name in Name)
            {
                if (TryInvoke((client, _, ct) => client.GetDatabaseAsync(name, ct), out Database database))
                {
                    WriteDatabase(database);
                }
            }
            return;
        }
        // An unknown -Project is an error (ProjectNotFound), not an empty list.
        IReadOnlyList<Database> databases = Invoke((client, _, ct) => client.GetDatabasesAsync(Project, cancellationToken: ct));
        WriteDatabases(NameFilter.Select(this, databases, d => d.Name, Name, NotFound).ToList());
    }

    private DevDbException NotFound(string name) => new(ErrorCodes.DatabaseNotFound, DevDbErrorCategory.ObjectNotFound,
        Project is null ? $"There is no database named '{name}'." : $"Project '{Project}' has no database named '{name}'.",
        "Run Get-DevDbDatabase to list databases, or New-DevDbDatabase to create one.", name);
}

/// <summary>Removes databases: their server, files and record.</summary>
[Cmdlet(VerbsCommon.Remove, "DevDbDatabase", DefaultParameterSetName = DatabaseCmdlet.NameSet,
    SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(void))]
public sealed class RemoveDevDbDatabaseCommand : DatabaseCmdlet
{
    /// <summary>Does not ask for confirmation.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void Process(string name)
    {
        if (!ShouldProcessUnlessForced(name, "Remove database and all its data", Force)) return;
        TryInvoke((client, _, ct) => client.RemoveDatabaseAsync(name, ct));
    }
}

/// <summary>Puts databases back to their project's newest image, keeping name, port, user and password.</summary>
[Cmdlet(VerbsCommon.Reset, "DevDbDatabase", DefaultParameterSetName = DatabaseCmdlet.NameSet,
    SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(DevDbDatabase))]
public sealed class ResetDevDbDatabaseCommand : DatabaseCmdlet
{
    /// <summary>Does not ask for confirmation.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void Process(string name)
    {
        if (!ShouldProcessUnlessForced(name, "Discard all changes and reset database to the project's newest image", Force)) return;
        if (TryInvoke((client, progress, ct) => client.ResetDatabaseAsync(name, progress, ct), out Database reset, $"Resetting database {name}"))
        {
            WriteDatabase(reset);
        }
    }
}

/// <summary>Stops databases' servers, keeping their data.</summary>
[Cmdlet(VerbsLifecycle.Stop, "DevDbDatabase", DefaultParameterSetName = DatabaseCmdlet.NameSet,
    SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(DevDbDatabase))]
public sealed class StopDevDbDatabaseCommand : DatabaseCmdlet
{
    /// <summary>Writes the stopped database to the pipeline.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void Process(string name)
    {
        if (!ShouldProcess(name, "Stop database server")) return;
        if (TryInvoke((client, _, ct) => client.StopDatabaseAsync(name, ct), out Database stopped) && PassThru)
        {
            WriteDatabase(stopped);
        }
    }
}

/// <summary>Starts stopped databases' servers.</summary>
[Cmdlet(VerbsLifecycle.Start, "DevDbDatabase", DefaultParameterSetName = DatabaseCmdlet.NameSet)]
[OutputType(typeof(DevDbDatabase))]
public sealed class StartDevDbDatabaseCommand : DatabaseCmdlet
{
    /// <summary>Writes the started database to the pipeline.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void Process(string name)
    {
        if (TryInvoke((client, _, ct) => client.StartDatabaseAsync(name, ct), out Database started) && PassThru)
        {
            WriteDatabase(started);
        }
    }
}

/// <summary>Writes a database's connection string in the format a client needs.</summary>
[Cmdlet(VerbsCommon.Get, "DevDbConnectionString", DefaultParameterSetName = DatabaseCmdlet.NameSet)]
[OutputType(typeof(string))]
public sealed class GetDevDbConnectionStringCommand : DatabaseCmdlet
{
    // A string, not Core's enum: see ModuleInitializer.
    [Parameter]
    [ValidateSet(nameof(ConnectionStringFormat.Uri), nameof(ConnectionStringFormat.KeyValue), nameof(ConnectionStringFormat.Npgsql),
        nameof(ConnectionStringFormat.Jdbc), nameof(ConnectionStringFormat.Env))]
    public string Format { get; set; } = nameof(ConnectionStringFormat.Uri);

    protected override void Process(string name)
    {
        if (TryInvoke((client, _, ct) => client.GetConnectionAsync(name, ct), out ConnectionInfo connection))
        {
            WriteObject(ConnectionStrings.Format(connection, Enum.Parse<ConnectionStringFormat>(Format, ignoreCase: true)));
        }
    }
}

/// <summary>Cmdlets that act on databases given by -Name (or a piped object's Name) or by -InputObject.</summary>
public abstract class DatabaseCmdlet : DevDbCmdlet
{
    public const string NameSet = "Name";
    public const string InputObjectSet = "InputObject";

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = NameSet, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(DatabaseNameCompleter))]
    public string[] Name { get; set; } = [];

    [Parameter(Mandatory = true, ParameterSetName = InputObjectSet, ValueFromPipeline = true)]
    public DevDbDatabase[] InputObject { get; set; } = [];

    protected override void ProcessRecord()
    {
        IEnumerable<string> names = ParameterSetName == InputObjectSet ? InputObject.Select(d => d.Name) : Name;
        foreach (string name in names)
        {
            Process(name);
        }
    }

    protected abstract void Process(string name);
}
