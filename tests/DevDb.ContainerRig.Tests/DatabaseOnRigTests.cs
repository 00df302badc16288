using System.Diagnostics;
using System.Text;
using DevDb.Core;
using DevDb.Core.Client;
using DevDb.Core.Model;
using DevDb.Core.Runtimes.Kubernetes;
using k8s.Models;
using Xunit;
using static DevDb.Testing.RigSql;

namespace DevDb.ContainerRig.Tests;

// Inside this namespace the bare name would mean the namespace DevDb.ContainerRig.
using ContainerRig = DevDb.Testing.ContainerRig;

/// <summary>
/// The whole path in real containers: a project from S3 (s3rver) restored by the restore Job (fetch in the API
/// image built from the Dockerfile, restore in the postgres:15 stand-in), snapshotted, cloned into a database pod
/// (set-password, then the server), logged in to from the host with the Secret's password; then reset, stop,
/// start, remove. The control plane is the API-server double; Services are loopback ports.
/// </summary>
[Collection(RigCollection.Name)]
public sealed class DatabaseOnRigTests(S3rverFixture s3)
{
    [Fact]
    public async Task A_project_from_S3_becomes_a_database_that_logs_in_with_its_Secrets_password_through_reset_stop_start_and_remove()
    {
        await s3.CreateBucketAsync("rig-dumps");
        await s3.UploadAsync("rig-dumps", "shop.dump", RepoPaths.SampleDump);
        await using var rig = await ContainerRig.StartAsync(s3);

        var project = await rig.Engine.NewProjectAsync(new NewProjectRequest
        {
            Name = "shop", Source = "s3://rig-dumps/shop.dump", PostgresVersion = 15, PostRestoreSql = "UPDATE customers SET email = 'user' || customer_id || '@example.com'",
        });

        Assert.Equal(ProjectStatus.Ready, project.Status);
        var image = Assert.Single(project.Images);
        Assert.Equal(("Custom", new FileInfo(RepoPaths.SampleDump).Length), (image.SourceFormat, image.SourceBytes));
        // The fetch and restore steps ran as containers and exited 0; the restore volume went once the snapshot was made.
        Assert.Contains(rig.Kubelet.Events, e => e.Container == "fetch" && e.ExitCode == 0);
        Assert.Contains(rig.Kubelet.Events, e => e.Container == "restore" && e.ExitCode == 0);
        await rig.UntilAsync(() => rig.Server.Find("v1", "persistentvolumeclaims", ContainerRig.Namespace, "devdb-shop-r1-restore") is null, "the restore volume is deleted");

        var database = await rig.Engine.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "dave", Owner = "dave" });

        Assert.Equal(DatabaseStatus.Running, database.Status);
        // The connection details name the SNI host (Traefik is not emulated: the test connects to the Service's loopback port).
        var connection = await rig.Engine.GetConnectionAsync("dave");
        Assert.Equal(("dave.db.example.test", 5432, "app", "dave"), (connection.Host, connection.Port, connection.DatabaseName, connection.Username));
        var secret = rig.Server.Find("v1", "secrets", ContainerRig.Namespace, "devdb-db-dave")!;
        var secretPassword = Encoding.UTF8.GetString(Convert.FromBase64String(secret["data"]!["password"]!.GetValue<string>()));
        Assert.Equal(secretPassword, connection.Password);
        await using (var session = await OpenAsync(rig.DatabaseEndpoint("dave"), "dave", secretPassword))
        {
            Assert.Equal("15000", await ScalarAsync(session, "SELECT count(*) FROM order_items"));
            Assert.Equal("0", await ScalarAsync(session, "SELECT count(*) FROM customers WHERE email NOT LIKE 'user%@example.com'"));
            Assert.StartsWith("PostgreSQL 15", await ScalarAsync(session, "SELECT version()"));
            await ScalarAsync(session, "CREATE TABLE scratch (id int); INSERT INTO scratch VALUES (1)");
        }
        await Assert.ThrowsAsync<Npgsql.PostgresException>(() => OpenAsync(rig.DatabaseEndpoint("dave"), "dave", "wrong-password"));

        // Stop keeps the volume, start brings the same data back (the server shut down cleanly through preStop).
        var stopped = await rig.Engine.StopDatabaseAsync("dave");
        Assert.Equal(DatabaseStatus.Stopped, stopped.Status);
        await rig.UntilAsync(() => rig.Server.Find("v1", "pods", ContainerRig.Namespace, "devdb-db-dave-0") is null, "the pod is gone");
        Assert.Contains(rig.Kubelet.Events, e => e.Container == "postgres" && e.DuringStop && e.ExitCode == 0);
        Assert.Equal("shut down", await ClusterStateAsync(Path.Combine(rig.VolumeFolder("devdb-db-dave-0"), "pgdata")));
        var started = await rig.Engine.StartDatabaseAsync("dave");
        Assert.Equal(DatabaseStatus.Running, started.Status);
        await using (var session = await OpenAsync(rig.DatabaseEndpoint("dave"), "dave", secretPassword))
            Assert.Equal("1", await ScalarAsync(session, "SELECT count(*) FROM scratch"));

        // Reset: a new volume from the newest image; same Secret, password and host; the scratch table is gone.
        var reset = await rig.Engine.ResetDatabaseAsync("dave");
        Assert.Equal(DatabaseStatus.Running, reset.Status);
        Assert.Equal(secretPassword, (await rig.Engine.GetConnectionAsync("dave")).Password);
        await using (var session = await OpenAsync(rig.DatabaseEndpoint("dave"), "dave", secretPassword))
        {
            Assert.Equal("0", await ScalarAsync(session, "SELECT count(*) FROM pg_tables WHERE tablename = 'scratch'"));
            Assert.Equal("15000", await ScalarAsync(session, "SELECT count(*) FROM order_items"));
        }

        // Remove: no container, volume or snapshot is left.
        await rig.Engine.RemoveDatabaseAsync("dave");
        await rig.Engine.RemoveProjectAsync("shop", force: true);
        await rig.UntilAsync(async () => (await rig.Docker.ListAsync("devdb.rig.pod")).Count == 0, "every container is removed");
        await rig.UntilAsync(() => rig.Kubelet.Storage.Folders("volumes").Count == 0 && rig.Kubelet.Storage.Folders("snapshots").Count == 0, "every volume and snapshot folder is removed");
    }

    [Fact]
    public async Task The_kubelets_fsGroup_pass_makes_PGDATA_group_writable_and_the_pod_scripts_put_it_back_to_0700_before_postgres_starts()
    {
        await using var rig = await ContainerRig.StartAsync();
        await using var files = new HttpFileServer(Path.GetDirectoryName(RepoPaths.SampleDump)!);
        await rig.Engine.NewProjectAsync(new NewProjectRequest { Name = "shop", Source = files.UrlFor("shop.dump"), PostgresVersion = 15 });

        var database = await rig.Engine.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "erin", Owner = "erin" });

        Assert.Equal(DatabaseStatus.Running, database.Status);
        var volume = rig.VolumeFolder("devdb-db-erin-0");
        // The clone's root already has group 999 (the restore pod's pass): OnRootMismatch skips the recursive pass.
        Assert.Contains(rig.Kubelet.Events, e => e.Pod == "devdb-db-erin-0" && e.What.StartsWith("fsGroup pass skipped on devdb-db-erin-0", StringComparison.Ordinal));
        Assert.Equal("999 2775", await StatAsync(volume));

        // A volume whose root does not match (another driver, a restored backup): the kubelet's full pass runs,
        // PGDATA becomes 2770, which Postgres refuses; set-password puts it back to 0700 before the server starts.
        await rig.Engine.StopDatabaseAsync("erin");
        await rig.UntilAsync(() => rig.Server.Find("v1", "pods", ContainerRig.Namespace, "devdb-db-erin-0") is null, "the pod is gone");
        await RunAsync("chgrp", "0", volume);
        await RunAsync("chmod", "0755", volume);
        File.WriteAllText(Path.Combine(volume, "marker"), "");
        File.SetUnixFileMode(Path.Combine(volume, "marker"), UnixFileMode.UserRead | UnixFileMode.UserWrite);

        Assert.Equal(DatabaseStatus.Running, (await rig.Engine.StartDatabaseAsync("erin")).Status);

        Assert.Contains(rig.Kubelet.Events, e => e.Pod == "devdb-db-erin-0" && e.What.StartsWith("fsGroup pass on devdb-db-erin-0", StringComparison.Ordinal));
        Assert.Equal("999 660", await StatAsync(Path.Combine(volume, "marker")));
        Assert.Equal("999 2775", await StatAsync(volume));
        Assert.Equal("999 700", await StatAsync(Path.Combine(volume, "pgdata")));
        var password = (await rig.Engine.GetConnectionAsync("erin")).Password;
        await using var session = await OpenAsync(rig.DatabaseEndpoint("erin"), "erin", password);
        Assert.Equal("15000", await ScalarAsync(session, "SELECT count(*) FROM order_items"));
    }

    private static async Task RunAsync(string file, params string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(file, arguments))!;
        await process.WaitForExitAsync();
        Assert.Equal(0, process.ExitCode);
    }

    internal static async Task<string> StatAsync(string path)
    {
        using var stat = Process.Start(new ProcessStartInfo("stat", ["-c", "%g %a", path]) { RedirectStandardOutput = true })!;
        var output = await stat.StandardOutput.ReadToEndAsync();
        await stat.WaitForExitAsync();
        return output.Trim();
    }

    /// <summary>pg_controldata's "Database cluster state" of a data folder (this machine's PostgreSQL 15 binary).</summary>
    internal static async Task<string> ClusterStateAsync(string pgdata)
    {
        using var process = Process.Start(new ProcessStartInfo("/usr/lib/postgresql/15/bin/pg_controldata", [pgdata]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        var line = output.Split('\n').FirstOrDefault(l => l.StartsWith("Database cluster state:", StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"pg_controldata printed no state: {output}{await process.StandardError.ReadToEndAsync()}");
        return line["Database cluster state:".Length..].Trim();
    }
}
