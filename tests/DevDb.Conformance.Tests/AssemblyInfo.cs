using System.Runtime.CompilerServices;
using System.Runtime.Versioning;

// The container rig's configurations run Docker containers on Linux only.
[assembly: SupportedOSPlatform("linux")]
// One configuration at a time: two of them start containers, and each builds projects of its own.
[assembly: Xunit.CollectionBehavior(DisableTestParallelization = true)]

namespace DevDb.Conformance.Tests;

internal static class TestEnvironment
{
    /// <summary>Database ports of the conformance suite's own, away from the other suites' (which may run at the same time).</summary>
    [ModuleInitializer]
    internal static void UsePrivatePortRange()
    {
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("DEVDB_PORT_RANGE")))
            Environment.SetEnvironmentVariable("DEVDB_PORT_RANGE", "56400-56799");
    }
}
