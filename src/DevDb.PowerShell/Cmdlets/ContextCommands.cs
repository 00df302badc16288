using System.Management.Automation;
using System.Net;
using System.Security;
using DevDb.Core;
using DevDb.Core.Client;
using DevDb.Core.Runtimes.Kubernetes;

namespace DevDb.Commands;

/// <summary>Makes the cmdlets talk to a DevDb server, to DevDb's records in a Kubernetes namespace, or back to the local engine.</summary>
/// <remarks>
/// <para>Connect-DevDb -Server checks the token with the server (it is prompted for, never echoed, when
/// -Token is left out), saves it as a named context and makes that context current: every DevDb
/// cmdlet then calls that server, as the token's user and role. The token is kept in a file under
/// $DEVDB_CONFIG/tokens readable by you alone (on Windows also encrypted with DPAPI); contexts.json
/// holds no secret. A token is never sent over plain http to another machine (InsecureConnection)
/// unless -AllowUnencryptedAuthentication says so.</para>
/// <para>Connect-DevDb -Kubernetes works on the DevDbProject and DevDbDatabase records of a namespace
/// directly, with the kubeconfig's credentials and RBAC (for admins and runbooks; no DevDb token).
/// Connect-DevDb -Local goes back to the embedded engine on this machine; saved contexts are kept.</para>
/// <para>In CI, the environment variables DEVDB_SERVER and DEVDB_TOKEN take precedence over any saved
/// context, so a job needs no Connect-DevDb.</para>
/// </remarks>
/// <example>
/// <para>Connect to a server; the token is prompted for</para>
/// <code>Connect-DevDb -Server https://devdb.example.com</code>
/// </example>
/// <example>
/// <para>The token from a SecretManagement vault, as the password of a credential</para>
/// <code>Connect-DevDb -Server https://devdb.example.com -Credential (Get-Secret devdb) -Name prod</code>
/// </example>
/// <example>
/// <para>Admins: the cluster's records with the kubeconfig, then back to the local engine</para>
/// <code>
/// Connect-DevDb -Kubernetes -Context prod -Namespace devdb
/// Get-DevDbDatabase -Project shop | Reset-DevDbDatabase -Force
/// Connect-DevDb -Local
/// </code>
/// </example>
/// <seealso cref="GetDevDbContextCommand"/>
/// <seealso cref="DisconnectDevDbCommand"/>
/// <seealso href="about_DevDb_Server"/>
/// <seealso href="about_DevDb_Kubernetes"/>
[Cmdlet(VerbsCommunications.Connect, "DevDb", DefaultParameterSetName = TokenSet)]
[OutputType(typeof(DevDbContext))]
public sealed class ConnectDevDbCommand : DevDbCmdlet
{
    /// <summary>The parameter set with a token.</summary>
    public const string TokenSet = "Token";
    /// <summary>The parameter set with a credential holding the token.</summary>
    public const string CredentialSet = "Credential";
    /// <summary>The parameter set that goes back to the local engine.</summary>
    public const string LocalSet = "Local";
    /// <summary>The parameter set for a Kubernetes namespace.</summary>
    public const string KubernetesSet = "Kubernetes";

    /// <summary>The DevDb API's address, e.g. https://devdb.example.com.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = TokenSet)]
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = CredentialSet)]
    public Uri? Server { get; set; }

    /// <summary>The bearer token an admin gave you (prompted for when omitted).</summary>
    [Parameter(Mandatory = true, ParameterSetName = TokenSet)]
    public SecureString? Token { get; set; }

    /// <summary>The token as the password of a credential (e.g. from SecretManagement's Get-Secret); the user name is not used.</summary>
    [Parameter(Mandatory = true, ParameterSetName = CredentialSet)]
    [Credential]
    public PSCredential? Credential { get; set; }

    /// <summary>Name of the saved context; the server's host and port (or kubeconfig context and namespace) when omitted.</summary>
    [Parameter(ParameterSetName = TokenSet)]
    [Parameter(ParameterSetName = CredentialSet)]
    [Parameter(ParameterSetName = KubernetesSet)]
    public string? Name { get; set; }

    /// <summary>Work on the cluster's DevDbProject and DevDbDatabase records directly, with the kubeconfig's credentials (no DevDb token).</summary>
    [Parameter(Mandatory = true, ParameterSetName = KubernetesSet)]
    public SwitchParameter Kubernetes { get; set; }

    /// <summary>The kubeconfig context; the current one when omitted.</summary>
    [Parameter(ParameterSetName = KubernetesSet)]
    public string? Context { get; set; }

    /// <summary>The namespace DevDb is installed in; the context's namespace, else devdb.</summary>
    [Parameter(ParameterSetName = KubernetesSet)]
    public string? Namespace { get; set; }

    /// <summary>Send the token over plain http to another machine, where anyone on the way can read it (only on a network you trust).</summary>
    [Parameter(ParameterSetName = TokenSet)]
    [Parameter(ParameterSetName = CredentialSet)]
    public SwitchParameter AllowUnencryptedAuthentication { get; set; }

    /// <summary>Talk to the embedded engine on this machine again; saved contexts are kept.</summary>
    [Parameter(Mandatory = true, ParameterSetName = LocalSet)]
    public SwitchParameter Local { get; set; }

    /// <summary>Connects.</summary>
    protected override void ProcessRecord()
    {
        var contexts = ClientContexts.Default();
        if (Local)
        {
            contexts.UseLocal();
            WriteObject(DevDbContext.Local(isCurrent: true));
            return;
        }

        if (Kubernetes)
        {
            WriteVerbose($"Reading DevDb's records with kubeconfig context {Context ?? "(current)"}.");
            // Reading the records proves the kubeconfig reaches a cluster where DevDb is installed and may be used.
            string @namespace = OrTerminate(() => Run(async (_, ct) =>
            {
                using var engine = KubernetesEngine.Connect(Context, Namespace);
                await engine.GetProjectsAsync(ct).ConfigureAwait(false);
                return engine.Namespace;
            }));
            ClientContext cluster = contexts.Save(new ClientContext
            {
                Name = string.IsNullOrWhiteSpace(Name) ? $"{Context ?? "kubernetes"}/{@namespace}" : Name,
                Kubernetes = new KubernetesTarget(Context, @namespace),
                User = Environment.UserName,
                Role = "kubernetes",
            }, token: null);
            WriteVerbose($"Saved context '{cluster.Name}' in {contexts.Folder}; it is current.");
            WriteObject(DevDbContext.From(cluster, isCurrent: true));
            return;
        }

        Uri server = Server!;
        string token = new NetworkCredential(string.Empty, Token ?? Credential!.Password).Password;
        WriteVerbose($"Checking the token with {server}.");
        ApiIdentity identity = OrTerminate(() => Run(async (_, ct) =>
        {
            using var client = new HttpDevDbClient(server, token, AllowUnencryptedAuthentication);
            return await client.WhoAmIAsync(ct).ConfigureAwait(false);
        }));
        ClientContext saved = contexts.Save(new ClientContext
        {
            Name = string.IsNullOrWhiteSpace(Name) ? server.Authority : Name,
            Server = server,
            User = identity.User,
            Role = identity.Role,
            AllowUnencryptedAuthentication = AllowUnencryptedAuthentication,
        }, token);
        WriteVerbose($"Saved context '{saved.Name}' ({identity.User}, {identity.Role}) in {contexts.Folder}; it is current.");
        WriteObject(DevDbContext.From(saved, isCurrent: true));
    }
}

/// <summary>Gets the context the cmdlets talk to now; with -ListAvailable, every saved one and the local engine.</summary>
/// <remarks>
/// <para>Get-DevDbContext says where the DevDb cmdlets go: the local engine, a DevDb server (with the
/// user and role its token has there), or a Kubernetes namespace. Tokens are never shown.</para>
/// </remarks>
/// <example>
/// <para>Where do the cmdlets go now?</para>
/// <code>Get-DevDbContext</code>
/// </example>
/// <example>
/// <para>Every saved context; the current one is marked</para>
/// <code>Get-DevDbContext -ListAvailable</code>
/// </example>
/// <seealso cref="ConnectDevDbCommand"/>
/// <seealso cref="DisconnectDevDbCommand"/>
/// <seealso href="about_DevDb_Server"/>
[Cmdlet(VerbsCommon.Get, "DevDbContext")]
[OutputType(typeof(DevDbContext))]
public sealed class GetDevDbContextCommand : DevDbCmdlet
{
    /// <summary>Lists the local engine and every saved context (and the environment's DEVDB_SERVER, if set), not only the current one.</summary>
    [Parameter]
    public SwitchParameter ListAvailable { get; set; }

    /// <summary>Writes the contexts.</summary>
    protected override void ProcessRecord()
    {
        var contexts = ClientContexts.Default();
        ClientTarget current = OrTerminate(contexts.Current);
        if (!ListAvailable)
        {
            WriteObject(current.Context is { } context ? DevDbContext.From(context, isCurrent: true) : DevDbContext.Local(isCurrent: true));
            return;
        }
        WriteObject(DevDbContext.Local(current.IsLocal));
        if (current.Context is { Name: ClientContexts.EnvironmentContextName } environment)
        {
            WriteObject(DevDbContext.From(environment, isCurrent: true));
        }
        foreach (ClientContext saved in contexts.List())
        {
            WriteObject(DevDbContext.From(saved, saved.Name == current.Context?.Name));
        }
    }
}

/// <summary>Forgets a saved context and its token (the current one when -Name is omitted); the cmdlets then use the local engine.</summary>
/// <remarks>
/// <para>Disconnect-DevDb deletes a saved context and its token file. If it was the current context, the
/// cmdlets use the local engine afterwards. A context that comes from the environment (DEVDB_SERVER and
/// DEVDB_TOKEN) cannot be forgotten this way (ContextNotFound): remove the variables.</para>
/// </remarks>
/// <example>
/// <para>Forget the current context</para>
/// <code>Disconnect-DevDb</code>
/// </example>
/// <example>
/// <para>Forget a named one (Tab completes saved context names)</para>
/// <code>Disconnect-DevDb -Name devdb.example.com</code>
/// </example>
/// <seealso cref="ConnectDevDbCommand"/>
/// <seealso cref="GetDevDbContextCommand"/>
/// <seealso href="about_DevDb_Server"/>
[Cmdlet(VerbsCommunications.Disconnect, "DevDb", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(void))]
public sealed class DisconnectDevDbCommand : DevDbCmdlet
{
    /// <summary>The saved context to forget; the current one when omitted. Tab completes saved context names.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(ContextNameCompleter))]
    public string? Name { get; set; }

    /// <summary>Forgets the context.</summary>
    protected override void ProcessRecord()
    {
        var contexts = ClientContexts.Default();
        string? name = Name ?? OrTerminate(contexts.Current).Context?.Name;
        if (name is null or DevDbContext.LocalName)
        {
            return; // Already on the local engine: nothing to forget.
        }
        if (name == ClientContexts.EnvironmentContextName)
        {
            WriteError(DevDbException.From(DevDbErrors.ContextNotFound(name,
                "The current DevDb server comes from the environment variables DEVDB_SERVER and DEVDB_TOKEN, not from a saved context.",
                "Remove those environment variables to stop using it.")));
            return;
        }
        if (ShouldProcess(name, "Forget the DevDb context and its token"))
        {
            try
            {
                contexts.Remove(name);
            }
            catch (Core.DevDbException e)
            {
                WriteError(DevDbException.From(e));
            }
        }
    }
}
