namespace KubeApiDouble;

/// <summary>
/// One request the double answered, described as the API server's authorizer sees it.
/// Verb: get|list|watch|create|update|patch|delete|deletecollection. Group is "" for the core API.
/// </summary>
public sealed record RecordedRequest(
    string Verb,
    string Group,
    string Version,
    string Resource,
    string? Subresource,
    string? Namespace,
    string? Name,
    string? PatchContentType,
    string Path,
    string Query);
