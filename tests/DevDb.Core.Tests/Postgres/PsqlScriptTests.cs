using System.Text;
using DevDb.Core.Postgres;
using Xunit;

namespace DevDb.Core.Tests.Postgres;

/// <summary>
/// The reading of plain SQL dumps that decides what psql would run: every meta-command is found
/// wherever psql would see one, and text psql reads as data or literals is never mistaken for one.
/// </summary>
public sealed class PsqlScriptTests
{
    private const string Source = "/dumps/shop.sql";

    private static Stream Script(string text) => new MemoryStream(Encoding.UTF8.GetBytes(text));

    private static Task<PsqlScriptFacts> InspectAsync(string text) => PsqlScript.InspectAsync(Script(text), Source, CancellationToken.None);

    private static async Task<DevDbException> RefusedAsync(string text)
    {
        var refused = await Assert.ThrowsAsync<DevDbException>(() => InspectAsync(text));
        Assert.Equal(ErrorCodes.DumpUnsafe, refused.Code);
        return refused;
    }

    [Fact]
    public async Task What_pg_dump_writes_is_accepted()
    {
        const string script = """
            --
            -- PostgreSQL database dump
            --

            \restrict aBc123
            SET standard_conforming_strings = on;
            SELECT pg_catalog.set_config('search_path', '', false);
            CREATE FUNCTION public.f(integer) RETURNS text LANGUAGE plpgsql AS $_$ BEGIN RETURN E'\\! not a command' || $1; END $_$;
            CREATE TABLE public.notes (id integer, body text);
            COMMENT ON TABLE public.notes IS 'it''s \! just text';
            COPY public.notes (id, body) FROM stdin;
            1	\\! a backslash in data
            2	\N
            3	tab\tand newline\n
            \.
            CREATE VIEW "odd\name" AS SELECT 1 AS "x\y";
            /* a /* nested */ comment with \! inside */
            -- a comment with \! inside
            \connect -reuse-previous=on "dbname='app'"
            \connect app
            \unrestrict aBc123

            --
            -- PostgreSQL database dump complete
            --

            """;
        var facts = await InspectAsync(script);
        Assert.True(facts.Lines > 20);
    }

    [Theory]
    [InlineData("\\! touch /tmp/marker\n", 1)]
    [InlineData("SELECT 1;\n\\copy notes to program 'touch /tmp/marker'\n", 2)]
    [InlineData("SELECT 1;\nSELECT 2;\n\\o |touch /tmp/marker\n", 3)]
    [InlineData("SELECT 'touch /tmp/marker' \\gexec\n", 1)]
    [InlineData("\\include /etc/passwd\n", 1)]
    [InlineData("\\i /etc/passwd\n", 1)]
    [InlineData("\\set x `touch /tmp/marker`\n", 1)]
    [InlineData("\\connect `touch /tmp/marker`\n", 1)]
    [InlineData("\\connect :dbname\n", 1)]
    [InlineData("\\restrict not-alnum!\n", 1)]
    [InlineData("SELECT 1; \\! id\n", 1)]
    [InlineData("  \\! id\n", 1)]
    [InlineData("SELECT\n\\! id\n1;\n", 2)]
    [InlineData("SELECT 1 \\; COPY t FROM stdin;\n", 1)]
    [InlineData("/* comment */\\! id\n", 1)]
    [InlineData("\\! id", 1)]
    public async Task Every_other_meta_command_is_refused_naming_its_line(string script, int line)
    {
        var refused = await RefusedAsync(script);
        Assert.Contains($"line {line} ", refused.Message);
    }

    [Fact]
    public async Task A_string_that_ends_before_its_backslash_does_not_hide_what_follows()
    {
        // With standard_conforming_strings on (pg_dump's setting and the default), 'abc\' is a whole string.
        await RefusedAsync("SELECT 'abc\\';\n\\! id\n'\n");
        // In an E'' string, \' does not end it: the command is inside the string.
        await InspectAsync("SELECT E'abc\\'; \\! id ';\n");
        await RefusedAsync("SELECT E'abc\\\\'; \\! id ';\n");
    }

    [Fact]
    public async Task A_dollar_quote_ends_only_at_its_own_tag()
    {
        await InspectAsync("SELECT $a$ $b$ \\! $ a$ $a$;\n");
        await RefusedAsync("SELECT $a$ x $a$ \\! id;\n");
        // $1 is a parameter and $x without a closing $ an identifier: neither opens a quote.
        await RefusedAsync("SELECT $1, a$b \\! id;\n");
    }

    [Fact]
    public async Task Semicolons_inside_a_function_body_do_not_end_the_statement_as_psql_sees_it()
    {
        // psql keeps a BEGIN ATOMIC body together, so the COPY inside is no COPY of its own and
        // the next line is still the function's text: a command there runs at once.
        await RefusedAsync("CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; COPY t FROM stdin;\n\\! id\nEND;\n");
        await RefusedAsync("CREATE OR REPLACE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN true THEN 1 END; COPY t FROM stdin;\n\\! id\nEND;\n");
        // Inside parentheses too.
        await RefusedAsync("CREATE RULE r AS ON INSERT TO t DO ALSO (SELECT 1; COPY t FROM stdin;\n\\! id\n);\n");
    }

    [Fact]
    public async Task Copy_data_is_data_until_its_end_line_and_nothing_may_share_the_COPY_line()
    {
        await InspectAsync("COPY t (a) FROM stdin;\n\\! data\n\\.x\n a \\.\n\\.\nSELECT 1;\n");
        await InspectAsync("COPY t FROM STDIN WITH (FORMAT csv);\n\"\\! x\"\n\\.\r\n");
        await RefusedAsync("COPY t FROM stdin; SELECT 1;\n1\n\\.\n");
        // After the data ends, commands count again.
        await RefusedAsync("COPY t FROM stdin;\n1\n\\.\n\\! id\n");
        // COPY from a file or to stdout takes no data lines: what follows is SQL.
        await RefusedAsync("COPY t FROM '/tmp/x';\n\\! id\n");
        await RefusedAsync("COPY t TO stdout;\n\\! id\n");
    }

    [Fact]
    public async Task A_script_pg_dump_wrote_must_end_with_its_footer()
    {
        var refused = await Assert.ThrowsAsync<DevDbException>(() => InspectAsync("--\n-- PostgreSQL database dump\n--\nCREATE TABLE t (a int);\n"));
        Assert.Equal(ErrorCodes.DumpCorrupt, refused.Code);
        // A hand-written script has no header, so nothing to check.
        await InspectAsync("CREATE TABLE t (a int);\n");
    }

    [Fact]
    public async Task Finds_owners_and_grantees_as_pg_dump_writes_them_outside_copy_data()
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
            COPY public.notes (body) FROM stdin;
            ALTER TABLE t OWNER TO in_data;
            \.
            CREATE FUNCTION f() RETURNS void LANGUAGE sql AS $$ SELECT 1 $$;
                ALTER TABLE t OWNER TO indented_in_a_body;

            """;
        var facts = await InspectAsync(script);
        Assert.Equal(
            new[] { "Quote\"d", "Report Writer", "analyst", "app_owner", "auditor", "intern", "readonly", "sales_admin", "someone" },
            facts.Roles.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_script_naming_too_many_roles_is_refused()
    {
        var script = new StringBuilder();
        for (var i = 0; i <= PsqlScript.MaxRoles; i++) script.Append($"ALTER TABLE t OWNER TO role_{i};\n");
        await RefusedAsync(script.ToString());
    }

    [Fact]
    public async Task The_restricted_script_is_the_dump_byte_for_byte_but_for_DevDbs_own_restriction()
    {
        var latin1 = new byte[] { 0xE9, 0xE8 };
        var original = Encoding.UTF8.GetBytes("\\restrict dumpkey\nSET client_encoding = 'LATIN1';\nINSERT INTO t VALUES ('")
            .Concat(latin1).Concat(Encoding.UTF8.GetBytes("');\r\nCOPY t FROM stdin;\n\\N\t\\\\\n\\.\n\\connect app\n\\unrestrict dumpkey\n")).ToArray();
        var output = new MemoryStream();
        await PsqlScript.WriteRestrictedAsync(new MemoryStream(original), output, Source, null, CancellationToken.None);
        var text = Encoding.Latin1.GetString(output.ToArray());
        var lines = text.Split('\n');
        Assert.Matches(@"^\\restrict [A-Za-z0-9]{32}$", lines[0]);
        var key = lines[0]["\\restrict ".Length..];
        Assert.NotEqual("dumpkey", key);
        var expected = "\\restrict " + key + "\n\nSET client_encoding = 'LATIN1';\nINSERT INTO t VALUES ('" + Encoding.Latin1.GetString(latin1)
                       + "');\r\nCOPY t FROM stdin;\n\\N\t\\\\\n\\.\n\\unrestrict " + key + "\n\\connect app\n\\restrict " + key + "\n\n";
        Assert.Equal(expected, text);
    }

    [Fact]
    public async Task Writing_refuses_what_reading_refuses()
    {
        var refused = await Assert.ThrowsAsync<DevDbException>(() =>
            PsqlScript.WriteRestrictedAsync(Script("SELECT 1;\n\\! id\n"), new MemoryStream(), Source, null, CancellationToken.None));
        Assert.Equal(ErrorCodes.DumpUnsafe, refused.Code);
    }

    [Fact]
    public async Task A_refusal_names_a_short_prefix_of_the_line_and_no_secret_of_the_address()
    {
        var refused = await Assert.ThrowsAsync<DevDbException>(() => PsqlScript.InspectAsync(
            Script("\\! " + new string('x', 100_000) + "\n"), "https://user:secret@files.example.com/shop.sql?X-Amz-Signature=abc", CancellationToken.None));
        Assert.True(refused.Message.Length < 1000, refused.Message);
        Assert.DoesNotContain("secret", refused.Message);
        Assert.DoesNotContain("abc", refused.Message);
    }
}
