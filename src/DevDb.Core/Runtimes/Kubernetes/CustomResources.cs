using System.Net;
using System.Reflection;
using System.Text.Json;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace DevDb.Core.Runtimes.Kubernetes;

/// <summary>
/// Typed access to one kind of custom resource in one namespace, over KubernetesClient's
/// CustomObjects API (which speaks untyped JSON). Not-found reads return null; conflicts stay
/// HttpOperationExceptions (callers decide what a 409 means); refusals and unreachable servers
/// become DevDbExceptions.
/// </summary>
internal sealed class CustomResources<T>(IKubernetes client, string @namespace) where T : class, IKubernetesObject<V1ObjectMeta>
{
    private static readonly KubernetesEntityAttribute Entity = typeof(T).GetCustomAttribute<KubernetesEntityAttribute>()
        ?? throw new InvalidOperationException($"{typeof(T).Name} has no KubernetesEntity attribute.");

    public Task<T?> FindAsync(string name, CancellationToken cancellationToken) => Call<T?>(async () =>
    {
        try
        {
            using var response = await client.CustomObjects.GetNamespacedCustomObjectWithHttpMessagesAsync(
                Entity.Group, Entity.ApiVersion, @namespace, Entity.PluralName, name, cancellationToken: cancellationToken);
            return Read(response.Body);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound && !KubeErrors.IsMissingResourceType(e))
        {
            return null;
        }
    });

    public Task<IReadOnlyList<T>> ListAsync(string? labelSelector, CancellationToken cancellationToken) => Call<IReadOnlyList<T>>(async () =>
    {
        using var response = await client.CustomObjects.ListNamespacedCustomObjectWithHttpMessagesAsync(
            Entity.Group, Entity.ApiVersion, @namespace, Entity.PluralName, labelSelector: labelSelector, cancellationToken: cancellationToken);
        return KubernetesJson.Deserialize<CustomResourceList>(Json(response.Body)).Items ?? [];
    });

    public Task<T> CreateAsync(T resource, CancellationToken cancellationToken) => Call(async () =>
    {
        using var response = await client.CustomObjects.CreateNamespacedCustomObjectWithHttpMessagesAsync(
            resource, Entity.Group, Entity.ApiVersion, @namespace, Entity.PluralName, cancellationToken: cancellationToken);
        return Read(response.Body);
    });

    /// <summary>A JSON merge patch of the resource (not its status).</summary>
    public Task<T> PatchAsync(string name, object mergePatch, CancellationToken cancellationToken) => Call(async () =>
    {
        using var response = await client.CustomObjects.PatchNamespacedCustomObjectWithHttpMessagesAsync(
            new V1Patch(mergePatch, V1Patch.PatchType.MergePatch), Entity.Group, Entity.ApiVersion, @namespace, Entity.PluralName, name,
            cancellationToken: cancellationToken);
        return Read(response.Body);
    });

    /// <summary>Replaces the status; fails with 409 Conflict when the resource changed since it was read.</summary>
    public Task<T> ReplaceStatusAsync(T resource, CancellationToken cancellationToken) => Call(async () =>
    {
        using var response = await client.CustomObjects.ReplaceNamespacedCustomObjectStatusWithHttpMessagesAsync(
            resource, Entity.Group, Entity.ApiVersion, @namespace, Entity.PluralName, resource.Metadata.Name, cancellationToken: cancellationToken);
        return Read(response.Body);
    });

    /// <summary>Deletes the resource (its dependents go with it); true when it existed.</summary>
    public Task<bool> DeleteAsync(string name, CancellationToken cancellationToken) => DeleteAsync(name, resourceVersion: null, cancellationToken);

    /// <summary>
    /// Deletes the resource only if it is still at <paramref name="resourceVersion"/> (null: whatever it is): true
    /// when it was deleted, false when it was gone or had changed since it was read (a change made meanwhile wins).
    /// </summary>
    public Task<bool> DeleteAsync(string name, string? resourceVersion, CancellationToken cancellationToken) => Call(async () =>
    {
        try
        {
            var options = new V1DeleteOptions
            {
                PropagationPolicy = "Background",
                Preconditions = resourceVersion is null ? null : new V1Preconditions { ResourceVersion = resourceVersion },
            };
            using var response = await client.CustomObjects.DeleteNamespacedCustomObjectWithHttpMessagesAsync(
                Entity.Group, Entity.ApiVersion, @namespace, Entity.PluralName, name, body: options, cancellationToken: cancellationToken);
            return true;
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound && !KubeErrors.IsMissingResourceType(e))
        {
            return false;
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict && resourceVersion is not null)
        {
            return false;
        }
    });

    private async Task<TResult> Call<TResult>(Func<Task<TResult>> call)
    {
        try
        {
            return await call();
        }
        catch (Exception e) when (KubeErrors.Translate(e, Entity.PluralName, Entity.Group, @namespace) is { } translated)
        {
            throw translated;
        }
    }

    private static T Read(object body) => KubernetesJson.Deserialize<T>(Json(body));

    private static string Json(object body) => body is JsonElement element ? element.GetRawText() : KubernetesJson.Serialize(body);

    private sealed class CustomResourceList
    {
        [System.Text.Json.Serialization.JsonPropertyName("items")] public List<T>? Items { get; set; }
    }
}

/// <summary>What the Kubernetes API server's refusals mean to a DevDb user.</summary>
internal static class KubeErrors
{
    /// <summary>A 404 whose Status names no object: the resource type itself is unknown (the CRD is not installed).</summary>
    public static bool IsMissingResourceType(HttpOperationException e) =>
        e.Response.StatusCode == HttpStatusCode.NotFound && !e.Response.Content.Contains("\"name\"", StringComparison.Ordinal);

    /// <summary>The DevDbException for a refusal or an unreachable server; null for anything the caller handles (e.g. 409, 404 of an object).</summary>
    public static DevDbException? Translate(Exception e, string resource, string group, string @namespace) => e switch
    {
        DevDbException => null,
        HttpOperationException { Response.StatusCode: HttpStatusCode.Unauthorized } => DevDbErrors.Unauthenticated(
            "The Kubernetes API server refused the kubeconfig's credentials.",
            "Log in to the cluster again (refresh the kubeconfig), then retry.", @namespace, e),
        HttpOperationException { Response.StatusCode: HttpStatusCode.Forbidden } => DevDbErrors.Forbidden(
            $"Your Kubernetes user may not use {resource}.{group} in namespace '{@namespace}'.",
            "Ask a cluster admin for a Role there that allows DevDb's resources, or use the DevDb API (Connect-DevDb -Server).", @namespace, e),
        HttpOperationException http when IsMissingResourceType(http) => DevDbErrors.DevDbNotInstalled($"{resource}.{group}", @namespace, e),
        HttpRequestException or TaskCanceledException { InnerException: TimeoutException } => DevDbErrors.ServerUnreachable(
            "the Kubernetes API server", e.Message, "Check the kubeconfig's server address and your network or VPN, then retry.", @namespace, e),
        _ => null,
    };
}
