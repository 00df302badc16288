using System.Text.Json;
using System.Text.RegularExpressions;
using DevDb.Core;
using DevDb.Core.Client;

namespace DevDb.Api;

/// <summary>Writes every error as an <c>application/problem+json</c> <see cref="ApiProblem"/> with the request id.</summary>
public static class Problems
{
    public static Task WriteAsync(HttpContext context, DevDbException error) =>
        WriteAsync(context, ApiProblem.From(error, context.TraceIdentifier));

    public static async Task WriteAsync(HttpContext context, ApiProblem problem)
    {
        context.Response.StatusCode = problem.Status;
        context.Response.ContentType = ApiContract.ProblemContentType;
        await JsonSerializer.SerializeAsync(context.Response.Body, problem, ApiContract.Json, context.RequestAborted);
    }

    public static DevDbException Forbidden(string message, string? target = null) =>
        DevDbErrors.Forbidden(message, "Developers see and change only their own databases; ask the owner or a DevDb admin.", target);
}

/// <summary>
/// Gives each request an id (the caller's X-Request-Id when it is a plain token, else the server's
/// trace identifier), echoes it in the response and puts it in a log scope, so every log line of
/// the request carries it.
/// </summary>
public sealed partial class RequestIdMiddleware(RequestDelegate next, ILogger<RequestIdMiddleware> logger)
{
    public const string Header = "X-Request-Id";

    [GeneratedRegex("^[A-Za-z0-9._:-]{1,100}$", RegexOptions.CultureInvariant)]
    private static partial Regex SafeId();

    public async Task InvokeAsync(HttpContext context)
    {
        string? incoming = context.Request.Headers[Header];
        if (incoming is not null && SafeId().IsMatch(incoming)) context.TraceIdentifier = incoming;
        context.Response.Headers[Header] = context.TraceIdentifier;
        using (logger.BeginScope(new Dictionary<string, object> { ["RequestId"] = context.TraceIdentifier }))
            await next(context);
    }
}

/// <summary>
/// Turns exceptions into problem documents: a <see cref="DevDbException"/> keeps its code and
/// status; a request the API cannot read is 400 RequestInvalid; anything else is a 500 ServerError
/// that tells the request id, not the internals (those go to the log).
/// </summary>
public sealed class ProblemMiddleware(RequestDelegate next, ILogger<ProblemMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context);
        }
        catch (DevDbException e) when (!context.Response.HasStarted)
        {
            logger.LogInformation("{Method} {Path} failed: {ErrorCode}: {Error}", context.Request.Method, UserInput.Shown(context.Request.Path), e.Code, e.Message);
            context.RequestServices.GetService<ApiMetrics>()?.ErrorAnswered(e.Code);
            await Problems.WriteAsync(context, e);
        }
        catch (BadHttpRequestException e) when (!context.Response.HasStarted)
        {
            // The parser's words hold at most property names and positions of the body; still bounded.
            var reason = UserInput.Shown(e.InnerException is JsonException json ? $"{e.Message} {json.Message}" : e.Message, length: 500);
            logger.LogInformation("{Method} {Path} is not a valid request: {Error}", context.Request.Method, UserInput.Shown(context.Request.Path), reason);
            await Problems.WriteAsync(context, new ApiProblem
            {
                Title = ErrorCodes.RequestInvalid, Status = e.StatusCode, Code = ErrorCodes.RequestInvalid, Category = DevDbErrorCategory.InvalidArgument,
                Detail = $"The request could not be read: {reason}",
                RecommendedAction = "Send the JSON body the API's OpenAPI document (/openapi/v1.json) describes.",
                RequestId = context.TraceIdentifier,
            });
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away; nobody is left to answer.
        }
        catch (Exception e) when (!context.Response.HasStarted)
        {
            logger.LogError(e, "{Method} {Path} failed unexpectedly.", context.Request.Method, UserInput.Shown(context.Request.Path));
            await Problems.WriteAsync(context, new ApiProblem
            {
                Title = ErrorCodes.ServerError, Status = StatusCodes.Status500InternalServerError, Code = ErrorCodes.ServerError,
                Category = DevDbErrorCategory.InvalidOperation,
                Detail = $"The DevDb server failed unexpectedly (request id {context.TraceIdentifier}).",
                RecommendedAction = "Try again; if it keeps failing, give the request id to a DevDb admin (the server log has the details).",
                RequestId = context.TraceIdentifier,
            });
        }
    }

    /// <summary>Problem documents for answers without a body: no such route (404), method not allowed (405).</summary>
    public static Task WriteStatusProblemAsync(HttpContext context)
    {
        var status = context.Response.StatusCode;
        var request = $"{context.Request.Method} {UserInput.Shown(context.Request.Path)}";
        return Problems.WriteAsync(context, new ApiProblem
        {
            Title = ErrorCodes.RequestInvalid, Status = status, Code = ErrorCodes.RequestInvalid, Category = DevDbErrorCategory.InvalidArgument,
            Detail = status switch
            {
                StatusCodes.Status404NotFound => $"The DevDb API has no route {request}.",
                StatusCodes.Status405MethodNotAllowed => $"The DevDb API does not allow {request}.",
                StatusCodes.Status413PayloadTooLarge => $"The body of {request} is larger than the {RequestLimits.MaxRequestBytes} bytes the DevDb API takes.",
                _ => $"The DevDb API could not serve {request} (HTTP {status}).",
            },
            RecommendedAction = status == StatusCodes.Status413PayloadTooLarge
                ? "Send less: names, sources and post-restore SQL have limits of their own (see the README)."
                : "See the routes in the API's OpenAPI document (/openapi/v1.json).",
            RequestId = context.TraceIdentifier,
        });
    }
}
