using System.Management.Automation;
using DevDb.Core;
using DevDb.Core.Model;

namespace DevDb.Commands;

/// <summary>Waits until work started with -NoWait on databases (create, reset, stop, start) is done, and reports work that failed.</summary>
/// <remarks>
/// <para>Wait-DevDbDatabase waits for each database until it is no longer Creating, Resetting, Starting
/// or Stopping, and returns it with its connection details: Running after a create, reset or start,
/// Stopped after a stop. A database with no work under way is returned at once.</para>
/// <para>Work that failed in the background is reported with the error that failed it (for example
/// ProjectNotReady, or OperationInterrupted when the process doing it stopped). A failed create leaves
/// the database listed with Status Failed until you remove it or create it again; a failed reset,
/// start or stop leaves it its data.</para>
/// <para>Ctrl+C stops the waiting only: the work goes on. With -Timeout, a database whose work is still
/// under way after that many seconds is WaitTimedOut.</para>
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
/// <code>Get-DevDbDatabase | Where-Object Status -in 'Creating', 'Resetting', 'Starting', 'Stopping' | Wait-DevDbDatabase</code>
/// </example>
/// <example>
/// <para>Reset without waiting, then wait before the tests</para>
/// <code>
/// Reset-DevDbDatabase -Name dave -Force -NoWait | Out-Null
/// Wait-DevDbDatabase -Name dave -Timeout 300
/// </code>
/// </example>
/// <seealso cref="NewDevDbDatabaseCommand"/>
/// <seealso cref="ResetDevDbDatabaseCommand"/>
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
                () => DevDbException.From(DevDbErrors.WaitTimedOut($"Database '{name}' still had work under way (a create, reset, start or stop) after {Timeout} s.",
                    $"Wait longer (Wait-DevDbDatabase -Name {name} -Timeout <seconds>), or look at it with Get-DevDbDatabase -Name {name}.", name))),
                out Database database, $"Waiting for database {name}"))
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
