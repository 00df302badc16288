namespace DevDb.HelpBuilder;

/// <summary>What every cmdlet's help must have; the build fails listing what is missing.</summary>
public static class HelpChecks
{
    public const int MinimumExamples = 2;

    public static IReadOnlyList<string> Find(IReadOnlyList<CmdletModel> cmdlets, HelpText docs)
    {
        var problems = new List<string>();
        var names = CmdletNames(cmdlets);
        foreach (var cmdlet in cmdlets)
        {
            var help = docs.For(cmdlet.DocId, names);
            if (help is null)
            {
                problems.Add($"{cmdlet.Name} ({cmdlet.DocId}) has no documentation comment.");
                continue;
            }
            if (help.Summary.Length == 0) problems.Add($"{cmdlet.Name}: no <summary> (the synopsis).");
            if (help.Description.Count == 0 || help.Description.All(p => p.Length == 0)) problems.Add($"{cmdlet.Name}: no <remarks> (the description).");
            if (help.Examples.Count < MinimumExamples) problems.Add($"{cmdlet.Name}: {help.Examples.Count} <example>(s); at least {MinimumExamples} are needed.");
            foreach (var (example, index) in help.Examples.Select((e, i) => (e, i + 1)))
            {
                if (example.Title.Length == 0) problems.Add($"{cmdlet.Name}: example {index} has no title (a <para> before its <code>).");
                if (example.Code.Length == 0) problems.Add($"{cmdlet.Name}: example {index} has no <code>.");
            }
            if (help.Links.Count == 0) problems.Add($"{cmdlet.Name}: no <seealso> (related links).");
            foreach (var link in help.Links.Where(l => l.CmdletDocId is not null && !names(l.CmdletDocId).Contains('-')))
                problems.Add($"{cmdlet.Name}: <seealso cref=\"{link.CmdletDocId}\"/> is not a cmdlet.");
            foreach (var parameter in cmdlet.Parameters)
            {
                if (docs.For(parameter.DocId, names) is not { Summary.Length: > 0 })
                    problems.Add($"{cmdlet.Name} -{parameter.Name} ({parameter.DocId}) has no <summary> (its description).");
            }
        }
        return problems;
    }

    /// <summary>Maps a documentation id to the cmdlet name (T:...NewDevDbDatabaseCommand to New-DevDbDatabase), else to the type's or member's short name.</summary>
    public static Func<string, string> CmdletNames(IReadOnlyList<CmdletModel> cmdlets)
    {
        var byDocId = cmdlets.ToDictionary(c => c.DocId, c => c.Name, StringComparer.Ordinal);
        return docId => byDocId.TryGetValue(docId, out var name) ? name : docId[(docId.LastIndexOf('.') + 1)..];
    }
}
