using DevDb.HelpBuilder;

// DevDb.HelpBuilder --assembly <cmdlet dll> --docs <its XML documentation file> --references <file listing reference assemblies> --output <MAML file>
var options = new Dictionary<string, string>(StringComparer.Ordinal);
for (var i = 0; i + 1 < args.Length; i += 2) options[args[i]] = args[i + 1];
string[] required = ["--assembly", "--docs", "--references", "--output"];
if (required.FirstOrDefault(o => !options.ContainsKey(o)) is { } missing)
{
    Console.Error.WriteLine($"DevDb.HelpBuilder: {missing} is missing. Usage: {string.Join(" ", required.Select(o => $"{o} <path>"))}");
    return 2;
}

var references = File.ReadAllLines(options["--references"]).Where(line => line.Length > 0);
var cmdlets = CmdletReader.Read(options["--assembly"], references);
var docs = HelpText.Load(options["--docs"]);

var problems = HelpChecks.Find(cmdlets, docs);
if (problems.Count > 0)
{
    // MSBuild shows lines of this shape as errors and fails the build.
    foreach (var problem in problems) Console.Error.WriteLine($"{options["--docs"]}: error DEVDBHELP: {problem}");
    return 1;
}

Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(options["--output"]))!);
MamlWriter.Write(cmdlets, docs, options["--output"]);
Console.WriteLine($"DevDb.HelpBuilder: help for {cmdlets.Count} cmdlets written to {options["--output"]}");
return 0;
