using DevDb.Core.Client;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace DevDb.Api;

/// <summary>
/// Puts what the code cannot say by itself into the OpenAPI document: bearer authentication, the
/// 401 and 500 problem answers of every protected operation, and no per-host server list (so the
/// checked-in copy is the same on every machine).
/// </summary>
internal static class OpenApiTransformers
{
    private const string SchemeId = "Bearer";

    public static void Configure(OpenApiOptions options)
    {
        options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info = new OpenApiInfo
            {
                Title = "DevDb API", Version = "v1",
                Description = "Private, disposable PostgreSQL databases cloned from project images. Errors are application/problem+json with a stable 'code'.",
            };
            document.Servers = [];
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes[SchemeId] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http, Scheme = "bearer",
                Description = "A DevDb API token (created with 'DevDb.Api tokens add').",
            };
            return Task.CompletedTask;
        });
        options.AddOperationTransformer(async (operation, context, cancellationToken) =>
        {
            if (context.Description.ActionDescriptor.EndpointMetadata.OfType<IAllowAnonymous>().Any()) return;
            operation.Security ??= [];
            operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(SchemeId, context.Document)] = [] });
            // Registered once in components (the endpoints' Produces<ApiProblem> use the same id), referenced here.
            if (context.Document?.Components?.Schemas?.ContainsKey(nameof(ApiProblem)) != true)
                context.Document!.AddComponent(nameof(ApiProblem), await context.GetOrCreateSchemaAsync(typeof(ApiProblem), cancellationToken: cancellationToken));
            var problem = new OpenApiSchemaReference(nameof(ApiProblem), context.Document);
            operation.Responses ??= new OpenApiResponses();
            foreach (var (status, description) in new[] { ("401", "No bearer token, or an unknown one (code Unauthenticated)."), ("500", "Unexpected server failure (code ServerError).") })
            {
                if (operation.Responses.ContainsKey(status)) continue;
                operation.Responses[status] = new OpenApiResponse
                {
                    Description = description,
                    Content = new Dictionary<string, OpenApiMediaType> { [ApiContract.ProblemContentType] = new() { Schema = problem } },
                };
            }
        });
    }
}
