using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace DevDb.Core.Runtimes.Kubernetes;

/// <summary>
/// Names and labels of the objects DevDb makes. Project and database names are DNS labels of up to
/// 63 characters, but a prefixed object name must stay within Kubernetes' limits (a StatefulSet's
/// name feeds its pods' hostnames and revision labels: 52 is the safe maximum), so long names keep
/// their start and end with a short hash of the whole.
/// </summary>
public static partial class KubeNames
{
    public const string ManagedBy = "app.kubernetes.io/managed-by";
    public const string PartOf = "app.kubernetes.io/part-of";
    public const string Component = "app.kubernetes.io/component";
    public const string Instance = "devdb.io/instance";
    public const string Project = "devdb.io/project";
    public const string Database = "devdb.io/database";
    public const string Owner = "devdb.io/owner";
    public const string Revision = "devdb.io/revision";
    public const string Checkpoint = "devdb.io/checkpoint";
    public const string Devdb = "devdb";
    private const int MaxObjectName = 52;

    public static string ImageSnapshot(string project, int revision) => Fit($"devdb-{project}", $"-r{revision}");
    public static string RestoreJob(string project, int revision) => Fit($"devdb-{project}", $"-r{revision}-restore");
    public static string RestoreVolume(string project, int revision) => RestoreJob(project, revision);
    /// <summary>The Secret, Service, StatefulSet and IngressRouteTCP of a database share this name.</summary>
    public static string DatabaseObject(string database) => Fit($"devdb-db-{database}", "");
    /// <summary>The data volume of a database after <paramref name="resets"/> resets.</summary>
    public static string DatabaseVolume(string database, int resets) => Fit($"devdb-db-{database}", $"-{resets}");
    public static string DatabasePod(string database) => DatabaseObject(database) + "-0";
    /// <summary>
    /// A checkpoint's VolumeSnapshot. A dot cannot occur in a database or checkpoint name (both DNS labels), so it keeps
    /// every database's snapshots apart from the others' and from the images' (a VolumeSnapshot's name may be 253 long);
    /// the request's id keeps a checkpoint taken again under a removed one's name apart from the old snapshot.
    /// </summary>
    public static string CheckpointSnapshot(string database, string checkpoint, string id) => $"devdb-db-{database}.{checkpoint}.{id}";
    /// <summary>A branch's origin: its parent's data when it was branched (<paramref name="uid"/>: the branch record's, as a record made again under the name is another branch).</summary>
    public static string OriginSnapshot(string database, string uid) => $"devdb-db-{database}.origin.{uid[..Math.Min(8, uid.Length)]}";
    /// <summary>Names a database's port on the shared load balancer, and the container port it targets (at most 15 characters).</summary>
    public static string LoadBalancerPortName(int port) => $"lb-{port}";

    /// <summary>A user name as a label value: at most 63 of [A-Za-z0-9-_.], alphanumeric at both ends (spec.owner keeps the exact name).</summary>
    public static string LabelValue(string value)
    {
        var cleaned = LabelUnsafe().Replace(value, "-");
        if (cleaned.Length > 63) cleaned = cleaned[..54] + "-" + Hash(value);
        return cleaned.Trim('-', '_', '.');
    }

    private static string Fit(string stem, string suffix)
    {
        var name = stem + suffix;
        if (name.Length <= MaxObjectName) return name;
        var hash = "-" + Hash(name);
        return stem[..(MaxObjectName - suffix.Length - hash.Length)].TrimEnd('-') + hash + suffix;
    }

    private static string Hash(string value) =>
        Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(value)))[..8].ToLowerInvariant();

    [GeneratedRegex("[^A-Za-z0-9_.-]")]
    private static partial Regex LabelUnsafe();
}
