using System.Text.Json.Nodes;

namespace KubeApiDouble;

/// <summary>RFC 7386 JSON merge patch and RFC 6902 JSON patch over System.Text.Json nodes.</summary>
internal static class Patches
{
    /// <summary>RFC 7386: objects merge recursively, null removes, anything else (lists included) replaces.</summary>
    public static JsonNode? MergePatch(JsonNode? target, JsonNode? patch)
    {
        if (patch is not JsonObject patchObject) return patch?.DeepClone();
        var result = target is JsonObject targetObject ? (JsonObject)targetObject.DeepClone() : new JsonObject();
        foreach (var (key, value) in patchObject)
        {
            if (value is null) result.Remove(key);
            else result[key] = MergePatch(result[key], value);
        }
        return result;
    }

    /// <summary>RFC 6902; a failed operation (including a failed <c>test</c>) throws <see cref="InvalidOperationException"/>.</summary>
    public static JsonNode ApplyJsonPatch(JsonNode document, JsonArray operations)
    {
        var root = new JsonObject { ["r"] = document.DeepClone() };
        foreach (var operation in operations)
        {
            if (operation is not JsonObject op) throw new FormatException("a JSON patch operation must be an object");
            var kind = op["op"]?.GetValue<string>() ?? throw new FormatException("a JSON patch operation needs \"op\"");
            var path = op["path"]?.GetValue<string>() ?? throw new FormatException($"operation \"{kind}\" needs \"path\"");
            switch (kind)
            {
                case "add": Add(root, path, Value(op)); break;
                case "remove": Remove(root, path); break;
                case "replace": Remove(root, path); Add(root, path, Value(op)); break;
                case "move":
                {
                    var from = From(op);
                    var value = Remove(root, from);
                    Add(root, path, value);
                    break;
                }
                case "copy": Add(root, path, Get(root, From(op))?.DeepClone()); break;
                case "test":
                    if (!JsonNode.DeepEquals(Get(root, path), op["value"]))
                        throw new InvalidOperationException($"testing value {path} failed");
                    break;
                default: throw new FormatException($"unexpected kind: {kind}");
            }
        }
        return root["r"]!;
    }

    private static JsonNode? Value(JsonObject op) =>
        op.ContainsKey("value") ? op["value"]?.DeepClone() : throw new FormatException($"operation \"{op["op"]}\" needs \"value\"");

    private static string From(JsonObject op) => op["from"]?.GetValue<string>() ?? throw new FormatException($"operation \"{op["op"]}\" needs \"from\"");

    private static (JsonNode Parent, string Token) Locate(JsonObject root, string pointer)
    {
        if (pointer.Length > 0 && pointer[0] != '/') throw new FormatException($"JSON pointer \"{pointer}\" must start with '/'");
        var tokens = pointer.Length == 0 ? [] : pointer[1..].Split('/').Select(t => t.Replace("~1", "/").Replace("~0", "~")).ToArray();
        JsonNode parent = root;
        var token = "r";
        foreach (var next in tokens)
        {
            parent = Child(parent, token) ?? throw new InvalidOperationException($"path {pointer} does not exist");
            token = next;
        }
        return (parent, token);
    }

    private static JsonNode? Child(JsonNode parent, string token) => parent switch
    {
        JsonObject o => o.TryGetPropertyValue(token, out var v) ? v : null,
        JsonArray a => int.TryParse(token, out var i) && i >= 0 && i < a.Count ? a[i] : null,
        _ => null,
    };

    private static JsonNode? Get(JsonObject root, string pointer)
    {
        var (parent, token) = Locate(root, pointer);
        return parent switch
        {
            JsonObject o when o.ContainsKey(token) => o[token],
            JsonArray a when int.TryParse(token, out var i) && i >= 0 && i < a.Count => a[i],
            _ => throw new InvalidOperationException($"path {pointer} does not exist"),
        };
    }

    private static void Add(JsonObject root, string pointer, JsonNode? value)
    {
        var (parent, token) = Locate(root, pointer);
        switch (parent)
        {
            case JsonObject o: o[token] = value; break;
            case JsonArray a when token == "-": a.Add(value); break;
            case JsonArray a when int.TryParse(token, out var i) && i >= 0 && i <= a.Count: a.Insert(i, value); break;
            default: throw new InvalidOperationException($"cannot add at {pointer}");
        }
    }

    private static JsonNode? Remove(JsonObject root, string pointer)
    {
        var (parent, token) = Locate(root, pointer);
        switch (parent)
        {
            case JsonObject o when o.ContainsKey(token):
            {
                var value = o[token];
                o.Remove(token);
                return value;
            }
            case JsonArray a when int.TryParse(token, out var i) && i >= 0 && i < a.Count:
            {
                var value = a[i];
                a.RemoveAt(i);
                return value;
            }
            default: throw new InvalidOperationException($"path {pointer} does not exist");
        }
    }
}
