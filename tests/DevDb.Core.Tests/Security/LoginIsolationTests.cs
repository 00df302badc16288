using DevDb.Core.Client;
using DevDb.Core.Engine;
using DevDb.Core.Model;
using DevDb.Core.Postgres;
using DevDb.Core.Tests.Engine;
using Npgsql;
using Xunit;

namespace DevDb.Core.Tests.Security;

/// <summary>
/// The attacks of a developer on a shared machine, made for real: from their own database's
/// login, against the server's files and programs and against another developer's database.
/// </summary>
[Collection(DumpCollection.Name)]
public sealed class LoginIsolationTests(DumpFixture dumps) : IAsyncLifetime
{
    private readonly EngineHome _home = new();
    private readonly string _marker = $"/tmp/devdb-marker-{Guid.NewGuid():N}";
    private ConnectionInfo _alice = null!;
    private ConnectionInfo _bob = null!;

    public async Task InitializeAsync()
    {
        await _home.Engine.NewProjectAsync(new NewProjectRequest { Name = "shop", Source = dumps.CustomDump });
        await _home.Engine.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "alice", Owner = "alice" });
        await _home.Engine.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "bob", Owner = "bob" });
        _alice = await _home.Engine.GetConnectionAsync("alice");
        _bob = await _home.Engine.GetConnectionAsync("bob");
    }

    public async Task DisposeAsync()
    {
        File.Delete(_marker);
        await _home.DisposeAsync();
    }

    [Fact]
    public async Task The_login_owns_its_database_and_everything_restored_into_it_and_is_no_superuser()
    {
        Assert.False(await Clients.ScalarAsync<bool>(_alice, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"));
        Assert.Equal("alice", await Clients.ScalarAsync<string>(_alice, "SELECT pg_get_userbyid(datdba)::text FROM pg_database WHERE datname = current_database()"));
        Assert.Equal(0L, await Clients.ScalarAsync<long>(_alice, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner <> 'alice'"));
        foreach (var role in LoginRole.ServerAccessRoles)
            Assert.False(await Clients.ScalarAsync<bool>(_alice, $"SELECT pg_has_role(current_user, '{role}', 'MEMBER')"), role);
        Assert.Equal(0L, await Clients.ScalarAsync<long>(_alice, "SELECT count(*) FROM pg_roles WHERE rolcanlogin AND rolname <> current_user AND rolname <> 'devdb_admin'"));
    }

    [Fact]
    public async Task The_login_can_change_its_schema_as_migrations_do()
    {
        await Clients.ExecuteAsync(_alice, """
            CREATE EXTENSION pgcrypto;
            CREATE SCHEMA audit;
            CREATE TABLE audit.log (id bigserial PRIMARY KEY, at timestamptz DEFAULT now(), token text DEFAULT encode(gen_random_bytes(8), 'hex'));
            ALTER TABLE customers ADD COLUMN nickname text;
            CREATE INDEX customers_nickname ON customers (nickname);
            ALTER TABLE orders RENAME TO purchases;
            DROP VIEW customer_order_totals;
            TRUNCATE order_items;
            DROP TABLE order_items;
            INSERT INTO audit.log DEFAULT VALUES;
            """);
        Assert.Equal(1L, await Clients.ScalarAsync<long>(_alice, "SELECT count(*) FROM audit.log"));
        Assert.Equal(DumpFixture.SampleRowCounts["order_items"], await Clients.ScalarAsync<long>(_bob, "SELECT count(*) FROM order_items"));
    }

    public static TheoryData<string> ServerAccess => new()
    {
        "COPY (SELECT 1) TO PROGRAM 'touch {marker}'",
        "CREATE TEMP TABLE t (line text); COPY t FROM PROGRAM 'touch {marker}'",
        "COPY (SELECT 1) TO '{marker}'",
        "CREATE TEMP TABLE t (line text); COPY t FROM '/etc/passwd'",
        "SELECT pg_read_file('/etc/passwd')",
        "SELECT pg_read_binary_file('PG_VERSION')",
        "SELECT pg_ls_dir('.')",
        "SELECT lo_import('/etc/passwd')",
        "SELECT lo_export(lo_create(0), '{marker}')",
        "ALTER ROLE alice SUPERUSER",
        "ALTER ROLE alice CREATEROLE",
        "CREATE ROLE intruder SUPERUSER LOGIN PASSWORD 'x'",
        "GRANT pg_execute_server_program TO alice",
        "GRANT pg_read_server_files TO alice",
        "SET ROLE devdb_admin",
        "SET SESSION AUTHORIZATION devdb_admin",
        "CREATE EXTENSION file_fdw",
        "CREATE EXTENSION adminpack",
        "CREATE EXTENSION dblink",
        "ALTER SYSTEM SET archive_command = 'touch {marker}'",
        "LOAD 'auto_explain'",
    };

    [Theory]
    [MemberData(nameof(ServerAccess))]
    public async Task Every_way_to_the_servers_files_programs_and_roles_is_refused(string attack)
    {
        var refused = await Assert.ThrowsAsync<PostgresException>(() => Clients.ExecuteAsync(_alice, attack.Replace("{marker}", _marker)));
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, refused.SqlState);
        Assert.False(File.Exists(_marker));
    }

    [Fact]
    public async Task A_login_cannot_reach_another_database_over_tcp()
    {
        var alicePasswordOnBob = new ConnectionInfo(_bob.Host, _bob.Port, _bob.DatabaseName, "alice", _alice.Password);
        Assert.Equal(PostgresErrorCodes.InvalidPassword, (await Assert.ThrowsAsync<PostgresException>(() => Clients.ScalarAsync<int>(alicePasswordOnBob, "SELECT 1"))).SqlState);
        var bobWithAlicesPassword = new ConnectionInfo(_bob.Host, _bob.Port, _bob.DatabaseName, "bob", _alice.Password);
        Assert.Equal(PostgresErrorCodes.InvalidPassword, (await Assert.ThrowsAsync<PostgresException>(() => Clients.ScalarAsync<int>(bobWithAlicesPassword, "SELECT 1"))).SqlState);
        // DevDb's admin is refused over TCP whatever the password; "postgres" is no role at all.
        foreach (var user in new[] { ClusterRoles.Admin, "postgres", ClusterRoles.Owner })
        {
            var asUser = new ConnectionInfo(_bob.Host, _bob.Port, _bob.DatabaseName, user, _bob.Password);
            var refused = await Assert.ThrowsAsync<PostgresException>(() => Clients.ScalarAsync<int>(asUser, "SELECT 1"));
            Assert.True(refused.SqlState is PostgresErrorCodes.InvalidAuthorizationSpecification or PostgresErrorCodes.InvalidPassword, $"{user}: {refused.SqlState}");
        }
        Assert.Equal(1, await Clients.ScalarAsync<int>(_bob, "SELECT 1"));
    }

    [Fact]
    public async Task Each_server_runs_as_a_user_of_its_own_that_alone_reaches_its_files_and_socket()
    {
        Unix.RequireRoot();
        var aliceFolder = Path.Combine(_home.Path, "databases", "alice");
        var bobFolder = Path.Combine(_home.Path, "databases", "bob");
        var aliceUid = Unix.OwnerOf(aliceFolder);
        var bobUid = Unix.OwnerOf(bobFolder);
        Assert.NotEqual(aliceUid, bobUid);
        var postgresUid = Unix.OwnerOf("/var/lib/postgresql");
        foreach (var uid in new[] { aliceUid, bobUid }) Assert.True(uid != 0 && uid != postgresUid, $"server uid {uid}");
        Assert.Equal(aliceUid, ServerProcessUid(Path.Combine(aliceFolder, "data")));

        foreach (var folder in new[] { aliceFolder, Path.Combine(aliceFolder, "data") }) Assert.Equal("700", Unix.ModeOf(folder));
        var bobSocket = Directory.GetDirectories(Path.Combine(_home.Path, "run")).Single(d => Unix.OwnerOf(d) == bobUid);
        Assert.Equal("700", Unix.ModeOf(bobSocket));

        // As alice's server's user: bob's files and socket are out of reach.
        Assert.NotEqual(0, Unix.RunAs(aliceUid, "cat", Path.Combine(bobFolder, "data", "PG_VERSION")).ExitCode);
        var psql = Unix.RunAs(aliceUid, "/usr/lib/postgresql/15/bin/psql", "-X", "-h", bobSocket, "-p", _bob.Port.ToString(), "-U", ClusterRoles.Admin, "-d", "postgres", "-c", "SELECT 1");
        Assert.NotEqual(0, psql.ExitCode);
        Assert.Contains("Permission denied", psql.Output);
        // Even through the socket, only DevDb's own OS user is the admin, and no other role is let in.
        var asLogin = Unix.Run("/usr/lib/postgresql/15/bin/psql", "-X", "-h", bobSocket, "-p", _bob.Port.ToString(), "-U", "bob", "-d", "app", "-c", "SELECT 1");
        Assert.Contains("no pg_hba.conf entry", asLogin.Output);
    }

    [Fact]
    public void No_server_trusts_anyone_and_every_file_of_the_state_folder_is_private()
    {
        var hbaFiles = Directory.EnumerateFiles(_home.Path, "pg_hba.conf", SearchOption.AllDirectories).ToList();
        Assert.True(hbaFiles.Count >= 3, "an image and two databases");
        foreach (var hba in hbaFiles)
        {
            var rules = File.ReadAllLines(hba).Where(l => !l.TrimStart().StartsWith('#') && l.Trim().Length > 0).ToList();
            Assert.DoesNotContain(rules, rule => rule.Contains("trust"));
            Assert.All(rules.Where(r => r.StartsWith("local")), rule => Assert.Contains("peer map=devdb", rule));
        }
        foreach (var file in Directory.EnumerateFiles(Path.Combine(_home.Path, "catalog"), "*", SearchOption.AllDirectories)
                     .Concat(Directory.EnumerateFiles(Path.Combine(_home.Path, "secrets"))))
            Assert.Equal("600", Unix.ModeOf(file));
        foreach (var folder in new[] { "catalog", "secrets" }) Assert.Equal("700", Unix.ModeOf(Path.Combine(_home.Path, folder)));
        foreach (var folder in new[] { "", "images", "databases", "run", "work" }) Assert.Equal("711", Unix.ModeOf(Path.Combine(_home.Path, folder)));
        foreach (var file in Directory.EnumerateFiles(Path.Combine(_home.Path, "databases"), "*", SearchOption.AllDirectories))
            Assert.True(Unix.ModeOf(file) is "600" or "400", $"{file}: {Unix.ModeOf(file)}");
    }

    /// <summary>The user id the database's postmaster runs as.</summary>
    private static int ServerProcessUid(string data)
    {
        var pid = File.ReadLines(Path.Combine(data, "postmaster.pid")).First();
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("Uid:"));
        return int.Parse(line.Split('\t', StringSplitOptions.RemoveEmptyEntries)[1]);
    }
}
/// <summary>Superuser logins: only where the installation allows them, and even then contained by the server's OS user.</summary>
[Collection(DumpCollection.Name)]
public sealed class SuperuserLoginTests(DumpFixture dumps)
{
    [Fact]
    public async Task An_installation_that_does_not_allow_them_refuses_the_project_and_records_nothing()
    {
        await using var home = new EngineHome(new LocalEngineOptions { AllowSuperuserLogins = false });
        var refused = await Assert.ThrowsAsync<DevDbException>(() =>
            home.Engine.NewProjectAsync(new NewProjectRequest { Name = "shop", Source = dumps.CustomDump, SuperuserLogins = true }));
        Assert.Equal(ErrorCodes.SuperuserLoginsNotAllowed, refused.Code);
        Assert.Empty(await home.Engine.GetProjectsAsync());
        Assert.Empty(home.Entries("images"));
    }

    [Fact]
    public async Task A_superuser_login_is_one_and_still_cannot_read_another_databases_files()
    {
        Unix.RequireRoot();
        await using var home = new EngineHome();
        var project = await home.Engine.NewProjectAsync(new NewProjectRequest { Name = "shop", Source = dumps.CustomDump, SuperuserLogins = true });
        Assert.True(project.SuperuserLogins);
        await home.Engine.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "root-ish" });
        await home.Engine.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "victim" });
        var attacker = await home.Engine.GetConnectionAsync("root-ish");
        Assert.True(await Clients.ScalarAsync<bool>(attacker, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"));

        var victimFile = Path.Combine(home.Path, "databases", "victim", "data", "PG_VERSION");
        var refused = await Assert.ThrowsAsync<PostgresException>(() => Clients.ScalarAsync<string>(attacker, $"SELECT pg_read_file('{victimFile}')"));
        Assert.Contains("Permission denied", refused.MessageText);
        Assert.Equal("15", (await Clients.ScalarAsync<string>(attacker, "SELECT pg_read_file('PG_VERSION')")).Trim());
    }
}
