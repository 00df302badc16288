using System.Data.Common;
using System.Text;

namespace DevDb.Core.Model;

/// <summary>The shapes a connection string can take, one per kind of client.</summary>
public enum ConnectionStringFormat
{
    /// <summary>postgresql://user:password@host:port/database (libpq, psql, most drivers).</summary>
    Uri,
    /// <summary>host=... port=... dbname=... user=... password=... (libpq keyword/value).</summary>
    KeyValue,
    /// <summary>Host=...;Port=...;Database=...;Username=...;Password=... (Npgsql, .NET).</summary>
    Npgsql,
    /// <summary>jdbc:postgresql://host:port/database?user=...&amp;password=... (Java).</summary>
    Jdbc,
    /// <summary>PGHOST=, PGPORT=, PGDATABASE=, PGUSER=, PGPASSWORD= and DATABASE_URL= lines (env files, CI).</summary>
    Env,
}

/// <summary>Writes <see cref="ConnectionInfo"/> as a connection string, escaped the way each client parses it.</summary>
public static class ConnectionStrings
{
    public static string Format(ConnectionInfo connection, ConnectionStringFormat format)
    {
        ArgumentNullException.ThrowIfNull(connection);
        return format switch
        {
            ConnectionStringFormat.Uri => Uri(connection),
            ConnectionStringFormat.KeyValue => KeyValue(connection),
            ConnectionStringFormat.Npgsql => Npgsql(connection),
            ConnectionStringFormat.Jdbc => Jdbc(connection),
            ConnectionStringFormat.Env => Env(connection),
            _ => throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown connection string format."),
        };
    }

    private static string Uri(ConnectionInfo c) =>
        $"postgresql://{Escape(c.Username)}:{Escape(c.Password)}@{HostPort(c)}/{Escape(c.DatabaseName)}";

    // pgjdbc URL-decodes the query parameters; EscapeDataString also encodes '+', which a URL decoder reads as space.
    private static string Jdbc(ConnectionInfo c) =>
        $"jdbc:postgresql://{HostPort(c)}/{Escape(c.DatabaseName)}?user={Escape(c.Username)}&password={Escape(c.Password)}";

    private static string KeyValue(ConnectionInfo c) => string.Join(' ',
        $"host={LibpqValue(c.Host)}",
        $"port={c.Port}",
        $"dbname={LibpqValue(c.DatabaseName)}",
        $"user={LibpqValue(c.Username)}",
        $"password={LibpqValue(c.Password)}");

    private static string Npgsql(ConnectionInfo c)
    {
        // DbConnectionStringBuilder quotes values with ';', '=', quotes or spaces the way Npgsql parses them.
        var builder = new DbConnectionStringBuilder
        {
            ["Host"] = c.Host,
            ["Port"] = c.Port,
            ["Database"] = c.DatabaseName,
            ["Username"] = c.Username,
            ["Password"] = c.Password,
        };
        return builder.ConnectionString;
    }

    // Docker's --env-file and dotenv read everything after the first '=' literally.
    private static string Env(ConnectionInfo c) => string.Join('\n',
        $"PGHOST={c.Host}",
        $"PGPORT={c.Port}",
        $"PGDATABASE={c.DatabaseName}",
        $"PGUSER={c.Username}",
        $"PGPASSWORD={c.Password}",
        $"DATABASE_URL={Uri(c)}");

    private static string Escape(string value) => System.Uri.EscapeDataString(value);

    private static string HostPort(ConnectionInfo c) =>
        (c.Host.Contains(':') ? $"[{c.Host}]" : c.Host) + ":" + c.Port;

    /// <summary>libpq: quote empty values and values with spaces; backslash-escape quotes and backslashes.</summary>
    private static string LibpqValue(string value)
    {
        if (value.Length > 0 && !value.Any(ch => char.IsWhiteSpace(ch) || ch is '\'' or '\\'))
        {
            return value;
        }
        var quoted = new StringBuilder("'", value.Length + 2);
        foreach (char ch in value)
        {
            if (ch is '\'' or '\\') quoted.Append('\\');
            quoted.Append(ch);
        }
        return quoted.Append('\'').ToString();
    }
}
