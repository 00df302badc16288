using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace KubeApiDouble;

/// <summary>The object-meta checks the real API server makes on every write (k8s.io/apimachinery validation).</summary>
internal static partial class Validation
{
    private const string Dns1123LabelPattern = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
    private const string Dns1123SubdomainPattern = Dns1123LabelPattern + "(\\." + Dns1123LabelPattern + ")*";
    private const string Dns1035LabelPattern = "[a-z]([-a-z0-9]*[a-z0-9])?";
    private const string QualifiedNamePattern = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";

    [GeneratedRegex("^" + Dns1123SubdomainPattern + "$")]
    private static partial Regex Dns1123Subdomain();

    [GeneratedRegex("^" + Dns1035LabelPattern + "$")]
    private static partial Regex Dns1035Label();

    [GeneratedRegex("^" + QualifiedNamePattern + "$")]
    private static partial Regex QualifiedName();

    public static void Validate(ResourceType type, JsonObject obj)
    {
        var metadata = obj["metadata"] as JsonObject;
        var name = metadata?["name"]?.GetValue<string>() ?? "";
        var problems = new List<(string, string)>();
        problems.AddRange(NameProblems(type, name));
        if (metadata?["labels"] is JsonObject labels)
        {
            foreach (var (key, value) in labels)
            {
                problems.AddRange(LabelKeyProblems(key).Select(m => ("metadata.labels", m)));
                var text = value?.GetValueKind() == System.Text.Json.JsonValueKind.String ? value.GetValue<string>() : null;
                if (text is null)
                    problems.Add(($"metadata.labels", $"Invalid value: {value?.ToJsonString() ?? "null"}: a label value must be a string"));
                else
                    problems.AddRange(LabelValueProblems(text).Select(m => ($"metadata.labels", m)));
            }
        }
        problems.AddRange(WorkloadProblems(type, obj));
        if (problems.Count > 0) throw ApiError.Invalid(type, name, problems);
    }

    /// <summary>The immutability rules of an update (the real strategies' ValidateUpdate) DevDb could run into.</summary>
    public static void ValidateUpdate(ResourceType type, JsonObject current, JsonObject updated)
    {
        var problems = UpdateProblems(type, current, updated).ToList();
        if (problems.Count > 0) throw ApiError.Invalid(type, Meta.Name(current), problems);
    }

    private static IEnumerable<(string, string)> UpdateProblems(ResourceType type, JsonObject current, JsonObject updated)
    {
        var oldSpec = current["spec"] as JsonObject;
        var newSpec = updated["spec"] as JsonObject;
        switch (type.Kind)
        {
            case "StatefulSet":
                if (!JsonNode.DeepEquals(Without(oldSpec, "replicas", "ordinals", "template", "updateStrategy", "persistentVolumeClaimRetentionPolicy", "minReadySeconds"),
                        Without(newSpec, "replicas", "ordinals", "template", "updateStrategy", "persistentVolumeClaimRetentionPolicy", "minReadySeconds")))
                    yield return ("spec", "Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden");
                break;
            case "Job":
                foreach (var field in new[] { "selector", "template", "completions", "completionMode" })
                    if (!JsonNode.DeepEquals(oldSpec?[field], newSpec?[field]))
                        yield return ($"spec.{field}", $"Invalid value: {newSpec?[field]?.ToJsonString() ?? "null"}: field is immutable");
                break;
            case "PersistentVolumeClaim":
                if (!JsonNode.DeepEquals(Without(oldSpec, "resources", "volumeAttributesClassName"), Without(newSpec, "resources", "volumeAttributesClassName")))
                    yield return ("spec", "Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims");
                break;
            case "Service":
                if (oldSpec?["clusterIP"]?.GetValue<string>() is { } ip && newSpec?["clusterIP"]?.GetValue<string>() != ip)
                    yield return ("spec.clusterIP", $"Invalid value: \"{newSpec?["clusterIP"]}\": field is immutable");
                break;
            case "ConfigMap" or "Secret":
                if (current["immutable"]?.GetValue<bool>() == true)
                {
                    if (!JsonNode.DeepEquals(current["data"], updated["data"])) yield return ("data", "Forbidden: field is immutable when `immutable` is set");
                    if (!JsonNode.DeepEquals(current["binaryData"], updated["binaryData"])) yield return ("binaryData", "Forbidden: field is immutable when `immutable` is set");
                    if (updated["immutable"]?.GetValue<bool>() != true) yield return ("immutable", "Forbidden: field is immutable when `immutable` is set");
                }
                break;
            case "Pod":
                if (!JsonNode.DeepEquals(WithoutImages(oldSpec), WithoutImages(newSpec)))
                    yield return ("spec", "Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)");
                break;
        }
    }

    private static JsonObject? Without(JsonObject? obj, params string[] keys)
    {
        if (obj?.DeepClone() is not JsonObject copy) return null;
        foreach (var key in keys) copy.Remove(key);
        return copy;
    }

    private static JsonObject? WithoutImages(JsonObject? spec)
    {
        var copy = Without(spec, "activeDeadlineSeconds", "tolerations", "terminationGracePeriodSeconds");
        foreach (var kind in new[] { "containers", "initContainers" })
            foreach (var container in (copy?[kind] as JsonArray ?? []).OfType<JsonObject>())
                container.Remove("image");
        return copy;
    }

    /// <summary>Pod template labels, selector/template agreement, and a Job's restartPolicy.</summary>
    private static IEnumerable<(string, string)> WorkloadProblems(ResourceType type, JsonObject obj)
    {
        if (type.Kind is not ("StatefulSet" or "Deployment" or "Job")) yield break;
        var template = obj["spec"]?["template"];
        var labels = template?["metadata"]?["labels"] as JsonObject;
        foreach (var (key, value) in labels ?? [])
        {
            foreach (var message in LabelKeyProblems(key)) yield return ("spec.template.metadata.labels", message);
            foreach (var message in LabelValueProblems(value?.GetValue<string>() ?? "")) yield return ("spec.template.metadata.labels", message);
        }
        if (type.Kind == "Job")
        {
            var policy = template?["spec"]?["restartPolicy"]?.GetValue<string>();
            if (policy is not ("Never" or "OnFailure"))
                yield return ("spec.template.spec.restartPolicy", policy is null
                    ? "Required value: valid values: \"OnFailure\", \"Never\""
                    : $"Unsupported value: \"{policy}\": supported values: \"OnFailure\", \"Never\"");
            yield break;
        }
        if (obj["spec"]?["selector"] is not JsonObject selector)
        {
            yield return ("spec.selector", "Required value");
            yield break;
        }
        foreach (var (key, value) in selector["matchLabels"] as JsonObject ?? [])
        {
            if (labels?[key]?.GetValue<string>() != value?.GetValue<string>())
            {
                yield return ("spec.template.metadata.labels", $"Invalid value: {labels?.ToJsonString() ?? "null"}: `selector` does not match template `labels`");
                yield break;
            }
        }
    }

    private static IEnumerable<(string, string)> NameProblems(ResourceType type, string name)
    {
        const string field = "metadata.name";
        if (name.Length == 0)
        {
            yield return (field, "Required value: name or generateName is required");
            yield break;
        }
        if (type.Resource == "services")
        {
            if (name.Length > 63)
                yield return (field, $"Invalid value: \"{name}\": must be no more than 63 characters");
            if (!Dns1035Label().IsMatch(name))
                yield return (field, $"Invalid value: \"{name}\": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '{Dns1035LabelPattern}')");
            yield break;
        }
        var max = type.Resource == "statefulsets" ? 63 : 253;
        if (name.Length > max)
            yield return (field, $"Invalid value: \"{name}\": must be no more than {max} characters");
        if (!Dns1123Subdomain().IsMatch(name))
            yield return (field, $"Invalid value: \"{name}\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '{Dns1123SubdomainPattern}')");
    }

    private static IEnumerable<string> LabelKeyProblems(string key)
    {
        var slash = key.IndexOf('/');
        var prefix = slash < 0 ? null : key[..slash];
        var name = slash < 0 ? key : key[(slash + 1)..];
        if (prefix is not null && (prefix.Length == 0 || prefix.Length > 253 || !Dns1123Subdomain().IsMatch(prefix)))
            yield return $"Invalid value: \"{key}\": prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
        if (name.Length == 0 || name.Length > 63 || !QualifiedName().IsMatch(name))
            yield return $"Invalid value: \"{key}\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '{QualifiedNamePattern}') and be no more than 63 characters";
    }

    private static IEnumerable<string> LabelValueProblems(string value)
    {
        if (value.Length > 63)
            yield return $"Invalid value: \"{value}\": must be no more than 63 characters";
        if (value.Length > 0 && !QualifiedName().IsMatch(value))
            yield return $"Invalid value: \"{value}\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(" + QualifiedNamePattern + ")?')";
    }
}
