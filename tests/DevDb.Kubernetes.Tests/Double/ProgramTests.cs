using System.Diagnostics;
using k8s;
using k8s.Models;
using KubeApiDouble;
using Xunit;

namespace DevDb.Kubernetes.Tests.Double;

/// <summary>The double as a process, for tests that run pwsh or kubectl against it.</summary>
public sealed class ProgramTests
{
    [Fact]
    public async Task The_process_writes_a_kubeconfig_that_KubernetesClient_loads_and_stops_on_SIGTERM()
    {
        using var folder = new TempFolder("kubeapidouble");
        var kubeconfig = folder.Combine("config");
        var dll = typeof(KubeApiServer).Assembly.Location;
        using var process = Process.Start(new ProcessStartInfo("dotnet", [dll, "--kubeconfig", kubeconfig, "--namespace", "team"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        try
        {
            var line = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Matches(@"^listening http://127\.0\.0\.1:\d+$", line);

            var config = KubernetesClientConfiguration.BuildConfigFromConfigFile(kubeconfig);
            Assert.Equal("team", config.Namespace);
            Assert.Equal(line!["listening ".Length..], config.Host.TrimEnd('/'));
            using var client = new k8s.Kubernetes(config);
            await client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "hello" } }, config.Namespace);
            Assert.Equal("hello", (await client.CoreV1.ReadNamespacedConfigMapAsync("hello", "team")).Metadata.Name);

            using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
                await kill.WaitForExitAsync();
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(0, process.ExitCode);
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
    }
}
