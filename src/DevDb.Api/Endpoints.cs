using System.Security.Claims;
using DevDb.Api.Auth;
using DevDb.Core;
using DevDb.Core.Client;
using DevDb.Core.Engine;
using DevDb.Core.Model;
using DevDb.Core.Rules;
using DevDb.Core.Sources;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace DevDb.Api;

/// <summary>A refresh's body: everything optional, so an empty body fetches the current source again.</summary>
public sealed record RefreshProjectRequest
{
    /// <summary>When present, must be the project named in the route.</summary>
    public string? Name { get; init; }
    /// <summary>A new source address; null fetches the current one again.</summary>
    public string? Source { get; init; }
    /// <summary>New post-restore SQL; null keeps the current one.</summary>
    public string? PostRestoreSql { get; init; }
}

/// <summary>A change of a database's lifetime (PATCH): what is left out is kept.</summary>
public sealed record ChangeDatabaseRequest
{
    /// <summary>When present, must be the database named in the route.</summary>
    public string? Name { get; init; }
    /// <summary>Expire this long from now (renewing a lease). Not with expiresAt or noExpiry.</summary>
    public TimeSpan? TimeToLive { get; init; }
    public DateTimeOffset? ExpiresAt { get; init; }
    /// <summary>Never expire (refused where a maximum applies).</summary>
    public bool NoExpiry { get; init; }
    public bool? Protected { get; init; }
    /// <summary>Stop it after this long with no client connection (its idle time counts from now). Not with noIdleTimeout.</summary>
    public TimeSpan? IdleTimeout { get; init; }
    /// <summary>Never stop it for being idle.</summary>
    public bool NoIdleTimeout { get; init; }
}

/// <summary>A change of a project's settings (PATCH): lifetimes, protection, refresh schedule, without a new image; what is left out is kept.</summary>
public sealed record ChangeProjectRequest
{
    /// <summary>When present, must be the project named in the route.</summary>
    public string? Name { get; init; }
    public TimeSpan? DefaultTimeToLive { get; init; }
    public bool NoDefaultTimeToLive { get; init; }
    public TimeSpan? MaxTimeToLive { get; init; }
    public bool NoMaxTimeToLive { get; init; }
    public bool? Protected { get; init; }
    /// <summary>The idle timeout of databases created from now on without one.</summary>
    public TimeSpan? IdleTimeout { get; init; }
    public bool NoIdleTimeout { get; init; }
    /// <summary>A five-field cron expression: refresh the project from its source on it (run by the server).</summary>
    public string? RefreshSchedule { get; init; }
    /// <summary>The IANA time zone of the schedule (default UTC).</summary>
    public string? RefreshTimeZone { get; init; }
    /// <summary>Drop the refresh schedule.</summary>
    public bool NoRefreshSchedule { get; init; }
}

/// <summary>The routes of the DevDb API (see <see cref="ApiContract"/>).</summary>
public static partial class Endpoints
{
    public const string AdminPolicy = "admin";

    public static void Map(IEndpointRouteBuilder app)
    {
        var projects = app.MapGroup(ApiContract.Projects).WithTags("Projects");
        projects.MapGet("", GetProjects).WithName("GetProjects").WithSummary("Lists projects (any user).");
        projects.MapPost("", NewProject).WithName("NewProject").RequireAuthorization(AdminPolicy)
            .WithSummary("Registers a project and starts building image revision 1 (admins).")
            .WithDescription("202 with the project Building and a Location to poll; 200 when an identical project is already Ready; 409 ProjectExists when the name is taken by another definition.")
            .ProducesProblems(400, 403, 404, 409, 422);
        projects.MapGet("{name}", GetProject).WithName("GetProject").WithSummary("One project (any user).").ProducesProblems(404);
        projects.MapPatch("{name}", SetProject).WithName("SetProject").RequireAuthorization(AdminPolicy)
            .WithSummary("Changes a project's lifetime settings (default and maximum time-to-live, protection) without building an image (admins).")
            .ProducesProblems(400, 403, 404, 409);
        projects.MapDelete("{name}", RemoveProject).WithName("RemoveProject").RequireAuthorization(AdminPolicy)
            .WithSummary("Removes a project and its images (admins); refuses while it has databases unless force=true, which removes them too.")
            .ProducesProblems(403, 404, 409);
        projects.MapPost("{name}/refresh", RefreshProject).WithName("RefreshProject").RequireAuthorization(AdminPolicy)
            .WithSummary("Fetches the source again (or a new one) and starts building the next image revision (admins).")
            .ProducesProblems(400, 403, 404, 409, 422);

        var databases = app.MapGroup(ApiContract.Databases).WithTags("Databases");
        databases.MapGet("", GetDatabases).WithName("GetDatabases")
            .WithSummary("Lists databases, optionally of one project and/or owner; developers see only their own.")
            .ProducesProblems(403, 404);
        databases.MapPost("", NewDatabase).WithName("NewDatabase")
            .WithSummary("Starts cloning the project's newest image into a new database, or (fromDatabase, optionally checkpoint) a branch of another database.")
            .WithDescription("202 with the database Creating and a Location to poll; 200 when an identical database exists and is no longer Creating; 409 DatabaseExists when the name is taken; 403 QuotaExceeded past one of the installation's quotas (admins are past them). Developers create databases for themselves only.")
            .ProducesProblems(400, 403, 404, 409, 503);
        databases.MapGet("{name}", GetDatabase).WithName("GetDatabase").WithSummary("One database (its owner or an admin).").ProducesProblems(403, 404);
        databases.MapPatch("{name}", SetDatabase).WithName("SetDatabase")
            .WithSummary("Changes a database's expiry (a time-to-live from now renews a lease) and/or protection (its owner or an admin).")
            .ProducesProblems(400, 403, 404, 409);
        databases.MapDelete("{name}", RemoveDatabase).WithName("RemoveDatabase")
            .WithSummary("Removes a database (its owner or an admin); 409 DatabaseProtected while it is protected.").ProducesProblems(403, 404, 409);
        databases.MapPost("{name}/reset", ResetDatabase).WithName("ResetDatabase")
            .WithSummary("Starts going back to the project's newest image (a branch: to the data it was branched from, unless toImage=true), same name, port, user and password (its owner or an admin).")
            .WithDescription(LongWork("Resetting")).ProducesProblems(403, 404, 409);
        databases.MapPost("{name}/stop", StopDatabase).WithName("StopDatabase").WithSummary("Starts stopping the server, keeping data and port (its owner or an admin).")
            .WithDescription(LongWork("Stopping")).ProducesProblems(403, 404, 409);
        databases.MapPost("{name}/start", StartDatabase).WithName("StartDatabase").WithSummary("Starts the server of a stopped or crashed database (its owner or an admin).")
            .WithDescription(LongWork("Starting")).ProducesProblems(403, 404, 409);
        MapDataStates(app, databases);
        databases.MapGet("{name}/connection", GetConnection).WithName("GetConnection")
            .WithSummary("Connection details including the password (its owner or an admin); never cached.").ProducesProblems(403, 404);

        app.MapGet(ApiContract.WhoAmI, (ClaimsPrincipal user) => { var c = Caller.From(user); return TypedResults.Ok(new ApiIdentity(c.User, c.Role)); })
            .WithName("WhoAmI").WithTags("Identity").WithSummary("The user and role of the bearer token.");
        app.MapGet(ApiContract.Quota, GetQuota).WithName("GetQuota").WithTags("Identity")
            .WithSummary("What a user (default: the caller) holds against the installation's quotas; developers ask about themselves only.").ProducesProblems(403);

        app.MapGet("/healthz", () => TypedResults.Ok(new HealthStatus("ok"))).AllowAnonymous().WithTags("Health")
            .WithName("Health").WithSummary("The process is up.");
        app.MapGet("/readyz", Ready).AllowAnonymous().WithTags("Health").WithName("Ready")
            .WithSummary("The engine and its catalog are usable (503 when not).")
            .Produces<HealthStatus>().ProducesProblems(StatusCodes.Status503ServiceUnavailable);
    }

    private static string LongWork(string status) =>
        $"202 with the database {status} and a Location to poll (GET it until its status is no longer {status}; a failure is its error and errorCode); " +
        "409 StateLocked while another operation is under way on it.";

    /// <param name="Damaged">Catalog records that could not be read and were moved aside (under the state folder's catalog/damaged).</param>
    public sealed record HealthStatus(string Status, IReadOnlyList<string>? Damaged = null);

    // ---- projects ---------------------------------------------------------------------------

    private static async Task<Ok<IReadOnlyList<Project>>> GetProjects(ClaimsPrincipal user, IDevDbService engine, CancellationToken cancellationToken) =>
        TypedResults.Ok<IReadOnlyList<Project>>((await engine.GetProjectsAsync(cancellationToken)).Select(p => VisibleTo(user, p)).ToList());

    private static async Task<Ok<Project>> GetProject(string name, ClaimsPrincipal user, IDevDbService engine, CancellationToken cancellationToken) =>
        TypedResults.Ok(VisibleTo(user, await engine.GetProjectAsync(name, cancellationToken)));

    /// <summary>
    /// Developers see a project without its source's credentials and query string, without its post-restore SQL (masking rules),
    /// and with only the history entries about the project itself or their own databases (not who else had which database); admins see all.
    /// </summary>
    private static Project VisibleTo(ClaimsPrincipal user, Project project)
    {
        var caller = Caller.From(user);
        return caller.IsAdmin ? project : project with
        {
            Source = SourceAddress.Redacted(project.Source), PostRestoreSql = null,
            History = project.History.Where(e => e.Database is null || e.Owner == caller.User).ToList(),
        };
    }

    private static async Task<Results<Ok<Project>, Accepted<Project>>> NewProject(
        NewProjectRequest request, IDevDbService engine, ApiMetrics metrics, CancellationToken cancellationToken)
    {
        var project = await engine.BeginNewProjectAsync(request, cancellationToken);
        if (project.Status != ProjectStatus.Building) return TypedResults.Ok(project);
        metrics.ImageBuildStarted();
        return TypedResults.Accepted("/" + ApiContract.Project(project.Name), project);
    }

    private static async Task<Accepted<Project>> RefreshProject(string name, [FromBody(EmptyBodyBehavior = Microsoft.AspNetCore.Mvc.ModelBinding.EmptyBodyBehavior.Allow)] RefreshProjectRequest? request,
        IDevDbService engine, ApiMetrics metrics, CancellationToken cancellationToken)
    {
        if (request?.Name is { } bodyName && bodyName != name)
            throw DevDbErrors.RequestInvalid(
                $"The body names project '{UserInput.Shown(bodyName)}' but the route names '{UserInput.Shown(name)}'.",
                "Leave 'name' out of the body, or make it match the route.", UserInput.Shown(bodyName));
        var project = await engine.BeginUpdateProjectAsync(
            new UpdateProjectRequest { Name = name, Source = request?.Source, PostRestoreSql = request?.PostRestoreSql }, cancellationToken);
        metrics.ImageBuildStarted();
        return TypedResults.Accepted("/" + ApiContract.Project(project.Name), project);
    }

    private static async Task<Ok<Project>> SetProject(string name, ChangeProjectRequest request, IDevDbService engine, CancellationToken cancellationToken)
    {
        CheckBodyName(request.Name, name, "project");
        return TypedResults.Ok(await engine.SetProjectAsync(new SetProjectRequest
        {
            Name = name, DefaultTimeToLive = request.DefaultTimeToLive, NoDefaultTimeToLive = request.NoDefaultTimeToLive,
            MaxTimeToLive = request.MaxTimeToLive, NoMaxTimeToLive = request.NoMaxTimeToLive, Protected = request.Protected,
            IdleTimeout = request.IdleTimeout, NoIdleTimeout = request.NoIdleTimeout,
            RefreshSchedule = request.RefreshSchedule, RefreshTimeZone = request.RefreshTimeZone, NoRefreshSchedule = request.NoRefreshSchedule,
        }, cancellationToken));
    }

    private static void CheckBodyName(string? bodyName, string name, string kind)
    {
        if (bodyName is not null && bodyName != name)
            throw DevDbErrors.RequestInvalid(
                $"The body names {kind} '{UserInput.Shown(bodyName)}' but the route names '{UserInput.Shown(name)}'.",
                "Leave 'name' out of the body, or make it match the route.", UserInput.Shown(bodyName));
    }

    private static async Task<NoContent> RemoveProject(string name, IDevDbService engine, CancellationToken cancellationToken, bool force = false)
    {
        await engine.RemoveProjectAsync(name, force, cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<Ok<Quota>> GetQuota(ClaimsPrincipal user, IDevDbService engine, CancellationToken cancellationToken,
        [Microsoft.AspNetCore.Mvc.FromQuery(Name = "user")] string? of = null)
    {
        var caller = Caller.From(user);
        if (!caller.IsAdmin && of is not null && of != caller.User)
            throw Problems.Forbidden($"Developer '{caller.User}' can see only their own quota, not that of '{UserInput.Shown(of)}'.", UserInput.Shown(of));
        return TypedResults.Ok(await engine.GetQuotaAsync(of ?? caller.User, cancellationToken));
    }

    // ---- databases --------------------------------------------------------------------------

    private static async Task<Ok<IReadOnlyList<Database>>> GetDatabases(ClaimsPrincipal user, IDevDbService engine, CancellationToken cancellationToken,
        string? project = null, string? owner = null)
    {
        var caller = Caller.From(user);
        if (!caller.IsAdmin)
        {
            if (owner is not null && owner != caller.User)
                throw Problems.Forbidden($"Developer '{caller.User}' can list only their own databases, not those of '{UserInput.Shown(owner)}'.", UserInput.Shown(owner));
            owner = caller.User;
        }
        return TypedResults.Ok(await engine.GetDatabasesAsync(project, owner, cancellationToken));
    }

    private static async Task<Results<Ok<Database>, Accepted<Database>>> NewDatabase(
        NewDatabaseRequest request, ClaimsPrincipal user, IDevDbService engine, ApiMetrics metrics, CancellationToken cancellationToken)
    {
        var caller = Caller.From(user);
        if (!caller.IsAdmin && request.Owner is not null && request.Owner != caller.User)
            throw Problems.Forbidden($"Developer '{caller.User}' can create databases only for themselves, not for '{UserInput.Shown(request.Owner)}'.", UserInput.Shown(request.Owner));
        // A developer branches their own databases only; admins any.
        if (request.FromDatabase is { } parent && Names.IsValid(parent)) await RequireAccessAsync(parent, user, engine, cancellationToken);
        var database = await engine.BeginNewDatabaseAsync(request with { Owner = caller.IsAdmin ? request.Owner ?? caller.User : caller.User }, cancellationToken);
        if (database.Status == DatabaseStatus.Creating) metrics.DatabaseCreateStarted();
        return Accepted(database);
    }

    private static async Task<Ok<Database>> GetDatabase(string name, ClaimsPrincipal user, IDevDbService engine, CancellationToken cancellationToken) =>
        TypedResults.Ok(await RequireAccessAsync(name, user, engine, cancellationToken));

    private static async Task<Ok<Database>> SetDatabase(string name, ChangeDatabaseRequest request, ClaimsPrincipal user, IDevDbService engine,
        CancellationToken cancellationToken)
    {
        CheckBodyName(request.Name, name, "database");
        await RequireAccessAsync(name, user, engine, cancellationToken);
        return TypedResults.Ok(await engine.SetDatabaseAsync(new SetDatabaseRequest
        {
            Name = name, TimeToLive = request.TimeToLive, ExpiresAt = request.ExpiresAt, NoExpiry = request.NoExpiry, Protected = request.Protected,
            IdleTimeout = request.IdleTimeout, NoIdleTimeout = request.NoIdleTimeout,
        }, cancellationToken));
    }

    private static async Task<NoContent> RemoveDatabase(string name, ClaimsPrincipal user, IDevDbService engine, CancellationToken cancellationToken)
    {
        await RequireAccessAsync(name, user, engine, cancellationToken);
        await engine.RemoveDatabaseAsync(name, cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<Results<Ok<Database>, Accepted<Database>>> ResetDatabase(string name, ClaimsPrincipal user, IDevDbService engine, CancellationToken cancellationToken,
        bool toImage = false)
    {
        await RequireAccessAsync(name, user, engine, cancellationToken);
        return Accepted(await engine.BeginResetDatabaseAsync(name, toImage, cancellationToken));
    }

    private static async Task<Results<Ok<Database>, Accepted<Database>>> StopDatabase(string name, ClaimsPrincipal user, IDevDbService engine, CancellationToken cancellationToken)
    {
        await RequireAccessAsync(name, user, engine, cancellationToken);
        return Accepted(await engine.BeginStopDatabaseAsync(name, cancellationToken));
    }

    private static async Task<Results<Ok<Database>, Accepted<Database>>> StartDatabase(string name, ClaimsPrincipal user, IDevDbService engine, CancellationToken cancellationToken)
    {
        await RequireAccessAsync(name, user, engine, cancellationToken);
        return Accepted(await engine.BeginStartDatabaseAsync(name, cancellationToken));
    }

    /// <summary>Long work's one answer: 202 and the database to poll while it is busy, 200 when it is done already.</summary>
    private static Results<Ok<Database>, Accepted<Database>> Accepted(Database database) =>
        DatabaseRules.IsBusy(database.Status) ? TypedResults.Accepted("/" + ApiContract.Database(database.Name), database) : TypedResults.Ok(database);

    private static async Task<Ok<DevDb.Core.Model.ConnectionInfo>> GetConnection(string name, ClaimsPrincipal user, IDevDbService engine, HttpResponse response,
        CancellationToken cancellationToken)
    {
        await RequireAccessAsync(name, user, engine, cancellationToken);
        var connection = await engine.GetConnectionAsync(name, cancellationToken);
        // The body holds a password: no cache, proxy or browser may keep it.
        response.Headers.CacheControl = "no-store";
        return TypedResults.Ok(connection);
    }

    /// <summary>The database, when the caller is its owner or an admin; DatabaseNotFound for everyone when it does not exist.</summary>
    private static async Task<Database> RequireAccessAsync(string name, ClaimsPrincipal user, IDevDbService engine, CancellationToken cancellationToken)
    {
        var caller = Caller.From(user);
        var database = await engine.GetDatabaseAsync(name, cancellationToken);
        if (!caller.IsAdmin && database.Owner != caller.User)
            throw Problems.Forbidden($"Database '{name}' belongs to another user; developer '{caller.User}' can use only their own databases.", name);
        return database;
    }

    // ---- health -----------------------------------------------------------------------------

    private static async Task<IResult> Ready(IDevDbService engine, ILoggerFactory loggers, HttpContext context)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            await engine.GetProjectsAsync(timeout.Token);
            await engine.GetDatabasesAsync(cancellationToken: timeout.Token);
            var damaged = await engine.GetDamagedRecordsAsync(timeout.Token);
            if (damaged.Count == 0) return TypedResults.Ok(new HealthStatus("ready"));
            loggers.CreateLogger(typeof(Endpoints)).LogWarning(
                "Ready, but {Count} catalog record(s) could not be read and were moved aside: {Damaged}. Restore them from a backup, or remove the matching folders under databases/ or images/.",
                damaged.Count, string.Join(", ", damaged));
            return TypedResults.Ok(new HealthStatus("ready", damaged));
        }
        catch (Exception e) when (!context.RequestAborted.IsCancellationRequested)
        {
            loggers.CreateLogger(typeof(Endpoints)).LogError(e, "Not ready: the engine's catalog cannot be read.");
            // Anonymous callers get no internals; the log line above has them.
            await Problems.WriteAsync(context, DevDbErrors.ServerError(
                $"The DevDb engine's catalog cannot be read (request id {context.TraceIdentifier}).", "See the server log for that request id."));
            return Results.Empty;
        }
    }

    /// <summary>Documents problem answers (application/problem+json) of an endpoint.</summary>
    public static RouteHandlerBuilder ProducesProblems(this RouteHandlerBuilder builder, params int[] statuses)
    {
        foreach (var status in statuses) builder.Produces<ApiProblem>(status, ApiContract.ProblemContentType);
        return builder;
    }
}
