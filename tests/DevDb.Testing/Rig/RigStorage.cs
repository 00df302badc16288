using System.Runtime.Versioning;
using System.Diagnostics;
using System.Text.Json.Nodes;
using KubeApiDouble;

namespace DevDb.Testing.Rig;

/// <summary>
/// The rig's storage, standing in for a CSI driver: a PersistentVolumeClaim is a host folder (made when a pod first
/// mounts it: root:root 0755 with a lost+found, like a fresh ext4 volume, or a copy of its dataSource snapshot), and
/// a VolumeSnapshot is a copy of its source folder made when the snapshot is created (then readyToUse). A CSI snapshot
/// is the volume at one instant, so the containers that mount the folder are paused while it is copied (a live copy
/// would mix files from different moments). The double still binds the claims (its volume controller); its own
/// snapshot controller is off.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class RigStorage(KubeApiServer server, DockerEngine docker, string ns, string root)
{
    private readonly Lock _gate = new();

    public string VolumeFolder(JsonObject pvc) => Path.Combine(root, "volumes", $"{Name(pvc)}-{Uid(pvc)[..8]}");
    private string SnapshotFolder(JsonObject snapshot) => Path.Combine(root, "snapshots", $"{Name(snapshot)}-{Uid(snapshot)[..8]}");

    /// <summary>The host folder of a bound claim, provisioned on first use.</summary>
    public async Task<string> ProvisionAsync(JsonObject pvc)
    {
        var folder = VolumeFolder(pvc);
        if (Directory.Exists(folder)) return folder;
        var source = pvc["spec"]?["dataSourceRef"] ?? pvc["spec"]?["dataSource"];
        string? snapshotFolder = null;
        if (source?["kind"]?.GetValue<string>() == "VolumeSnapshot")
        {
            var snapshot = server.Find("snapshot.storage.k8s.io/v1", "volumesnapshots", ns, source["name"]!.GetValue<string>())
                ?? throw new InvalidOperationException($"The claim {Name(pvc)} is bound but its snapshot is gone.");
            snapshotFolder = SnapshotFolder(snapshot);
        }
        var staging = folder + ".provisioning";
        if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        Directory.CreateDirectory(Path.GetDirectoryName(folder)!);
        if (snapshotFolder is not null) await CopyAsync(snapshotFolder, staging);
        else
        {
            Directory.CreateDirectory(staging);
            Directory.CreateDirectory(Path.Combine(staging, "lost+found"));
            File.SetUnixFileMode(Path.Combine(staging, "lost+found"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            File.SetUnixFileMode(staging, (UnixFileMode)0b111_101_101);
        }
        lock (_gate)
        {
            if (!Directory.Exists(folder)) Directory.Move(staging, folder);
        }
        return folder;
    }

    /// <summary>One pass: snapshots of bound claims are copied and made ready; folders of deleted claims and snapshots go.</summary>
    public async Task ReconcileAsync()
    {
        var snapshots = server.FindAll("snapshot.storage.k8s.io/v1", "volumesnapshots", ns);
        foreach (var snapshot in snapshots)
        {
            if (snapshot["status"]?["readyToUse"]?.GetValue<bool>() == true || snapshot["metadata"]?["deletionTimestamp"] is not null) continue;
            var claimName = snapshot["spec"]?["source"]?["persistentVolumeClaimName"]?.GetValue<string>();
            var pvc = claimName is null ? null : server.Find("v1", "persistentvolumeclaims", ns, claimName);
            if (pvc?["status"]?["phase"]?.GetValue<string>() != "Bound") continue;
            var target = SnapshotFolder(snapshot);
            if (!Directory.Exists(target))
            {
                var source = await ProvisionAsync(pvc);
                var writers = await docker.MountingAsync("devdb.rig.pod", source);
                foreach (var id in writers) await docker.PauseAsync(id);
                try
                {
                    await CopyAsync(source, target + ".copying");
                }
                finally
                {
                    foreach (var id in writers) await docker.UnpauseAsync(id);
                }
                Directory.Move(target + ".copying", target);
            }
            var size = pvc["spec"]?["resources"]?["requests"]?["storage"]?.DeepClone();
            server.Mutate("snapshot.storage.k8s.io/v1", "volumesnapshots", ns, Name(snapshot), current => current["status"] = new JsonObject
            {
                ["boundVolumeSnapshotContentName"] = "snapcontent-" + Uid(current),
                ["creationTime"] = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture),
                ["readyToUse"] = true,
                ["restoreSize"] = size,
            });
        }
        var live = server.FindAll("v1", "persistentvolumeclaims", ns).Select(VolumeFolder)
            .Concat(server.FindAll("snapshot.storage.k8s.io/v1", "volumesnapshots", ns).Select(SnapshotFolder)).ToHashSet();
        foreach (var kind in new[] { "volumes", "snapshots" })
        {
            var parent = Path.Combine(root, kind);
            if (!Directory.Exists(parent)) continue;
            foreach (var folder in Directory.GetDirectories(parent).Where(f => !f.EndsWith(".provisioning", StringComparison.Ordinal) && !f.EndsWith(".copying", StringComparison.Ordinal)))
                if (!live.Contains(folder)) Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>The volumes and snapshots on disk now (folder names), for tests that check nothing is left.</summary>
    public IReadOnlyList<string> Folders(string kind) =>
        Directory.Exists(Path.Combine(root, kind)) ? Directory.GetDirectories(Path.Combine(root, kind)).Select(Path.GetFileName).OfType<string>().ToList() : [];

    private static async Task CopyAsync(string from, string to)
    {
        Directory.CreateDirectory(to);
        var copy = Process.Start(new ProcessStartInfo("cp", ["-a", "--reflink=auto", from + "/.", to]) { RedirectStandardError = true })!;
        var error = await copy.StandardError.ReadToEndAsync();
        await copy.WaitForExitAsync();
        if (copy.ExitCode != 0) throw new InvalidOperationException($"cp -a {from} {to} failed: {error}");
    }

    private static string Name(JsonObject obj) => obj["metadata"]!["name"]!.GetValue<string>();
    private static string Uid(JsonObject obj) => obj["metadata"]!["uid"]!.GetValue<string>();
}
