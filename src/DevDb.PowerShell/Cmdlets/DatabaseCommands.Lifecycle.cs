using System.Management.Automation;
using DevDb.Core.Model;

namespace DevDb.Commands;

/// <summary>Puts databases back to their project's newest image, keeping name, port, user and password.</summary>
/// <remarks>
/// <para>Reset-DevDbDatabase throws away every change made in a database and clones it again from the
/// project's newest ready image (a branch: from the data it was branched from, unless -ToImage), which may be newer than the one it was created from (see
/// Update-DevDbProject). The name, host, port, user and password stay, so connection strings keep
/// working. It asks for confirmation first; -Force skips the prompt.</para>
/// <para>With -NoWait the command returns at once with the database Resetting while the clone goes on
/// (in the server, or locally in this PowerShell process); Wait-DevDbDatabase waits until it is
/// Running again, or reports why the reset failed.</para>
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
/// <example>
/// <para>A branch goes back to where it branched from; -ToImage takes the project's image instead</para>
/// <code>
/// New-DevDbDatabase -Name erin -FromDatabase dave | Out-Null
/// Reset-DevDbDatabase -Name erin -Force            # dave's data as it was when erin branched
/// Reset-DevDbDatabase -Name erin -ToImage -Force   # the project's newest image; erin is no longer a branch
/// </code>
/// </example>
/// <example>
/// <para>Reset every database of a project side by side, then wait for all of them</para>
/// <code>
/// Get-DevDbDatabase -Project shop | Reset-DevDbDatabase -Force -NoWait | Out-Null
/// Get-DevDbDatabase -Project shop | Wait-DevDbDatabase -Timeout 600
/// </code>
/// </example>
/// <seealso cref="UpdateDevDbProjectCommand"/>
/// <seealso cref="WaitDevDbDatabaseCommand"/>
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

    /// <summary>Returns at once with the database Resetting; Wait-DevDbDatabase waits for it. Locally the reset runs in this PowerShell process, so keep the session open until it is done.</summary>
    [Parameter]
    public SwitchParameter NoWait { get; set; }

    /// <summary>A branch goes to the project's newest image instead of the data it was branched from, and is a branch no more. Other databases go to the image anyway.</summary>
    [Parameter]
    public SwitchParameter ToImage { get; set; }

    /// <summary>Resets one database.</summary>
    protected override void Process(string name)
    {
        if (!ShouldProcessUnlessForced(name, ToImage ? "Discard all changes and reset database to the project's newest image"
                : "Discard all changes and reset database to the project's newest image (a branch: to the data it was branched from)", Force)) return;
        bool toImage = ToImage;
        bool done = NoWait
            ? TryInvoke((client, _, ct) => client.BeginResetDatabaseAsync(name, toImage, ct), out Database reset, $"Requesting a reset of database {name}")
            : TryInvoke((client, progress, ct) => client.ResetDatabaseAsync(name, toImage, progress, ct), out reset, $"Resetting database {name}");
        if (done)
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
/// <para>With -NoWait the command returns at once while the server shuts down (the database is
/// Stopping, as -PassThru shows); Wait-DevDbDatabase waits until it is Stopped.</para>
/// </remarks>
/// <example>
/// <para>Stop a database and see it stopped</para>
/// <code>Stop-DevDbDatabase -Name dave -PassThru</code>
/// </example>
/// <example>
/// <para>End of the day: stop all of your running databases</para>
/// <code>Get-DevDbDatabase | Where-Object Status -eq 'Running' | Stop-DevDbDatabase -Confirm:$false</code>
/// </example>
/// <example>
/// <para>Stop without waiting, and wait later</para>
/// <code>
/// Stop-DevDbDatabase -Name dave -NoWait -Confirm:$false
/// Wait-DevDbDatabase -Name dave -Timeout 60
/// </code>
/// </example>
/// <seealso cref="StartDevDbDatabaseCommand"/>
/// <seealso cref="WaitDevDbDatabaseCommand"/>
/// <seealso cref="GetDevDbDatabaseCommand"/>
/// <seealso href="about_DevDb"/>
[Cmdlet(VerbsLifecycle.Stop, "DevDbDatabase", DefaultParameterSetName = DatabaseCmdlet.NameSet,
    SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(DevDbDatabase))]
public sealed class StopDevDbDatabaseCommand : DatabaseCmdlet
{
    /// <summary>Writes the stopped database (Stopping with -NoWait) to the pipeline; nothing is written without it.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>Returns at once while the server shuts down, the database Stopping; Wait-DevDbDatabase waits until it is Stopped.</summary>
    [Parameter]
    public SwitchParameter NoWait { get; set; }

    /// <summary>Stops one database.</summary>
    protected override void Process(string name)
    {
        if (!ShouldProcess(name, "Stop database server")) return;
        bool done = NoWait
            ? TryInvoke((client, _, ct) => client.BeginStopDatabaseAsync(name, ct), out Database stopped, $"Requesting a stop of database {name}")
            : TryInvoke((client, _, ct) => client.StopDatabaseAsync(name, ct), out stopped, $"Stopping database {name}");
        if (done && PassThru)
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
/// <para>With -NoWait the command returns at once while the server starts (the database is Starting,
/// as -PassThru shows); Wait-DevDbDatabase waits until it is Running, or reports why it did not start.</para>
/// </remarks>
/// <example>
/// <para>Start a database and get its connection details</para>
/// <code>Start-DevDbDatabase -Name dave -PassThru</code>
/// </example>
/// <example>
/// <para>Start every stopped database of a project</para>
/// <code>Get-DevDbDatabase -Project shop | Where-Object Status -eq 'Stopped' | Start-DevDbDatabase</code>
/// </example>
/// <example>
/// <para>Start the servers of a project's databases side by side, then wait for them</para>
/// <code>
/// Get-DevDbDatabase -Project shop | Where-Object Status -eq 'Stopped' | Start-DevDbDatabase -NoWait -PassThru |
///     Wait-DevDbDatabase -Timeout 120
/// </code>
/// </example>
/// <seealso cref="StopDevDbDatabaseCommand"/>
/// <seealso cref="WaitDevDbDatabaseCommand"/>
/// <seealso cref="GetDevDbDatabaseCommand"/>
/// <seealso href="about_DevDb"/>
[Cmdlet(VerbsLifecycle.Start, "DevDbDatabase", DefaultParameterSetName = DatabaseCmdlet.NameSet)]
[OutputType(typeof(DevDbDatabase))]
public sealed class StartDevDbDatabaseCommand : DatabaseCmdlet
{
    /// <summary>Writes the started database (Starting with -NoWait) to the pipeline; nothing is written without it.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>Returns at once while the server starts, the database Starting; Wait-DevDbDatabase waits until it is Running.</summary>
    [Parameter]
    public SwitchParameter NoWait { get; set; }

    /// <summary>Starts one database.</summary>
    protected override void Process(string name)
    {
        bool done = NoWait
            ? TryInvoke((client, _, ct) => client.BeginStartDatabaseAsync(name, ct), out Database started, $"Requesting a start of database {name}")
            : TryInvoke((client, _, ct) => client.StartDatabaseAsync(name, ct), out started, $"Starting database {name}");
        if (done && PassThru)
        {
            WriteDatabase(started);
        }
    }
}
