namespace DevDb.Core.Postgres;

/// <summary>
/// Reads the bytes of a plain SQL script the way psql's lexer does (psqlscan.l of PostgreSQL 15),
/// to tell where psql would see a meta-command. It follows strings (standard, E'', U&amp;'', bit
/// strings), quoted identifiers, dollar quotes, comments, parentheses, psql's BEGIN ... END
/// tracking in CREATE FUNCTION/PROCEDURE bodies, and the data of COPY ... FROM stdin, which ends
/// at a line <c>\.</c>. Byte-oriented, like psql: the script's encoding never matters.
/// </summary>
/// <remarks>
/// Where it could disagree with psql it errs towards seeing more meta-commands, never fewer:
/// text it cannot classify is reported, not skipped. psql's own restricted mode (\restrict) is
/// the second guard where it could still be fooled (e.g. by SQL that changes
/// standard_conforming_strings at run time).
/// </remarks>
/// <param name="onMetaLine">A whole line that is one meta-command, at the start of a statement (line number, text without the line end).</param>
/// <param name="onUnsafe">A meta-command psql would run that is not a whole line of its own, or text that cannot be classified.</param>
internal sealed class PsqlScriptLexer(Action<long, string> onMetaLine, Action<long, string> onUnsafe)
{
    private enum Mode
    {
        Sql, Identifier, Dash, Slash, LineComment, BlockComment, BlockStar, BlockSlash,
        StandardString, StandardQuote, EscapeString, EscapeBackslash, EscapeQuote,
        QuotedIdentifier, QuotedIdentifierQuote, UnicodeAmpersand, DollarTag, DollarQuoted,
        MetaLine, CopyLineStart, CopyBackslash, CopyDot, CopyDotReturn, CopyData,
    }

    /// <summary>Meta-command lines longer than this are not ones pg_dump writes.</summary>
    private const int MaxMetaLine = 4096;

    private Mode _mode = Mode.Sql;
    private int _commentDepth;
    private readonly List<byte> _token = new();
    private byte[] _dollarTag = [];
    private int _dollarMatched;
    private int _parenDepth, _beginDepth, _identifierCount;
    private readonly char[] _identifiers = new char[4];
    private bool _statementStarted, _statementIsCopy, _sawFrom, _copyFromStdin, _copyPending, _afterCopyOnLine;
    private bool _atLineStart = true;

    /// <summary>The 1-based line the lexer is on.</summary>
    public long Line { get; private set; } = 1;

    /// <summary>True while the lexer is inside COPY data (the caller passes such lines through untouched).</summary>
    public bool InCopyData => _mode is Mode.CopyLineStart or Mode.CopyBackslash or Mode.CopyDot or Mode.CopyDotReturn or Mode.CopyData;

    /// <summary>True when the lexer is at the start of a line that may begin a meta-command line.</summary>
    public bool AtStatementLineStart => _mode == Mode.Sql && _atLineStart && !_statementStarted;

    /// <summary>The end of the script: what is left open is checked.</summary>
    public void Finish()
    {
        switch (_mode)
        {
            case Mode.MetaLine:
                EndMetaLine();
                break;
            case Mode.Identifier:
                Identified(System.Text.Encoding.ASCII.GetString(_token.ToArray()).ToLowerInvariant());
                break;
        }
    }

    /// <summary>Reads the next byte of the script.</summary>
    public void Step(byte b)
    {
        while (!Consume(b))
        {
            // The byte ended the construct before it: read it again in the mode now current.
        }
        if (b == (byte)'\n') Line++;
    }

    /// <summary>Handles one byte; false when it must be read again in the new mode.</summary>
    private bool Consume(byte b)
    {
        switch (_mode)
        {
            case Mode.Sql:
                return Sql(b);
            case Mode.Identifier:
                return Identifier(b);
            case Mode.Dash:
                if (b == (byte)'-')
                {
                    _mode = Mode.LineComment;
                    return true;
                }
                // A '-' operator, not a comment.
                StatementText();
                _mode = Mode.Sql;
                return false;
            case Mode.Slash:
                if (b == (byte)'*')
                {
                    _mode = Mode.BlockComment;
                    _commentDepth = 1;
                    return true;
                }
                StatementText();
                _mode = Mode.Sql;
                return false;
            case Mode.LineComment:
                if (b == (byte)'\n') return EndLine();
                return true;
            case Mode.BlockComment:
                _mode = b switch { (byte)'*' => Mode.BlockStar, (byte)'/' => Mode.BlockSlash, _ => Mode.BlockComment };
                return true;
            case Mode.BlockStar:
                if (b == (byte)'/')
                {
                    _mode = --_commentDepth == 0 ? Mode.Sql : Mode.BlockComment;
                    return true;
                }
                _mode = Mode.BlockComment;
                return false;
            case Mode.BlockSlash:
                if (b == (byte)'*')
                {
                    _commentDepth++;
                    _mode = Mode.BlockComment;
                    return true;
                }
                _mode = Mode.BlockComment;
                return false;
            case Mode.StandardString:
                if (b == (byte)'\'') _mode = Mode.StandardQuote;
                return true;
            case Mode.StandardQuote:
                // '' inside a string is a quote; any other byte ends the string.
                _mode = b == (byte)'\'' ? Mode.StandardString : Mode.Sql;
                return b == (byte)'\'';
            case Mode.EscapeString:
                _mode = b switch { (byte)'\\' => Mode.EscapeBackslash, (byte)'\'' => Mode.EscapeQuote, _ => Mode.EscapeString };
                return true;
            case Mode.EscapeBackslash:
                _mode = Mode.EscapeString;
                return true;
            case Mode.EscapeQuote:
                _mode = b == (byte)'\'' ? Mode.EscapeString : Mode.Sql;
                return b == (byte)'\'';
            case Mode.QuotedIdentifier:
                if (b == (byte)'"') _mode = Mode.QuotedIdentifierQuote;
                return true;
            case Mode.QuotedIdentifierQuote:
                _mode = b == (byte)'"' ? Mode.QuotedIdentifier : Mode.Sql;
                return b == (byte)'"';
            case Mode.UnicodeAmpersand:
                // U&'...' and U&"..." quote like their plain forms; U& before anything else was an identifier and an operator.
                if (b == (byte)'\'') _mode = Mode.StandardString;
                else if (b == (byte)'"') _mode = Mode.QuotedIdentifier;
                else
                {
                    Identified("u");
                    _mode = Mode.Sql;
                    return false;
                }
                return true;
            case Mode.DollarTag:
                return DollarTag(b);
            case Mode.DollarQuoted:
                if (b == _dollarTag[_dollarMatched])
                {
                    if (++_dollarMatched == _dollarTag.Length) _mode = Mode.Sql;
                }
                else
                {
                    _dollarMatched = b == (byte)'$' ? 1 : 0;
                }
                return true;
            case Mode.MetaLine:
                if (b == (byte)'\n')
                {
                    EndMetaLine();
                    return EndLine();
                }
                if (_token.Count < MaxMetaLine + 1) _token.Add(b);
                return true;
            case Mode.CopyLineStart:
                _mode = b switch { (byte)'\\' => Mode.CopyBackslash, (byte)'\n' => Mode.CopyLineStart, _ => Mode.CopyData };
                return true;
            case Mode.CopyBackslash:
                _mode = b switch { (byte)'.' => Mode.CopyDot, (byte)'\n' => Mode.CopyLineStart, _ => Mode.CopyData };
                return true;
            case Mode.CopyDot:
                if (b == (byte)'\n') return EndCopy();
                _mode = b == (byte)'\r' ? Mode.CopyDotReturn : Mode.CopyData;
                return true;
            case Mode.CopyDotReturn:
                if (b == (byte)'\n') return EndCopy();
                _mode = Mode.CopyData;
                return true;
            case Mode.CopyData:
                if (b == (byte)'\n') _mode = Mode.CopyLineStart;
                return true;
            default:
                throw new InvalidOperationException($"Unknown lexer mode {_mode}.");
        }
    }

    private bool Sql(byte b)
    {
        if (b == (byte)'\n') return EndLine();
        var atLineStart = _atLineStart;
        _atLineStart = false;
        if (b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\f' or (byte)'\v') return true;
        if (_afterCopyOnLine)
        {
            // psql reads COPY data from the next line on; text after the COPY on its own line would run after the data.
            Unsafe("text follows COPY ... FROM stdin on the same line");
            _afterCopyOnLine = false;
        }
        switch (b)
        {
            case (byte)'\\':
                // pg_dump writes its meta-commands as whole lines, from the first byte, between statements.
                if (atLineStart && !_statementStarted)
                {
                    _mode = Mode.MetaLine;
                    _token.Clear();
                    _token.Add(b);
                }
                else
                {
                    Unsafe("a psql meta-command inside a line of SQL");
                }
                return true;
            case (byte)'-':
                _mode = Mode.Dash;
                return true;
            case (byte)'/':
                _mode = Mode.Slash;
                return true;
            case (byte)'\'':
                StatementText();
                _mode = Mode.StandardString;
                return true;
            case (byte)'"':
                StatementText();
                _mode = Mode.QuotedIdentifier;
                return true;
            case (byte)'$':
                StatementText();
                _token.Clear();
                _token.Add(b);
                _mode = Mode.DollarTag;
                return true;
            case (byte)'(':
                StatementText();
                _parenDepth++;
                return true;
            case (byte)')':
                StatementText();
                if (_parenDepth > 0) _parenDepth--;
                return true;
            case (byte)';':
                if (_parenDepth == 0 && _beginDepth == 0) EndStatement();
                return true;
        }
        if (IsIdentifierStart(b))
        {
            _token.Clear();
            _token.Add(b);
            _mode = Mode.Identifier;
            return true;
        }
        StatementText();
        return true;
    }

    /// <summary>Text that is part of a statement (not whitespace, not a comment).</summary>
    private void StatementText() => _statementStarted = true;

    private bool DollarTag(byte b)
    {
        if (b == (byte)'$')
        {
            _token.Add(b);
            _dollarTag = [.. _token];
            _dollarMatched = 0;
            _mode = Mode.DollarQuoted;
            return true;
        }
        if (_token.Count == 1 && b is >= (byte)'0' and <= (byte)'9')
        {
            // $1: a parameter, not a quote.
            _mode = Mode.Sql;
            return true;
        }
        if (_token.Count == 1 ? IsIdentifierStart(b) : IsDollarTagPart(b))
        {
            _token.Add(b);
            return true;
        }
        // Not a dollar quote: psql reads the '$' alone and the tag's letters as an identifier.
        _token.RemoveAt(0);
        _mode = _token.Count > 0 ? Mode.Identifier : Mode.Sql;
        return false;
    }

    /// <summary>A byte after an identifier's first: more of it, a string prefix (E'', N'', B'', X'', U&amp;), or the end of it.</summary>
    private bool Identifier(byte b)
    {
        if (IsIdentifierPart(b))
        {
            if (_token.Count < 64) _token.Add(b);
            return true;
        }
        var word = System.Text.Encoding.ASCII.GetString(_token.ToArray()).ToLowerInvariant();
        var prefix = (b, word) switch
        {
            ((byte)'\'', "e") => Mode.EscapeString,
            ((byte)'\'', "n" or "b" or "x") => Mode.StandardString,
            ((byte)'&', "u") => Mode.UnicodeAmpersand,
            _ => Mode.Sql,
        };
        if (prefix != Mode.Sql)
        {
            StatementText();
            _mode = prefix;
            return true;
        }
        Identified(word);
        _mode = Mode.Sql;
        return false;
    }

    /// <summary>psql's heuristic for BEGIN ... END in CREATE FUNCTION/PROCEDURE bodies, and DevDb's for COPY ... FROM stdin.</summary>
    private void Identified(string word)
    {
        if (!_statementStarted) _statementIsCopy = word == "copy";
        StatementText();
        if (_identifierCount == 0) Array.Clear(_identifiers);
        if (word is "create" or "function" or "procedure" or "or" or "replace" && _identifierCount < _identifiers.Length)
            _identifiers[_identifierCount] = word[0];
        _identifierCount++;
        if (_identifiers[0] == 'c' && _parenDepth == 0
            && (_identifiers[1] is 'f' or 'p' || (_identifiers[1] == 'o' && _identifiers[2] == 'r' && _identifiers[3] is 'f' or 'p')))
        {
            if (word == "begin") _beginDepth++;
            else if (word == "case" && _beginDepth >= 1) _beginDepth++;
            else if (word == "end" && _beginDepth > 0) _beginDepth--;
        }
        if (_statementIsCopy)
        {
            if (_sawFrom && word == "stdin") _copyFromStdin = true;
            _sawFrom = word == "from";
        }
    }

    private void EndStatement()
    {
        _copyPending = _statementIsCopy && _copyFromStdin;
        _afterCopyOnLine = _copyPending;
        _statementStarted = _statementIsCopy = _sawFrom = _copyFromStdin = false;
        _identifierCount = 0;
    }

    private bool EndLine()
    {
        _mode = Mode.Sql;
        _atLineStart = true;
        _afterCopyOnLine = false;
        if (_copyPending)
        {
            _copyPending = false;
            _mode = Mode.CopyLineStart;
        }
        return true;
    }

    private bool EndCopy()
    {
        _mode = Mode.Sql;
        _atLineStart = true;
        return true;
    }

    private void EndMetaLine()
    {
        var text = System.Text.Encoding.UTF8.GetString(_token.ToArray()).TrimEnd('\r', ' ', '\t');
        _mode = Mode.Sql;
        if (_token.Count > MaxMetaLine) Unsafe($"a psql command line longer than {MaxMetaLine} bytes ('{UserInput.Shown(text)}')");
        else onMetaLine(Line, text);
    }

    private void Unsafe(string what) => onUnsafe(Line, what);

    // psql's ident_start and ident_cont; bytes 0x80-0xFF are letters, as in psql.
    private static bool IsIdentifierStart(byte b) => b is >= (byte)'a' and <= (byte)'z' or >= (byte)'A' and <= (byte)'Z' or (byte)'_' or >= 0x80;
    private static bool IsIdentifierPart(byte b) => IsIdentifierStart(b) || b is >= (byte)'0' and <= (byte)'9' or (byte)'$';
    private static bool IsDollarTagPart(byte b) => IsIdentifierStart(b) || b is >= (byte)'0' and <= (byte)'9';
}
