using System.Text;
using System.Xml.Linq;
using DevDb.Api.Auth;
using k8s;
using k8s.Models;
using Xunit;

namespace DevDb.Kubernetes.Tests.Chart;

/// <summary>What helm template renders from chart/devdb, read through KubernetesClient's typed models.</summary>
public sealed class ChartRenderTests
{
    private static readonly string Version = XDocument.Load(Path.Combine(RepoPaths.RepoRoot, "Directory.Build.props"))
        .Descendants("ModuleVersion").Single().Value;

    private static Task<IReadOnlyList<IKubernetesObject>> RenderFullAsync() =>
        HelmChart.RenderAsync(valuesYaml: File.ReadAllText(HelmChart.FullValuesPath));

    private static Task<IReadOnlyList<IKubernetesObject>> RenderAsync(params (string Key, string Value)[] set) =>
        HelmChart.RenderAsync(set.ToDictionary(s => s.Key, s => s.Value));

    private static IDictionary<string, string> Settings(IReadOnlyList<IKubernetesObject> objects, string fullname = "devdb") =>
        objects.Named<V1ConfigMap>($"{fullname}-config").Data;

    private static IEnumerable<string> Names(IEnumerable<IKubernetesObject> objects) =>
        objects.Select(o => $"{o.Kind}/{((IMetadata<V1ObjectMeta>)o).Metadata.Name}").Order();

    [Fact]
    public async Task Default_values_render_these_objects_each_into_its_typed_model()
    {
        var objects = await HelmChart.RenderAsync();

        Assert.Equal(
        [
            "ConfigMap/devdb-config",
            "CustomResourceDefinition/devdbdatabases.devdb.io",
            "CustomResourceDefinition/devdbprojects.devdb.io",
            "Deployment/devdb",
            "NetworkPolicy/devdb-api",
            "NetworkPolicy/devdb-databases",
            "NetworkPolicy/devdb-restores",
            "Pod/devdb-test-healthz",
            "Role/devdb",
            "RoleBinding/devdb",
            "Secret/devdb-admin-token",
            "Secret/devdb-api-tls",
            "Secret/devdb-tokens",
            "Service/devdb",
            "Service/devdb-databases",
            "ServiceAccount/devdb",
            "ServiceAccount/devdb-restore",
        ], Names(objects));
        // Everything the chart templates lands in the release namespace; CRDs are cluster-scoped.
        Assert.All(objects.Where(o => o is not V1CustomResourceDefinition),
            o => Assert.Equal(HelmChart.Namespace, ((IMetadata<V1ObjectMeta>)o).Metadata.NamespaceProperty));
    }

    [Fact]
    public async Task Every_option_switched_on_adds_the_certificate_and_load_balancer_and_uses_the_existing_tokens_secret()
    {
        var objects = await RenderFullAsync();

        Assert.Equal(
        [
            "Certificate/devdb-wildcard",
            "ConfigMap/devdb-config",
            "CustomResourceDefinition/devdbdatabases.devdb.io",
            "CustomResourceDefinition/devdbprojects.devdb.io",
            "Deployment/devdb",
            "NetworkPolicy/devdb-api",
            "NetworkPolicy/devdb-databases",
            "NetworkPolicy/devdb-restores",
            "Pod/devdb-test-healthz",
            "Role/devdb",
            "RoleBinding/devdb",
            "Service/devdb",
            "Service/devdb-databases",
            "ServiceAccount/devdb",
            "ServiceAccount/devdb-restore",
        ], Names(objects));
        Assert.Equal(2, objects.Named<V1Deployment>("devdb").Spec.Replicas);
    }

    [Fact]
    public async Task Every_templated_object_carries_the_chart_labels()
    {
        var objects = await RenderFullAsync();

        var expected = new Dictionary<string, string>
        {
            ["helm.sh/chart"] = "devdb-0.1.0",
            ["app.kubernetes.io/name"] = "devdb",
            ["app.kubernetes.io/instance"] = HelmChart.ReleaseName,
            ["app.kubernetes.io/version"] = Version,
            ["app.kubernetes.io/managed-by"] = "Helm",
        };
        foreach (var o in objects.Where(o => o is not V1CustomResourceDefinition).Cast<IMetadata<V1ObjectMeta>>())
            Assert.All(expected, label => Assert.Equal(label.Value, o.Metadata.Labels[label.Key]));
    }

    [Fact]
    public async Task Api_pods_are_selected_by_name_instance_and_component_and_carry_the_installation_labels()
    {
        var objects = await RenderFullAsync();
        var deployment = objects.Named<V1Deployment>("devdb");
        var podLabels = deployment.Spec.Template.Metadata.Labels;

        var apiSelector = new Dictionary<string, string>
        {
            ["app.kubernetes.io/name"] = "devdb",
            ["app.kubernetes.io/instance"] = "devdb",
            ["app.kubernetes.io/component"] = "api",
        };
        Assert.Equal(apiSelector, deployment.Spec.Selector.MatchLabels);
        Assert.Equal(apiSelector, objects.Named<V1Service>("devdb").Spec.Selector);
        Assert.Equal("devdb", podLabels["app.kubernetes.io/part-of"]);
        Assert.Equal("devdb", podLabels["devdb.io/instance"]);
        Assert.All(apiSelector, l => Assert.Equal(l.Value, podLabels[l.Key]));
        // The load balancer selects API and database pods by the installation labels alone.
        var balancerSelector = objects.Named<V1Service>("devdb-databases").Spec.Selector;
        Assert.Equal(new Dictionary<string, string> { ["app.kubernetes.io/part-of"] = "devdb", ["devdb.io/instance"] = "devdb" }, balancerSelector);
        // The test hook's pod must not receive the API Service's traffic.
        var testLabels = objects.Named<V1Pod>("devdb-test-healthz").Metadata.Labels;
        Assert.False(apiSelector.All(l => testLabels.TryGetValue(l.Key, out var v) && v == l.Value));
    }

    [Fact]
    public async Task The_api_runs_non_root_with_a_read_only_root_and_only_tmp_writable()
    {
        var objects = await HelmChart.RenderAsync();
        var pod = objects.Named<V1Deployment>("devdb").Spec.Template.Spec;

        AssertHardened(pod, "api");
        Assert.Equal("devdb", pod.ServiceAccountName);
    }

    private static void AssertHardened(V1PodSpec pod, string containerName)
    {
        Assert.True(pod.SecurityContext.RunAsNonRoot);
        Assert.Equal(1654, pod.SecurityContext.RunAsUser);
        Assert.Equal("RuntimeDefault", pod.SecurityContext.SeccompProfile.Type);
        var container = pod.Containers.Single(c => c.Name == containerName);
        Assert.True(container.SecurityContext.RunAsNonRoot);
        Assert.False(container.SecurityContext.AllowPrivilegeEscalation);
        Assert.True(container.SecurityContext.ReadOnlyRootFilesystem);
        Assert.Equal(["ALL"], container.SecurityContext.Capabilities.Drop);
        Assert.Null(container.SecurityContext.Capabilities.Add);
        var tmp = container.VolumeMounts.Single(m => m.MountPath == "/tmp");
        Assert.NotNull(pod.Volumes.Single(v => v.Name == tmp.Name).EmptyDir);
        Assert.All(container.VolumeMounts.Where(m => m.MountPath != "/tmp"), m => Assert.True(m.ReadOnlyProperty));
    }

    [Fact]
    public async Task The_api_listens_on_8080_and_is_probed_on_healthz_and_readyz()
    {
        var objects = await HelmChart.RenderAsync();
        var container = objects.Named<V1Deployment>("devdb").Spec.Template.Spec.Containers.Single();

        var port = container.Ports.Single(p => p.Name == "http");
        Assert.Equal(("http", 8080, "TCP"), (port.Name, port.ContainerPort, port.Protocol));
        Assert.Equal(("https", 8443), (container.Ports[1].Name, container.Ports[1].ContainerPort)); // the load balancer's API port
        Assert.Equal("8080", Settings(objects)["ASPNETCORE_HTTP_PORTS"]);
        Assert.Equal("/healthz", container.LivenessProbe.HttpGet.Path);
        Assert.Equal("http", container.LivenessProbe.HttpGet.Port.Value);
        Assert.Equal("/readyz", container.ReadinessProbe.HttpGet.Path);
        Assert.Equal("http", container.ReadinessProbe.HttpGet.Port.Value);
        Assert.Equal("100m", container.Resources.Requests["cpu"].ToString());
        Assert.Equal("512Mi", container.Resources.Limits["memory"].ToString());
        var service = objects.Named<V1Service>("devdb");
        Assert.Equal("ClusterIP", service.Spec.Type);
        var servicePort = Assert.Single(service.Spec.Ports);
        Assert.Equal(("http", 80, "http"), (servicePort.Name, servicePort.Port, servicePort.TargetPort.Value));
    }

    [Fact]
    public async Task The_config_checksum_changes_with_a_setting_and_only_then()
    {
        static async Task<string> Checksum(params (string, string)[] set) =>
            (await RenderAsync(set)).Named<V1Deployment>("devdb").Spec.Template.Metadata.Annotations["checksum/config"];

        var original = await Checksum();

        Assert.Matches("^[0-9a-f]{64}$", original);
        Assert.Equal(original, await Checksum());
        Assert.Equal(original, await Checksum(("replicaCount", "3")));
        Assert.NotEqual(original, await Checksum(("restore.jobs", "4")));
        Assert.NotEqual(original, await Checksum(("postgres.defaultVersion", "16")));
    }

    [Fact]
    public async Task Default_settings_reach_the_api_as_environment()
    {
        var objects = await HelmChart.RenderAsync();

        Assert.Equal(new Dictionary<string, string>
        {
            ["ASPNETCORE_HTTP_PORTS"] = "8080",
            ["DevDb__Runtime"] = "Kubernetes",
            ["DevDb__TokensFile"] = "/etc/devdb/tokens/tokens.json",
            ["DevDb__Kubernetes__InstanceName"] = "devdb",
            ["DevDb__Kubernetes__ApiImage"] = $"devdb/api:{Version}",
            ["DevDb__Kubernetes__PostgresImage"] = "postgres:{0}",
            ["DevDb__Kubernetes__DefaultPostgresVersion"] = "17",
            ["DevDb__Kubernetes__RestoreVolumeSize"] = "20Gi",
            ["DevDb__Kubernetes__RestoreJobs"] = "2",
            ["DevDb__Kubernetes__RestoreDeadline"] = "0.06:00:00",
            ["DevDb__Kubernetes__RestoreVolumeBindTimeout"] = "0.00:10:00",
            ["DevDb__Kubernetes__KeepRestoreVolume"] = "false",
            ["DevDb__Kubernetes__ImagesToKeep"] = "3",
            ["DevDb__Kubernetes__DatabaseStopGracePeriodSeconds"] = "60",
            ["DevDb__Kubernetes__AllowSuperuserLogins"] = "false",
            ["DevDb__Kubernetes__RestoreCpuRequest"] = "500m",
            ["DevDb__Kubernetes__RestoreMemoryRequest"] = "1Gi",
            ["DevDb__Kubernetes__RestoreMemoryLimit"] = "2Gi",
            ["DevDb__Kubernetes__DatabaseCpuRequest"] = "100m",
            ["DevDb__Kubernetes__DatabaseMemoryRequest"] = "256Mi",
            ["DevDb__Kubernetes__DatabaseMemoryLimit"] = "1Gi",
            ["DevDb__Kubernetes__Traefik__Enabled"] = "false",
            ["DevDb__Kubernetes__Traefik__EntryPoint"] = "postgres",
            ["DevDb__Kubernetes__LoadBalancer__Enabled"] = "true",
            ["ASPNETCORE_HTTPS_PORTS"] = "8443",
            ["Kestrel__Certificates__Default__Path"] = "/etc/devdb/api-tls/tls.crt",
            ["Kestrel__Certificates__Default__KeyPath"] = "/etc/devdb/api-tls/tls.key",
            ["DevDb__Kubernetes__LoadBalancer__PortRangeStart"] = "15432",
            ["DevDb__Kubernetes__LoadBalancer__PortRangeEnd"] = "15479",
        }, Settings(objects));
        var container = objects.Named<V1Deployment>("devdb").Spec.Template.Spec.Containers.Single();
        Assert.Equal($"devdb/api:{Version}", container.Image);
        Assert.Equal("devdb-config", Assert.Single(container.EnvFrom).ConfigMapRef.Name);
        var ns = Assert.Single(container.Env);
        Assert.Equal(("DevDb__Kubernetes__Namespace", "metadata.namespace"), (ns.Name, ns.ValueFrom.FieldRef.FieldPath));
    }

    [Fact]
    public async Task Every_option_reaches_the_api_as_environment()
    {
        var objects = await RenderFullAsync();

        Assert.Equal(new Dictionary<string, string>
        {
            ["ASPNETCORE_HTTP_PORTS"] = "8080",
            ["DevDb__Runtime"] = "Kubernetes",
            ["DevDb__TokensFile"] = "/etc/devdb/tokens/tokens.json",
            ["DevDb__Kubernetes__InstanceName"] = "devdb",
            ["DevDb__Kubernetes__ApiImage"] = "platform/devdb-api:0.1.0-rc1",
            ["DevDb__Kubernetes__PostgresImage"] = "postgres:{0}",
            ["DevDb__Kubernetes__DefaultPostgresVersion"] = "16",
            ["DevDb__Kubernetes__StorageClass"] = "ebs-gp3",
            ["DevDb__Kubernetes__VolumeSnapshotClass"] = "ebs-snapshots",
            ["DevDb__Kubernetes__RestoreVolumeSize"] = "50Gi",
            ["DevDb__Kubernetes__RestoreJobs"] = "4",
            ["DevDb__Kubernetes__RestoreDeadline"] = "0.06:00:00",
            ["DevDb__Kubernetes__RestoreVolumeBindTimeout"] = "0.00:10:00",
            ["DevDb__Kubernetes__KeepRestoreVolume"] = "false",
            ["DevDb__Kubernetes__ImagesToKeep"] = "3",
            ["DevDb__Kubernetes__DatabaseStopGracePeriodSeconds"] = "60",
            ["DevDb__Kubernetes__AllowSuperuserLogins"] = "false",
            ["DevDb__Kubernetes__Quotas__checkpointsPerUser"] = "20",
            ["DevDb__Kubernetes__Quotas__databasesPerProject"] = "200",
            ["DevDb__Kubernetes__Quotas__databasesPerUser"] = "5",
            ["DevDb__Kubernetes__Quotas__runningDatabasesPerUser"] = "3",
            ["DevDb__Kubernetes__ImagePullSecrets__0"] = "regcred",
            ["DevDb__Kubernetes__RestoreCpuRequest"] = "500m",
            ["DevDb__Kubernetes__RestoreMemoryRequest"] = "1Gi",
            ["DevDb__Kubernetes__RestoreMemoryLimit"] = "2Gi",
            ["DevDb__Kubernetes__DatabaseCpuRequest"] = "100m",
            ["DevDb__Kubernetes__DatabaseMemoryRequest"] = "256Mi",
            ["DevDb__Kubernetes__DatabaseMemoryLimit"] = "1Gi",
            ["DevDb__Kubernetes__BaseDomain"] = "db.example.com",
            ["DevDb__Kubernetes__Traefik__Enabled"] = "true",
            ["DevDb__Kubernetes__Traefik__EntryPoint"] = "postgres",
            ["DevDb__Kubernetes__Traefik__TlsSecret"] = "devdb-wildcard-tls",
            ["DevDb__Kubernetes__LoadBalancer__Enabled"] = "true",
            ["ASPNETCORE_HTTPS_PORTS"] = "8443",
            ["Kestrel__Certificates__Default__Path"] = "/etc/devdb/api-tls/tls.crt",
            ["Kestrel__Certificates__Default__KeyPath"] = "/etc/devdb/api-tls/tls.key",
            ["DevDb__Kubernetes__LoadBalancer__Host"] = "lb.db.example.com",
            ["DevDb__Kubernetes__LoadBalancer__PortRangeStart"] = "20000",
            ["DevDb__Kubernetes__LoadBalancer__PortRangeEnd"] = "20047",
            ["DevDb__Kubernetes__S3__Endpoint"] = "https://s3.eu-west-1.amazonaws.com",
            ["AWS_ENDPOINT_URL_S3"] = "https://s3.eu-west-1.amazonaws.com",
            ["DevDb__Kubernetes__S3__Region"] = "eu-west-1",
            ["AWS_REGION"] = "eu-west-1",
            ["DevDb__Kubernetes__S3__CredentialsSecret"] = "devdb-s3",
        }, Settings(objects));
        var container = objects.Named<V1Deployment>("devdb").Spec.Template.Spec.Containers.Single();
        Assert.Equal("platform/devdb-api:0.1.0-rc1", container.Image);
        // The API checks sources itself, so it gets the S3 keys too.
        Assert.Equal(["devdb-config", "devdb-s3"], container.EnvFrom.Select(e => e.ConfigMapRef?.Name ?? e.SecretRef.Name));
    }

    [Fact]
    public async Task The_instance_name_drives_every_name_the_runtime_derives()
    {
        var objects = await RenderAsync(("fullnameOverride", "qa"), ("loadBalancer.enabled", "true"));

        Assert.Equal("qa", Settings(objects, "qa")["DevDb__Kubernetes__InstanceName"]);
        Assert.NotNull(objects.Named<V1ServiceAccount>("qa-restore"));
        Assert.NotNull(objects.Named<V1Service>("qa-databases"));
        Assert.Equal("qa", objects.Named<V1Deployment>("qa").Spec.Template.Metadata.Labels["devdb.io/instance"]);
    }

    // Which verbs the Role grants is checked against what the runtime really does: Runtime/ContractTests.cs.
    [Fact]
    public async Task The_role_is_namespaced_names_no_wildcard_and_manages_routes_only_with_traefik()
    {
        var role = (await HelmChart.RenderAsync()).Named<V1Role>("devdb");

        Assert.Equal("devdb", role.Metadata.NamespaceProperty);
        Assert.DoesNotContain(role.Rules, r => r.ApiGroups.Contains("*") || r.Resources.Contains("*") || r.Verbs.Contains("*"));
        Assert.True(HelmChart.Allows(role, "coordination.k8s.io", "leases", "update"));
        Assert.False(HelmChart.Allows(role, "coordination.k8s.io", "leases", "delete"));
        Assert.False(HelmChart.Allows(role, "traefik.io", "ingressroutetcps", "create"));
    }

    [Fact]
    public async Task With_traefik_the_role_also_manages_ingressroutetcps_and_is_bound_to_the_api()
    {
        var objects = await RenderFullAsync();
        var role = objects.Named<V1Role>("devdb");

        Assert.True(HelmChart.Allows(role, "traefik.io", "ingressroutetcps", "create"));
        var binding = objects.Named<V1RoleBinding>("devdb");
        Assert.Equal(("Role", "devdb"), (binding.RoleRef.Kind, binding.RoleRef.Name));
        var subject = Assert.Single(binding.Subjects);
        Assert.Equal(("ServiceAccount", "devdb", "devdb"), (subject.Kind, subject.Name, subject.NamespaceProperty));
    }

    [Fact]
    public async Task Restore_pods_get_their_own_service_account_without_a_token_and_with_the_s3_identity()
    {
        var objects = await RenderFullAsync();

        var restore = objects.Named<V1ServiceAccount>("devdb-restore");
        Assert.False(restore.AutomountServiceAccountToken);
        Assert.Equal("arn:aws:iam::123456789012:role/devdb-dumps", restore.Metadata.Annotations["eks.amazonaws.com/role-arn"]);
        Assert.Equal("arn:aws:iam::123456789012:role/devdb-dumps", objects.Named<V1ServiceAccount>("devdb").Metadata.Annotations["eks.amazonaws.com/role-arn"]);
        Assert.DoesNotContain(objects.OfType<V1RoleBinding>(), b => b.Subjects.Any(s => s.Name == "devdb-restore"));
    }

    [Fact]
    public async Task Without_an_existing_secret_an_admin_token_is_generated_and_only_its_hash_is_in_the_tokens_file()
    {
        var objects = await RenderAsync(("auth.adminUser", "ops-admin"));

        var token = Encoding.UTF8.GetString(objects.Named<V1Secret>("devdb-admin-token").Data["token"]);
        Assert.Matches("^[A-Za-z0-9]{43}$", token);
        var tokensJson = objects.Named<V1Secret>("devdb-tokens").Data["tokens.json"];
        Assert.DoesNotContain(token, Encoding.UTF8.GetString(tokensJson));
        // The API's own parser accepts the file.
        var entry = Assert.Single(TokenFile.Parse(tokensJson, "tokens.json"));
        Assert.Equal(("ops-admin", "admin", TokenFile.Hash(token)), (entry.User, entry.Role, entry.Sha256));
        Assert.InRange(entry.Created, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(1));
        var volume = objects.Named<V1Deployment>("devdb").Spec.Template.Spec.Volumes.Single(v => v.Name == "tokens");
        Assert.Equal("devdb-tokens", volume.Secret.SecretName);
    }

    [Fact]
    public async Task With_an_existing_secret_the_chart_makes_no_token()
    {
        var objects = await RenderAsync(("auth.existingSecret", "my-tokens"));

        Assert.Equal(["devdb-api-tls"], objects.OfType<V1Secret>().Select(s => s.Metadata.Name)); // a certificate, no token
        var pod = objects.Named<V1Deployment>("devdb").Spec.Template.Spec;
        Assert.Equal("my-tokens", pod.Volumes.Single(v => v.Name == "tokens").Secret.SecretName);
        var mount = pod.Containers.Single().VolumeMounts.Single(m => m.Name == "tokens");
        Assert.Equal("/etc/devdb/tokens", mount.MountPath);
        Assert.Equal("/etc/devdb/tokens/tokens.json", Settings(objects)["DevDb__TokensFile"]);
    }

    [Fact]
    public async Task Cert_manager_issues_the_wildcard_certificate_that_traefik_routes_use()
    {
        var objects = await RenderFullAsync();

        var certificate = objects.Named<CertManagerCertificate>("devdb-wildcard");
        Assert.Equal("devdb-wildcard-tls", certificate.Spec.SecretName);
        Assert.Equal(["*.db.example.com"], certificate.Spec.DnsNames);
        Assert.Equal(("letsencrypt-dns", "ClusterIssuer", "cert-manager.io"),
            (certificate.Spec.IssuerRef!.Name, certificate.Spec.IssuerRef.Kind, certificate.Spec.IssuerRef.Group));
        Assert.Equal(certificate.Spec.SecretName, Settings(objects)["DevDb__Kubernetes__Traefik__TlsSecret"]);
    }

    [Fact]
    public async Task A_user_supplied_tls_secret_replaces_the_certificate()
    {
        var objects = await RenderAsync(("traefik.enabled", "true"), ("baseDomain", "db.example.com"), ("tls.secretName", "wildcard-db"));

        Assert.Empty(objects.OfType<CertManagerCertificate>());
        Assert.Equal("wildcard-db", Settings(objects)["DevDb__Kubernetes__Traefik__TlsSecret"]);
        Assert.Equal("true", Settings(objects)["DevDb__Kubernetes__Traefik__Enabled"]);
    }

    [Fact]
    public async Task The_shared_load_balancer_renders_only_its_api_port_in_https()
    {
        var objects = await RenderFullAsync();

        var service = objects.Named<V1Service>("devdb-databases");
        Assert.Equal("LoadBalancer", service.Spec.Type);
        Assert.Equal("Local", service.Spec.ExternalTrafficPolicy);
        var port = Assert.Single(service.Spec.Ports);
        Assert.Equal(("https", 443, "https", "TCP"), (port.Name, port.Port, port.TargetPort.Value, port.Protocol));
        Assert.Equal(["203.0.113.0/24", "198.51.100.7/32"], service.Spec.LoadBalancerSourceRanges);
        Assert.Equal("nlb", service.Metadata.Annotations["service.beta.kubernetes.io/aws-load-balancer-type"]);
        Assert.Contains("helm upgrade --force", service.Metadata.Annotations["devdb.io/ports"]);
    }

    private static V1NetworkPolicyIngressRule DatabaseIngress(IReadOnlyList<IKubernetesObject> objects)
    {
        var policy = objects.Named<V1NetworkPolicy>("devdb-databases");
        Assert.Equal(new Dictionary<string, string>
        {
            ["app.kubernetes.io/component"] = "database",
            ["app.kubernetes.io/managed-by"] = "devdb",
        }, policy.Spec.PodSelector.MatchLabels);
        // Database pods connect nowhere: Egress with no rule.
        Assert.Equal(["Ingress", "Egress"], policy.Spec.PolicyTypes);
        Assert.True(policy.Spec.Egress is null or { Count: 0 });
        var rule = Assert.Single(policy.Spec.Ingress);
        var port = Assert.Single(rule.Ports);
        Assert.Equal(("5432", "TCP"), (port.Port.Value, port.Protocol));
        return rule;
    }

    private static readonly Dictionary<string, string> ApiPodLabels = new()
    {
        ["app.kubernetes.io/part-of"] = "devdb",
        ["devdb.io/instance"] = "devdb",
        ["app.kubernetes.io/component"] = "api",
    };

    [Fact]
    public async Task Without_the_load_balancer_database_pods_accept_postgres_only_from_traefik_and_the_api()
    {
        var objects = await RenderAsync(("loadBalancer.enabled", "false"));

        var from = DatabaseIngress(objects).FromProperty;
        Assert.Equal(2, from.Count);
        // Traefik's pods in any namespace: an empty namespace selector, not a missing one (that would mean this namespace).
        Assert.NotNull(from[0].NamespaceSelector);
        Assert.Null(from[0].NamespaceSelector.MatchLabels);
        Assert.Equal(new Dictionary<string, string> { ["app.kubernetes.io/name"] = "traefik" }, from[0].PodSelector.MatchLabels);
        Assert.Null(from[1].NamespaceSelector);
        Assert.Equal(ApiPodLabels, from[1].PodSelector.MatchLabels);
        Assert.All(ApiPodLabels, l => Assert.Equal(l.Value, objects.Named<V1Deployment>("devdb").Spec.Template.Metadata.Labels[l.Key]));
        Assert.DoesNotContain(from, peer => peer.IpBlock is not null);
        // The API accepts HTTP from everyone unless told otherwise.
        var api = objects.Named<V1NetworkPolicy>("devdb-api");
        var apiRule = Assert.Single(api.Spec.Ingress);
        Assert.Equal("8080", Assert.Single(apiRule.Ports).Port.Value);
        Assert.Null(apiRule.FromProperty);
    }

    [Fact]
    public async Task With_the_load_balancer_database_pods_also_accept_its_source_ranges()
    {
        var full = DatabaseIngress(await RenderFullAsync()).FromProperty;
        var open = DatabaseIngress(await RenderAsync(("loadBalancer.sourceRanges", "null"))).FromProperty;

        Assert.Equal(new Dictionary<string, string> { ["kubernetes.io/metadata.name"] = "traefik" }, full[0].NamespaceSelector.MatchLabels);
        Assert.Equal(["203.0.113.0/24", "198.51.100.7/32"], full.Where(p => p.IpBlock is not null).Select(p => p.IpBlock.Cidr));
        Assert.Equal(["0.0.0.0/0", "::/0"], open.Where(p => p.IpBlock is not null).Select(p => p.IpBlock.Cidr));
    }

    [Fact]
    public async Task Restore_pods_reach_dns_and_the_dumps_source_but_never_the_cloud_metadata_address()
    {
        var objects = await HelmChart.RenderAsync();

        var policy = objects.Named<V1NetworkPolicy>("devdb-restores");
        Assert.Equal(new Dictionary<string, string>
        {
            ["app.kubernetes.io/component"] = "restore",
            ["app.kubernetes.io/managed-by"] = "devdb",
        }, policy.Spec.PodSelector.MatchLabels);
        Assert.Equal(["Ingress", "Egress"], policy.Spec.PolicyTypes);
        Assert.True(policy.Spec.Ingress is null or { Count: 0 }, "restore pods accept no connections");
        Assert.Equal(2, policy.Spec.Egress.Count);
        Assert.Equal(["53/UDP", "53/TCP"], policy.Spec.Egress[0].Ports.Select(p => $"{p.Port.Value}/{p.Protocol}"));
        var blocks = policy.Spec.Egress[1].To.Select(p => p.IpBlock).ToList();
        Assert.Equal(["0.0.0.0/0", "::/0"], blocks.Select(b => b.Cidr));
        Assert.Equal(["169.254.0.0/16"], blocks[0].Except);
        Assert.Equal(["fd00:ec2::254/128"], blocks[1].Except);
        // The restore Job's pods carry the labels the policy selects.
        var options = new DevDb.Core.Runtimes.Kubernetes.KubernetesOptions();
        var project = new DevDb.Core.Runtimes.Kubernetes.ProjectResource { Metadata = new V1ObjectMeta { Name = "shop", Uid = "u" }, Spec = new() { Source = "s3://b/k", PostgresVersion = 15 } };
        var labels = new DevDb.Core.Runtimes.Kubernetes.Manifests(options).RestoreJob(project, 1).Spec.Template.Metadata.Labels;
        Assert.All(policy.Spec.PodSelector.MatchLabels, l => Assert.Equal(l.Value, labels[l.Key]));
    }

    [Fact]
    public async Task Network_policies_can_be_switched_off()
    {
        var objects = await RenderAsync(("networkPolicy.enabled", "false"));

        Assert.Empty(objects.OfType<V1NetworkPolicy>());
    }

    [Fact]
    public async Task The_test_hook_runs_the_api_images_healthcheck_against_the_api_service()
    {
        var objects = await HelmChart.RenderAsync();

        var pod = objects.Named<V1Pod>("devdb-test-healthz");
        Assert.Equal("test", pod.Metadata.Annotations["helm.sh/hook"]);
        Assert.Equal("Never", pod.Spec.RestartPolicy);
        Assert.False(pod.Spec.AutomountServiceAccountToken);
        var container = Assert.Single(pod.Spec.Containers);
        Assert.Equal(objects.Named<V1Deployment>("devdb").Spec.Template.Spec.Containers.Single().Image, container.Image);
        Assert.Equal(["healthcheck", "http://devdb:80/healthz"], container.Args);
        Assert.Null(container.Command);
        AssertHardened(pod.Spec, "healthcheck");
    }

    [Fact]
    public async Task The_chart_version_is_devdbs_version()
    {
        var chartYaml = await File.ReadAllLinesAsync(Path.Combine(HelmChart.ChartPath, "Chart.yaml"));

        Assert.Contains("apiVersion: v2", chartYaml);
        Assert.Contains($"appVersion: \"{Version}\"", chartYaml);
    }

    [Fact]
    public async Task Notes_print_the_port_forward_the_connect_line_and_where_to_watch_databases()
    {
        var result = await HelmChart.RunAsync("install", "devdb", HelmChart.ChartPath, "-n", "devdb", "--dry-run=client");

        Assert.True(result.ExitCode == 0, result.Output);
        var notes = result.StdOut[result.StdOut.IndexOf("NOTES:", StringComparison.Ordinal)..];
        Assert.Contains("kubectl port-forward -n devdb service/devdb 8080:80", notes);
        Assert.Contains("Connect-DevDb -Server http://localhost:8080 -Token (kubectl get secret devdb-admin-token -n devdb " +
            "-o jsonpath='{.data.token}' | base64 -d | ConvertTo-SecureString -AsPlainText -Force)", notes);
        Assert.Contains("kubectl get devdbdatabases -n devdb", notes);
        Assert.Contains("helm test devdb -n devdb", notes);
    }
}
