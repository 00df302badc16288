using System.Security.Cryptography.X509Certificates;
using System.Text;
using DevDb.Api;
using DevDb.Core.Runtimes.Kubernetes;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Configuration;
using Xunit;

namespace DevDb.Kubernetes.Tests.Chart;

/// <summary>
/// What a fresh `helm install` gives (issue 11): the shared load balancer with the API in https only, ports that fit
/// an AWS NLB, traffic that reaches the right pod, `helm test` under a restrictive NetworkPolicy, the RBAC that
/// OwnerReferencesPermissionEnforcement asks for, the settings the runtime reads, and the chart from a repository.
/// </summary>
public sealed class ChartInstallTests
{
    private static Task<IReadOnlyList<IKubernetesObject>> RenderAsync(params (string Key, string Value)[] set) =>
        HelmChart.RenderAsync(set.ToDictionary(s => s.Key, s => s.Value));

    [Fact]
    public async Task By_default_the_API_and_every_database_are_behind_one_shared_load_balancer_with_the_API_in_https_only()
    {
        var objects = await RenderAsync();

        var lb = objects.Named<V1Service>("devdb-databases");
        Assert.Equal("LoadBalancer", lb.Spec.Type);
        var port = Assert.Single(lb.Spec.Ports);
        Assert.Equal(("https", 443, "https"), (port.Name, port.Port, port.TargetPort.Value));
        // One Service's ports target different pods: Local would pass health checks on nodes without the port's pod.
        Assert.Equal("Cluster", lb.Spec.ExternalTrafficPolicy);
        // Not open to the internet by default.
        Assert.Equal(["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"], lb.Spec.LoadBalancerSourceRanges);
        var settings = objects.Named<V1ConfigMap>("devdb-config").Data;
        Assert.Equal("true", settings["DevDb__Kubernetes__LoadBalancer__Enabled"]);
        var ports = int.Parse(settings["DevDb__Kubernetes__LoadBalancer__PortRangeEnd"]) - int.Parse(settings["DevDb__Kubernetes__LoadBalancer__PortRangeStart"]) + 1;
        Assert.True(ports + lb.Spec.Ports.Count <= 50, $"{ports} database ports and the API's exceed an AWS NLB's 50 listeners");
        // The API serves that port with a certificate; without one given, a self-signed one is generated once.
        var api = objects.Named<V1Deployment>("devdb").Spec.Template.Spec;
        Assert.Contains(api.Containers.Single().Ports, p => p is { Name: "https", ContainerPort: 8443 });
        Assert.Equal("8443", settings["ASPNETCORE_HTTPS_PORTS"]);
        Assert.Equal("/etc/devdb/api-tls/tls.crt", settings["Kestrel__Certificates__Default__Path"]);
        Assert.Equal("devdb-api-tls", api.Volumes.Single(v => v.Name == "api-tls").Secret.SecretName);
        var secret = objects.Named<V1Secret>("devdb-api-tls");
        Assert.Equal("kubernetes.io/tls", secret.Type);
        using var certificate = X509Certificate2.CreateFromPem(Encoding.UTF8.GetString(secret.Data["tls.crt"]), Encoding.UTF8.GetString(secret.Data["tls.key"]));
        Assert.True(certificate.HasPrivateKey);
        Assert.Contains("devdb.devdb.svc", certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single().EnumerateDnsNames());
    }

    [Fact]
    public async Task A_certificate_of_your_own_or_the_wildcard_one_replaces_the_generated_one()
    {
        var own = await RenderAsync(("loadBalancer.apiCertificateSecret", "api-cert"));
        var wildcard = await RenderAsync(("tls.secretName", "wildcard-tls"), ("baseDomain", "db.example.test"));

        Assert.Equal("api-cert", own.Named<V1Deployment>("devdb").Spec.Template.Spec.Volumes.Single(v => v.Name == "api-tls").Secret.SecretName);
        Assert.Equal("wildcard-tls", wildcard.Named<V1Deployment>("devdb").Spec.Template.Spec.Volumes.Single(v => v.Name == "api-tls").Secret.SecretName);
        Assert.DoesNotContain(own.Concat(wildcard), o => o is V1Secret { Metadata.Name: "devdb-api-tls" });
    }

    [Theory]
    [InlineData("Cluster", new[] { "0.0.0.0/0", "::/0" })]                   // client addresses are translated: the LB filters
    [InlineData("Local", new[] { "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16" })] // addresses kept: the NetworkPolicy filters too
    public async Task The_database_NetworkPolicy_lets_the_load_balancers_clients_in_as_the_traffic_policy_delivers_them(string policy, string[] cidrs)
    {
        var objects = await RenderAsync(("loadBalancer.externalTrafficPolicy", policy));

        var blocks = objects.Named<V1NetworkPolicy>("devdb-databases").Spec.Ingress.Single().FromProperty
            .Where(p => p.IpBlock is not null).Select(p => p.IpBlock.Cidr);
        Assert.Equal(cidrs, blocks);
    }

    [Fact]
    public async Task With_networkPolicy_apiFrom_set_the_helm_test_pod_may_still_reach_the_API()
    {
        var objects = await RenderAsync(("networkPolicy.apiFrom[0].namespaceSelector.matchLabels.team", "platform"));

        var testPod = objects.OfType<V1Pod>().Single(p => p.Metadata.Annotations["helm.sh/hook"] == "test");
        var rule = objects.Named<V1NetworkPolicy>("devdb-api").Spec.Ingress.First(r => r.Ports.Any(p => p.Port.Value == "8080"));
        Assert.Contains(rule.FromProperty, peer => peer.NamespaceSelector is null && peer.PodSelector is { } selector
            && selector.MatchLabels.All(l => testPod.Metadata.Labels.TryGetValue(l.Key, out var value) && value == l.Value));
        // The peers asked for are still there, and nobody else is let in.
        Assert.Contains(rule.FromProperty, peer => peer.NamespaceSelector?.MatchLabels["team"] == "platform");
        Assert.Equal(2, rule.FromProperty.Count);
    }

    [Fact]
    public async Task The_Role_may_update_the_records_finalizers_which_blockOwnerDeletion_needs_under_OwnerReferencesPermissionEnforcement()
    {
        var role = (await RenderAsync()).OfType<V1Role>().Single();
        var owners = new[] { DevDbGroup.Projects, DevDbGroup.Databases }; // every DevDb object is owned by one of them, blockOwnerDeletion: true

        Assert.All(owners, owner => Assert.True(HelmChart.Allows(role, DevDbGroup.Name, $"{owner}/finalizers", "update"), $"{owner}/finalizers update"));
    }

    [Fact]
    public async Task The_settings_the_chart_gives_the_API_bind_to_the_runtimes_options()
    {
        var settings = (await RenderAsync(("imagePullSecrets[0].name", "regcred"), ("imagePullSecrets[1].name", "mirror"),
            ("restore.keepVolume", "true"), ("restore.deadlineSeconds", "93784"))).Named<V1ConfigMap>("devdb-config").Data;

        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => KeyValuePair.Create(s.Key.Replace("__", ":", StringComparison.Ordinal), (string?)s.Value)))
            .Build();
        var options = configuration.GetSection("DevDb").Get<DevDbApiOptions>()!.Kubernetes;

        Assert.Equal(["regcred", "mirror"], options.ImagePullSecrets);
        Assert.True(options.KeepRestoreVolume);
        Assert.Equal(new TimeSpan(1, 2, 3, 4), options.RestoreDeadline);
        Assert.Equal(TimeSpan.FromMinutes(10), options.RestoreVolumeBindTimeout);
        Assert.Equal(60, options.DatabaseStopGracePeriodSeconds);
        Assert.Equal((15432, 15479), (options.LoadBalancer.PortRangeStart, options.LoadBalancer.PortRangeEnd));
    }

    [Fact]
    public async Task Helm_installs_devdb_devdb_from_a_chart_repository_and_shows_its_CRDs_for_the_upgrade_path()
    {
        using var repository = new TempFolder("wt-k8s-chart-repo");
        var package = await RunAsync("bash", Path.Combine(RepoPaths.RepoRoot, "scripts", "package-chart.sh"), repository.Path);
        Assert.True(package.ExitCode == 0, package.Output);
        Assert.Contains("devdb-0.1.0.tgz", repository.Entries());
        await using var server = new HttpFileServer(repository.Path);
        using var home = new TempFolder("wt-k8s-helm-home");

        var added = await HelmChart.RunInAsync(home, ["repo", "add", "devdb", server.BaseUrl.TrimEnd('/')]);
        Assert.True(added.ExitCode == 0, added.StdErr);
        var install = await HelmChart.RunInAsync(home, ["install", "devdb", "devdb/devdb", "-n", "devdb", "--dry-run=client"]);
        Assert.True(install.ExitCode == 0, install.StdErr);
        Assert.Contains("image: \"devdb/api:0.1.0\"", install.StdOut);
        Assert.Contains("name: devdb-databases", install.StdOut);
        Assert.Contains("GET /index.yaml", server.Requests);

        // Helm never upgrades CRDs: the README's upgrade path applies `helm show crds` first; it gives exactly chart/devdb/crds.
        var crds = await HelmChart.RunInAsync(home, ["show", "crds", "devdb/devdb"]);
        Assert.True(crds.ExitCode == 0, crds.StdErr);
        var shown = HelmChart.Load(crds.StdOut).OfType<V1CustomResourceDefinition>().Select(c => KubernetesJson.Serialize(c)).Order();
        var files = Directory.GetFiles(Path.Combine(HelmChart.ChartPath, "crds"), "*.yaml")
            .SelectMany(f => HelmChart.Load(File.ReadAllText(f))).OfType<V1CustomResourceDefinition>().Select(c => KubernetesJson.Serialize(c)).Order();
        Assert.Equal(files, shown);
        var readme = File.ReadAllText(Path.Combine(RepoPaths.RepoRoot, "README.md"));
        Assert.Contains("helm show crds devdb/devdb --version <new version> | kubectl apply --server-side --force-conflicts -f -", readme);
    }

    private static async Task<HelmResult> RunAsync(string file, params string[] arguments)
    {
        using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(file, arguments)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = RepoPaths.RepoRoot,
        })!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return new HelmResult(process.ExitCode, await stdout, await stderr);
    }
}
