using DevDb.Core.Model;
using Npgsql;

namespace DevDb.Testing;

/// <summary>Connects to a DevDb database the way a user would: TCP, its own user and password.</summary>
public static class Clients
{
    public static string ConnectionString(ConnectionInfo connection) => new NpgsqlConnectionStringBuilder
    {
        Host = connection.Host, Port = connection.Port, Database = connection.DatabaseName,
        Username = connection.Username, Password = connection.Password, Pooling = false, Timeout = 5,
    }.ConnectionString;

    public static async Task<T> ScalarAsync<T>(ConnectionInfo connection, string sql)
    {
        await using var npgsql = new NpgsqlConnection(ConnectionString(connection));
        await npgsql.OpenAsync();
        await using var command = new NpgsqlCommand(sql, npgsql);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    public static async Task ExecuteAsync(ConnectionInfo connection, string sql)
    {
        await using var npgsql = new NpgsqlConnection(ConnectionString(connection));
        await npgsql.OpenAsync();
        await using var command = new NpgsqlCommand(sql, npgsql);
        await command.ExecuteNonQueryAsync();
    }
}
