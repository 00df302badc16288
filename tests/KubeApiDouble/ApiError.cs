using System.Text.Json.Nodes;

namespace KubeApiDouble;

/// <summary>A failure the double answers with a real <c>Status</c> object (kind Status, status Failure).</summary>
public sealed class ApiError(int code, string reason, string message, ResourceType? type = null, string? name = null, JsonArray? causes = null)
    : Exception(message)
{
    public int Code { get; } = code;
    public string Reason { get; } = reason;

    public JsonObject ToStatus()
    {
        var status = new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Failure",
            ["message"] = Message,
            ["reason"] = Reason,
        };
        if (type is not null || name is not null || causes is not null)
        {
            var details = new JsonObject();
            if (name is not null) details["name"] = name;
            if (type is not null)
            {
                details["group"] = type.Group;
                details["kind"] = type.Resource;
            }
            if (causes is not null) details["causes"] = causes;
            status["details"] = details;
        }
        status["code"] = Code;
        return status;
    }

    public static ApiError NotFound(ResourceType type, string name) =>
        new(404, "NotFound", $"{type.QualifiedResource} \"{name}\" not found", type, name);

    public static ApiError AlreadyExists(ResourceType type, string name) =>
        new(409, "AlreadyExists", $"{type.QualifiedResource} \"{name}\" already exists", type, name);

    public static ApiError Conflict(ResourceType type, string name) =>
        new(409, "Conflict",
            $"Operation cannot be fulfilled on {type.QualifiedResource} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
            type, name);

    public static ApiError BadRequest(string message) => new(400, "BadRequest", message);

    public static ApiError Invalid(ResourceType type, string name, IReadOnlyList<(string Field, string Message)> problems)
    {
        var causes = new JsonArray();
        foreach (var (field, message) in problems)
            causes.Add(new JsonObject { ["reason"] = "FieldValueInvalid", ["message"] = message, ["field"] = field });
        var text = $"{type.Kind} \"{name}\" is invalid: " + string.Join(", ", problems.Select(p => $"{p.Field}: {p.Message}"));
        return new ApiError(422, "Invalid", text, type with { Resource = type.Kind }, name, causes);
    }
}
