using DevDb.Core.Runtimes.Local;
using Xunit;

namespace DevDb.Core.Tests.Engine;

public sealed class PlainSqlRolesTests
{
    [Fact]
    public async Task Finds_owners_and_grantees_as_pg_dump_writes_them()
    {
        const string script = """
            CREATE SCHEMA sales AUTHORIZATION sales_admin;
            ALTER TABLE public.customers OWNER TO app_owner;
            ALTER SCHEMA "Reporting" OWNER TO "Report Writer";
            GRANT SELECT ON TABLE public.customers TO analyst, "Quote""d", PUBLIC;
            GRANT ALL ON SCHEMA public TO auditor WITH GRANT OPTION;
            REVOKE ALL ON TABLE public.orders FROM intern;
            ALTER DEFAULT PRIVILEGES FOR ROLE app_owner IN SCHEMA public GRANT SELECT ON TABLES TO readonly;
            GRANT Mixed_Case TO someone GRANTED BY app_owner;
            """;

        var roles = await PlainSqlRoles.FindAsync(new StringReader(script), CancellationToken.None);

        Assert.Equal(
            new[] { "Quote\"d", "Report Writer", "analyst", "app_owner", "auditor", "intern", "readonly", "sales_admin", "someone" },
            roles.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Ignores_text_that_is_not_a_statement_of_its_own_line()
    {
        const string script = """
            COPY public.notes (body) FROM stdin;
            please GRANT this TO everyone;
            \.
            CREATE FUNCTION f() RETURNS void LANGUAGE sql AS $$ SELECT 1 $$;
                ALTER TABLE t OWNER TO indented_in_a_body;
            """;

        Assert.Empty(await PlainSqlRoles.FindAsync(new StringReader(script), CancellationToken.None));
    }
}
