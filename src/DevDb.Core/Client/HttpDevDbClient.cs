using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using DevDb.Core.Model;
using DevDb.Core.Rules;

namespace DevDb.Core.Client;

/// <summary>
/// <see cref="IDevDbClient"/> over the DevDb API: the same calls, the same results, and the same
/// error codes as the embedded engine (the server's problem documents carry them). Long work is
/// accepted by the server (202) and waited for here by polling, so Ctrl+C stops the waiting, not
/// the server's work.
/// </summary>
public sealed partial class HttpDevDbClient : IDevDbClient
{
    private readonly HttpClient _http;

    /// <param name="server">The API's base address, e.g. https://devdb.example.com.</param>
    /// <param name="token">The caller's bearer token.</param>
    /// <param name="allowUnencryptedAuthentication">Send the token over plain http to another machine (it can be read on the way).</param>
    /// <param name="handler">For tests and proxies; null uses a default handler.</param>
    public HttpDevDbClient(Uri server, string token, bool allowUnencryptedAuthentication = false, HttpMessageHandler? handler = null)
    {
        Server = CheckServer(server, allowUnencryptedAuthentication);
        _http = handler is null ? new HttpClient() : new HttpClient(handler);
        _http.BaseAddress = Server;
        _http.Timeout = TimeSpan.FromSeconds(100);
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("DevDb", typeof(HttpDevDbClient).Assembly.GetName().Version?.ToString(3)));
    }

    public Uri Server { get; }

    public void Dispose() => _http.Dispose();

    /// <summary>Who the server takes the token for; Connect-DevDb calls it to check a token before saving it.</summary>
    public Task<ApiIdentity> WhoAmIAsync(CancellationToken cancellationToken = default) =>
        SendAsync<ApiIdentity>(HttpMethod.Get, ApiContract.WhoAmI, body: null, cancellationToken);

    public Task<Quota> GetQuotaAsync(string? user = null, CancellationToken cancellationToken = default) =>
        SendAsync<Quota>(HttpMethod.Get, user is null ? ApiContract.Quota : $"{ApiContract.Quota}?user={Uri.EscapeDataString(user)}", body: null, cancellationToken);

    // ---- projects -------------------------------------------------------------------------

    public async Task<Project> NewProjectAsync(NewProjectRequest request, IProgress<DevDbProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var project = await BeginNewProjectAsync(request, cancellationToken);
        // An identical project that exists already comes back as it is (its first image may be long gone).
        return project.Status == ProjectStatus.Building
            ? await WaitImageAsync(project.Name, project.Images.Min(i => i.Revision), progress, cancellationToken)
            : project;
    }

    public Task<Project> BeginNewProjectAsync(NewProjectRequest request, CancellationToken cancellationToken = default) =>
        SendAsync<Project>(HttpMethod.Post, ApiContract.Projects, request, cancellationToken);

    public Task<IReadOnlyList<Project>> GetProjectsAsync(CancellationToken cancellationToken = default) =>
        SendAsync<IReadOnlyList<Project>>(HttpMethod.Get, ApiContract.Projects, body: null, cancellationToken);

    public Task<Project> GetProjectAsync(string name, CancellationToken cancellationToken = default) =>
        SendAsync<Project>(HttpMethod.Get, ApiContract.Project(name), body: null, cancellationToken);

    public async Task<Project> UpdateProjectAsync(UpdateProjectRequest request, IProgress<DevDbProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var project = await BeginUpdateProjectAsync(request, cancellationToken);
        var revision = project.Images.Max(i => i.Revision);
        return await WaitImageAsync(project.Name, revision, progress, cancellationToken);
    }

    public Task<Project> BeginUpdateProjectAsync(UpdateProjectRequest request, CancellationToken cancellationToken = default) =>
        SendAsync<Project>(HttpMethod.Post, ApiContract.ProjectRefresh(request.Name), request, cancellationToken);

    public Task<Project> WaitProjectAsync(string name, IProgress<DevDbProgress>? progress = null, CancellationToken cancellationToken = default) =>
        Polling.UntilAsync(async token =>
            {
                var project = await GetProjectAsync(name, token);
                if (project.Images.Any(i => i.Status == ImageStatus.Building)) return null;
                return project.Error is null
                    ? project
                    : throw RecordedErrors.BuildFailed(project, project.Images.Select(i => i.Revision).DefaultIfEmpty(0).Max() + 1);
            }, progress, elapsed => new DevDbProgress($"Building an image of project {name}", $"Restoring on {Server.Authority} ({Polling.Elapsed(elapsed)})"),
            cancellationToken);

    public Task RemoveProjectAsync(string name, bool force = false, CancellationToken cancellationToken = default) =>
        SendAsync<object?>(HttpMethod.Delete, $"{ApiContract.Project(name)}?force={(force ? "true" : "false")}", body: null, cancellationToken);

    /// <summary>Polls until image <paramref name="revision"/> is built; a failed build raises the error the server recorded.</summary>
    private Task<Project> WaitImageAsync(string name, int revision, IProgress<DevDbProgress>? progress, CancellationToken cancellationToken) =>
        Polling.UntilAsync(async token =>
            {
                var project = await GetProjectAsync(name, token);
                return project.Images.FirstOrDefault(i => i.Revision == revision) switch
                {
                    { Status: ImageStatus.Ready } => project,
                    null => throw RecordedErrors.BuildFailed(project, revision),
                    _ => null,
                };
            }, progress, elapsed => new DevDbProgress($"Building image {name} r{revision}", $"Restoring on {Server.Authority} ({Polling.Elapsed(elapsed)})"),
            cancellationToken);

    // ---- databases ------------------------------------------------------------------------

    public async Task<Database> NewDatabaseAsync(NewDatabaseRequest request, IProgress<DevDbProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var database = await BeginNewDatabaseAsync(request, cancellationToken);
        return DatabaseRules.IsBusy(database.Status) ? await WaitDatabaseAsync(database.Name, progress, cancellationToken) : database;
    }

    public Task<Database> BeginNewDatabaseAsync(NewDatabaseRequest request, CancellationToken cancellationToken = default) =>
        SendAsync<Database>(HttpMethod.Post, ApiContract.Databases, request, cancellationToken);

    public Task<Database> WaitDatabaseAsync(string name, IProgress<DevDbProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var status = "";
        return Polling.UntilAsync(async token =>
            {
                var database = await GetDatabaseAsync(name, token);
                status = database.Status.ToString();
                return DatabaseRules.Settled(database);
            }, progress, elapsed => new DevDbProgress($"Waiting for database {name}", $"{status} on {Server.Authority} ({Polling.Elapsed(elapsed)})"),
            cancellationToken);
    }

    public Task<IReadOnlyList<Database>> GetDatabasesAsync(string? project = null, string? owner = null, CancellationToken cancellationToken = default)
    {
        var query = string.Join("&", new[] { ("project", project), ("owner", owner) }
            .Where(p => p.Item2 is not null).Select(p => $"{p.Item1}={Uri.EscapeDataString(p.Item2!)}"));
        return SendAsync<IReadOnlyList<Database>>(HttpMethod.Get, query.Length == 0 ? ApiContract.Databases : $"{ApiContract.Databases}?{query}",
            body: null, cancellationToken);
    }

    public Task<Database> GetDatabaseAsync(string name, CancellationToken cancellationToken = default) =>
        SendAsync<Database>(HttpMethod.Get, ApiContract.Database(name), body: null, cancellationToken);

    public Task<ConnectionInfo> GetConnectionAsync(string name, CancellationToken cancellationToken = default) =>
        SendAsync<ConnectionInfo>(HttpMethod.Get, ApiContract.Connection(name), body: null, cancellationToken);

    public Task<Database> SetDatabaseAsync(SetDatabaseRequest request, CancellationToken cancellationToken = default) =>
        SendAsync<Database>(HttpMethod.Patch, ApiContract.Database(request.Name), request, cancellationToken);

    public Task<Project> SetProjectAsync(SetProjectRequest request, CancellationToken cancellationToken = default) =>
        SendAsync<Project>(HttpMethod.Patch, ApiContract.Project(request.Name), request, cancellationToken);

    public Task RemoveDatabaseAsync(string name, CancellationToken cancellationToken = default) =>
        SendAsync<object?>(HttpMethod.Delete, ApiContract.Database(name), body: null, cancellationToken);

    public async Task<Database> ResetDatabaseAsync(string name, IProgress<DevDbProgress>? progress = null, CancellationToken cancellationToken = default) =>
        await SettledAsync(await BeginResetDatabaseAsync(name, cancellationToken), progress, cancellationToken);

    public Task<Database> BeginResetDatabaseAsync(string name, CancellationToken cancellationToken = default) =>
        SendAsync<Database>(HttpMethod.Post, ApiContract.DatabaseAction(name, "reset"), body: null, cancellationToken);

    public async Task<Database> StopDatabaseAsync(string name, CancellationToken cancellationToken = default) =>
        await SettledAsync(await BeginStopDatabaseAsync(name, cancellationToken), progress: null, cancellationToken);

    public Task<Database> BeginStopDatabaseAsync(string name, CancellationToken cancellationToken = default) =>
        SendAsync<Database>(HttpMethod.Post, ApiContract.DatabaseAction(name, "stop"), body: null, cancellationToken);

    public async Task<Database> StartDatabaseAsync(string name, CancellationToken cancellationToken = default) =>
        await SettledAsync(await BeginStartDatabaseAsync(name, cancellationToken), progress: null, cancellationToken);

    public Task<Database> BeginStartDatabaseAsync(string name, CancellationToken cancellationToken = default) =>
        SendAsync<Database>(HttpMethod.Post, ApiContract.DatabaseAction(name, "start"), body: null, cancellationToken);

    /// <summary>The outcome of accepted work: at once when the server finished it already, else by waiting.</summary>
    private Task<Database> SettledAsync(Database accepted, IProgress<DevDbProgress>? progress, CancellationToken cancellationToken) =>
        DatabaseRules.IsBusy(accepted.Status) ? WaitDatabaseAsync(accepted.Name, progress, cancellationToken) : Task.FromResult(DatabaseRules.Settled(accepted)!);

    // ---- transport ------------------------------------------------------------------------

    /// <summary>Sends one request; a problem document comes back as its <see cref="DevDbException"/>, a network failure as ServerUnreachable.</summary>
    private async Task<T> SendAsync<T>(HttpMethod method, string path, object? body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null) request.Content = JsonContent.Create(body, body.GetType(), options: ApiContract.Json);
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, cancellationToken);
        }
        catch (Exception e) when (e is HttpRequestException or SocketException
                                  || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw DevDbErrors.ServerUnreachable($"the DevDb API at {Server}", e.Message,
                "Check the address and that the server is up (its /healthz answers), or switch to the local engine with Connect-DevDb -Local.",
                Server.ToString(), e);
        }
        using (response)
        {
            if (!response.IsSuccessStatusCode) throw await ErrorOfAsync(response, cancellationToken);
            if (response.StatusCode == HttpStatusCode.NoContent || typeof(T) == typeof(object)) return default!;
            try
            {
                return await response.Content.ReadFromJsonAsync<T>(ApiContract.Json, cancellationToken)
                       ?? throw new System.Text.Json.JsonException("empty body");
            }
            catch (Exception e) when (e is System.Text.Json.JsonException or NotSupportedException)
            {
                throw NotTheApi(response, e);
            }
        }
    }

    private async Task<DevDbException> ErrorOfAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.Content.Headers.ContentType?.MediaType == ApiContract.ProblemContentType)
        {
            try
            {
                if (await response.Content.ReadFromJsonAsync<ApiProblem>(ApiContract.Json, cancellationToken) is { } problem)
                    return problem.ToException();
            }
            catch (System.Text.Json.JsonException)
            {
                // Not one of ours: reported below by status.
            }
        }
        return response.StatusCode == HttpStatusCode.Unauthorized
            ? DevDbErrors.Unauthenticated($"The server at {Server} did not accept the token.",
                "Connect again with a valid token: Connect-DevDb -Server <address> -Token <token>.", Server.ToString())
            : NotTheApi(response, inner: null);
    }

    private DevDbException NotTheApi(HttpResponseMessage response, Exception? inner) =>
        DevDbErrors.ServerError(
            $"The server at {Server} answered {(int)response.StatusCode} {response.ReasonPhrase} to {response.RequestMessage?.Method} /{response.RequestMessage?.RequestUri?.AbsolutePath.TrimStart('/')}, which is not an answer of the DevDb API.",
            "Check that the address is the DevDb API's, and look in the server's log.", Server.ToString(), inner);

    /// <summary>A base address ending in '/', over https or, where the token cannot be read on the way, http.</summary>
    private static Uri CheckServer(Uri server, bool allowUnencryptedAuthentication)
    {
        if (!server.IsAbsoluteUri || (server.Scheme != Uri.UriSchemeHttps && server.Scheme != Uri.UriSchemeHttp))
            throw DevDbErrors.ServerAddressInvalid(server.ToString(), "-Server");
        if (server.Scheme == Uri.UriSchemeHttp && !allowUnencryptedAuthentication && !IsThisMachine(server))
            throw DevDbErrors.InsecureConnection(server.Host, server.ToString());
        return server.AbsoluteUri.EndsWith('/') ? server : new Uri(server.AbsoluteUri + "/");
    }

    private static bool IsThisMachine(Uri server) =>
        server.IsLoopback || (IPAddress.TryParse(server.Host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));
}
