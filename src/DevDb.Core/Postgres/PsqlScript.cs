using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using DevDb.Core.Sources;

namespace DevDb.Core.Postgres;

/// <summary>What reading a plain SQL dump found before anything of it ran.</summary>
public sealed record PsqlScriptFacts(IReadOnlySet<string> Roles, long Lines);

/// <summary>
/// A plain SQL dump is data, never commands: the one rule for restoring one with psql, used by
/// the local runtime and by the Kubernetes restore Job's fetch step.
/// <see cref="InspectAsync"/> reads the whole script first and refuses (DumpUnsafe, naming the
/// line) any psql meta-command other than those pg_dump writes: <c>\connect</c>,
/// <c>\restrict</c>, <c>\unrestrict</c> and the <c>\.</c> that ends COPY data.
/// <see cref="WriteRestrictedAsync"/> then hands psql the script in psql's restricted mode under
/// a key of DevDb's own, so no meta-command can run even where the reading was fooled.
/// </summary>
public static partial class PsqlScript
{
    /// <summary>The most roles a script may name (each becomes a role in the image).</summary>
    public const int MaxRoles = 1000;

    private const string DumpHeader = "-- PostgreSQL database dump";
    private const string DumpFooter = "-- PostgreSQL database dump complete";
    /// <summary>The start of a line of SQL that <see cref="PlainSqlRoles"/> reads; ownership statements are short.</summary>
    private const int RoleLinePrefix = 16 * 1024;

    private enum MetaKind { Restrict, Connect }

    [GeneratedRegex(@"^\\(?:restrict|unrestrict) [A-Za-z0-9]{1,64}$", RegexOptions.CultureInvariant)]
    private static partial Regex RestrictLine();

    // pg_dump's appendPsqlMetaConnect: \connect name, or \connect -reuse-previous=on "dbname='...'"; no backquotes, variables or backslashes.
    [GeneratedRegex(@"^\\connect (?:-reuse-previous=on )?(?:[A-Za-z0-9_]+|""dbname='(?:[^'\\`:]|'')*'""|""(?:[^""\\`:]|"""")+"")$", RegexOptions.CultureInvariant)]
    private static partial Regex ConnectLine();

    /// <summary>
    /// Reads the whole script: throws DumpUnsafe at the first meta-command psql would run that
    /// pg_dump does not write, and DumpCorrupt when a script pg_dump wrote ends before its footer.
    /// Returns the roles it names as owners or grantees.
    /// </summary>
    public static async Task<PsqlScriptFacts> InspectAsync(Stream script, string source, CancellationToken cancellationToken)
    {
        var roles = new HashSet<string>(StringComparer.Ordinal);
        var line = new List<byte>();
        var lineIsSql = true;
        var lexer = new PsqlScriptLexer((number, text) => Classify(source, number, text), (number, what) => throw Unsafe(source, number, what));
        var head = new List<byte>(64);
        var tail = new Queue<byte>(512);
        var buffer = new byte[128 * 1024];
        int read;
        while ((read = await script.ReadAsync(buffer, cancellationToken)) > 0)
        {
            for (var i = 0; i < read; i++)
            {
                var b = buffer[i];
                if (head.Count < 64) head.Add(b);
                if (tail.Count == 512) tail.Dequeue();
                tail.Enqueue(b);
                if (line.Count == 0 && lineIsSql) lineIsSql = !lexer.InCopyData;
                lexer.Step(b);
                if (b == (byte)'\n')
                {
                    if (lineIsSql) CollectRoles(line, roles, source, lexer.Line);
                    line.Clear();
                    lineIsSql = true;
                }
                else if (lineIsSql && line.Count < RoleLinePrefix)
                {
                    line.Add(b);
                }
            }
        }
        lexer.Finish();
        if (lineIsSql) CollectRoles(line, roles, source, lexer.Line);
        if (Encoding.UTF8.GetString(head.ToArray()).Contains(DumpHeader, StringComparison.Ordinal)
            && !Encoding.UTF8.GetString(tail.ToArray()).Contains(DumpFooter, StringComparison.Ordinal))
            throw DevDbErrors.DumpCorrupt(source, "is corrupt or truncated: the script ends before pg_dump's \"dump complete\" footer.",
                "Make the dump again and check it was copied completely.");
        return new PsqlScriptFacts(roles, lexer.Line);
    }

    /// <summary>
    /// Writes the script for <c>psql -v ON_ERROR_STOP=1</c>: first <c>\restrict</c> with a new key
    /// of DevDb's, so psql refuses every meta-command; the script's own <c>\restrict</c> and
    /// <c>\unrestrict</c> lines become blank lines; each <c>\connect</c> (checked to be one pg_dump
    /// writes) runs between an <c>\unrestrict</c> and a <c>\restrict</c> of that key.
    /// Throws DumpUnsafe, like <see cref="InspectAsync"/>, if the script holds anything else.
    /// </summary>
    public static async Task WriteRestrictedAsync(Stream script, Stream psqlInput, string source, Action? afterEachChunk, CancellationToken cancellationToken)
    {
        var key = RandomNumberGenerator.GetString("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 32);
        var restrict = Encoding.ASCII.GetBytes($"\\restrict {key}\n");
        byte[]? replacement = null;
        var lexer = new PsqlScriptLexer(
            (number, text) => replacement = Classify(source, number, text) == MetaKind.Restrict
                ? "\n"u8.ToArray()
                : Encoding.UTF8.GetBytes($"\\unrestrict {key}\n{text}\n\\restrict {key}\n"),
            (number, what) => throw Unsafe(source, number, what));
        await psqlInput.WriteAsync(restrict, cancellationToken);
        var buffer = new byte[128 * 1024];
        var metaLine = false;
        int read;
        while ((read = await script.ReadAsync(buffer, cancellationToken)) > 0)
        {
            var written = 0;
            for (var i = 0; i < read; i++)
            {
                var b = buffer[i];
                if (!metaLine && b == (byte)'\\' && lexer.AtStatementLineStart)
                {
                    // A meta-command line: held back until the lexer has read it whole.
                    await psqlInput.WriteAsync(buffer.AsMemory(written, i - written), cancellationToken);
                    metaLine = true;
                }
                lexer.Step(b);
                if (metaLine && b == (byte)'\n')
                {
                    await psqlInput.WriteAsync(replacement!, cancellationToken);
                    metaLine = false;
                    written = i + 1;
                }
            }
            if (!metaLine) await psqlInput.WriteAsync(buffer.AsMemory(written, read - written), cancellationToken);
            afterEachChunk?.Invoke();
        }
        lexer.Finish();
        if (metaLine) await psqlInput.WriteAsync(replacement!, cancellationToken);
    }

    /// <summary>The format name of a script <see cref="PrepareFileAsync"/> wrote: plain SQL, already in restricted mode.</summary>
    public const string PreparedFormat = "PsqlScript";

    /// <summary>
    /// For a restore that runs where DevDb's code does not (a Kubernetes pod's psql): reads the dump
    /// (<see cref="InspectAsync"/>, so DumpUnsafe and DumpCorrupt are raised here), then writes the
    /// script psql is to read (<see cref="WriteRestrictedAsync"/>, decompressed) and the SQL that makes
    /// the roles it names (<see cref="ScriptRoles.SetUpSql"/>).
    /// </summary>
    public static async Task<PsqlScriptFacts> PrepareFileAsync(string dump, bool gzipped, string source, string preparedScript, string rolesSql,
        CancellationToken cancellationToken)
    {
        try
        {
            PsqlScriptFacts facts;
            await using (var script = OpenScript(dump, gzipped))
                facts = await InspectAsync(script, source, cancellationToken);
            await using (var script = OpenScript(dump, gzipped))
            await using (var output = new FileStream(preparedScript, FileMode.Create, FileAccess.Write))
                await WriteRestrictedAsync(script, output, source, afterEachChunk: null, cancellationToken);
            // The roles' SQL only where the script names roles (restore.sh runs it when the file is there).
            if (facts.Roles.Count > 0) await File.WriteAllTextAsync(rolesSql, ScriptRoles.SetUpSql(facts.Roles), cancellationToken);
            else File.Delete(rolesSql);
            return facts;
        }
        catch (InvalidDataException e)
        {
            throw DevDbErrors.DumpCorrupt(source, $"is corrupt or truncated: {e.Message}.", "Make the dump again and check it was copied completely.", e);
        }
    }

    private static Stream OpenScript(string path, bool gzipped)
    {
        var file = File.OpenRead(path);
        return gzipped ? new System.IO.Compression.GZipStream(file, System.IO.Compression.CompressionMode.Decompress) : file;
    }

    /// <summary>psql's message when restricted mode refused a meta-command: the script tried to run one.</summary>
    public const string RestrictedModeRefusal = "backslash commands are restricted";

    private static MetaKind Classify(string source, long line, string text)
    {
        if (RestrictLine().IsMatch(text)) return MetaKind.Restrict;
        if (ConnectLine().IsMatch(text)) return MetaKind.Connect;
        throw Unsafe(source, line, $"the psql command '{UserInput.Shown(text)}'");
    }

    private static void CollectRoles(List<byte> line, HashSet<string> roles, string source, long number)
    {
        if (line.Count == 0) return;
        PlainSqlRoles.Collect(Encoding.UTF8.GetString(line.ToArray()), roles);
        if (roles.Count > MaxRoles) throw Unsafe(source, number, $"a statement that names more than {MaxRoles} roles in all");
    }

    private static DevDbException Unsafe(string source, long line, string what) => DevDbErrors.DumpUnsafe(source, line, what);
}
