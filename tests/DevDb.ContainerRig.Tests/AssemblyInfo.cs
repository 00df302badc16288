using System.Runtime.Versioning;

// The rig runs Docker containers on Linux only (namespaces, setns, unix file modes).
[assembly: SupportedOSPlatform("linux")]
// Containers are heavy on a 2-core machine: one rig test at a time.
[assembly: Xunit.CollectionBehavior(DisableTestParallelization = true)]
