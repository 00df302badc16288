using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using DevDb.Core.Client;
using DevDb.Core.Engine;
using DevDb.Core.Runtimes.Local;

namespace DevDb.Commands;

/// <summary>Tab completion over values read from the current context; completion never shows an error.</summary>
public abstract class DevDbCompleter : IArgumentCompleter
{
    /// <summary>The values that start with what was typed (case-insensitive), sorted.</summary>
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        string typed = wordToComplete.Trim('\'', '"');
        var pattern = WildcardPattern.Get(WildcardPattern.Escape(typed) + "*", WildcardOptions.IgnoreCase);
        IReadOnlyList<string> values;
        try
        {
            values = Task.Run(() => ReadValuesAsync(fakeBoundParameters)).GetAwaiter().GetResult();
        }
#pragma warning disable CA1031 // A completer that throws breaks the user's Tab key; no suggestions is the right answer.
        catch (Exception)
#pragma warning restore CA1031
        {
            return [];
        }
        return values.Where(pattern.IsMatch).Distinct().Order(StringComparer.Ordinal)
            .Select(v => new CompletionResult(Quoted(v), v, CompletionResultType.ParameterValue, v)).ToList();
    }

    /// <summary>Every value that could be completed.</summary>
    protected abstract Task<IReadOnlyList<string>> ReadValuesAsync(IDictionary fakeBoundParameters);

    // Context names may hold spaces or '/' (kubernetes/devdb is fine bare; "my server" is not).
    private static string Quoted(string value) =>
        value.Any(c => char.IsWhiteSpace(c) || "'\"`$&(){};,|<>@#".Contains(c)) ? $"'{value.Replace("'", "''")}'" : value;
}

/// <summary>Completes project names.</summary>
public sealed class ProjectNameCompleter : DevDbCompleter
{
    /// <summary>The projects of the current context.</summary>
    protected override async Task<IReadOnlyList<string>> ReadValuesAsync(IDictionary fakeBoundParameters)
    {
        using IDevDbClient client = ClientFactory.Create();
        return (await client.GetProjectsAsync().ConfigureAwait(false)).Select(p => p.Name).ToList();
    }
}

/// <summary>Completes database names, within -Project when it is already given.</summary>
public sealed class DatabaseNameCompleter : DevDbCompleter
{
    /// <summary>The databases of the current context (of -Project, if given).</summary>
    protected override async Task<IReadOnlyList<string>> ReadValuesAsync(IDictionary fakeBoundParameters)
    {
        using IDevDbClient client = ClientFactory.Create();
        string? project = (fakeBoundParameters["Project"] as string)?.ToLowerInvariant();
        return (await client.GetDatabasesAsync(project).ConfigureAwait(false)).Select(d => d.Name).ToList();
    }
}

/// <summary>Completes checkpoint names, of -Database (or -FromDatabase, or -Name) when it is already given.</summary>
public sealed class CheckpointNameCompleter : DevDbCompleter
{
    /// <summary>The checkpoints of the database given, or of every database.</summary>
    protected override async Task<IReadOnlyList<string>> ReadValuesAsync(IDictionary fakeBoundParameters)
    {
        using IDevDbClient client = ClientFactory.Create();
        string? database = (fakeBoundParameters["Database"] ?? fakeBoundParameters["FromDatabase"] ?? fakeBoundParameters["Name"]) switch
        {
            string one => one.ToLowerInvariant(),
            string[] { Length: 1 } names => names[0].ToLowerInvariant(),
            _ => null,
        };
        return (await client.GetCheckpointsAsync(database).ConfigureAwait(false)).Select(c => c.Name).ToList();
    }
}

/// <summary>Completes the names of saved contexts (Disconnect-DevDb -Name).</summary>
public sealed class ContextNameCompleter : DevDbCompleter
{
    /// <summary>The saved contexts.</summary>
    protected override Task<IReadOnlyList<string>> ReadValuesAsync(IDictionary fakeBoundParameters) =>
        Task.FromResult<IReadOnlyList<string>>(ClientContexts.Default().List().Select(c => c.Name).ToList());
}

/// <summary>Completes PostgreSQL major versions: those installed on this machine for the local engine, those of existing projects for a server or cluster.</summary>
public sealed class PostgresVersionCompleter : DevDbCompleter
{
    /// <summary>The versions that may be given.</summary>
    protected override async Task<IReadOnlyList<string>> ReadValuesAsync(IDictionary fakeBoundParameters)
    {
        using IDevDbClient client = ClientFactory.Create();
        IEnumerable<int> versions = client is DevDbEngine
            ? PostgresInstallation.Discover().Select(i => i.MajorVersion)
            : (await client.GetProjectsAsync().ConfigureAwait(false)).Select(p => p.PostgresVersion);
        return versions.OrderDescending().Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList();
    }
}
