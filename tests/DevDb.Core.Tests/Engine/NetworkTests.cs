using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using DevDb.Core.Client;
using DevDb.Core.Engine;
using DevDb.Core.Model;
using DevDb.Core.Runtimes.Local;
using Xunit;

namespace DevDb.Core.Tests.Engine;

/// <summary>
/// Where database servers listen (an API on a shared machine lets engineers connect from theirs):
/// the connection details name the configured host, and the server answers there, with the password.
/// </summary>
[Collection(DumpCollection.Name)]
public sealed class NetworkTests(DumpFixture dumps) : IAsyncLifetime
{
    private readonly EngineHome _home = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public Task DisposeAsync() => _home.DisposeAsync().AsTask();

    private const string EncryptedQuery = "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()";

    private DevDbEngine Open(DatabaseNetwork network) => DevDbEngine.OpenLocal(new LocalEngineOptions { Home = _home.Path, Network = network });

    [Fact]
    public async Task By_default_a_database_is_reachable_on_127_0_0_1_only_and_without_TLS()
    {
        await _home.Engine.NewProjectAsync(new NewProjectRequest { Name = "shop", Source = dumps.CustomDump });
        var database = await _home.Engine.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "dave" });

        Assert.Equal("127.0.0.1", database.Host);
        var outside = OutsideAddress();
        Assert.False(await AcceptsTcpAsync(outside, database.Port), $"the server must not listen on {outside}");
        Assert.False(await Clients.ScalarAsync<bool>(await _home.Engine.GetConnectionAsync("dave"), EncryptedQuery));
    }

    [Fact]
    public async Task A_database_listening_on_one_address_is_reached_there_and_only_there()
    {
        var engine = Open(new DatabaseNetwork { ListenAddress = "127.0.0.2" });
        await engine.NewProjectAsync(new NewProjectRequest { Name = "shop", Source = dumps.CustomDump });
        var database = await engine.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "dave" });

        Assert.Equal("127.0.0.2", database.Host);
        var connection = await engine.GetConnectionAsync("dave");
        Assert.Equal(1000L, await Clients.ScalarAsync<long>(connection, "SELECT count(*) FROM customers"));
        Assert.False(await AcceptsTcpAsync(IPAddress.Loopback, database.Port));
    }

    [Fact]
    public async Task A_database_listening_on_all_addresses_takes_encrypted_connections_from_another_address_with_the_password_only()
    {
        var outside = OutsideAddress();
        var engine = Open(new DatabaseNetwork { ListenAddress = DatabaseNetwork.AllAddresses, Host = outside.ToString() });
        await engine.NewProjectAsync(new NewProjectRequest { Name = "shop", Source = dumps.CustomDump });
        var database = await engine.NewDatabaseAsync(new NewDatabaseRequest { Project = "shop", Name = "dave" });

        // Connecting to the machine's own outside address comes from that address, not from 127.0.0.1.
        Assert.Equal(outside.ToString(), database.Host);
        var connection = await engine.GetConnectionAsync("dave");
        Assert.Equal(1000L, await Clients.ScalarAsync<long>(connection, "SELECT count(*) FROM customers"));
        // Encrypted, as libpq and Npgsql ask by default (sslmode=prefer), with the server's self-signed certificate.
        Assert.True(await Clients.ScalarAsync<bool>(connection, EncryptedQuery));
        var wrong = new ConnectionInfo(connection.Host, connection.Port, connection.DatabaseName, connection.Username, "not-the-password");
        var refused = await Assert.ThrowsAsync<Npgsql.PostgresException>(() => Clients.ScalarAsync<long>(wrong, "SELECT 1"));
        Assert.Equal("28P01", refused.SqlState); // invalid_password
    }

    [Fact]
    public void A_listen_address_that_is_not_an_address_is_refused_when_the_engine_opens()
    {
        var error = Assert.Throws<DevDbException>(() => Open(new DatabaseNetwork { ListenAddress = "devdb.example.com" }));
        Assert.Equal(ErrorCodes.SettingInvalid, error.Code);
        Assert.Contains("devdb.example.com", error.Message);
    }

    /// <summary>An IPv4 address of this machine that is not loopback (these machines have one on eth0).</summary>
    private static IPAddress OutsideAddress() =>
        NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == OperationalStatus.Up && n.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a))
        ?? throw new InvalidOperationException("This test needs a network interface with an IPv4 address besides loopback.");

    private static async Task<bool> AcceptsTcpAsync(IPAddress address, int port)
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(address, port).WaitAsync(TimeSpan.FromSeconds(5));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
