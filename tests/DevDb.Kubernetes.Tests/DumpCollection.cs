using Xunit;

namespace DevDb.Kubernetes.Tests;

/// <summary>Test classes that use the shared dumps: <c>[Collection(DumpCollection.Name)]</c> and take a <see cref="DumpFixture"/>.</summary>
// xunit finds collection definitions only in the test assembly itself.
[CollectionDefinition(Name)]
public sealed class DumpCollection : ICollectionFixture<DumpFixture>
{
    public const string Name = "Dumps";
}
