using DevDb.Core.Postgres;
using Npgsql;

namespace DevDb.Core.Runtimes.Local;

/// <summary>
/// DevDb's own connections to its servers: through the server's socket folder, authenticated by
/// the OS (peer) as <see cref="ClusterRoles.Admin"/> or, for a restore's post-restore SQL,
/// <see cref="ClusterRoles.Owner"/>. No password exists for either.
/// </summary>
internal static class AdminSql
{
    public static async Task<NpgsqlConnection> OpenAsync(string socketFolder, int port, string role, string database, CancellationToken cancellationToken,
        string? applicationName = null, int timeoutSeconds = 15)
    {
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder
        {
            Host = socketFolder, Port = port, Username = role, Database = database, Pooling = false, Timeout = timeoutSeconds, CommandTimeout = 0,
            ApplicationName = applicationName,
        }.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        return connection;
    }

    public static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public static async Task<bool> ExistsAsync(NpgsqlConnection connection, string sql, string parameter, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("p", parameter);
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken)) > 0;
    }

    /// <summary>Runs <see cref="LoginRole.SetUpSql"/>: the cluster's owner becomes the database's login with this password.</summary>
    public static async Task SetUpLoginAsync(NpgsqlConnection admin, string login, string password, string database, bool superuser, CancellationToken cancellationToken)
    {
        // Keep the password out of the server log even if a statement fails. No wait for the WAL flush: a crash that
        // lost this commit also stopped the server, and every start sets the login up again.
        await ExecuteAsync(admin,
            "SET log_statement = 'none'; SET log_min_error_statement = 'panic'; SET log_error_verbosity = 'terse'; SET synchronous_commit = off", cancellationToken);
        await ExecuteAsync(admin,
            $"SELECT set_config('{LoginRole.LoginSetting}', @login, false), set_config('{LoginRole.PasswordSetting}', @password, false), " +
            $"set_config('{LoginRole.DatabaseSetting}', @database, false), set_config('{LoginRole.SuperuserSetting}', @superuser, false)",
            cancellationToken, ("login", login), ("password", password), ("database", database), ("superuser", superuser ? "on" : "off"));
        await ExecuteAsync(admin, LoginRole.SetUpSql, cancellationToken);
        await ExecuteAsync(admin, $"SELECT set_config('{LoginRole.PasswordSetting}', '', false)", cancellationToken);
    }

    public static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"") + "\"";
}
