namespace DevDb.Api;

/// <summary>The API's small subcommands (tokens, fetch) take '--name value' pairs.</summary>
internal static class CommandLineOptions
{
    /// <summary>The pairs by name; an unknown name, a value left out or a missing <paramref name="required"/> one is an ArgumentException naming it.</summary>
    public static Dictionary<string, string> Parse(string[] args, IReadOnlyCollection<string> allowed, params string[] required)
    {
        var options = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
                throw new ArgumentException($"Expected '--option value', got '{args[i]}'.");
            var name = args[i][2..];
            if (!allowed.Contains(name, StringComparer.OrdinalIgnoreCase)) throw new ArgumentException($"Unknown option '--{name}'.");
            options[name] = args[++i];
        }
        foreach (var name in required)
            if (string.IsNullOrWhiteSpace(options.GetValueOrDefault(name)))
                throw new ArgumentException($"--{name} is required.");
        return options;
    }
}
