using System.Management.Automation;
using DevDb.Core;
using DevDb.Core.Model;

namespace DevDb.Commands;

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
