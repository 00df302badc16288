using System.Security.Claims;
using DevDb.Api.Auth;
using DevDb.Core.Client;
using DevDb.Core.Engine;
using DevDb.Core.Model;
using DevDb.Core.Rules;
using Microsoft.AspNetCore.Http.HttpResults;

namespace DevDb.Api;

/// <summary>The routes of checkpoints and restores: under a database, for its owner or an admin, like the database's other routes.</summary>
public static partial class Endpoints
{
    private static void MapDataStates(IEndpointRouteBuilder app, RouteGroupBuilder databases)
    {
        app.MapGet(ApiContract.AllCheckpoints, GetAllCheckpoints).WithName("GetAllCheckpoints").WithTags("Checkpoints")
            .WithSummary("Lists the checkpoints of every database the caller sees (developers: their own).");
        databases.MapGet("{name}/checkpoints", GetCheckpoints).WithName("GetCheckpoints").WithTags("Checkpoints")
            .WithSummary("The database's checkpoints (its owner or an admin).").ProducesProblems(403, 404);
        databases.MapPost("{name}/checkpoints", CheckpointDatabase).WithName("CheckpointDatabase").WithTags("Checkpoints")
            .WithSummary("Saves the database's current data as a named checkpoint (its owner or an admin).")
            .WithDescription("201 with the checkpoint Ready. The local runtime stops the server fast, clones its data copy-on-write and starts it again; " +
                             "the Kubernetes runtime takes a VolumeSnapshot of its volume (503 CheckpointFailed when the snapshot fails). 409 CheckpointExists when the name is taken, StateLocked while another operation is under way; 403 QuotaExceeded past CheckpointsPerUser.")
            .ProducesProblems(400, 403, 404, 409, 503);
        databases.MapDelete("{name}/checkpoints/{checkpoint}", RemoveCheckpoint).WithName("RemoveCheckpoint").WithTags("Checkpoints")
            .WithSummary("Deletes a checkpoint (its owner or an admin).").ProducesProblems(400, 403, 404, 409);
        databases.MapPost("{name}/restore", RestoreDatabase).WithName("RestoreDatabase").WithTags("Checkpoints")
            .WithSummary("Starts putting a checkpoint's data back, same name, host, port, user and password (its owner or an admin).")
            .WithDescription(LongWork("Restoring") + " 404 CheckpointNotFound when the database has no such checkpoint.").ProducesProblems(400, 403, 404, 409);
    }

    private static async Task<Ok<IReadOnlyList<Checkpoint>>> GetAllCheckpoints(ClaimsPrincipal user, IDevDbService engine, CancellationToken cancellationToken)
    {
        var caller = Caller.From(user);
        var all = await engine.GetCheckpointsAsync(cancellationToken: cancellationToken);
        if (caller.IsAdmin) return TypedResults.Ok(all);
        var mine = (await engine.GetDatabasesAsync(owner: caller.User, cancellationToken: cancellationToken)).Select(d => d.Name).ToHashSet();
        return TypedResults.Ok<IReadOnlyList<Checkpoint>>(all.Where(c => mine.Contains(c.Database)).ToList());
    }

    private static async Task<Ok<IReadOnlyList<Checkpoint>>> GetCheckpoints(string name, ClaimsPrincipal user, IDevDbService engine, CancellationToken cancellationToken)
    {
        await RequireAccessAsync(name, user, engine, cancellationToken);
        return TypedResults.Ok(await engine.GetCheckpointsAsync(name, cancellationToken));
    }

    private static async Task<Created<Checkpoint>> CheckpointDatabase(string name, NewCheckpointRequest request, ClaimsPrincipal user, IDevDbService engine,
        CancellationToken cancellationToken)
    {
        CheckpointRules.ValidateName(request.Name);
        await RequireAccessAsync(name, user, engine, cancellationToken);
        var checkpoint = await engine.CheckpointDatabaseAsync(name, request.Name, cancellationToken);
        return TypedResults.Created("/" + ApiContract.Checkpoint(name, checkpoint.Name), checkpoint);
    }

    private static async Task<NoContent> RemoveCheckpoint(string name, string checkpoint, ClaimsPrincipal user, IDevDbService engine, CancellationToken cancellationToken)
    {
        CheckpointRules.ValidateName(checkpoint);
        await RequireAccessAsync(name, user, engine, cancellationToken);
        await engine.RemoveCheckpointAsync(name, checkpoint, cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<Results<Ok<Database>, Accepted<Database>>> RestoreDatabase(string name, RestoreDatabaseRequest request, ClaimsPrincipal user,
        IDevDbService engine, CancellationToken cancellationToken)
    {
        CheckpointRules.ValidateName(request.Checkpoint);
        await RequireAccessAsync(name, user, engine, cancellationToken);
        return Accepted(await engine.BeginRestoreDatabaseAsync(name, request.Checkpoint, cancellationToken));
    }
}
