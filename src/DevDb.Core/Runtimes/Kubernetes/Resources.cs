using System.Text.Json.Serialization;
using k8s;
using k8s.Models;

namespace DevDb.Core.Runtimes.Kubernetes;

/// <summary>The custom resources DevDb keeps its records in (group devdb.io); the chart installs their CRDs.</summary>
public static class DevDbGroup
{
    public const string Name = "devdb.io";
    public const string Version = "v1alpha1";
    public const string ApiVersion = Name + "/" + Version;
    public const string Projects = "devdbprojects";
    public const string Databases = "devdbdatabases";
}

/// <summary>A project's record, kind DevDbProject: what to restore (spec) and the images built so far (status).</summary>
[KubernetesEntity(Group = DevDbGroup.Name, ApiVersion = DevDbGroup.Version, Kind = "DevDbProject", PluralName = DevDbGroup.Projects)]
public sealed class ProjectResource : IKubernetesObject<V1ObjectMeta>
{
    [JsonPropertyName("apiVersion")] public string ApiVersion { get; set; } = DevDbGroup.ApiVersion;
    [JsonPropertyName("kind")] public string Kind { get; set; } = "DevDbProject";
    [JsonPropertyName("metadata")] public V1ObjectMeta Metadata { get; set; } = new();
    [JsonPropertyName("spec")] public ProjectResourceSpec Spec { get; set; } = new();
    [JsonPropertyName("status")] public ProjectState? Status { get; set; }
}

public sealed class ProjectResourceSpec
{
    [JsonPropertyName("postgresVersion")] public int PostgresVersion { get; set; }
    [JsonPropertyName("source")] public string Source { get; set; } = "";
    [JsonPropertyName("databaseName")] public string DatabaseName { get; set; } = Model.Project.DefaultDatabaseName;
    [JsonPropertyName("postRestoreSql")] public string? PostRestoreSql { get; set; }
    /// <summary>The project's own Postgres image ({0}: the major), e.g. a PostGIS or pgvector image; null: the installation's.</summary>
    [JsonPropertyName("postgresImage")] public string? PostgresImage { get; set; }
    /// <summary>Each database's login is a superuser (allowed only where the installation allows it, see KubernetesOptions.AllowSuperuserLogins).</summary>
    [JsonPropertyName("superuserLogins")] public bool SuperuserLogins { get; set; }
    /// <summary>Each increment asks for a new image.</summary>
    [JsonPropertyName("refresh")] public int Refresh { get; set; }
    /// <summary>The time-to-live of a database created without one, in seconds; null: none.</summary>
    [JsonPropertyName("defaultTimeToLiveSeconds")] public long? DefaultTimeToLiveSeconds { get; set; }
    /// <summary>The longest a database of the project may live from now, in seconds; null: the installation's maximum.</summary>
    [JsonPropertyName("maxTimeToLiveSeconds")] public long? MaxTimeToLiveSeconds { get; set; }
    /// <summary>Refuse to remove the project.</summary>
    [JsonPropertyName("protected")] public bool Protected { get; set; }
    /// <summary>The idle timeout of a database created without one, in seconds; null: the installation's.</summary>
    [JsonPropertyName("idleTimeoutSeconds")] public long? IdleTimeoutSeconds { get; set; }
    /// <summary>Refresh from the source on this five-field cron schedule (RefreshRules); null: never.</summary>
    [JsonPropertyName("refreshSchedule")] public string? RefreshSchedule { get; set; }
    /// <summary>The IANA time zone of the schedule; null: UTC.</summary>
    [JsonPropertyName("refreshTimeZone")] public string? RefreshTimeZone { get; set; }

    /// <summary>What status.nextRefresh was computed for: the schedule and its time zone, or null without one.</summary>
    internal string? ScheduleKey => RefreshSchedule is null ? null : $"{RefreshSchedule}|{RefreshTimeZone ?? Rules.RefreshRules.DefaultTimeZone}";
}

/// <summary>A DevDbProject's status.phase, stored by name (the CRD's enum): what <see cref="Model.ProjectStatus"/> it shows.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ProjectPhase>))]
public enum ProjectPhase { Building, Ready, Failed }

/// <summary>
/// An image's status in a DevDbProject's status.images, stored by name (the CRD's enum). DevDb drops a failed
/// build from the list, so it never writes Failed; the CRD admits it, and an image so marked by hand is not shown.
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<ImagePhase>))]
public enum ImagePhase { Building, Ready, Failed }

/// <summary>
/// A DevDbDatabase's status.phase, stored by name (the CRD's enum). The engine shows Resetting, Stopping or
/// Starting while the reconciler has not caught up with the spec (<see cref="KubernetesEngine"/>).
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<DatabasePhase>))]
public enum DatabasePhase { Creating, Running, Stopped, Crashed, Failed }

public sealed class ProjectState
{
    [JsonPropertyName("phase")] public ProjectPhase? Phase { get; set; }
    /// <summary>The spec.refresh the newest image was built for.</summary>
    [JsonPropertyName("observedRefresh")] public int? ObservedRefresh { get; set; }
    /// <summary>The highest revision ever started, so revisions are never reused after failed builds are dropped.</summary>
    [JsonPropertyName("lastRevision")] public int? LastRevision { get; set; }
    [JsonPropertyName("error")] public string? Error { get; set; }
    [JsonPropertyName("errorCode")] public string? ErrorCode { get; set; }
    [JsonPropertyName("images")] public List<ImageState> Images { get; set; } = [];
    /// <summary>When the schedule next refreshes the project (the reconciler's clock).</summary>
    [JsonPropertyName("nextRefresh")] public DateTimeOffset? NextRefresh { get; set; }
    /// <summary>The spec's schedule (and time zone) <see cref="NextRefresh"/> was computed for; a change of the spec computes it again.</summary>
    [JsonPropertyName("observedSchedule")] public string? ObservedSchedule { get; set; }
    /// <summary>When the last scheduled refresh started.</summary>
    [JsonPropertyName("lastRefresh")] public DateTimeOffset? LastRefresh { get; set; }
    /// <summary>The spec.refresh the last scheduled refresh asked for (its image's build decides the outcome).</summary>
    [JsonPropertyName("lastRefreshRequest")] public int? LastRefreshRequest { get; set; }
    /// <summary>Running, Succeeded or Failed.</summary>
    [JsonPropertyName("lastRefreshOutcome")] public string? LastRefreshOutcome { get; set; }
    [JsonPropertyName("lastRefreshError")] public string? LastRefreshError { get; set; }
    [JsonPropertyName("lastRefreshErrorCode")] public string? LastRefreshErrorCode { get; set; }

    /// <summary>Computes <see cref="NextRefresh"/> again when the spec's schedule is not the one it was computed for; true if it changed anything.</summary>
    public bool ObserveSchedule(ProjectResourceSpec spec, string project, DateTimeOffset now)
    {
        if (ObservedSchedule == spec.ScheduleKey) return false;
        ObservedSchedule = spec.ScheduleKey;
        NextRefresh = spec.RefreshSchedule is null ? null
            : Rules.RefreshRules.NextAfter(new Model.Project { Name = project, PostgresVersion = spec.PostgresVersion, Source = spec.Source,
                RefreshSchedule = spec.RefreshSchedule, RefreshTimeZone = spec.RefreshTimeZone }, now);
        return true;
    }
    /// <summary>Its last changes, oldest first (<see cref="Rules.HistoryRules"/>); the engine and the reconciler both append, each on a fresh read.</summary>
    [JsonPropertyName("history")] public List<HistoryItem>? History { get; set; }

    /// <summary>Records the build of the next image revision for <paramref name="refresh"/>; a revision is never used twice.</summary>
    public void StartImage(int refresh, DateTimeOffset now)
    {
        var revision = Math.Max(LastRevision ?? 0, Images.Select(i => i.Revision).DefaultIfEmpty(0).Max()) + 1;
        Images.Add(new ImageState { Revision = revision, Refresh = refresh, Status = ImagePhase.Building, Created = now });
        ObservedRefresh = refresh;
        LastRevision = revision;
    }
}

public sealed class ImageState
{
    [JsonPropertyName("revision")] public int Revision { get; set; }
    /// <summary>The project's spec.refresh this image was built for: how a caller finds the build it asked for.</summary>
    [JsonPropertyName("refresh")] public int Refresh { get; set; }
    [JsonPropertyName("status")] public ImagePhase Status { get; set; } = ImagePhase.Building;
    /// <summary>The VolumeSnapshot databases are cloned from.</summary>
    [JsonPropertyName("snapshot")] public string? Snapshot { get; set; }
    [JsonPropertyName("created")] public DateTimeOffset Created { get; set; }
    [JsonPropertyName("sourceFormat")] public string? SourceFormat { get; set; }
    [JsonPropertyName("sourceBytes")] public long? SourceBytes { get; set; }
    /// <summary>The S3 key (or file name) the fetch step read: for a prefix source, the newest object it picked.</summary>
    [JsonPropertyName("dump")] public string? Dump { get; set; }
    [JsonPropertyName("sizeBytes")] public long? SizeBytes { get; set; }
    [JsonPropertyName("buildSeconds")] public double? BuildSeconds { get; set; }
}

/// <summary>A database's record, kind DevDbDatabase: what its owner wants (spec) and what runs (status).</summary>
[KubernetesEntity(Group = DevDbGroup.Name, ApiVersion = DevDbGroup.Version, Kind = "DevDbDatabase", PluralName = DevDbGroup.Databases)]
public sealed class DatabaseResource : IKubernetesObject<V1ObjectMeta>
{
    [JsonPropertyName("apiVersion")] public string ApiVersion { get; set; } = DevDbGroup.ApiVersion;
    [JsonPropertyName("kind")] public string Kind { get; set; } = "DevDbDatabase";
    [JsonPropertyName("metadata")] public V1ObjectMeta Metadata { get; set; } = new();
    [JsonPropertyName("spec")] public DatabaseResourceSpec Spec { get; set; } = new();
    [JsonPropertyName("status")] public DatabaseState? Status { get; set; }
}

public sealed class DatabaseResourceSpec
{
    [JsonPropertyName("project")] public string Project { get; set; } = "";
    [JsonPropertyName("owner")] public string Owner { get; set; } = "";
    [JsonPropertyName("running")] public bool Running { get; set; } = true;
    /// <summary>Each increment asks for a reset to the project's newest image.</summary>
    [JsonPropertyName("reset")] public int Reset { get; set; }
    /// <summary>When the reconciler deletes the record (and so the database); null: never.</summary>
    [JsonPropertyName("expiresAt")] public DateTimeOffset? ExpiresAt { get; set; }
    /// <summary>Refuse removal and reset, and never expire or idle-stop.</summary>
    [JsonPropertyName("protected")] public bool Protected { get; set; }
    /// <summary>Stop after this many seconds with no client connection; null: never.</summary>
    [JsonPropertyName("idleTimeoutSeconds")] public long? IdleTimeoutSeconds { get; set; }
    /// <summary>When its idle time last started again (a start, a new idle timeout), written by the engine.</summary>
    [JsonPropertyName("idleFrom")] public DateTimeOffset? IdleFrom { get; set; }
    /// <summary>Why <see cref="Running"/> is false: Requested (Stop-DevDbDatabase) or Idle (the reconciler's idle pass).</summary>
    [JsonPropertyName("stopReason")] public string? StopReason { get; set; }
    /// <summary>The checkpoints its owner asked for (Checkpoint-DevDbDatabase); one removed from the list is deleted.</summary>
    [JsonPropertyName("checkpoints")] public List<CheckpointRequest>? Checkpoints { get; set; }
    /// <summary>A branch: the database it was made from (its data is copied once, when the branch is made).</summary>
    [JsonPropertyName("parent")] public string? Parent { get; set; }
    /// <summary>A branch of a checkpoint: the parent's checkpoint it starts from.</summary>
    [JsonPropertyName("parentCheckpoint")] public string? ParentCheckpoint { get; set; }
    /// <summary>What the latest <see cref="Reset"/> increment asks for: a checkpoint to restore; null: a reset.</summary>
    [JsonPropertyName("restoreCheckpoint")] public string? RestoreCheckpoint { get; set; }
    /// <summary>The latest reset is to the project's newest image even for a branch (Reset-DevDbDatabase -ToImage).</summary>
    [JsonPropertyName("resetToImage")] public bool ResetToImage { get; set; }
}

/// <summary>A checkpoint asked for: its name, and the id that names its VolumeSnapshot (a name taken again after a removal gets a new one).</summary>
public sealed class CheckpointRequest
{
    [JsonPropertyName("name")] public string Name { get; set; } = "";
    [JsonPropertyName("id")] public string Id { get; set; } = "";
    [JsonPropertyName("requested")] public DateTimeOffset Requested { get; set; }
}

/// <summary>A checkpoint as the reconciler took it: its VolumeSnapshot, the image its data descends from, and whether it is ready.</summary>
public sealed class CheckpointState
{
    [JsonPropertyName("name")] public string Name { get; set; } = "";
    [JsonPropertyName("id")] public string Id { get; set; } = "";
    [JsonPropertyName("snapshot")] public string Snapshot { get; set; } = "";
    [JsonPropertyName("imageRevision")] public int ImageRevision { get; set; }
    [JsonPropertyName("ready")] public bool Ready { get; set; }
    [JsonPropertyName("error")] public string? Error { get; set; }
}

public sealed class DatabaseState
{
    [JsonPropertyName("phase")] public DatabasePhase? Phase { get; set; }
    [JsonPropertyName("imageRevision")] public int? ImageRevision { get; set; }
    [JsonPropertyName("host")] public string? Host { get; set; }
    [JsonPropertyName("port")] public int? Port { get; set; }
    [JsonPropertyName("sniHost")] public string? SniHost { get; set; }
    [JsonPropertyName("loadBalancerPort")] public int? LoadBalancerPort { get; set; }
    [JsonPropertyName("databaseName")] public string? DatabaseName { get; set; }
    [JsonPropertyName("username")] public string? Username { get; set; }
    [JsonPropertyName("secretName")] public string? SecretName { get; set; }
    /// <summary>The PersistentVolumeClaim the server runs on.</summary>
    [JsonPropertyName("volume")] public string? Volume { get; set; }
    [JsonPropertyName("observedReset")] public int? ObservedReset { get; set; }
    /// <summary>The VolumeSnapshot the current volume was cloned from: an image's, a checkpoint's, or a branch's origin.</summary>
    [JsonPropertyName("volumeSnapshot")] public string? VolumeSnapshot { get; set; }
    /// <summary>The checkpoints taken so far (for the spec's requests).</summary>
    [JsonPropertyName("checkpoints")] public List<CheckpointState>? Checkpoints { get; set; }
    /// <summary>A branch's origin: the VolumeSnapshot of the data it was branched from (a reset goes back to it) and that data's image.</summary>
    [JsonPropertyName("originSnapshot")] public string? OriginSnapshot { get; set; }
    [JsonPropertyName("originRevision")] public int? OriginRevision { get; set; }
    /// <summary>When the reconciler last saw a client session, or the server become Running.</summary>
    [JsonPropertyName("lastActiveAt")] public DateTimeOffset? LastActiveAt { get; set; }
    /// <summary>pg_stat_database.sessions (client sessions ever opened) at the last idle sample.</summary>
    [JsonPropertyName("sessions")] public long? Sessions { get; set; }
    [JsonPropertyName("error")] public string? Error { get; set; }
    [JsonPropertyName("errorCode")] public string? ErrorCode { get; set; }
    /// <summary>Its last changes, oldest first (<see cref="Rules.HistoryRules"/>); the engine and the reconciler both append, each on a fresh read.</summary>
    [JsonPropertyName("history")] public List<HistoryItem>? History { get; set; }
}

/// <summary>One entry of a record's status.history: a <see cref="Model.HistoryEntry"/> as the CRD stores it.</summary>
public sealed class HistoryItem
{
    [JsonPropertyName("at")] public DateTimeOffset At { get; set; }
    [JsonPropertyName("action")] public string Action { get; set; } = "";
    [JsonPropertyName("user")] public string User { get; set; } = "";
    [JsonPropertyName("outcome")] public string Outcome { get; set; } = nameof(Model.HistoryOutcome.Succeeded);
    [JsonPropertyName("errorCode")] public string? ErrorCode { get; set; }
    [JsonPropertyName("requestId")] public string? RequestId { get; set; }
    [JsonPropertyName("detail")] public string? Detail { get; set; }
    [JsonPropertyName("database")] public string? Database { get; set; }
    [JsonPropertyName("owner")] public string? Owner { get; set; }

    public static HistoryItem From(Model.HistoryEntry entry) => new()
    {
        At = entry.At, Action = entry.Action.ToString(), User = entry.User, Outcome = entry.Outcome.ToString(), ErrorCode = entry.ErrorCode,
        RequestId = entry.RequestId, Detail = entry.Detail, Database = entry.Database, Owner = entry.Owner,
    };

    /// <summary>The entry; null for one this version does not know (written by hand, or by a newer DevDb), which is not shown.</summary>
    public Model.HistoryEntry? ToEntry() =>
        Enum.TryParse<Model.HistoryAction>(Action, out var action) && Enum.TryParse<Model.HistoryOutcome>(Outcome, out var outcome)
            ? new Model.HistoryEntry
            {
                At = At, Action = action, User = User, Outcome = outcome, ErrorCode = ErrorCode, RequestId = RequestId, Detail = Detail,
                Database = Database, Owner = Owner,
            }
            : null;

    public static IReadOnlyList<Model.HistoryEntry> ToEntries(List<HistoryItem>? items) =>
        items is null ? [] : items.Select(i => i.ToEntry()).OfType<Model.HistoryEntry>().ToList();

    /// <summary>The list with <paramref name="entry"/> appended by the one rule (the newest 50 kept).</summary>
    public static List<HistoryItem> Appended(List<HistoryItem>? items, Model.HistoryEntry entry) =>
        Rules.HistoryRules.Append(ToEntries(items), entry).Select(From).ToList();
}

/// <summary>snapshot.storage.k8s.io/v1 VolumeSnapshot (the CSI external-snapshotter's CRD; no typed model ships with KubernetesClient).</summary>
[KubernetesEntity(Group = "snapshot.storage.k8s.io", ApiVersion = "v1", Kind = "VolumeSnapshot", PluralName = "volumesnapshots")]
public sealed class VolumeSnapshot : IKubernetesObject<V1ObjectMeta>
{
    [JsonPropertyName("apiVersion")] public string ApiVersion { get; set; } = "snapshot.storage.k8s.io/v1";
    [JsonPropertyName("kind")] public string Kind { get; set; } = "VolumeSnapshot";
    [JsonPropertyName("metadata")] public V1ObjectMeta Metadata { get; set; } = new();
    [JsonPropertyName("spec")] public VolumeSnapshotSpec Spec { get; set; } = new();
    [JsonPropertyName("status")] public VolumeSnapshotStatus? Status { get; set; }
}

public sealed class VolumeSnapshotSpec
{
    [JsonPropertyName("volumeSnapshotClassName")] public string? VolumeSnapshotClassName { get; set; }
    [JsonPropertyName("source")] public VolumeSnapshotSource Source { get; set; } = new();
}

public sealed class VolumeSnapshotSource
{
    [JsonPropertyName("persistentVolumeClaimName")] public string? PersistentVolumeClaimName { get; set; }
}

public sealed class VolumeSnapshotStatus
{
    [JsonPropertyName("readyToUse")] public bool? ReadyToUse { get; set; }
    [JsonPropertyName("restoreSize")] public ResourceQuantity? RestoreSize { get; set; }
    [JsonPropertyName("error")] public VolumeSnapshotError? Error { get; set; }
}

public sealed class VolumeSnapshotError
{
    [JsonPropertyName("message")] public string? Message { get; set; }
}

/// <summary>traefik.io/v1alpha1 IngressRouteTCP: one SNI route from the shared entry point to a database's Service.</summary>
[KubernetesEntity(Group = "traefik.io", ApiVersion = "v1alpha1", Kind = "IngressRouteTCP", PluralName = "ingressroutetcps")]
public sealed class IngressRouteTcp : IKubernetesObject<V1ObjectMeta>
{
    [JsonPropertyName("apiVersion")] public string ApiVersion { get; set; } = "traefik.io/v1alpha1";
    [JsonPropertyName("kind")] public string Kind { get; set; } = "IngressRouteTCP";
    [JsonPropertyName("metadata")] public V1ObjectMeta Metadata { get; set; } = new();
    [JsonPropertyName("spec")] public IngressRouteTcpSpec Spec { get; set; } = new();
}

public sealed class IngressRouteTcpSpec
{
    [JsonPropertyName("entryPoints")] public List<string> EntryPoints { get; set; } = [];
    [JsonPropertyName("routes")] public List<IngressRouteTcpRoute> Routes { get; set; } = [];
    [JsonPropertyName("tls")] public IngressRouteTcpTls? Tls { get; set; }
}

public sealed class IngressRouteTcpRoute
{
    [JsonPropertyName("match")] public string Match { get; set; } = "";
    [JsonPropertyName("services")] public List<IngressRouteTcpService> Services { get; set; } = [];
}

public sealed class IngressRouteTcpService
{
    [JsonPropertyName("name")] public string Name { get; set; } = "";
    [JsonPropertyName("port")] public int Port { get; set; }
}

public sealed class IngressRouteTcpTls
{
    [JsonPropertyName("secretName")] public string? SecretName { get; set; }
}
