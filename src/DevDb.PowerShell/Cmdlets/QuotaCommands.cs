using System.Management.Automation;
using DevDb.Core.Model;

namespace DevDb.Commands;

/// <summary>Shows what you (or, for an admin, another user) hold against the installation's quotas.</summary>
/// <remarks>
/// <para>Get-DevDbQuota shows the limits the installation sets on one user (databases owned, databases
/// running, checkpoints) and on each project, next to what the user holds now. A limit that is not set
/// is empty. A create, start or checkpoint past a limit fails with QuotaExceeded, naming the limit, the
/// count and your databases; administrators are not limited, for themselves or for others.</para>
/// <para>Where limits are set: on a server, the API's DevDb:Quotas settings; on Kubernetes, the chart's
/// quotas values; with the local engine, the state folder's settings.json, e.g.
/// { "quotas": { "databasesPerUser": 5, "runningDatabasesPerUser": 3 } }.</para>
/// </remarks>
/// <example>
/// <para>How many more databases may I create?</para>
/// <code>Get-DevDbQuota | Select-Object Databases, DatabasesPerUser</code>
/// </example>
/// <example>
/// <para>An admin looks at another user's usage</para>
/// <code>Get-DevDbQuota -User dave</code>
/// </example>
/// <seealso href="about_DevDb"/>
[Cmdlet(VerbsCommon.Get, "DevDbQuota")]
[OutputType(typeof(DevDbQuota))]
public sealed class GetDevDbQuotaCommand : DevDbCmdlet
{
    /// <summary>The user to show (admins only); by default yourself.</summary>
    [Parameter(Position = 0)]
    [ValidateNotNullOrEmpty]
    public string? User { get; set; }

    /// <summary>Shows the quota.</summary>
    protected override void ProcessRecord()
    {
        if (TryInvoke((client, _, ct) => client.GetQuotaAsync(User, ct), out Quota quota)) WriteObject(DevDbQuota.From(quota));
    }
}
