using DevDb.Core.Client;
using DevDb.Core.Model;

namespace DevDb.Core.Rules;

/// <summary>
/// The decisions about data states (checkpoints, restores, branches), written once and used by
/// both engines. A checkpoint belongs to its database: it is named like a database (a DNS label,
/// so it is safe in a file name, a Kubernetes object name and a shell word), never overwritten,
/// and removed with its database. A branch is a database cloned from another's data; it keeps its
/// own copy of where it started, so a reset of it goes back there however its parent changes.
/// </summary>
public static class CheckpointRules
{
    /// <summary>NameInvalid for a checkpoint name that is not a DNS label (no SQL, shell or path metacharacters get through).</summary>
    public static void ValidateName(string? checkpoint) => Names.Validate(checkpoint, "checkpoint");

    /// <summary>A database can be checkpointed or restored once created and while nothing else changes it; not while its server crashed (its data may be mid-write).</summary>
    public static void CheckCheckpointable(Database database)
    {
        DatabaseRules.CheckUsable(database);
        if (database.Status is not (DatabaseStatus.Running or DatabaseStatus.Stopped))
            throw DatabaseRules.Busy(database.Name, $"{database.Status} (start it first: Start-DevDbDatabase -Name {database.Name})");
    }

    /// <summary>CheckpointExists when the database has a checkpoint of that name.</summary>
    public static void CheckNew(Database database, string checkpoint, IEnumerable<Checkpoint> existing)
    {
        if (existing.Any(c => c.Name == checkpoint)) throw DevDbErrors.CheckpointExists(database.Name, checkpoint);
    }

    /// <summary>The checkpoint to restore or branch from: it exists and is Ready, else CheckpointNotFound.</summary>
    public static Checkpoint Find(string database, string? checkpoint, IEnumerable<Checkpoint> existing)
    {
        ValidateName(checkpoint);
        return existing.FirstOrDefault(c => c.Name == checkpoint && c.Status == CheckpointStatus.Ready)
               ?? throw DevDbErrors.CheckpointNotFound(database, checkpoint!);
    }

    /// <summary>A request for a branch: the parent is named validly, a checkpoint only with a parent, and the project (if given) is the parent's.</summary>
    public static void CheckBranchRequest(NewDatabaseRequest request)
    {
        if (request.FromDatabase is null)
        {
            if (request.Checkpoint is not null)
                throw DevDbErrors.RequestInvalid("A checkpoint was given without the database it belongs to.",
                    "Name the database too: New-DevDbDatabase -FromDatabase <database> -Checkpoint <checkpoint>.", "checkpoint");
            return;
        }
        Names.Validate(request.FromDatabase, "database");
        if (request.Checkpoint is not null) ValidateName(request.Checkpoint);
        if (request.FromDatabase == request.Name)
            throw DevDbErrors.RequestInvalid($"Database '{request.Name}' cannot be branched from itself.", "Give the branch a name of its own.", request.Name);
    }

    /// <summary>The branch's project: its parent's. A request naming another project is RequestInvalid.</summary>
    public static string BranchProject(NewDatabaseRequest request, Database parent)
    {
        if (!string.IsNullOrEmpty(request.Project) && request.Project != parent.Project)
            throw DevDbErrors.RequestInvalid(
                $"Database '{parent.Name}' belongs to project '{parent.Project}', not '{UserInput.Shown(request.Project)}'; a branch belongs to its parent's project.",
                "Leave the project out, or give the parent's.", UserInput.Shown(request.Project));
        return parent.Project;
    }

    /// <summary>A parent can be branched from once created, while nothing else changes it (its current data is copied).</summary>
    public static void CheckBranchable(Database parent, string? checkpoint)
    {
        if (checkpoint is null) CheckCheckpointable(parent);
        else if (parent.Status == DatabaseStatus.Failed) throw RecordedErrors.DatabaseFailed(parent);
    }

    /// <summary>The image revisions a database holds on to: its own, its checkpoints' and (a branch) its origin's. None of them is pruned.</summary>
    public static IEnumerable<int> RevisionsHeld(Database database, IEnumerable<Checkpoint> checkpoints, int? originRevision) =>
        database.Status == DatabaseStatus.Failed
            ? []
            : new[] { database.ImageRevision }.Concat(checkpoints.Select(c => c.ImageRevision)).Concat(originRevision is { } r ? [r] : []);
}
