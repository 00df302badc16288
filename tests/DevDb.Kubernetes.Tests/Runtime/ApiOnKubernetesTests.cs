using System.Net;
using DevDb.Api;
using DevDb.Api.Auth;
using DevDb.Core;
using DevDb.Core.Client;
using DevDb.Core.Model;
using DevDb.Core.Runtimes.Kubernetes;
using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using static DevDb.Kubernetes.Tests.Runtime.KubernetesRig;

using Xunit;

namespace DevDb.Kubernetes.Tests.Runtime;

/// <summary>
/// The real DevDb API (Kestrel on 127.0.0.1) configured as the chart configures it
/// (DevDb:Runtime=Kubernetes), talking to the API-server double: its engine writes the records and
/// its hosted reconcile loop, elected through the Lease, does the work. Two replicas run at once.
/// </summary>
public sealed class ApiOnKubernetesTests : IAsyncLifetime
{
    private readonly TempFolder _folder = new("devdb-api-k8s");
    private KubernetesRig _rig = null!;
    private HttpFileServer _files = null!;
    private readonly List<WebApplication> _replicas = [];
    private string _adminToken = "";
    private string _developerToken = "";

    public async Task InitializeAsync()
    {
        _rig = await StartAsync(runReconciler: false);
        Directory.CreateDirectory(Path.Combine(_folder.Path, "dumps"));
        File.Copy(RepoPaths.SampleDump, Path.Combine(_folder.Path, "dumps", "shop.dump"));
        _files = new HttpFileServer(Path.Combine(_folder.Path, "dumps"));
        _adminToken = TokenFile.NewToken();
        _developerToken = TokenFile.NewToken();
        TokenFile.Write(Path.Combine(_folder.Path, "tokens.json"),
        [
            new TokenEntry("ada", ApiRoles.Admin, TokenFile.Hash(_adminToken), DateTimeOffset.UtcNow),
            new TokenEntry("dave", ApiRoles.Developer, TokenFile.Hash(_developerToken), DateTimeOffset.UtcNow),
        ]);
        for (var replica = 0; replica < 2; replica++) _replicas.Add(await StartReplicaAsync());
    }

    private async Task<WebApplication> StartReplicaAsync()
    {
        var builder = DevDbApi.CreateBuilder(["--urls", "http://127.0.0.1:0"]);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["DevDb:TokensFile"] = Path.Combine(_folder.Path, "tokens.json"),
            ["DevDb:Runtime"] = "Kubernetes",
            ["DevDb:Kubernetes:Namespace"] = Namespace,
            ["DevDb:Kubernetes:InstanceName"] = "devdb",
            ["DevDb:Kubernetes:ApiImage"] = "devdb/api:test",
            ["DevDb:Kubernetes:BaseDomain"] = BaseDomain,
            ["DevDb:Kubernetes:Traefik:Enabled"] = "true",
            ["DevDb:Kubernetes:ResyncInterval"] = "00:00:00.2",
            ["DevDb:Kubernetes:LeaderElection:LeaseDuration"] = "00:00:02",
            ["DevDb:Kubernetes:LeaderElection:RenewDeadline"] = "00:00:01.5",
            ["DevDb:Kubernetes:LeaderElection:RetryPeriod"] = "00:00:00.2",
        });
        // In a pod the client comes from the service account; here it points at the double.
        builder.Services.AddSingleton<IKubernetes>(_rig.Server.CreateClient());
        var app = DevDbApi.Build(builder);
        await app.StartAsync();
        return app;
    }

    private static Uri AddressOf(WebApplication app) =>
        new(app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single());

    [Fact]
    public async Task Through_the_API_a_project_and_a_database_go_from_202_to_Ready_and_Running_with_SNI_connection_details()
    {
        using var admin = new HttpDevDbClient(AddressOf(_replicas[0]), _adminToken);
        using var developer = new HttpDevDbClient(AddressOf(_replicas[1]), _developerToken);

        var project = await admin.NewProjectAsync(new NewProjectRequest { Name = "shop", Source = _files.UrlFor("shop.dump"), PostgresVersion = 16 });
        var database = await developer.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "dave-shop" });
        var connection = await developer.GetConnectionAsync("dave-shop");

        Assert.Equal(ProjectStatus.Ready, project.Status);
        Assert.Equal((DatabaseStatus.Running, "dave", "dave-shop.db.example.test", 5432), (database.Status, database.Owner, database.Host, database.Port));
        Assert.Equal(32, connection.Password.Length);
        Assert.Equal("dave", _rig.Find<DatabaseResource>("dave-shop")!.Spec.Owner);
        // One replica holds the Lease; the other stands by.
        var lease = await _rig.Client.CoordinationV1.ReadNamespacedLeaseAsync("devdb-reconciler", Namespace);
        Assert.False(string.IsNullOrEmpty(lease.Spec.HolderIdentity));
        Assert.Single(_replicas, r => r.Services.GetRequiredService<Reconciler>().IsLeading);
    }

    [Fact]
    public async Task The_API_checks_the_source_before_recording_and_answers_problems_with_the_engines_codes()
    {
        using var admin = new HttpDevDbClient(AddressOf(_replicas[0]), _adminToken);
        using var developer = new HttpDevDbClient(AddressOf(_replicas[0]), _developerToken);

        var missing = await Assert.ThrowsAsync<DevDbException>(() => admin.NewProjectAsync(new NewProjectRequest { Name = "shop", Source = _files.UrlFor("missing.dump") }));
        var local = await Assert.ThrowsAsync<DevDbException>(() => admin.NewProjectAsync(new NewProjectRequest { Name = "shop", Source = "/srv/shop.dump" }));
        var forbidden = await Assert.ThrowsAsync<DevDbException>(() => developer.NewProjectAsync(new NewProjectRequest { Name = "shop", Source = _files.UrlFor("shop.dump") }));
        var unknown = await Assert.ThrowsAsync<DevDbException>(() => developer.NewDatabaseAsync(new NewDatabaseRequest { Project = "nope", Name = "x" }));

        Assert.Equal(ErrorCodes.SourceNotFound, missing.Code);
        Assert.Equal(ErrorCodes.SourceInvalid, local.Code);
        Assert.Equal(ErrorCodes.Forbidden, forbidden.Code);
        Assert.Equal(ErrorCodes.ProjectNotFound, unknown.Code);
        Assert.Empty(_rig.Server.FindAll(DevDbGroup.ApiVersion, DevDbGroup.Projects, Namespace));
        Assert.Empty(_rig.Server.FindAll(DevDbGroup.ApiVersion, DevDbGroup.Databases, Namespace));
    }

    [Fact]
    public async Task When_the_leading_replica_stops_the_other_takes_the_Lease_and_finishes_the_work()
    {
        using var admin = new HttpDevDbClient(AddressOf(_replicas[0]), _adminToken);
        await admin.NewProjectAsync(new NewProjectRequest { Name = "shop", Source = _files.UrlFor("shop.dump"), PostgresVersion = 16 });
        var leader = _replicas.Single(r => r.Services.GetRequiredService<Reconciler>().IsLeading);
        var standby = _replicas.Single(r => r != leader);

        await leader.StopAsync();
        _replicas.Remove(leader);
        await leader.DisposeAsync();
        using var client = new HttpDevDbClient(AddressOf(standby), _adminToken);
        var database = await client.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "after", Owner = "ada" });

        Assert.Equal(DatabaseStatus.Running, database.Status);
        Assert.True(standby.Services.GetRequiredService<Reconciler>().IsLeading);
        var ready = await new HttpClient().GetAsync(new Uri(AddressOf(standby), "readyz"));
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
    }

    public async Task DisposeAsync()
    {
        foreach (var replica in _replicas)
        {
            await replica.StopAsync();
            await replica.DisposeAsync();
        }
        await _files.DisposeAsync();
        await _rig.DisposeAsync();
        _folder.Dispose();
    }
}
