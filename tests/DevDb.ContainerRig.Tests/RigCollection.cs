using Xunit;

namespace DevDb.ContainerRig.Tests;

/// <summary>The rig's tests share one s3rver (the dumps' bucket); each test starts its own double, kubelet and reconciler.</summary>
[CollectionDefinition(Name)]
public sealed class RigCollection : ICollectionFixture<S3rverFixture>
{
    public const string Name = "container rig";
}
