using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using DevDb.Core.Client;

namespace DevDb.Commands;

/// <summary>Tab completion over names read from the client; completion never shows an error.</summary>
public abstract class NameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        string typed = wordToComplete.Trim('\'', '"');
        var pattern = WildcardPattern.Get(typed + "*", WildcardOptions.IgnoreCase);
        IReadOnlyList<string> names;
        try
        {
            names = Task.Run(async () =>
            {
                using IDevDbClient client = ClientFactory.Create();
                return await ReadNamesAsync(client, fakeBoundParameters).ConfigureAwait(false);
            }).GetAwaiter().GetResult();
        }
#pragma warning disable CA1031 // A completer that throws breaks the user's Tab key; no suggestions is the right answer.
        catch (Exception)
#pragma warning restore CA1031
        {
            return [];
        }
        return names.Where(pattern.IsMatch).Order(StringComparer.Ordinal)
            .Select(n => new CompletionResult(n, n, CompletionResultType.ParameterValue, n)).ToList();
    }

    protected abstract Task<IReadOnlyList<string>> ReadNamesAsync(IDevDbClient client, IDictionary fakeBoundParameters);
}

/// <summary>Completes project names.</summary>
public sealed class ProjectNameCompleter : NameCompleter
{
    protected override async Task<IReadOnlyList<string>> ReadNamesAsync(IDevDbClient client, IDictionary fakeBoundParameters) =>
        (await client.GetProjectsAsync().ConfigureAwait(false)).Select(p => p.Name).ToList();
}

/// <summary>Completes database names, within -Project when it is already given.</summary>
public sealed class DatabaseNameCompleter : NameCompleter
{
    protected override async Task<IReadOnlyList<string>> ReadNamesAsync(IDevDbClient client, IDictionary fakeBoundParameters) =>
        (await client.GetDatabasesAsync(fakeBoundParameters["Project"] as string).ConfigureAwait(false)).Select(d => d.Name).ToList();
}
