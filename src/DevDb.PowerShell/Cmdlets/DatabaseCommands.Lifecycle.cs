using System.Management.Automation;
using DevDb.Core.Model;

namespace DevDb.Commands;

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
