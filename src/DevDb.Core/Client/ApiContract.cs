using System.Text.Json;
using System.Text.Json.Serialization;

namespace DevDb.Core.Client;

/// <summary>
/// The wire contract shared by the DevDb API and <see cref="HttpDevDbClient"/>: routes, JSON
/// options and the problem document. Resources travel as the Core model records.
/// </summary>
public static class ApiContract
{
    public const string Projects = "api/v1/projects";
    public const string Databases = "api/v1/databases";
    public const string WhoAmI = "api/v1/whoami";
    /// <summary>GET ?user=: what a user holds against the installation's quotas.</summary>
    public const string Quota = "api/v1/quota";
    public const string ProblemContentType = "application/problem+json";

    public static string Project(string name) => $"{Projects}/{Uri.EscapeDataString(name)}";
    public static string ProjectRefresh(string name) => $"{Project(name)}/refresh";
    public static string Database(string name) => $"{Databases}/{Uri.EscapeDataString(name)}";
    public static string DatabaseAction(string name, string action) => $"{Database(name)}/{action}";
    public static string Connection(string name) => $"{Database(name)}/connection";
    public const string AllCheckpoints = "api/v1/checkpoints";
    public static string Checkpoints(string database) => $"{Database(database)}/checkpoints";
    public static string Checkpoint(string database, string checkpoint) => $"{Checkpoints(database)}/{Uri.EscapeDataString(checkpoint)}";

    /// <summary>camelCase, enums as strings, nulls left out.</summary>
    public static JsonSerializerOptions Json { get; } = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>The HTTP status a DevDb error is answered with.</summary>
    public static int StatusOf(DevDbException error) => error.Code switch
    {
        ErrorCodes.Unauthenticated => 401,
        ErrorCodes.Forbidden => 403,
        // The request names a version this server lacks; other missing software is the server's fault.
        ErrorCodes.PostgresVersionNotInstalled => 422,
        // The server's own settings, not the request.
        ErrorCodes.SettingInvalid => 503,
        _ => error.Category switch
        {
            DevDbErrorCategory.InvalidArgument => 400,
            DevDbErrorCategory.ObjectNotFound => 404,
            DevDbErrorCategory.ResourceExists or DevDbErrorCategory.InvalidOperation or DevDbErrorCategory.ResourceBusy => 409,
            DevDbErrorCategory.InvalidData => 422,
            DevDbErrorCategory.PermissionDenied or DevDbErrorCategory.QuotaExceeded => 403,
            DevDbErrorCategory.ConnectionError or DevDbErrorCategory.ResourceUnavailable or DevDbErrorCategory.NotInstalled => 503,
            DevDbErrorCategory.OperationTimeout => 504,
            _ => 500,
        },
    };
}

/// <summary>The body of POST databases/{name}/checkpoints: the checkpoint's name.</summary>
public sealed record NewCheckpointRequest(string Name);

/// <summary>The body of POST databases/{name}/restore: the checkpoint to put back.</summary>
public sealed record RestoreDatabaseRequest(string Checkpoint);

/// <summary>Who the caller is, as the API sees the bearer token.</summary>
public sealed record ApiIdentity(string User, string Role);

/// <summary>Roles a token can have.</summary>
public static class ApiRoles
{
    public const string Admin = "admin";
    public const string Developer = "developer";
}

/// <summary>
/// An RFC 9457 problem document (application/problem+json) with DevDb's extension members: the
/// stable <see cref="Code"/> that cmdlets use as ErrorId, the error category, the recommended
/// action, the target and the request id.
/// </summary>
public sealed record ApiProblem
{
    public string Type { get; init; } = "about:blank";
    public required string Title { get; init; }
    public required int Status { get; init; }
    public required string Detail { get; init; }
    public required string Code { get; init; }
    public required DevDbErrorCategory Category { get; init; }
    public string? RecommendedAction { get; init; }
    public string? Target { get; init; }
    public string? RequestId { get; init; }

    public static ApiProblem From(DevDbException error, string? requestId = null) => new()
    {
        Title = error.Code,
        Status = ApiContract.StatusOf(error),
        Detail = error.Message,
        Code = error.Code,
        Category = error.Category,
        RecommendedAction = error.RecommendedAction,
        Target = error.Target,
        RequestId = requestId,
    };

    public DevDbException ToException() => DevDbException.Reported(Code, Detail, RecommendedAction, Target);
}
