using DevDb.Core.Model;

namespace DevDb.Core;

/// <summary>
/// The errors records keep (a Failed database, a project whose last build failed), raised again
/// for whoever waits on them: the engine in-process, or a client of the API that polls. The code
/// is the one the failure had, so ErrorIds are the same in both modes.
/// </summary>
public static class RecordedErrors
{
    /// <summary>The failure of a database's last operation: a create (it is Failed), or a reset, stop or start (it kept its status).</summary>
    public static DevDbException DatabaseFailed(Database database) =>
        DevDbException.Reported(database.ErrorCode ?? ErrorCodes.DatabaseCreateFailed,
            database.Error ?? $"Creating database '{database.Name}' failed.",
            database.Status == DatabaseStatus.Failed
                ? $"Fix the cause, then create it again (New-DevDbDatabase -Name {database.Name}), or remove it with Remove-DevDbDatabase."
                : $"Fix the cause and try again; the database is {database.Status}.",
            database.Name);

    public static DevDbException BuildFailed(Project project, int revision) =>
        DevDbException.Reported(project.ErrorCode ?? ErrorCodes.RestoreFailed,
            project.Error ?? $"Building image r{revision} of project '{project.Name}' stopped before it was ready.",
            $"Fix the cause, then run Update-DevDbProject -Name {project.Name}.", project.Name);
}
