using System.Management.Automation;

namespace DevDb.Commands;

/// <summary>Cmdlets that act on databases given by -Name (or piped names, or objects with a Name property) or by -InputObject.</summary>
public abstract class DatabaseCmdlet : DevDbCmdlet
{
    /// <summary>The parameter set with database names.</summary>
    public const string NameSet = "Name";
    /// <summary>The parameter set with database objects.</summary>
    public const string InputObjectSet = "InputObject";

    /// <summary>Names of the databases (lower-cased). Takes strings, and objects with a Name property, from the pipeline. Tab completes database names.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = NameSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(DatabaseNameCompleter))]
    [LowerCase]
    public string[] Name { get; set; } = [];

    /// <summary>Databases as returned by Get-DevDbDatabase or New-DevDbDatabase (piped).</summary>
    [Parameter(Mandatory = true, ParameterSetName = InputObjectSet, ValueFromPipeline = true)]
    public DevDbDatabase[] InputObject { get; set; } = [];

    /// <summary>Acts on each database given.</summary>
    protected override void ProcessRecord()
    {
        IEnumerable<string> names = ParameterSetName == InputObjectSet ? InputObject.Select(d => d.Name) : Name;
        foreach (string name in names.Where(n => IsValidName(n, "database")))
        {
            Process(name);
        }
    }

    /// <summary>Acts on one database.</summary>
    protected abstract void Process(string name);
}
