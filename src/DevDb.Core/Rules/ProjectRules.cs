using DevDb.Core.Client;
using DevDb.Core.Model;

namespace DevDb.Core.Rules;

/// <summary>What a project is, as far as "is this the same request?" goes.</summary>
public sealed record ProjectDefinition(string Source, int PostgresVersion, string DatabaseName, string? PostRestoreSql, bool SuperuserLogins)
{
    public static ProjectDefinition Of(Project project) =>
        new(project.Source, project.PostgresVersion, project.DatabaseName, project.PostRestoreSql, project.SuperuserLogins);

    public static ProjectDefinition Of(NewProjectRequest request, int postgresVersion) =>
        new(request.Source, postgresVersion, request.DatabaseName, request.PostRestoreSql, request.SuperuserLogins);
}

/// <summary>How an engine answers a request to create a project whose name may be taken.</summary>
public enum NewProjectDecision
{
    /// <summary>No project has the name: record it and build image revision 1.</summary>
    Create,
    /// <summary>The same project exists (Ready, or its first image still being built): answer with it.</summary>
    Identical,
    /// <summary>A project whose builds all failed: rebuild it from the new definition.</summary>
    Rebuild,
    /// <summary>Another project has the name: ProjectExists.</summary>
    Conflict,
    /// <summary>The project is in the middle of other work (a refresh, a removal): StateLocked.</summary>
    Busy,
}

/// <summary>The decisions about projects, written once and used by both engines.</summary>
public static class ProjectRules
{
    /// <param name="existing">The project of that name, if any.</param>
    /// <param name="busyWithOtherWork">Another operation than the build of this very definition is in flight on it.</param>
    public static NewProjectDecision ClassifyNew(Project? existing, ProjectDefinition requested, bool busyWithOtherWork)
    {
        if (existing is null) return NewProjectDecision.Create;
        if (busyWithOtherWork) return NewProjectDecision.Busy;
        if (existing.Status == ProjectStatus.Failed) return NewProjectDecision.Rebuild;
        return ProjectDefinition.Of(existing) == requested ? NewProjectDecision.Identical : NewProjectDecision.Conflict;
    }

    /// <summary>The PostgreSQL major versions DevDb runs (both runtimes: the login and client-authentication rules need 10).</summary>
    public const int OldestPostgresVersion = 10, NewestPostgresVersion = 99;

    /// <summary>PostgresVersionUnsupported for a version no runtime can run; whether it is installed is the local runtime's question.</summary>
    public static void CheckPostgresVersion(int? version)
    {
        if (version is { } major && major is < OldestPostgresVersion or > NewestPostgresVersion)
            throw DevDbErrors.PostgresVersionUnsupported(major, OldestPostgresVersion, NewestPostgresVersion);
    }

    /// <summary>The image new databases and resets are cloned from: the newest ready one, or ProjectNotReady saying why there is none.</summary>
    public static Image ImageToClone(Project project) =>
        project.LatestImage ?? throw DevDbErrors.ProjectNotReady(project.Name, project.Status == ProjectStatus.Failed ? project.Error ?? "" : null);

    /// <summary>A project with databases is removed only when asked to remove them too.</summary>
    public static void CheckRemovable(string project, IReadOnlyCollection<string> databases, bool force)
    {
        if (databases.Count == 0 || force) return;
        throw DevDbErrors.ProjectHasDatabases(project, databases);
    }

    /// <summary>A project once no build of it runs: Ready while it has an image to clone, else Failed; with the last build's error, if it failed.</summary>
    public static Project Settled(Project project, string? error, string? errorCode) =>
        project with { Status = project.LatestImage is null ? ProjectStatus.Failed : ProjectStatus.Ready, Error = error, ErrorCode = errorCode };

    /// <summary>The installation's default for how many of a project's newest ready images are kept (DevDb:ImagesToKeep, chart images.keep).</summary>
    public const int DefaultImagesToKeep = 3;

    /// <summary>
    /// Image retention: the ready images to delete. The newest <paramref name="keep"/> ready ones stay
    /// (at least the newest, which new databases are cloned from), and so does every image a database,
    /// a checkpoint or a branch's origin uses. Engines call this only when nothing of the project is in
    /// flight (a reset may be taking any image).
    /// </summary>
    public static IReadOnlyList<int> PrunableImages(IEnumerable<Image> images, IEnumerable<int> revisionsInUse, int keep)
    {
        var ready = images.Where(i => i.Status == ImageStatus.Ready).Select(i => i.Revision).OrderDescending().ToList();
        var used = revisionsInUse.ToHashSet();
        return ready.Skip(Math.Max(1, keep)).Where(r => !used.Contains(r)).Order().ToList();
    }

    /// <summary>SettingInvalid for a retention that keeps no image.</summary>
    public static int CheckImagesToKeep(int keep, string setting) =>
        keep >= 1 ? keep : throw DevDbErrors.SettingInvalid(setting, $"{setting} is {keep}; at least the newest image must be kept.", $"Set {setting} to 1 or more (default {DefaultImagesToKeep}).");
}
