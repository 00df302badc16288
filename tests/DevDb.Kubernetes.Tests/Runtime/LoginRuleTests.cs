using DevDb.Core;
using DevDb.Core.Client;
using DevDb.Core.Model;
using DevDb.Core.Postgres;
using DevDb.Core.Runtimes.Kubernetes;
using k8s.Models;
using KubeApiDouble;
using static DevDb.Kubernetes.Tests.Runtime.KubernetesRig;
using Xunit;

namespace DevDb.Kubernetes.Tests.Runtime;

/// <summary>The same login rule as the local runtime, in the cluster: owners, not superusers, unless the installation and the project both ask.</summary>
public sealed class LoginRuleTests
{
    [Fact]
    public async Task A_project_asking_for_superuser_logins_is_refused_unless_the_installation_allows_them_and_records_nothing()
    {
        await using var rig = await StartAsync();

        var refused = await Assert.ThrowsAsync<DevDbException>(() =>
            rig.Engine.BeginNewProjectAsync(ProjectLifecycleTests.Shop() with { SuperuserLogins = true }));

        Assert.Equal(ErrorCodes.SuperuserLoginsNotAllowed, refused.Code);
        Assert.Null(rig.Find<ProjectResource>("shop"));
    }

    [Theory]
    [InlineData(false, "off")]
    [InlineData(true, "on")]
    public async Task The_database_pod_gets_devdbs_client_authentication_and_the_projects_superuser_choice(bool superuser, string expected)
    {
        await using var rig = await StartAsync(configure: o => o with { AllowSuperuserLogins = true });
        var project = await rig.Engine.NewProjectAsync(ProjectLifecycleTests.Shop() with { SuperuserLogins = superuser });
        Assert.Equal(superuser, project.SuperuserLogins);

        await rig.Engine.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "dave", Owner = "dave" });

        var setPassword = Assert.Single(rig.Find<V1StatefulSet>("devdb-db-dave")!.Spec.Template.Spec.InitContainers);
        Assert.Equal(expected, setPassword.Env.Single(e => e.Name == "DEVDB_SUPERUSER").Value);
        Assert.Equal(ClientAuthentication.PodHbaFile, setPassword.Env.Single(e => e.Name == "DEVDB_HBA").Value);
        Assert.Equal(ClientAuthentication.PodIdentFile, setPassword.Env.Single(e => e.Name == "DEVDB_IDENT").Value);
        Assert.DoesNotContain("trust", ClientAuthentication.PodHbaFile.Split('\n').Where(l => !l.StartsWith('#')));
        // The rule itself is in the script the pod runs: the one the local runtime runs too.
        Assert.Contains(LoginRole.SetUpSql, setPassword.Command[2]);
    }
}
