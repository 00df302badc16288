namespace DevDb.Core;

/// <summary>Projects and databases: the answers both engines give in the same words.</summary>
public static partial class DevDbErrors
{
    public static DevDbException ProjectNotFound(string name) =>
        new(ErrorCodes.ProjectNotFound, $"There is no project named '{UserInput.Shown(name)}'.",
            "List projects with Get-DevDbProject, or create one with New-DevDbProject.", UserInput.Shown(name), null);

    public static DevDbException ProjectExists(string name, string source, int postgresVersion) =>
        new(ErrorCodes.ProjectExists,
            $"Project '{name}' already exists with another definition (source '{ShownSource(source)}', PostgreSQL {postgresVersion}).",
            $"Choose another name, change it with Update-DevDbProject, or remove it first with Remove-DevDbProject -Name {name}.", name, null);

    /// <param name="buildError">Why its last build failed; null while its first image is still being built.</param>
    public static DevDbException ProjectNotReady(string name, string? buildError) =>
        new(ErrorCodes.ProjectNotReady,
            buildError is null
                ? $"Project '{name}' has no image to clone yet: its first image is still being built."
                : $"Project '{name}' has no image to clone: its build failed: {buildError}",
            buildError is null
                ? $"Wait for it (Wait-DevDbProject -Name {name}), then try again."
                : $"Fix the cause and run Update-DevDbProject -Name {name}.",
            name, null);

    public static DevDbException ProjectHasDatabases(string project, IEnumerable<string> databases)
    {
        var names = databases.Order(StringComparer.Ordinal).ToList();
        return new(ErrorCodes.ProjectHasDatabases, $"Project '{project}' still has {names.Count} database(s): {string.Join(", ", names)}.",
            $"Remove them first (Get-DevDbDatabase -Project {project} | Remove-DevDbDatabase), or with the project: Remove-DevDbProject -Name {project} -IncludeDatabases.", project, null);
    }

    /// <param name="project">The project the lookup was limited to, if any.</param>
    public static DevDbException DatabaseNotFound(string name, string? project = null) =>
        new(ErrorCodes.DatabaseNotFound,
            project is null
                ? $"There is no database named '{UserInput.Shown(name)}'."
                : $"Project '{UserInput.Shown(project)}' has no database named '{UserInput.Shown(name)}'.",
            "List databases with Get-DevDbDatabase, or create one with New-DevDbDatabase.", UserInput.Shown(name), null);

    public static DevDbException DatabaseExists(string name, string project, string owner) =>
        new(ErrorCodes.DatabaseExists, $"A database named '{name}' already exists (project '{project}', owner '{owner}').",
            $"Choose another name, or reuse it: Get-DevDbDatabase -Name {name}.", name, null);

    /// <param name="doing">What was interrupted, e.g. "Resetting".</param>
    /// <param name="why">What stopped it, e.g. "the DevDb server shut down before it finished".</param>
    public static DevDbException OperationInterrupted(string name, string doing, string why) =>
        new(ErrorCodes.OperationInterrupted, $"{doing} database '{name}' was interrupted: {why}. It has the data and the status it had before.",
            $"Run it again (e.g. Reset-DevDbDatabase -Name {name}).", name, null);

    /// <param name="message">Why the create failed, or that the process doing it stopped.</param>
    public static DevDbException DatabaseCreateFailed(string name, string message) =>
        new(ErrorCodes.DatabaseCreateFailed, message,
            $"Fix the cause, then create it again (New-DevDbDatabase -Name {name}), or remove it with Remove-DevDbDatabase.", name, null);
}
