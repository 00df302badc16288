using System.Management.Automation;
using System.Reflection;
using System.Runtime.Loader;

namespace DevDb.Commands;

/// <summary>
/// Loads DevDb.Core and its dependencies (Npgsql, AWSSDK, ...) into DevDb's own
/// <see cref="AssemblyLoadContext"/>, so another module that ships a different version of the same
/// DLL (AWS.Tools, a Npgsql-based module) never clashes with DevDb's.
/// </summary>
/// <remarks>
/// The cmdlet assembly lives at the module's root and PowerShell loads it into the default context. Its
/// reference to DevDb.Core cannot be found there (DevDb.Core sits in dependencies/), so
/// the default context raises <see cref="AssemblyLoadContext.Resolving"/>; we answer for
/// DevDb.Core only, from the private context, which then resolves everything else DevDb.Core needs.
/// This file must not touch a DevDb.Core type: it runs before the handler is hooked.
/// PowerShell enumerates this assembly's types before it calls <see cref="OnImport"/>, and loading
/// a type whose layout holds a DevDb.Core value type (an enum field or auto-property) needs
/// DevDb.Core then: so no public type here has a field of a DevDb.Core enum (statuses and
/// formats are strings at this boundary).
/// </remarks>
public sealed class ModuleInitializer : IModuleAssemblyInitializer, IModuleAssemblyCleanup
{
    private const string CoreAssemblyName = "DevDb.Core";

    private static readonly string DependencyFolder = Path.Combine(
        Path.GetDirectoryName(typeof(ModuleInitializer).Assembly.Location)!, "dependencies");

    internal static readonly DevDbLoadContext LoadContext = new(DependencyFolder);

    // Each runspace that imports the module calls OnImport; the handler is process-wide, so it is
    // hooked by the first import and unhooked when the last importer removes the module.
    private static readonly object HookLock = new();
    private static int s_importCount;

    /// <summary>Hooks the resolver of DevDb.Core (once per process).</summary>
    public void OnImport()
    {
        lock (HookLock)
        {
            if (s_importCount++ == 0) AssemblyLoadContext.Default.Resolving += ResolveCore;
        }
    }

    /// <summary>Unhooks the resolver when the last importer removes the module.</summary>
    public void OnRemove(PSModuleInfo psModuleInfo)
    {
        lock (HookLock)
        {
            if (s_importCount > 0 && --s_importCount == 0) AssemblyLoadContext.Default.Resolving -= ResolveCore;
        }
    }

    private static Assembly? ResolveCore(AssemblyLoadContext defaultContext, AssemblyName name) =>
        string.Equals(name.Name, CoreAssemblyName, StringComparison.Ordinal)
            ? LoadContext.LoadFromAssemblyName(name)
            : null;
}

/// <summary>The private load context: serves any assembly found in the module's dependencies/ folder.</summary>
internal sealed class DevDbLoadContext(string dependencyFolder) : AssemblyLoadContext("DevDb", isCollectible: false)
{
    // Framework assemblies the runtime already has in the same or a newer version are shared with
    // it (so e.g. Activity from System.Diagnostics.DiagnosticSource is one type across the process);
    // our copy is only used when the runtime's is older (pwsh 7.4 on .NET 8).
    private static readonly Dictionary<string, string> PlatformAssemblies =
        ((AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") as string) ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .GroupBy(Path.GetFileNameWithoutExtension, StringComparer.OrdinalIgnoreCase)
            .ToDictionary(g => g.Key!, g => g.First(), StringComparer.OrdinalIgnoreCase);

    public string DependencyFolder { get; } = dependencyFolder;

    protected override Assembly? Load(AssemblyName assemblyName)
    {
        string path = Path.Combine(DependencyFolder, assemblyName.Name + ".dll");
        if (!File.Exists(path) || PlatformHasAtLeast(assemblyName))
        {
            return null;
        }
        return LoadFromAssemblyPath(path);
    }

    private static bool PlatformHasAtLeast(AssemblyName requested)
    {
        if (requested.Name is null || !PlatformAssemblies.TryGetValue(requested.Name, out string? platformPath))
        {
            return false;
        }
        Version? platformVersion = AssemblyName.GetAssemblyName(platformPath).Version;
        return platformVersion is not null && platformVersion >= (requested.Version ?? new Version(0, 0));
    }
}
