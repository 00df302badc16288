using System.Management.Automation;
using DevDb.Core.Client;
using DevDb.Core.Model;

namespace DevDb.Commands;

/// <summary>Changes a database's lifetime: when it expires, when it stops for being idle, and whether it is protected.</summary>
/// <remarks>
/// <para>Set-DevDbDatabase moves a database's expiry and sets its protection. -TimeToLive counts from
/// now, so repeating it renews a lease: a CI job that runs Set-DevDbDatabase -TimeToLive 30m between
/// stages keeps its database while it runs, and the database is removed 30 minutes after the job
/// stops, whatever stopped it. -ExpiresAt sets a moment; -NoExpiry keeps the database until someone
/// removes it (refused with LifetimeInvalid where the project or installation has a maximum
/// time-to-live). Give at most one of the three. A reset keeps the expiry as it is.</para>
/// <para>-Protected makes Remove-DevDbDatabase and Reset-DevDbDatabase refuse with DatabaseProtected, and
/// keeps the database from expiring; -Protected:$false undoes it (a past expiry then takes it at the
/// next expiry pass). Parameters left out are kept.</para>
/// <para>-IdleTimeout 1h stops the database (data, port and password kept; Status Stopped, StopReason Idle)
/// once no client has been connected for an hour, counted from now; -NoIdleTimeout keeps it running
/// however long it is idle. A protected database is never idle-stopped.</para>
/// <para>On a DevDb server or cluster expiry happens on time (a background pass, or the reconciler).
/// With the local engine nothing runs between commands: an expired database is removed when DevDb
/// next runs a changing command (New, Set, Remove, Reset, Stop, Start, Update).</para>
/// </remarks>
/// <example>
/// <para>Give your database two more hours</para>
/// <code>Set-DevDbDatabase -Name dave -TimeToLive 2h</code>
/// </example>
/// <example>
/// <para>A CI job renews its lease between stages</para>
/// <code>
/// $name = "ci-$($env:BUILD_ID)"
/// New-DevDbDatabase -Project shop -Name $name -TimeToLive 30m | Out-Null
/// dotnet test ./tests/Stage1
/// Set-DevDbDatabase -Name $name -TimeToLive 30m | Out-Null
/// dotnet test ./tests/Stage2
/// </code>
/// </example>
/// <example>
/// <para>A runbook: keep a database for good and protect it, then preview unprotecting all of a project's</para>
/// <code>
/// Set-DevDbDatabase -Name demo -NoExpiry -Protected
/// Get-DevDbDatabase -Project shop | Set-DevDbDatabase -Protected:$false -WhatIf
/// </code>
/// </example>
/// <example>
/// <para>Stop your database after an hour nobody uses it, or never</para>
/// <code>
/// Set-DevDbDatabase -Name dave -IdleTimeout 1h
/// Set-DevDbDatabase -Name demo -NoIdleTimeout
/// </code>
/// </example>
/// <seealso cref="NewDevDbDatabaseCommand"/>
/// <seealso cref="GetDevDbDatabaseCommand"/>
/// <seealso cref="RemoveDevDbDatabaseCommand"/>
/// <seealso href="about_DevDb"/>
[Cmdlet(VerbsCommon.Set, "DevDbDatabase", DefaultParameterSetName = DatabaseCmdlet.NameSet,
    SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(DevDbDatabase))]
public sealed class SetDevDbDatabaseCommand : DatabaseCmdlet
{
    /// <summary>Expire this long from now: 30m, 2h, 1d, 1h30m, or a TimeSpan. Repeating it renews a lease.</summary>
    [Parameter]
    [Duration]
    public TimeSpan? TimeToLive { get; set; }

    /// <summary>Expire at this moment.</summary>
    [Parameter]
    public DateTimeOffset? ExpiresAt { get; set; }

    /// <summary>Never expire (LifetimeInvalid where a maximum time-to-live applies).</summary>
    [Parameter]
    public SwitchParameter NoExpiry { get; set; }

    /// <summary>Protect it (refuse Remove and Reset, never expire); -Protected:$false unprotects it. Left out: kept as it is.</summary>
    [Parameter]
    public SwitchParameter Protected { get; set; }

    /// <summary>Stop it after this long with no client connection (30m, 2h, or a TimeSpan; at least a minute); its idle time counts from now.</summary>
    [Parameter]
    [Duration]
    public TimeSpan? IdleTimeout { get; set; }

    /// <summary>Never stop it for being idle.</summary>
    [Parameter]
    public SwitchParameter NoIdleTimeout { get; set; }

    /// <summary>Changes one database.</summary>
    protected override void Process(string name)
    {
        var request = new SetDatabaseRequest
        {
            Name = name, TimeToLive = TimeToLive, ExpiresAt = ExpiresAt, NoExpiry = NoExpiry.IsPresent,
            Protected = MyInvocation.BoundParameters.ContainsKey(nameof(Protected)) ? Protected.IsPresent : null,
            IdleTimeout = IdleTimeout, NoIdleTimeout = NoIdleTimeout.IsPresent,
        };
        if (!ShouldProcess(name, Describe(request))) return;
        if (TryInvoke((client, _, ct) => client.SetDatabaseAsync(request, ct), out Database changed, $"Changing database {name}"))
        {
            WriteVerbose(NewDevDbDatabaseCommand.Describe(changed));
            WriteDatabase(changed);
        }
    }

    private static string Describe(SetDatabaseRequest request)
    {
        var parts = new List<string>();
        if (request.TimeToLive is { } ttl) parts.Add($"expire {DevDb.Core.Rules.LifetimeRules.Shown(ttl)} from now");
        if (request.ExpiresAt is { } at) parts.Add($"expire at {at:u}");
        if (request.NoExpiry) parts.Add("never expire");
        if (request.Protected is { } p) parts.Add(p ? "protect" : "unprotect");
        if (request.IdleTimeout is { } idle) parts.Add($"stop after {DevDb.Core.Rules.LifetimeRules.Shown(idle)} with no client");
        if (request.NoIdleTimeout) parts.Add("never stop for being idle");
        return parts.Count == 0 ? "Change nothing" : string.Join(", ", parts);
    }
}
