using DevDb.Core.Client;
using DevDb.Core.Engine;
using DevDb.Core.Model;
using DevDb.Core.Sources;
using k8s;

namespace DevDb.Core.Runtimes.Kubernetes;

/// <summary>Options of the engine that keeps DevDb's records in a Kubernetes namespace.</summary>
public sealed record KubernetesEngineOptions
{
    /// <summary>Check that a project's source answers before recording it (the API does; an admin's laptop may hold no S3 credentials).</summary>
    public bool ProbeSources { get; init; }
    public DumpSourceOptions Sources { get; init; } = new();
    public TimeSpan PollInterval { get; init; } = Polling.DefaultInterval;
    /// <summary>The clock of what the engine records (an image build's start); waits use real time, as <see cref="LocalEngineOptions.Clock"/>.</summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;
    /// <summary>Where a removed database's one log line goes (<see cref="RemovalLog"/>); null: nowhere.</summary>
    public Microsoft.Extensions.Logging.ILogger? Log { get; init; }
}

/// <summary>
/// The engine over a Kubernetes namespace: it validates requests and writes them as DevDbProject and
/// DevDbDatabase custom resources (<see cref="ProjectResource"/>, <see cref="DatabaseResource"/>; plus each
/// database's credentials Secret), then reads back the status the <see cref="Reconciler"/> writes. It holds
/// no state, so the API can run several replicas, and an admin can drive the same records from PowerShell with a kubeconfig.
/// </summary>
public sealed partial class KubernetesEngine : IDevDbService
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
        DefaultTimeToLive = record.Spec.DefaultTimeToLiveSeconds is { } d ? TimeSpan.FromSeconds(d) : null,
        MaxTimeToLive = record.Spec.MaxTimeToLiveSeconds is { } m ? TimeSpan.FromSeconds(m) : null,
        IdleTimeout = record.Spec.IdleTimeoutSeconds is { } i ? TimeSpan.FromSeconds(i) : null,
        Protected = record.Spec.Protected,
        RefreshSchedule = record.Spec.RefreshSchedule,
        RefreshTimeZone = record.Spec.RefreshSchedule is null ? null : record.Spec.RefreshTimeZone ?? Rules.RefreshRules.DefaultTimeZone,
        NextRefresh = record.Status?.ObservedSchedule is { } observed && observed == record.Spec.ScheduleKey ? record.Status.NextRefresh : null,
        LastRefresh = record.Status?.LastRefresh,
        LastRefreshOutcome = Enum.TryParse<RefreshOutcome>(record.Status?.LastRefreshOutcome, out var outcome) ? outcome : null,
        LastRefreshError = record.Status?.LastRefreshError,
        LastRefreshErrorCode = record.Status?.LastRefreshErrorCode,
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
            Dump = i.Dump,
            SizeBytes = i.SizeBytes ?? 0,
            BuildDuration = TimeSpan.FromSeconds(i.BuildSeconds ?? 0),
        }).ToList(),
        History = HistoryItem.ToEntries(record.Status?.History),
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
        ExpiresAt = record.Spec.ExpiresAt,
        Parent = record.Spec.Parent,
        ParentCheckpoint = record.Spec.ParentCheckpoint,
        Protected = record.Spec.Protected,
        IdleTimeout = record.Spec.IdleTimeoutSeconds is { } idle ? TimeSpan.FromSeconds(idle) : null,
        LastActiveAt = Latest(record.Status?.LastActiveAt, record.Spec.IdleFrom),
        StopReason = StopReasonOf(record),
        Created = record.Metadata.CreationTimestamp is { } created ? new DateTimeOffset(DateTime.SpecifyKind(created, DateTimeKind.Utc)) : default,
        Error = record.Status?.Error,
        ErrorCode = record.Status?.ErrorCode,
        History = HistoryItem.ToEntries(record.Status?.History),
    };

    private static DateTimeOffset? Latest(DateTimeOffset? a, DateTimeOffset? b) => a is null ? b : b is null ? a : a > b ? a : b;

    /// <summary>Why it is Stopped: the reason written with spec.running false (Requested unless the reconciler's idle pass wrote Idle).</summary>
    private static StopReason? StopReasonOf(DatabaseResource record) =>
        StatusOf(record) != DatabaseStatus.Stopped ? null
        : Enum.TryParse<StopReason>(record.Spec.StopReason, out var reason) ? reason : Model.StopReason.Requested;

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
            DatabasePhase.Crashed => DatabaseStatus.Crashed,
            DatabasePhase.Failed => DatabaseStatus.Failed,
            _ => DatabaseStatus.Creating,
        };
        if (phase is DatabaseStatus.Creating or DatabaseStatus.Failed) return phase;
        if ((record.Status?.ObservedReset ?? 0) != record.Spec.Reset) return record.Spec.RestoreCheckpoint is null ? DatabaseStatus.Resetting : DatabaseStatus.Restoring;
        if (!record.Spec.Running && phase != DatabaseStatus.Stopped) return DatabaseStatus.Stopping;
        if (record.Spec.Running && phase == DatabaseStatus.Stopped) return DatabaseStatus.Starting;
        return phase;
    }
}
