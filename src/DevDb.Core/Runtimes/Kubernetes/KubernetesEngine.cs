using System.Net;
using System.Text;
using DevDb.Core.Client;
using DevDb.Core.Engine;
using DevDb.Core.Model;
using DevDb.Core.Rules;
using DevDb.Core.Sources;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace DevDb.Core.Runtimes.Kubernetes;

/// <summary>Options of the engine that keeps DevDb's records in a Kubernetes namespace.</summary>
public sealed record KubernetesEngineOptions
{
    /// <summary>Check that a project's source answers before recording it (the API does; an admin's laptop may hold no S3 credentials).</summary>
    public bool ProbeSources { get; init; }
    public DumpSourceOptions Sources { get; init; } = new();
    public TimeSpan PollInterval { get; init; } = Polling.DefaultInterval;
}

/// <summary>
/// The engine over a Kubernetes namespace: it validates requests and writes them as DevDbProject and
/// DevDbDatabase custom resources (<see cref="ProjectResource"/>, <see cref="DatabaseResource"/>; plus each
/// database's credentials Secret), then reads back the status the <see cref="Reconciler"/> writes. It holds
/// no state, so the API can run several replicas, and an admin can drive the same records from PowerShell with a kubeconfig.
/// </summary>
public sealed class KubernetesEngine : IDevDbService
{
    private readonly IKubernetes _client;
    private readonly KubernetesOptions _options;
    private readonly KubernetesEngineOptions _engineOptions;
    private readonly CustomResources<ProjectResource> _projects;
    private readonly CustomResources<DatabaseResource> _databases;
    private readonly Manifests _manifests;
    private readonly bool _ownsClient;

    public KubernetesEngine(IKubernetes client, KubernetesOptions options, KubernetesEngineOptions? engineOptions = null, bool ownsClient = false)
    {
        _client = client;
        _options = options;
        _engineOptions = engineOptions ?? new KubernetesEngineOptions();
        _projects = new CustomResources<ProjectResource>(client, options.Namespace);
        _databases = new CustomResources<DatabaseResource>(client, options.Namespace);
        _manifests = new Manifests(options);
        _ownsClient = ownsClient;
    }

    public string Namespace => _options.Namespace;

    /// <summary>
    /// Connects with a kubeconfig (its current context, or <paramref name="context"/>) to the namespace
    /// of DevDb's installation: <paramref name="namespace"/>, else the context's, else "devdb".
    /// </summary>
    public static KubernetesEngine Connect(string? context = null, string? @namespace = null)
    {
        KubernetesClientConfiguration configuration;
        try
        {
            // KUBECONFIG may list several files, as kubectl reads it (the first one that has the context is used); else ~/.kube/config.
            var variable = Environment.GetEnvironmentVariable("KUBECONFIG");
            string[] paths = string.IsNullOrEmpty(variable)
                ? [KubernetesClientConfiguration.KubeConfigDefaultLocation]
                : variable.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
            var existing = paths.Where(File.Exists).ToList();
            if (existing.Count == 0) throw new FileNotFoundException($"kubeconfig file not found at {string.Join(", ", paths)}");
            var file = existing.FirstOrDefault(path => context is null
                ? KubernetesClientConfiguration.LoadKubeConfig(path).CurrentContext is { Length: > 0 }
                : KubernetesClientConfiguration.LoadKubeConfig(path).Contexts?.Any(c => c.Name == context) == true) ?? existing[0];
            configuration = KubernetesClientConfiguration.BuildConfigFromConfigFile(file, context);
        }
        catch (Exception e) when (e is k8s.Exceptions.KubeConfigException or FileNotFoundException or ArgumentException)
        {
            throw DevDbErrors.ContextNotFound(context ?? "",
                context is null ? $"No usable kubeconfig was found: {e.Message}" : $"The kubeconfig has no usable context '{context}': {e.Message}",
                "Check KUBECONFIG (or ~/.kube/config) and the context name (kubectl config get-contexts).");
        }
        var options = new KubernetesOptions { Namespace = @namespace ?? (string.IsNullOrEmpty(configuration.Namespace) ? "devdb" : configuration.Namespace) };
        return new KubernetesEngine(new k8s.Kubernetes(configuration), options, ownsClient: true);
    }

    public void Dispose()
    {
        if (_ownsClient) _client.Dispose();
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    // ---- projects ---------------------------------------------------------------------------------

    public async Task<Project> NewProjectAsync(NewProjectRequest request, IProgress<DevDbProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var (project, refresh) = await RecordNewProjectAsync(request, cancellationToken);
        return await WaitImageAsync(project.Name(), refresh, progress, cancellationToken);
    }

    public async Task<Project> BeginNewProjectAsync(NewProjectRequest request, CancellationToken cancellationToken = default) =>
        ToProject((await RecordNewProjectAsync(request, cancellationToken)).Project);

    private async Task<(ProjectResource Project, int Refresh)> RecordNewProjectAsync(NewProjectRequest request, CancellationToken cancellationToken)
    {
        RequestLimits.Check(request);
        if (request.SuperuserLogins && !_options.AllowSuperuserLogins) throw DevDbErrors.SuperuserLoginsNotAllowed(request.Name);
        var version = request.PostgresVersion ?? _options.DefaultPostgresVersion;
        await CheckSourceAsync(request.Source, cancellationToken);
        var spec = new ProjectResourceSpec
        {
            PostgresVersion = version, Source = request.Source, DatabaseName = request.DatabaseName, PostRestoreSql = request.PostRestoreSql,
            SuperuserLogins = request.SuperuserLogins,
        };
        try
        {
            var created = await _projects.CreateAsync(new ProjectResource
            {
                Metadata = new V1ObjectMeta { Name = request.Name, Labels = new Dictionary<string, string> { [KubeNames.ManagedBy] = KubeNames.Devdb } },
                Spec = spec,
            }, cancellationToken);
            return (await RecordBuildAsync(request.Name, 0, cancellationToken), 0);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
        {
        }
        var existing = await RequireProjectAsync(request.Name, cancellationToken);
        var recorded = ToProject(existing);
        switch (ProjectRules.ClassifyNew(recorded, ProjectDefinition.Of(request, version), busyWithOtherWork: false))
        {
            case NewProjectDecision.Identical:
                return (existing, existing.Spec.Refresh);
            case NewProjectDecision.Conflict:
                throw DevDbErrors.ProjectExists(recorded.Name, recorded.Source, recorded.PostgresVersion);
        }
        // A project whose builds all failed is rebuilt from the new definition, as in local mode.
        var refresh = existing.Spec.Refresh + 1;
        var rebuilt = await _projects.PatchAsync(request.Name, new
        {
            metadata = new { resourceVersion = existing.Metadata.ResourceVersion },
            spec = new { spec.PostgresVersion, spec.Source, spec.DatabaseName, spec.PostRestoreSql, spec.SuperuserLogins, refresh },
        }, cancellationToken);
        return (await RecordBuildAsync(rebuilt.Name(), refresh, cancellationToken), refresh);
    }

    /// <summary>A path on the caller's machine means nothing in the cluster; remote sources are probed when configured.</summary>
    private async Task CheckSourceAsync(string location, CancellationToken cancellationToken)
    {
        var source = DumpSources.Open(location, _engineOptions.Sources);
        if (!Uri.TryCreate(location, UriKind.Absolute, out var uri) || uri.Scheme is not ("s3" or "https" or "http"))
            throw DevDbErrors.SourceInvalid(location, "it is a path on this machine, and restore Jobs in the cluster cannot read it.",
                "Upload the dump to S3 or an HTTPS server and give that address (s3://bucket/key or https://...).");
        if (_engineOptions.ProbeSources) await source.ProbeAsync(cancellationToken);
    }

    /// <summary>Records are custom resources: the API server never hands out one it cannot read.</summary>
    public Task<IReadOnlyList<string>> GetDamagedRecordsAsync(CancellationToken cancellationToken = default) => Task.FromResult<IReadOnlyList<string>>([]);

    public async Task<IReadOnlyList<Project>> GetProjectsAsync(CancellationToken cancellationToken = default) =>
        (await _projects.ListAsync(null, cancellationToken)).OrderBy(p => p.Name(), StringComparer.Ordinal).Select(ToProject).ToList();

    public async Task<Project> GetProjectAsync(string name, CancellationToken cancellationToken = default) =>
        ToProject(await RequireProjectAsync(name, cancellationToken));

    public async Task<Project> UpdateProjectAsync(UpdateProjectRequest request, IProgress<DevDbProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var (_, refresh) = await RecordUpdateAsync(request, cancellationToken);
        return await WaitImageAsync(request.Name, refresh, progress, cancellationToken);
    }

    public async Task<Project> BeginUpdateProjectAsync(UpdateProjectRequest request, CancellationToken cancellationToken = default) =>
        ToProject((await RecordUpdateAsync(request, cancellationToken)).Project);

    private async Task<(ProjectResource Project, int Refresh)> RecordUpdateAsync(UpdateProjectRequest request, CancellationToken cancellationToken)
    {
        RequestLimits.Check(request);
        var current = await RequireProjectAsync(request.Name, cancellationToken);
        if (request.Source is not null) await CheckSourceAsync(request.Source, cancellationToken);
        if (IsBuilding(current))
            throw DevDbErrors.StateLocked($"Project '{request.Name}' is busy: an image of it is being built.", request.Name,
                "Wait for the build to finish (Wait-DevDbProject), then try again.");
        var refresh = current.Spec.Refresh + 1;
        var updated = await _projects.PatchAsync(request.Name, new
        {
            // The resourceVersion makes a concurrent change fail (409) rather than be overwritten.
            metadata = new { resourceVersion = current.Metadata.ResourceVersion },
            spec = new { source = request.Source ?? current.Spec.Source, postRestoreSql = request.PostRestoreSql ?? current.Spec.PostRestoreSql, refresh },
        }, cancellationToken);
        return (await RecordBuildAsync(updated.Name(), refresh, cancellationToken), refresh);
    }

    /// <summary>
    /// Records the image the request asked for as Building, as the embedded engine does before it
    /// works, so the caller gets its revision at once. The reconciler may have recorded it first
    /// (it would for a refresh made with kubectl): then this changes nothing.
    /// </summary>
    private async Task<ProjectResource> RecordBuildAsync(string name, int refresh, CancellationToken cancellationToken)
    {
        while (true)
        {
            var project = await RequireProjectAsync(name, cancellationToken);
            var status = project.Status ??= new ProjectState();
            if ((status.ObservedRefresh ?? -1) >= refresh) return project;
            status.StartImage(refresh, DateTimeOffset.UtcNow);
            if (!status.Images.Any(i => i.Status == ImagePhase.Ready)) status.Phase = ProjectPhase.Building;
            try
            {
                return await _projects.ReplaceStatusAsync(project, cancellationToken);
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
            {
                // The reconciler wrote in between: look again.
            }
        }
    }

    private static bool IsBuilding(ProjectResource project) =>
        (project.Status?.ObservedRefresh ?? -1) != project.Spec.Refresh || project.Status!.Images.Any(i => i.Status == ImagePhase.Building);

    /// <summary>Waits until the image asked for by <paramref name="refresh"/> is ready; a failed build throws its recorded error.</summary>
    private async Task<Project> WaitImageAsync(string name, int refresh, IProgress<DevDbProgress>? progress, CancellationToken cancellationToken)
    {
        var seen = "Waiting for the DevDb reconciler to pick it up";
        return await Polling.UntilAsync(async token =>
        {
            var project = await RequireProjectAsync(name, token);
            var status = project.Status;
            if (status is null || (status.ObservedRefresh ?? -1) < refresh) return null;
            var image = status.Images.FirstOrDefault(i => i.Refresh == refresh);
            if (image?.Status == ImagePhase.Ready) return ToProject(project);
            if (image is null)
            {
                var failed = ToProject(project);
                throw RecordedErrors.BuildFailed(failed, failed.Images.Select(i => i.Revision).DefaultIfEmpty(0).Max() + 1);
            }
            seen = $"Restoring image r{image.Revision} in the cluster";
            return null;
        }, progress, elapsed => new DevDbProgress($"Building an image of {name}", $"{seen} ({Polling.Elapsed(elapsed)})"), cancellationToken, _engineOptions.PollInterval);
    }

    public Task<Project> WaitProjectAsync(string name, IProgress<DevDbProgress>? progress = null, CancellationToken cancellationToken = default) =>
        Polling.UntilAsync(async token =>
        {
            var record = await RequireProjectAsync(name, token);
            if (IsBuilding(record)) return null;
            var project = ToProject(record);
            return project.Error is null ? project : throw RecordedErrors.BuildFailed(project, project.Images.Select(i => i.Revision).DefaultIfEmpty(0).Max() + 1);
        }, progress, elapsed => new DevDbProgress($"Building an image of {name}", $"Restoring in the cluster ({Polling.Elapsed(elapsed)})"), cancellationToken, _engineOptions.PollInterval);

    public async Task RemoveProjectAsync(string name, bool force = false, CancellationToken cancellationToken = default)
    {
        await RequireProjectAsync(name, cancellationToken);
        var databases = await _databases.ListAsync($"{KubeNames.Project}={name}", cancellationToken);
        ProjectRules.CheckRemovable(name, databases.Select(d => d.Name()).ToList(), force);
        foreach (var database in databases) await _databases.DeleteAsync(database.Name(), cancellationToken);
        // Its snapshots, and any restore Job and volume, are owned by the record: Kubernetes deletes them.
        await _projects.DeleteAsync(name, cancellationToken);
    }

    // ---- databases --------------------------------------------------------------------------------

    public async Task<Database> NewDatabaseAsync(NewDatabaseRequest request, IProgress<DevDbProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var database = await BeginNewDatabaseAsync(request, cancellationToken);
        return await WaitDatabaseAsync(database.Name, progress, cancellationToken);
    }

    public async Task<Database> BeginNewDatabaseAsync(NewDatabaseRequest request, CancellationToken cancellationToken = default)
    {
        RequestLimits.Check(request);
        var owner = request.Owner ?? Environment.UserName;
        if (await _databases.FindAsync(request.Name, cancellationToken) is { } existing)
        {
            if (existing.Spec.Project != request.Project || existing.Spec.Owner != owner)
                throw Exists(request.Name, existing);
            if (existing.Status?.Phase != DatabasePhase.Failed) return ToDatabase(existing);
            // A failed create of the same name, project and owner is replaced.
            await _databases.DeleteAsync(request.Name, cancellationToken);
        }
        var project = await RequireProjectAsync(request.Project, cancellationToken);
        ProjectRules.ImageToClone(ToProject(project));

        DatabaseResource created;
        try
        {
            created = await _databases.CreateAsync(new DatabaseResource
            {
                Metadata = new V1ObjectMeta
                {
                    Name = request.Name,
                    Labels = new Dictionary<string, string>
                    {
                        [KubeNames.ManagedBy] = KubeNames.Devdb, [KubeNames.Project] = request.Project, [KubeNames.Owner] = KubeNames.LabelValue(owner),
                    },
                },
                Spec = new DatabaseResourceSpec { Project = request.Project, Owner = owner },
            }, cancellationToken);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
        {
            // Another client created it between the check and now: the same request gets the same answer.
            var raced = await RequireDatabaseAsync(request.Name, cancellationToken);
            if (raced.Spec.Project != request.Project || raced.Spec.Owner != owner) throw Exists(request.Name, raced);
            return ToDatabase(raced);
        }
        try
        {
            // The engine sets the password: it is in the Secret before the server first starts, and never in a log.
            await SaveSecretAsync(_manifests.DatabaseSecret(created, request.Name, Passwords.New()), cancellationToken);
        }
        catch (Exception e)
        {
            await _databases.DeleteAsync(request.Name, CancellationToken.None);
            if (KubeErrors.Translate(e, "secrets", "", Namespace) is { } translated) throw translated;
            throw;
        }
        return ToDatabase(created);
    }

    /// <summary>
    /// Creates the database's Secret; one left by an earlier database of the same name, which the
    /// garbage collector has not deleted yet, is taken over (new owner, new password).
    /// </summary>
    private async Task SaveSecretAsync(V1Secret secret, CancellationToken cancellationToken)
    {
        try
        {
            await _client.CoreV1.CreateNamespacedSecretAsync(secret, Namespace, cancellationToken: cancellationToken);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
        {
            await _client.CoreV1.ReplaceNamespacedSecretAsync(secret, secret.Metadata.Name, Namespace, cancellationToken: cancellationToken);
        }
    }

    private static DevDbException Exists(string name, DatabaseResource existing) => DevDbErrors.DatabaseExists(name, existing.Spec.Project, existing.Spec.Owner);

    public Task<Database> WaitDatabaseAsync(string name, IProgress<DevDbProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var status = "";
        return Polling.UntilAsync(async token =>
            {
                var database = ToDatabase(await RequireDatabaseAsync(name, token));
                status = database.Status.ToString();
                return DatabaseRules.Settled(database);
            }, progress, elapsed => new DevDbProgress($"Waiting for database {name}", $"{status} ({Polling.Elapsed(elapsed)})"),
            cancellationToken, _engineOptions.PollInterval);
    }

    public async Task<IReadOnlyList<Database>> GetDatabasesAsync(string? project = null, string? owner = null, CancellationToken cancellationToken = default)
    {
        if (project is not null) await RequireProjectAsync(project, cancellationToken);
        var selector = project is null ? null : $"{KubeNames.Project}={project}";
        return (await _databases.ListAsync(selector, cancellationToken))
            .Where(d => owner is null || d.Spec.Owner == owner)
            .OrderBy(d => d.Name(), StringComparer.Ordinal)
            .Select(ToDatabase).ToList();
    }

    public async Task<Database> GetDatabaseAsync(string name, CancellationToken cancellationToken = default) =>
        ToDatabase(await RequireDatabaseAsync(name, cancellationToken));

    public async Task<ConnectionInfo> GetConnectionAsync(string name, CancellationToken cancellationToken = default)
    {
        var database = ToDatabase(await RequireDatabaseAsync(name, cancellationToken));
        if (database.Status == DatabaseStatus.Failed) throw RecordedErrors.DatabaseFailed(database);
        V1Secret secret;
        try
        {
            secret = await _client.CoreV1.ReadNamespacedSecretAsync(KubeNames.DatabaseObject(name), Namespace, cancellationToken: cancellationToken);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            throw DevDbErrors.CredentialsMissing(name, $"Secret {KubeNames.DatabaseObject(name)}");
        }
        catch (Exception e) when (KubeErrors.Translate(e, "secrets", "", Namespace) is { } translated)
        {
            throw translated;
        }
        var password = secret.Data is { } data && data.TryGetValue("password", out var bytes) ? Encoding.UTF8.GetString(bytes) : secret.StringData?["password"] ?? "";
        return new ConnectionInfo(database.Host, database.Port, database.DatabaseName, database.Username, password);
    }

    public async Task RemoveDatabaseAsync(string name, CancellationToken cancellationToken = default)
    {
        await RequireDatabaseAsync(name, cancellationToken);
        // Its server, volume, Secret, Service and route are owned by the record: Kubernetes deletes them.
        await _databases.DeleteAsync(name, cancellationToken);
    }

    public async Task<Database> ResetDatabaseAsync(string name, IProgress<DevDbProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        await BeginResetDatabaseAsync(name, cancellationToken);
        return await WaitDatabaseAsync(name, progress, cancellationToken);
    }

    public async Task<Database> BeginResetDatabaseAsync(string name, CancellationToken cancellationToken = default)
    {
        var database = await RequireUsableAsync(name, cancellationToken);
        var project = await RequireProjectAsync(database.Spec.Project, cancellationToken);
        ProjectRules.ImageToClone(ToProject(project));
        var reset = database.Spec.Reset + 1;
        return ToDatabase(await _databases.PatchAsync(name, new { metadata = new { resourceVersion = database.Metadata.ResourceVersion }, spec = new { reset } }, cancellationToken));
    }

    public async Task<Database> StopDatabaseAsync(string name, CancellationToken cancellationToken = default)
    {
        await BeginStopDatabaseAsync(name, cancellationToken);
        return await WaitDatabaseAsync(name, progress: null, cancellationToken);
    }

    public async Task<Database> BeginStopDatabaseAsync(string name, CancellationToken cancellationToken = default)
    {
        await RequireUsableAsync(name, cancellationToken);
        return ToDatabase(await _databases.PatchAsync(name, new { spec = new { running = false } }, cancellationToken));
    }

    public async Task<Database> StartDatabaseAsync(string name, CancellationToken cancellationToken = default)
    {
        await BeginStartDatabaseAsync(name, cancellationToken);
        return await WaitDatabaseAsync(name, progress: null, cancellationToken);
    }

    public async Task<Database> BeginStartDatabaseAsync(string name, CancellationToken cancellationToken = default)
    {
        await RequireUsableAsync(name, cancellationToken);
        return ToDatabase(await _databases.PatchAsync(name, new { spec = new { running = true } }, cancellationToken));
    }

    /// <summary>Stop, start and reset need a database that was created and that nothing else is changing.</summary>
    private async Task<DatabaseResource> RequireUsableAsync(string name, CancellationToken cancellationToken)
    {
        var record = await RequireDatabaseAsync(name, cancellationToken);
        DatabaseRules.CheckUsable(ToDatabase(record));
        return record;
    }

    // ---- records to the model ---------------------------------------------------------------------

    private async Task<ProjectResource> RequireProjectAsync(string name, CancellationToken cancellationToken) =>
        (Names.IsValid(name) ? await _projects.FindAsync(name, cancellationToken) : null)
        ?? throw DevDbErrors.ProjectNotFound(name);

    private async Task<DatabaseResource> RequireDatabaseAsync(string name, CancellationToken cancellationToken) =>
        (Names.IsValid(name) ? await _databases.FindAsync(name, cancellationToken) : null)
        ?? throw DevDbErrors.DatabaseNotFound(name);

    internal static Project ToProject(ProjectResource record) => new()
    {
        Name = record.Name(),
        PostgresVersion = record.Spec.PostgresVersion,
        Source = record.Spec.Source,
        DatabaseName = record.Spec.DatabaseName,
        PostRestoreSql = record.Spec.PostRestoreSql,
        SuperuserLogins = record.Spec.SuperuserLogins,
        Status = StatusOf(record.Status?.Phase),
        Error = record.Status?.Error,
        ErrorCode = record.Status?.ErrorCode,
        Created = record.Metadata.CreationTimestamp is { } created ? new DateTimeOffset(DateTime.SpecifyKind(created, DateTimeKind.Utc)) : default,
        Images = (record.Status?.Images ?? []).Where(i => i.Status != ImagePhase.Failed).OrderBy(i => i.Revision).Select(i => new Image
        {
            Project = record.Name(),
            Revision = i.Revision,
            Status = i.Status == ImagePhase.Ready ? ImageStatus.Ready : ImageStatus.Building,
            Created = i.Created,
            SourceFormat = i.SourceFormat,
            SourceBytes = i.SourceBytes ?? 0,
            SizeBytes = i.SizeBytes ?? 0,
            BuildDuration = TimeSpan.FromSeconds(i.BuildSeconds ?? 0),
            Error = i.Error,
        }).ToList(),
    };

    internal static Database ToDatabase(DatabaseResource record) => new()
    {
        Name = record.Name(),
        Project = record.Spec.Project,
        ImageRevision = record.Status?.ImageRevision ?? 0,
        Status = StatusOf(record),
        Host = record.Status?.Host ?? "",
        Port = record.Status?.Port ?? 0,
        DatabaseName = record.Status?.DatabaseName ?? "",
        Username = record.Status?.Username ?? record.Name(),
        Owner = record.Spec.Owner,
        Created = record.Metadata.CreationTimestamp is { } created ? new DateTimeOffset(DateTime.SpecifyKind(created, DateTimeKind.Utc)) : default,
        Error = record.Status?.Error,
        ErrorCode = record.Status?.ErrorCode,
    };

    private static ProjectStatus StatusOf(ProjectPhase? phase) => phase switch
    {
        ProjectPhase.Ready => ProjectStatus.Ready,
        ProjectPhase.Failed => ProjectStatus.Failed,
        _ => ProjectStatus.Building,
    };

    /// <summary>The record's phase, or what is under way while the reconciler has not caught up with the spec (a reset, a stop, a start).</summary>
    private static DatabaseStatus StatusOf(DatabaseResource record)
    {
        var phase = record.Status?.Phase switch
        {
            DatabasePhase.Running => DatabaseStatus.Running,
            DatabasePhase.Stopped => DatabaseStatus.Stopped,
            DatabasePhase.Failed => DatabaseStatus.Failed,
            _ => DatabaseStatus.Creating,
        };
        if (phase is DatabaseStatus.Creating or DatabaseStatus.Failed) return phase;
        if ((record.Status?.ObservedReset ?? 0) != record.Spec.Reset) return DatabaseStatus.Resetting;
        if (!record.Spec.Running && phase != DatabaseStatus.Stopped) return DatabaseStatus.Stopping;
        if (record.Spec.Running && phase == DatabaseStatus.Stopped) return DatabaseStatus.Starting;
        return phase;
    }
}
