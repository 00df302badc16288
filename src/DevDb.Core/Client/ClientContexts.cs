using DevDb.Core.IO;
using System.Runtime.Versioning;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace DevDb.Core.Client;

/// <summary>
/// A saved place to talk to: a DevDb API (<see cref="Server"/>, with a token that
/// <see cref="ClientContexts"/> keeps apart) or a Kubernetes namespace reached with a kubeconfig
/// (<see cref="Kubernetes"/>, no token: the kubeconfig's credentials are used).
/// </summary>
public sealed record ClientContext
{
    public required string Name { get; init; }
    public Uri? Server { get; init; }
    public KubernetesTarget? Kubernetes { get; init; }
    /// <summary>The user and role the server gave the token when it was saved.</summary>
    public required string User { get; init; }
    public required string Role { get; init; }
    public bool AllowUnencryptedAuthentication { get; init; }
    /// <summary>Where the token is kept: <c>Dpapi</c> (Windows: encrypted for this user) or <c>File</c> (readable by the owner alone); set by <see cref="ClientContexts.Save"/>.</summary>
    public string TokenStore { get; init; } = "";
}

/// <summary>A kubeconfig context (null: the current one) and the namespace DevDb is installed in.</summary>
public sealed record KubernetesTarget(string? Context, string Namespace);

/// <summary>What the cmdlets talk to now: the local engine, or a server with the token to use.</summary>
public sealed record ClientTarget(ClientContext? Context, string? Token)
{
    public static ClientTarget Local { get; } = new(null, null);
    public bool IsLocal => Context is null;
}

/// <summary>
/// The saved contexts (Connect-DevDb) and which one is current, in <c>$DEVDB_CONFIG</c>
/// (default: the user's local app-data folder, devdb/client). contexts.json holds no secret;
/// each token is a file of its own under tokens/, readable by its owner alone, and on Windows
/// also encrypted for the user with DPAPI. <c>DEVDB_SERVER</c> with <c>DEVDB_TOKEN</c> in the
/// environment (CI pipelines) take precedence over anything saved.
/// </summary>
public sealed class ClientContexts(string folder)
{
    public const string EnvironmentContextName = "(environment)";

    private static readonly JsonSerializerOptions Json = new(ApiContract.Json) { WriteIndented = true };

    public string Folder { get; } = folder;
    private string ContextsFile => Path.Combine(Folder, "contexts.json");
    private string TokenFile(string name) => Path.Combine(Folder, "tokens", Convert.ToHexString(Encoding.UTF8.GetBytes(name)));

    public static ClientContexts Default() =>
        new(Environment.GetEnvironmentVariable("DEVDB_CONFIG") is { Length: > 0 } folder
            ? folder
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify), "devdb", "client"));

    public IReadOnlyList<ClientContext> List() => Read().Contexts;

    /// <summary>The current target: the environment's server, else the current saved context, else the local engine.</summary>
    public ClientTarget Current()
    {
        if (Environment.GetEnvironmentVariable("DEVDB_SERVER") is { Length: > 0 } server)
        {
            var token = Environment.GetEnvironmentVariable("DEVDB_TOKEN") ?? "";
            if (!Uri.TryCreate(server, UriKind.Absolute, out var address))
                throw DevDbErrors.ServerAddressInvalid(server, "DEVDB_SERVER");
            var context = new ClientContext
            {
                Name = EnvironmentContextName, Server = address, User = "", Role = "", TokenStore = "Environment",
                AllowUnencryptedAuthentication = Environment.GetEnvironmentVariable("DEVDB_ALLOW_UNENCRYPTED_AUTHENTICATION") is "1" or "true",
            };
            return new ClientTarget(context, token);
        }
        var saved = Read();
        if (saved.Current is null || saved.Contexts.FirstOrDefault(c => c.Name == saved.Current) is not { } current) return ClientTarget.Local;
        return new ClientTarget(current, current.Kubernetes is null ? ReadToken(current) : null);
    }

    /// <summary>Saves (or replaces) a context with its token (none for Kubernetes) and makes it current.</summary>
    public ClientContext Save(ClientContext context, string? token)
    {
        var saved = Read();
        var stored = context with { TokenStore = token is null ? "Kubeconfig" : OperatingSystem.IsWindows() ? "Dpapi" : "File" };
        if (token is null) DeleteToken(context.Name);
        else WriteToken(stored, token);
        Write(new SavedContexts(stored.Name, [.. saved.Contexts.Where(c => c.Name != context.Name), stored]));
        return stored;
    }

    /// <summary>Makes the local engine current; saved contexts stay.</summary>
    public void UseLocal() => Write(Read() with { Current = null });

    /// <summary>Forgets a saved context and its token; the local engine becomes current if it was.</summary>
    public void Remove(string name)
    {
        var saved = Read();
        if (saved.Contexts.All(c => c.Name != name))
            throw DevDbErrors.ContextNotFound(name);
        DeleteToken(name);
        Write(new SavedContexts(saved.Current == name ? null : saved.Current, saved.Contexts.Where(c => c.Name != name).ToList()));
    }

    private sealed record SavedContexts(string? Current, IReadOnlyList<ClientContext> Contexts);

    private SavedContexts Read()
    {
        try
        {
            return File.Exists(ContextsFile)
                ? JsonSerializer.Deserialize<SavedContexts>(File.ReadAllText(ContextsFile), Json) ?? new SavedContexts(null, [])
                : new SavedContexts(null, []);
        }
        catch (JsonException e)
        {
            throw DevDbErrors.ContextsFileInvalid(ContextsFile, $"The saved DevDb contexts in '{ContextsFile}' cannot be read: {e.Message}",
                "Delete the file and connect again with Connect-DevDb.", e);
        }
    }

    private void Write(SavedContexts saved)
    {
        IO.PrivateFiles.CreateFolder(Folder);
        PrivateFiles.Write(ContextsFile, Encoding.UTF8.GetBytes(JsonSerializer.Serialize(saved, Json)));
    }

    private string ReadToken(ClientContext context)
    {
        var path = TokenFile(context.Name);
        if (!File.Exists(path))
            throw DevDbErrors.ContextsFileInvalid(path, $"The token of DevDb context '{context.Name}' is missing ({path}).",
                $"Connect again: Connect-DevDb -Server {context.Server} -Name {context.Name}.");
        var bytes = File.ReadAllBytes(path);
        return Encoding.UTF8.GetString(context.TokenStore == "Dpapi" && OperatingSystem.IsWindows() ? Unprotect(bytes) : bytes);
    }

    /// <summary>A Kubernetes context has no token, so there may be no file (nor tokens folder) to delete.</summary>
    private void DeleteToken(string name)
    {
        if (File.Exists(TokenFile(name))) File.Delete(TokenFile(name));
    }

    private void WriteToken(ClientContext context, string token)
    {
        // The settings folder first: made as the tokens folder's parent, it would get the default mode (0755).
        IO.PrivateFiles.CreateFolder(Folder);
        IO.PrivateFiles.CreateFolder(Path.Combine(Folder, "tokens"));
        var bytes = Encoding.UTF8.GetBytes(token);
        PrivateFiles.Write(TokenFile(context.Name), context.TokenStore == "Dpapi" && OperatingSystem.IsWindows() ? Protect(bytes) : bytes);
    }

    [SupportedOSPlatform("windows")]
    private static byte[] Protect(byte[] data) => ProtectedData.Protect(data, null, DataProtectionScope.CurrentUser);

    [SupportedOSPlatform("windows")]
    private static byte[] Unprotect(byte[] data) => ProtectedData.Unprotect(data, null, DataProtectionScope.CurrentUser);
}
