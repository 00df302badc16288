using System.Management.Automation;
using DevDb.Core.Model;

namespace DevDb.Commands;

/// <summary>Saves a database's current data under a name, to restore or branch from later.</summary>
/// <remarks>
/// <para>Checkpoint-DevDbDatabase saves a consistent copy of a database's data as a named checkpoint
/// that belongs to the database (it is removed with it). Locally the server is stopped fast, its data
/// folder cloned copy-on-write (reflinks on XFS or Btrfs; a plain copy elsewhere) and the server started
/// again with the same port and password: the interruption is in the checkpoint's InterruptionSeconds.
/// A name already taken is CheckpointExists: a checkpoint is never overwritten.</para>
/// <para>Restore-DevDbDatabase puts a checkpoint back; New-DevDbDatabase -FromDatabase -Checkpoint branches from it.</para>
/// </remarks>
/// <example>
/// <para>Save the data before trying a migration</para>
/// <code>Checkpoint-DevDbDatabase -Name dave -Checkpoint before-migration</code>
/// </example>
/// <example>
/// <para>Per-test rollback: checkpoint once after the fixtures are loaded, restore between tests</para>
/// <code>
/// Checkpoint-DevDbDatabase -Name ci-42 -Checkpoint fixtures | Out-Null
/// foreach ($test in $tests) { &amp; $test; Restore-DevDbDatabase -Name ci-42 -Checkpoint fixtures -Force | Out-Null }
/// </code>
/// </example>
/// <seealso cref="RestoreDevDbDatabaseCommand"/>
/// <seealso cref="GetDevDbCheckpointCommand"/>
/// <seealso cref="RemoveDevDbCheckpointCommand"/>
/// <seealso href="about_DevDb"/>
[Cmdlet(VerbsData.Checkpoint, "DevDbDatabase", DefaultParameterSetName = DatabaseCmdlet.NameSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(DevDbCheckpoint))]
public sealed class CheckpointDevDbDatabaseCommand : DatabaseCmdlet
{
    /// <summary>The checkpoint's name: a DNS label (1-63 lowercase letters, digits and '-'), unique within the database.</summary>
    [Parameter(Mandatory = true, Position = 1)]
    [LowerCase]
    public string Checkpoint { get; set; } = "";

    /// <summary>Checkpoints one database.</summary>
    protected override void Process(string name)
    {
        if (!IsValidName(Checkpoint, "checkpoint")) return;
        if (!ShouldProcess(name, $"Save the database's current data as checkpoint '{Checkpoint}' (its server stops for a moment)")) return;
        if (TryInvoke((client, _, ct) => client.CheckpointDatabaseAsync(name, Checkpoint, ct), out Checkpoint taken, $"Checkpointing database {name}"))
        {
            WriteVerbose($"Checkpoint '{taken.Name}' of database '{name}' is {taken.Status}; the database did not answer for {taken.InterruptionSeconds ?? 0:0.000} s.");
            WriteObject(DevDbCheckpoint.From(taken));
        }
    }
}

/// <summary>Puts a checkpoint's data back into its database, keeping name, host, port, user and password.</summary>
/// <remarks>
/// <para>Restore-DevDbDatabase throws away every change made since the checkpoint and puts its data back.
/// The name, host, port, user and password stay, so connection strings keep working. The checkpoint
/// stays too: restore it as often as you like (per-test rollback). It asks for confirmation first;
/// -Force skips the prompt. A checkpoint the database does not have is CheckpointNotFound.</para>
/// <para>With -NoWait the command returns at once with the database Restoring; Wait-DevDbDatabase waits for it.</para>
/// </remarks>
/// <example>
/// <para>Undo a migration that went wrong</para>
/// <code>Restore-DevDbDatabase -Name dave -Checkpoint before-migration -Force</code>
/// </example>
/// <example>
/// <para>Pester: back to the fixtures after each test</para>
/// <code>
/// BeforeAll { Checkpoint-DevDbDatabase -Name ci-42 -Checkpoint fixtures | Out-Null }
/// AfterEach { Restore-DevDbDatabase -Name ci-42 -Checkpoint fixtures -Force | Out-Null }
/// </code>
/// </example>
/// <seealso cref="CheckpointDevDbDatabaseCommand"/>
/// <seealso cref="ResetDevDbDatabaseCommand"/>
/// <seealso href="about_DevDb"/>
[Cmdlet(VerbsData.Restore, "DevDbDatabase", DefaultParameterSetName = DatabaseCmdlet.NameSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(DevDbDatabase))]
public sealed class RestoreDevDbDatabaseCommand : DatabaseCmdlet
{
    /// <summary>The checkpoint to put back (Tab completes the database's checkpoints).</summary>
    [Parameter(Mandatory = true, Position = 1)]
    [ArgumentCompleter(typeof(CheckpointNameCompleter))]
    [LowerCase]
    public string Checkpoint { get; set; } = "";

    /// <summary>Restores without asking for confirmation (-WhatIf still only reports).</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Returns at once with the database Restoring; Wait-DevDbDatabase waits for it. Locally the restore runs in this PowerShell process, so keep the session open until it is done.</summary>
    [Parameter]
    public SwitchParameter NoWait { get; set; }

    /// <summary>Restores one database.</summary>
    protected override void Process(string name)
    {
        if (!IsValidName(Checkpoint, "checkpoint")) return;
        if (!ShouldProcessUnlessForced(name, $"Discard all changes and restore checkpoint '{Checkpoint}'", Force)) return;
        bool done = NoWait
            ? TryInvoke((client, _, ct) => client.BeginRestoreDatabaseAsync(name, Checkpoint, ct), out Database restored, $"Requesting a restore of database {name}")
            : TryInvoke((client, progress, ct) => client.RestoreDatabaseAsync(name, Checkpoint, progress, ct), out restored, $"Restoring database {name}");
        if (done)
        {
            WriteVerbose(NewDevDbDatabaseCommand.Describe(restored));
            WriteDatabase(restored);
        }
    }
}

/// <summary>Lists checkpoints, of one database or of all yours.</summary>
/// <remarks>
/// <para>Get-DevDbCheckpoint lists the checkpoints of the databases you can see (on a server: your own;
/// admins: all), or of the databases given with -Database. -Name filters by checkpoint name (wildcards).</para>
/// </remarks>
/// <example>
/// <para>The checkpoints of one database</para>
/// <code>Get-DevDbCheckpoint -Database dave</code>
/// </example>
/// <example>
/// <para>Remove every checkpoint older than a week</para>
/// <code>Get-DevDbCheckpoint | Where-Object Created -lt (Get-Date).AddDays(-7) | Remove-DevDbCheckpoint -Confirm:$false</code>
/// </example>
/// <seealso cref="CheckpointDevDbDatabaseCommand"/>
/// <seealso cref="RemoveDevDbCheckpointCommand"/>
/// <seealso href="about_DevDb"/>
[Cmdlet(VerbsCommon.Get, "DevDbCheckpoint")]
[OutputType(typeof(DevDbCheckpoint))]
public sealed class GetDevDbCheckpointCommand : DevDbCmdlet
{
    /// <summary>The databases whose checkpoints to list (Tab completes them); takes objects with a Database property, e.g. piped databases' names via -Database.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(DatabaseNameCompleter))]
    [LowerCase]
    public string[]? Database { get; set; }

    /// <summary>Only checkpoints whose name matches (wildcards allowed).</summary>
    [Parameter]
    [SupportsWildcards]
    public string Name { get; set; } = "*";

    /// <summary>Lists the checkpoints.</summary>
    protected override void ProcessRecord()
    {
        var pattern = WildcardPattern.Get(Name, WildcardOptions.IgnoreCase);
        IEnumerable<string?> databases = Database is { Length: > 0 } given ? given : new string?[] { null };
        foreach (string? database in databases)
        {
            if (database is not null && !IsValidName(database, "database")) continue;
            if (!TryInvoke((client, _, ct) => client.GetCheckpointsAsync(database, ct), out IReadOnlyList<Checkpoint> checkpoints)) continue;
            foreach (var checkpoint in checkpoints.Where(c => pattern.IsMatch(c.Name))) WriteObject(DevDbCheckpoint.From(checkpoint));
        }
    }
}

/// <summary>Deletes checkpoints.</summary>
/// <remarks>
/// <para>Remove-DevDbCheckpoint deletes a checkpoint's data. Branches made from it are not touched (each
/// keeps its own copy of where it started). A checkpoint that does not exist is CheckpointNotFound.</para>
/// </remarks>
/// <example>
/// <para>Remove one checkpoint</para>
/// <code>Remove-DevDbCheckpoint -Database dave -Name before-migration</code>
/// </example>
/// <example>
/// <para>Remove all checkpoints of a database</para>
/// <code>Get-DevDbCheckpoint -Database dave | Remove-DevDbCheckpoint -Confirm:$false</code>
/// </example>
/// <seealso cref="GetDevDbCheckpointCommand"/>
/// <seealso cref="CheckpointDevDbDatabaseCommand"/>
/// <seealso href="about_DevDb"/>
[Cmdlet(VerbsCommon.Remove, "DevDbCheckpoint", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = "Name")]
[OutputType(typeof(void))]
public sealed class RemoveDevDbCheckpointCommand : DevDbCmdlet
{
    /// <summary>The database the checkpoint belongs to (Tab completes them).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = "Name")]
    [ArgumentCompleter(typeof(DatabaseNameCompleter))]
    [LowerCase]
    public string Database { get; set; } = "";

    /// <summary>The checkpoint's name (Tab completes the database's checkpoints).</summary>
    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true, ParameterSetName = "Name")]
    [ArgumentCompleter(typeof(CheckpointNameCompleter))]
    [LowerCase]
    public string Name { get; set; } = "";

    /// <summary>Checkpoints as returned by Get-DevDbCheckpoint or Checkpoint-DevDbDatabase (piped).</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = "InputObject")]
    public DevDbCheckpoint[] InputObject { get; set; } = [];

    /// <summary>Removes each checkpoint given.</summary>
    protected override void ProcessRecord()
    {
        IEnumerable<(string Database, string Name)> items = ParameterSetName == "InputObject" ? InputObject.Select(c => (c.Database, c.Name)) : [(Database, Name)];
        foreach (var (database, checkpoint) in items)
        {
            if (!IsValidName(database, "database") || !IsValidName(checkpoint, "checkpoint")) continue;
            if (!ShouldProcess($"{database}/{checkpoint}", "Remove checkpoint")) continue;
            TryInvoke((client, _, ct) => client.RemoveCheckpointAsync(database, checkpoint, ct), $"Removing checkpoint {checkpoint} of {database}");
        }
    }
}
