namespace DevDb.Core.Postgres;

/// <summary>
/// The one rule that turns a cloned cluster's owner role into the database's login, run by the
/// admin on every create, reset and start, in every runtime (the local runtime over its socket,
/// the Kubernetes pod's set-password script in single-user mode).
/// </summary>
/// <remarks>
/// The owner of the database (<see cref="ClusterRoles.Owner"/> in a fresh image, or the login
/// of the database it was branched from) is renamed to the login, so the login owns the database
/// and every object restored into it. It is not a superuser unless the project asks for it and
/// the installation allows it, and it holds none of the predefined roles that reach the server's
/// files or programs. Every other login role in the cluster loses its password and LOGIN, so a
/// clone of someone else's data never lets their credentials in.
/// The values come from custom settings the caller sets first in the same session, so no value
/// is ever spliced into SQL text: <c>devdb.login</c>, <c>devdb.password</c>, <c>devdb.database</c>
/// and <c>devdb.superuser</c> (<c>on</c> or <c>off</c>).
/// </remarks>
public static class LoginRole
{
    public const string LoginSetting = "devdb.login";
    public const string PasswordSetting = "devdb.password";
    public const string DatabaseSetting = "devdb.database";
    public const string SuperuserSetting = "devdb.superuser";

    /// <summary>The predefined roles that reach the server's files and programs: no login may hold them.</summary>
    public static readonly IReadOnlyList<string> ServerAccessRoles = ["pg_execute_server_program", "pg_read_server_files", "pg_write_server_files"];

    /// <summary>One statement (a DO block) on a single line, as single-user mode needs it.</summary>
    public static string SetUpSql { get; } = string.Join(' ',
        "DO $devdb$ DECLARE",
        $"login text := current_setting('{LoginSetting}');",
        $"db text := current_setting('{DatabaseSetting}');",
        $"superuser boolean := current_setting('{SuperuserSetting}') = 'on';",
        "owner name; other name;",
        "BEGIN",
        "SELECT r.rolname INTO owner FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba WHERE d.datname = db;",
        "IF owner IS NULL THEN RAISE EXCEPTION 'the database % does not exist in this cluster', db; END IF;",
        $"IF owner = '{ClusterRoles.Admin}' OR (SELECT rolsuper FROM pg_roles WHERE rolname = owner) AND NOT superuser THEN",
        "RAISE EXCEPTION 'the database % is owned by the superuser %: the image was made by an older DevDb; refresh the project to rebuild it', db, owner; END IF;",
        "IF owner <> login THEN",
        "IF EXISTS (SELECT FROM pg_roles WHERE rolname = login) THEN",
        "RAISE EXCEPTION 'the dump has a role named % (the login DevDb would make); rename the database', login; END IF;",
        "EXECUTE format('ALTER ROLE %I RENAME TO %I', owner, login); END IF;",
        "EXECUTE format('ALTER ROLE %I WITH LOGIN %s NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS CONNECTION LIMIT -1 PASSWORD %L',",
        "login, CASE WHEN superuser THEN 'SUPERUSER' ELSE 'NOSUPERUSER' END, current_setting('" + PasswordSetting + "'));",
        $"FOR other IN SELECT b.rolname FROM pg_auth_members m JOIN pg_roles b ON b.oid = m.roleid JOIN pg_roles u ON u.oid = m.member",
        $"WHERE u.rolname = login AND b.rolname IN ({string.Join(", ", ServerAccessRoles.Select(r => $"'{r}'"))}) LOOP",
        "EXECUTE format('REVOKE %I FROM %I', other, login); END LOOP;",
        $"FOR other IN SELECT rolname FROM pg_roles WHERE rolcanlogin AND rolname NOT IN (login, '{ClusterRoles.Admin}') LOOP",
        "EXECUTE format('ALTER ROLE %I NOLOGIN PASSWORD NULL', other); END LOOP;",
        "END $devdb$;");
}
