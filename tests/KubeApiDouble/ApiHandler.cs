using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace KubeApiDouble;

/// <summary>The REST front of the double: parses the kube-apiserver URL shapes and applies the verbs to the store.</summary>
internal sealed class ApiHandler(ObjectStore store, KubeApiServerOptions options, Action<RecordedRequest> record)
{
    private readonly Defaults defaults = new();

    private sealed record Target(ResourceType Type, string? Namespace, string? Name, string? Subresource);

    public async Task HandleAsync(HttpContext context)
    {
        try
        {
            var path = context.Request.Path.Value ?? "/";
            if (path.TrimEnd('/') == "/version")
            {
                await WriteJsonAsync(context, 200, Version());
                return;
            }
            var target = Parse(path);
            await DispatchAsync(context, target);
        }
        catch (ApiError error)
        {
            if (!context.Response.HasStarted) await WriteJsonAsync(context, error.Code, error.ToStatus());
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away (a watch being closed).
        }
        catch (Exception e)
        {
            // A bug in the double: answer as the real server answers its own failures, with the cause for the test log.
            if (!context.Response.HasStarted) await WriteJsonAsync(context, 500, new ApiError(500, "InternalError", $"Internal error occurred: {e}").ToStatus());
        }
    }

    private static JsonObject Version() => new()
    {
        ["major"] = "1",
        ["minor"] = "34",
        ["emulationMajor"] = "1",
        ["emulationMinor"] = "34",
        ["minCompatibilityMajor"] = "1",
        ["minCompatibilityMinor"] = "33",
        ["gitVersion"] = "v1.34.0-double",
        ["gitCommit"] = "0000000000000000000000000000000000000000",
        ["gitTreeState"] = "clean",
        ["buildDate"] = "2025-08-27T00:00:00Z",
        ["goVersion"] = "go1.24.6",
        ["compiler"] = "gc",
        ["platform"] = "linux/amd64",
    };

    private static Target Parse(string path)
    {
        var segments = path.Trim('/').Split('/');
        string group, version;
        int rest;
        if (segments.Length >= 2 && segments[0] == "api") { group = ""; version = segments[1]; rest = 2; }
        else if (segments.Length >= 3 && segments[0] == "apis") { group = segments[1]; version = segments[2]; rest = 3; }
        else throw NotFoundPath(path);
        var tail = segments[rest..];
        string? ns = null;
        if (tail.Length >= 3 && tail[0] == "namespaces") { ns = tail[1]; tail = tail[2..]; }
        if (tail.Length is < 1 or > 3 || (ns is null && tail.Length > 1)) throw NotFoundPath(path);
        var type = ResourceCatalog.Find(group, version, tail[0]) ?? throw NotFoundPath(path);
        var subresource = tail.Length == 3 ? tail[2] : null;
        if (subresource is not null && (subresource != "status" || !type.HasStatus)) throw NotFoundPath(path);
        return new Target(type, ns, tail.Length >= 2 ? tail[1] : null, subresource);
    }

    private static ApiError NotFoundPath(string path) => new(404, "NotFound", "the server could not find the requested resource");

    private async Task DispatchAsync(HttpContext context, Target target)
    {
        var request = context.Request;
        var query = request.Query;
        var method = request.Method;
        var verb = (method, target.Name is null) switch
        {
            ("GET", false) => "get",
            ("GET", true) => query["watch"].ToString() is "true" or "1" ? "watch" : "list",
            ("POST", true) => "create",
            ("PUT", false) => "update",
            ("PATCH", false) => "patch",
            ("DELETE", false) => "delete",
            ("DELETE", true) => "deletecollection",
            _ => throw new ApiError(405, "MethodNotAllowed", $"the server does not allow this method on the requested resource"),
        };
        var contentType = request.ContentType?.Split(';')[0].Trim().ToLowerInvariant();
        var recorded = new RecordedRequest(verb, target.Type.Group, target.Type.Version, target.Type.Resource, target.Subresource,
            target.Namespace, target.Name, verb == "patch" ? contentType : null, request.Path.Value ?? "", request.QueryString.Value ?? "");
        record(recorded);
        options.BeforeEachRequest?.Invoke(recorded);

        if (target.Namespace is null && verb is not ("list" or "watch"))
            throw NotFoundPath(request.Path.Value ?? "");
        var selector = Selector.Parse(query["labelSelector"], query["fieldSelector"]);
        switch (verb)
        {
            case "get":
                await WriteJsonAsync(context, 200, store.Get(target.Type, target.Namespace!, target.Name!) ?? throw ApiError.NotFound(target.Type, target.Name!));
                break;
            case "list":
            {
                var (items, resourceVersion) = store.List(target.Type, target.Namespace);
                await WriteJsonAsync(context, 200, ListOf(target.Type, items.Where(selector.Matches), resourceVersion));
                break;
            }
            case "watch":
                await WatchAsync(context, target, selector);
                break;
            case "create":
                await WriteJsonAsync(context, 201, Create(target, await ReadObjectAsync(request)));
                break;
            case "update":
                await WriteJsonAsync(context, 200, Replace(target, await ReadObjectAsync(request)));
                break;
            case "patch":
                await WriteJsonAsync(context, 200, Patch(target, contentType, await ReadBodyAsync(request)));
                break;
            case "delete":
                await WriteJsonAsync(context, 200, Delete(context, target, await ReadDeleteOptionsAsync(request)));
                break;
            case "deletecollection":
            {
                var deleteOptions = await ReadDeleteOptionsAsync(request);
                var (items, _) = store.List(target.Type, target.Namespace);
                var deleted = new List<JsonObject>();
                foreach (var item in items.Where(selector.Matches))
                {
                    try { deleted.Add(Delete(context, target with { Name = Meta.Name(item) }, deleteOptions)); }
                    catch (ApiError error) when (error.Code == 404) { }
                }
                await WriteJsonAsync(context, 200, ListOf(target.Type, deleted, store.ResourceVersion));
                break;
            }
        }
    }

    private static JsonObject ListOf(ResourceType type, IEnumerable<JsonObject> items, long resourceVersion) => new()
    {
        ["apiVersion"] = type.ApiVersion,
        ["kind"] = type.Kind + "List",
        ["metadata"] = new JsonObject { ["resourceVersion"] = resourceVersion.ToString(CultureInfo.InvariantCulture) },
        ["items"] = new JsonArray(items.Select(i => (JsonNode)i).ToArray()),
    };

    private JsonObject Create(Target target, JsonObject obj)
    {
        var type = target.Type;
        CheckKind(type, obj);
        var metadata = Meta.Of(obj);
        var ns = metadata["namespace"]?.GetValue<string>();
        if (!string.IsNullOrEmpty(ns) && ns != target.Namespace)
            throw ApiError.BadRequest("the namespace of the provided object does not match the namespace sent on the request");
        foreach (var owned in new[] { "uid", "resourceVersion", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation", "managedFields" })
            metadata.Remove(owned);
        var name = metadata["name"]?.GetValue<string>();
        if (string.IsNullOrEmpty(name) && metadata["generateName"]?.GetValue<string>() is { Length: > 0 } generateName)
            metadata["name"] = generateName + RandomSuffix();
        Defaults.OnCreate(type, obj, options.Volumes);
        defaults.OnWrite(type, obj, null);
        Validation.Validate(type, obj);
        return store.Create(type, target.Namespace!, obj);
    }

    private JsonObject Replace(Target target, JsonObject body)
    {
        CheckKind(target.Type, body);
        CheckName(target, body);
        return Write(target, current =>
        {
            var expected = body["metadata"]?["resourceVersion"]?.GetValue<string>();
            if (!string.IsNullOrEmpty(expected) && expected != Meta.ResourceVersion(current))
                throw ApiError.Conflict(target.Type, target.Name!);
            return (JsonObject)body.DeepClone();
        });
    }

    private JsonObject Patch(Target target, string? contentType, string body)
    {
        var mediaType = contentType;
        JsonNode? patch;
        try { patch = JsonNode.Parse(body); }
        catch (JsonException e) { throw ApiError.BadRequest($"error decoding patch: {e.Message}"); }
        Func<JsonObject, JsonObject> apply = mediaType switch
        {
            // Strategic merge patch is served as a JSON merge patch: lists are replaced, never merged by key.
            "application/merge-patch+json" or "application/strategic-merge-patch+json" => current =>
            {
                if (patch is not JsonObject) throw ApiError.BadRequest("error decoding patch: a merge patch must be a JSON object");
                var expected = patch["metadata"]?["resourceVersion"]?.GetValue<string>();
                if (expected is not null && expected != Meta.ResourceVersion(current)) throw ApiError.Conflict(target.Type, target.Name!);
                return (JsonObject)Patches.MergePatch(current, patch)!;
            },
            "application/json-patch+json" => current =>
            {
                if (patch is not JsonArray operations) throw ApiError.BadRequest("error decoding patch: a JSON patch must be an array of operations");
                JsonNode result;
                try { result = Patches.ApplyJsonPatch(current, operations); }
                catch (FormatException e) { throw ApiError.BadRequest(e.Message); }
                catch (InvalidOperationException e) { throw new ApiError(422, "Invalid", e.Message); }
                if (result is not JsonObject patched) throw new ApiError(422, "Invalid", "the patch does not produce an object");
                if (Meta.ResourceVersion(patched) is { Length: > 0 } rv && rv != Meta.ResourceVersion(current))
                    throw ApiError.Conflict(target.Type, target.Name!);
                return patched;
            },
            _ => throw new ApiError(415, "UnsupportedMediaType",
                $"the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json"),
        };
        return Write(target, current =>
        {
            var patched = apply(current);
            if (Meta.Name(patched) != target.Name) throw ApiError.BadRequest($"the name of the object ({Meta.Name(patched)}) does not match the name on the URL ({target.Name})");
            return patched;
        });
    }

    /// <summary>The shared tail of update and patch: defaults and validation of the result, status subresource rules.</summary>
    private JsonObject Write(Target target, Func<JsonObject, JsonObject> change)
    {
        var scope = target.Subresource == "status" ? WriteScope.Status : WriteScope.Main;
        return store.Update(target.Type, target.Namespace!, target.Name!, scope, current =>
        {
            var updated = change(current);
            if (scope == WriteScope.Main)
            {
                defaults.OnWrite(target.Type, updated, current);
                Meta.Of(updated)["name"] = target.Name;
                Validation.Validate(target.Type, updated);
                Validation.ValidateUpdate(target.Type, current, updated);
            }
            return updated;
        });
    }

    private JsonObject Delete(HttpContext context, Target target, JsonObject deleteOptions)
    {
        var policy = context.Request.Query["propagationPolicy"].ToString() is { Length: > 0 } fromQuery
            ? fromQuery
            : deleteOptions["propagationPolicy"]?.GetValue<string>();
        var orphanDependents = deleteOptions["orphanDependents"]?.GetValue<bool>();
        bool orphan;
        if (policy is not null) orphan = policy == "Orphan";
        else if (orphanDependents is not null) orphan = orphanDependents.Value;
        else if (target.Type.Group == "batch" && target.Type.Kind == "Job")
        {
            // batch/v1 Jobs orphan their pods unless told otherwise, and the real server says so.
            orphan = true;
            context.Response.Headers.Append("Warning",
                "299 - \"child pods are preserved by default when jobs are deleted; set propagationPolicy=Background to remove them or set propagationPolicy=Orphan to suppress this warning\"");
        }
        else orphan = false;
        if (policy is not null and not ("Orphan" or "Background" or "Foreground"))
            throw ApiError.BadRequest($"DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: Unsupported value: \"{policy}\": supported values: \"Foreground\", \"Background\", \"Orphan\"");
        var preconditions = deleteOptions["preconditions"] as JsonObject;
        return store.Delete(target.Type, target.Namespace!, target.Name!, orphan, current =>
        {
            var uid = preconditions?["uid"]?.GetValue<string>();
            if (uid is not null && uid != Meta.Uid(current))
                throw new ApiError(409, "Conflict", $"Operation cannot be fulfilled on {target.Type.QualifiedResource} \"{target.Name}\": Precondition failed: UID in precondition: {uid}, UID in object meta: {Meta.Uid(current)}", target.Type, target.Name);
            var rv = preconditions?["resourceVersion"]?.GetValue<string>();
            if (rv is not null && rv != Meta.ResourceVersion(current))
                throw new ApiError(409, "Conflict", $"Operation cannot be fulfilled on {target.Type.QualifiedResource} \"{target.Name}\": Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {Meta.ResourceVersion(current)}", target.Type, target.Name);
        });
    }

    private async Task WatchAsync(HttpContext context, Target target, Selector selector)
    {
        var query = context.Request.Query;
        long? since = null;
        if (query["resourceVersion"].ToString() is { Length: > 0 } text)
        {
            if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed))
                throw ApiError.BadRequest($"invalid resource version: {text}");
            since = parsed;
        }
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        if (int.TryParse(query["timeoutSeconds"], CultureInfo.InvariantCulture, out var seconds) && seconds > 0)
            timeout.CancelAfter(TimeSpan.FromSeconds(seconds));

        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/json";
        await context.Response.StartAsync(context.RequestAborted);

        List<StoreEvent> initial;
        ObjectStore.Watcher watcher;
        try
        {
            (initial, watcher) = store.Watch(target.Type, target.Namespace, since);
        }
        catch (ApiError expired)
        {
            await WriteLineAsync(context, new JsonObject { ["type"] = "ERROR", ["object"] = expired.ToStatus() });
            return;
        }
        using (watcher)
        {
            try
            {
                foreach (var storeEvent in initial) await SendAsync(context, storeEvent, selector);
                await foreach (var storeEvent in watcher.Events.Reader.ReadAllAsync(timeout.Token))
                    await SendAsync(context, storeEvent, selector);
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested)
            {
                // timeoutSeconds reached or the client closed the watch: the stream ends, as on a real server.
            }
        }
    }

    /// <summary>What a selector-filtered watch sees: moving into the selection is ADDED, out of it DELETED.</summary>
    private static Task SendAsync(HttpContext context, StoreEvent storeEvent, Selector selector)
    {
        var wasIn = storeEvent.Old is not null && selector.Matches(storeEvent.Old);
        var isIn = selector.Matches(storeEvent.Object);
        var type = storeEvent.Type switch
        {
            "ADDED" => isIn ? "ADDED" : null,
            "MODIFIED" => (wasIn, isIn) switch { (true, true) => "MODIFIED", (false, true) => "ADDED", (true, false) => "DELETED", _ => null },
            "DELETED" => wasIn || isIn ? "DELETED" : null,
            _ => null,
        };
        if (type is null) return Task.CompletedTask;
        return WriteLineAsync(context, new JsonObject { ["type"] = type, ["object"] = storeEvent.Object.DeepClone() });
    }

    private static async Task WriteLineAsync(HttpContext context, JsonObject line)
    {
        await context.Response.WriteAsync(line.ToJsonString() + "\n", context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
    }

    private static async Task WriteJsonAsync(HttpContext context, int code, JsonNode body)
    {
        context.Response.StatusCode = code;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToJsonString(), context.RequestAborted);
    }

    private static async Task<string> ReadBodyAsync(HttpRequest request)
    {
        using var reader = new StreamReader(request.Body);
        return await reader.ReadToEndAsync();
    }

    private static async Task<JsonObject> ReadObjectAsync(HttpRequest request)
    {
        var body = await ReadBodyAsync(request);
        try
        {
            return JsonNode.Parse(body) as JsonObject ?? throw ApiError.BadRequest("the body of the request must be a JSON object");
        }
        catch (JsonException e)
        {
            throw ApiError.BadRequest($"the body of the request could not be decoded: {e.Message}");
        }
    }

    private static async Task<JsonObject> ReadDeleteOptionsAsync(HttpRequest request)
    {
        var body = await ReadBodyAsync(request);
        if (string.IsNullOrWhiteSpace(body)) return [];
        try { return JsonNode.Parse(body) as JsonObject ?? []; }
        catch (JsonException e) { throw ApiError.BadRequest($"the DeleteOptions could not be decoded: {e.Message}"); }
    }

    private static void CheckKind(ResourceType type, JsonObject obj)
    {
        var apiVersion = obj["apiVersion"]?.GetValue<string>();
        var kind = obj["kind"]?.GetValue<string>();
        if (!string.IsNullOrEmpty(apiVersion) && apiVersion != type.ApiVersion)
            throw ApiError.BadRequest($"the API version in the data ({apiVersion}) does not match the expected API version ({type.ApiVersion})");
        if (!string.IsNullOrEmpty(kind) && kind != type.Kind)
            throw ApiError.BadRequest($"{kind} in version \"{type.Version}\" cannot be handled as a {type.Kind}: the kind in the data ({kind}) does not match the expected kind ({type.Kind})");
    }

    private static void CheckName(Target target, JsonObject body)
    {
        var name = body["metadata"]?["name"]?.GetValue<string>();
        if (name != target.Name)
            throw ApiError.BadRequest($"the name of the object ({name}) does not match the name on the URL ({target.Name})");
    }

    /// <summary>The alphabet and length of the real server's generateName suffix.</summary>
    internal static string RandomSuffix()
    {
        const string alphabet = "bcdfghjklmnpqrstvwxz2456789";
        return string.Create(5, 0, (span, _) =>
        {
            for (var i = 0; i < span.Length; i++) span[i] = alphabet[Random.Shared.Next(alphabet.Length)];
        });
    }
}
