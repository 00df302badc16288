namespace DevDb.Core;

/// <summary>The servers DevDb talks to (the DevDb API, the Kubernetes API server) and the client's saved contexts.</summary>
public static partial class DevDbErrors
{
    public static DevDbException Unauthenticated(string message, string action, string? target = null, Exception? inner = null) =>
        new(ErrorCodes.Unauthenticated, message, action, target, inner);

    public static DevDbException Forbidden(string message, string action, string? target = null, Exception? inner = null) =>
        new(ErrorCodes.Forbidden, message, action, target, inner);

    /// <param name="server">Which server, as the message names it, e.g. "the DevDb API at https://devdb/".</param>
    public static DevDbException ServerUnreachable(string server, string detail, string action, string? target, Exception? inner = null) =>
        new(ErrorCodes.ServerUnreachable, $"Cannot reach {server}: {detail}", action, target, inner);

    public static DevDbException ServerError(string message, string action, string? target = null, Exception? inner = null) =>
        new(ErrorCodes.ServerError, message, action, target, inner);

    /// <param name="from">Where the address came from, e.g. "-Server" or "DEVDB_SERVER".</param>
    public static DevDbException ServerAddressInvalid(string address, string from) =>
        new(ErrorCodes.ServerAddressInvalid, $"{from} '{UserInput.Shown(address)}' is not an absolute http or https address.",
            $"Give the DevDb API's address, e.g. https://devdb.example.com{(from.StartsWith('-') ? "" : $", or remove {from} to use the saved context")}.",
            UserInput.Shown(address), null);

    public static DevDbException InsecureConnection(string host, string server) =>
        new(ErrorCodes.InsecureConnection, $"Refusing to send a token over plain http to {host}: anyone on the way could read it.",
            "Use the server's https address, or, on a network you trust, add -AllowUnencryptedAuthentication.", server, null);

    public static DevDbException ContextNotFound(string name, string? message = null, string? action = null) =>
        new(ErrorCodes.ContextNotFound, message ?? $"There is no saved DevDb context named '{UserInput.Shown(name)}'.",
            action ?? "List them with Get-DevDbContext -ListAvailable.", UserInput.Shown(name), null);

    /// <param name="problem">What cannot be read, naming the file.</param>
    public static DevDbException ContextsFileInvalid(string path, string problem, string action, Exception? inner = null) =>
        new(ErrorCodes.ContextsFileInvalid, problem, action, path, inner);

    public static DevDbException DevDbNotInstalled(string resource, string @namespace, Exception? inner = null) =>
        new(ErrorCodes.DevDbNotInstalled, $"The cluster does not know {resource}: DevDb is not installed there.",
            $"Install it with Helm (helm install devdb chart/devdb -n {@namespace} --create-namespace), or check the kubeconfig context.", @namespace, inner);

    public static DevDbException TokensFileInvalid(string path, string problem) =>
        new(ErrorCodes.TokensFileInvalid, $"The API tokens file '{path}' is invalid: {problem}.",
            "Fix the file, or recreate it with 'DevDb.Api tokens add'.", path, null);
}
