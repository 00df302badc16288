using System.Management.Automation;
using System.Net;
using System.Security;
using DevDb.Core;
using DevDb.Core.Client;
using DevDb.Core.Runtimes.Kubernetes;

namespace DevDb.Commands;

/// <summary>
/// Makes the cmdlets talk to a DevDb API (checking the token with the server first and saving it
/// as a named context), with -Kubernetes straight to DevDb's records in a cluster (admins and
/// runbooks, with the kubeconfig's credentials), or with -Local back to the embedded engine.
/// </summary>
[Cmdlet(VerbsCommunications.Connect, "DevDb", DefaultParameterSetName = TokenSet)]
[OutputType(typeof(DevDbContext))]
public sealed class ConnectDevDbCommand : DevDbCmdlet
{
    public const string TokenSet = "Token";
    public const string CredentialSet = "Credential";
    public const string LocalSet = "Local";
    public const string KubernetesSet = "Kubernetes";

    /// <summary>The API's address, e.g. https://devdb.example.com.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = TokenSet)]
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = CredentialSet)]
    public Uri? Server { get; set; }

    /// <summary>The bearer token an admin gave you.</summary>
    [Parameter(Mandatory = true, ParameterSetName = TokenSet)]
    public SecureString? Token { get; set; }

    /// <summary>The token as the password of a credential (e.g. from SecretManagement); the user name is not used.</summary>
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

    /// <summary>Send the token over plain http to another machine, where anyone on the way can read it.</summary>
    [Parameter(ParameterSetName = TokenSet)]
    [Parameter(ParameterSetName = CredentialSet)]
    public SwitchParameter AllowUnencryptedAuthentication { get; set; }

    /// <summary>Talk to the embedded engine on this machine again; saved contexts are kept.</summary>
    [Parameter(Mandatory = true, ParameterSetName = LocalSet)]
    public SwitchParameter Local { get; set; }

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
            WriteObject(DevDbContext.From(cluster, isCurrent: true));
            return;
        }

        Uri server = Server!;
        string token = new NetworkCredential(string.Empty, Token ?? Credential!.Password).Password;
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
        WriteObject(DevDbContext.From(saved, isCurrent: true));
    }
}

/// <summary>The context the cmdlets talk to now; with -ListAvailable, every saved one and the local engine.</summary>
[Cmdlet(VerbsCommon.Get, "DevDbContext")]
[OutputType(typeof(DevDbContext))]
public sealed class GetDevDbContextCommand : DevDbCmdlet
{
    [Parameter]
    public SwitchParameter ListAvailable { get; set; }

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
[Cmdlet(VerbsCommunications.Disconnect, "DevDb", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(void))]
public sealed class DisconnectDevDbCommand : DevDbCmdlet
{
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    public string? Name { get; set; }

    protected override void ProcessRecord()
    {
        var contexts = ClientContexts.Default();
        try
        {
            string? name = Name ?? contexts.Current().Context?.Name;
            if (name is null or DevDbContext.LocalName)
            {
                return; // Already on the local engine: nothing to forget.
            }
            if (name == ClientContexts.EnvironmentContextName)
            {
                throw new DevDbException(ErrorCodes.ContextNotFound, DevDbErrorCategory.InvalidOperation,
                    "The current DevDb server comes from the environment variables DEVDB_SERVER and DEVDB_TOKEN, not from a saved context.",
                    "Remove those environment variables to stop using it.", name);
            }
            if (ShouldProcess(name, "Forget the DevDb context and its token"))
            {
                contexts.Remove(name);
            }
        }
        catch (DevDbException exception)
        {
            WriteError(ErrorRecords.From(exception));
        }
    }
}
