using System.Net;
using Npgsql;

namespace DevDb.Testing;

/// <summary>Logins from the host over TCP (the Service's loopback port), with a password: what an engineer's client does.</summary>
public static class RigSql
{
    public static async Task<NpgsqlConnection> OpenAsync(IPEndPoint endpoint, string user, string password, string database = "app")
    {
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = endpoint.Address.ToString(), Port = endpoint.Port, Username = user, Password = password, Database = database,
            SslMode = SslMode.Disable, Pooling = false, Timeout = 15,
        };
        var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    public static async Task<string?> ScalarAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (await command.ExecuteScalarAsync())?.ToString();
    }
}
