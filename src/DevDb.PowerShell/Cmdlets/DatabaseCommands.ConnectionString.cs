using System.Management.Automation;
using DevDb.Core.Model;

namespace DevDb.Commands;

/// <summary>Writes a database's connection string, password included, in the format a client needs.</summary>
/// <remarks>
/// <para>Get-DevDbConnectionString writes one string per database: a postgresql:// URI (the default),
/// libpq key=value pairs, an Npgsql (ADO.NET) connection string, a JDBC URL, or Env lines
/// (PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD and DATABASE_URL) for an --env-file or dotenv
/// file. Every format escapes the password so that the client reads it back exactly.</para>
/// <para>The string holds the password in plain text: keep it out of logs and files others can read.</para>
/// </remarks>
/// <example>
/// <para>The default URI, for DATABASE_URL</para>
/// <code>$env:DATABASE_URL = Get-DevDbConnectionString -Name dave</code>
/// </example>
/// <example>
/// <para>A CI job: an env file for docker run --env-file</para>
/// <code>Get-DevDbConnectionString -Name $name -Format Env | Set-Content -Path db.env</code>
/// </example>
/// <example>
/// <para>An ADO.NET connection string from a piped database</para>
/// <code>Get-DevDbDatabase dave | Get-DevDbConnectionString -Format Npgsql</code>
/// </example>
/// <seealso cref="GetDevDbDatabaseCommand"/>
/// <seealso cref="NewDevDbDatabaseCommand"/>
/// <seealso href="about_DevDb"/>
[Cmdlet(VerbsCommon.Get, "DevDbConnectionString", DefaultParameterSetName = DatabaseCmdlet.NameSet)]
[OutputType(typeof(string))]
public sealed class GetDevDbConnectionStringCommand : DatabaseCmdlet
{
    // A string, not Core's enum: see ModuleInitializer.
    /// <summary>Uri (postgresql://..., the default), KeyValue (libpq), Npgsql (ADO.NET), Jdbc, or Env (one VARIABLE=value line each).</summary>
    [Parameter]
    [ValidateSet(nameof(ConnectionStringFormat.Uri), nameof(ConnectionStringFormat.KeyValue), nameof(ConnectionStringFormat.Npgsql),
        nameof(ConnectionStringFormat.Jdbc), nameof(ConnectionStringFormat.Env))]
    public string Format { get; set; } = nameof(ConnectionStringFormat.Uri);

    /// <summary>Writes one database's connection string.</summary>
    protected override void Process(string name)
    {
        if (TryInvoke((client, _, ct) => client.GetConnectionAsync(name, ct), out ConnectionInfo connection))
        {
            WriteObject(ConnectionStrings.Format(connection, Enum.Parse<ConnectionStringFormat>(Format, ignoreCase: true)));
        }
    }
}
