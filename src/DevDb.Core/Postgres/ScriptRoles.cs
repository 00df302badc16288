using System.Text;

namespace DevDb.Core.Postgres;

/// <summary>
/// The one rule for the roles a plain SQL dump names (<see cref="PlainSqlRoles"/>), run by the
/// admin in the project's database before the script, in every runtime (the local runtime over
/// its socket, the Kubernetes restore Job through psql). Each role the cluster lacks is created
/// NOLOGIN and granted to <see cref="ClusterRoles.Owner"/>, so the restore may give objects to
/// it; it gets CREATE on public and on the schemas the script makes, which a new owner needs (a
/// superuser restore skips that check). Roles that exist already (the admin, the predefined
/// pg_* roles) are never granted.
/// </summary>
public static class ScriptRoles
{
    /// <summary>Beyond this many roles, schemas made under another role's AUTHORIZATION get no default CREATE for them (n² grants).</summary>
    private const int MaxSchemaMakers = 32;

    /// <summary>One DO block; the names travel hex-encoded, so no name a dump holds can end a literal or the block.</summary>
    public static string SetUpSql(IEnumerable<string> roles)
    {
        var names = roles.Order(StringComparer.Ordinal).ToList();
        if (names.Count == 0) return "";
        var array = string.Join(", ", names.Select(n => $"convert_from(decode('{Convert.ToHexString(Encoding.UTF8.GetBytes(n))}', 'hex'), 'UTF8')"));
        return string.Join('\n',
            "DO $devdb$ DECLARE r text; maker text; created text[] := '{}'; BEGIN",
            $"FOREACH r IN ARRAY ARRAY[{array}]::text[] LOOP",
            "CONTINUE WHEN r LIKE 'pg\\_%' OR EXISTS (SELECT FROM pg_roles WHERE rolname = r);",
            "EXECUTE format('CREATE ROLE %I NOLOGIN', r);",
            $"EXECUTE format('GRANT %I TO {ClusterRoles.Owner}', r);",
            "created := created || r; END LOOP;",
            "FOREACH r IN ARRAY created LOOP",
            "EXECUTE format('GRANT CREATE ON SCHEMA public TO %I', r);",
            $"FOREACH maker IN ARRAY ARRAY['{ClusterRoles.Owner}'] || CASE WHEN cardinality(created) <= {MaxSchemaMakers} THEN created ELSE '{{}}'::text[] END LOOP",
            "EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %I GRANT CREATE ON SCHEMAS TO %I', maker, r); END LOOP;",
            "END LOOP; END $devdb$;");
    }
}
