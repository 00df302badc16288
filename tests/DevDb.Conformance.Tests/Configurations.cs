using DevDb.Conformance.Tests.Configurations;
using Xunit;

namespace DevDb.Conformance.Tests;

// Each configuration is a suite of its own in scripts/test.sh (dotnet test --filter Configuration=<name>).

[Trait("Configuration", "embedded")]
public sealed class OnTheEmbeddedEngine(EmbeddedEngine configuration) : Scenarios<EmbeddedEngine>(configuration);

[Trait("Configuration", "http-embedded")]
public sealed class ThroughTheApiOnTheEmbeddedEngine(HttpToEmbeddedEngine configuration) : Scenarios<HttpToEmbeddedEngine>(configuration);

[Trait("Configuration", "kubernetes")]
public sealed class OnTheKubernetesEngine(KubernetesEngineOnRig configuration) : Scenarios<KubernetesEngineOnRig>(configuration);

[Trait("Configuration", "http-kubernetes")]
public sealed class ThroughTheApiOnTheKubernetesEngine(HttpToKubernetesEngine configuration) : Scenarios<HttpToKubernetesEngine>(configuration);
