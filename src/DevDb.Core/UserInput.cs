namespace DevDb.Core;

/// <summary>
/// The one rule for putting what a user typed into a message, a log line or an error's target:
/// only a short prefix, so a huge or hostile value never makes a huge answer or log line.
/// </summary>
public static class UserInput
{
    /// <summary>Characters of user input a message shows at most.</summary>
    public const int ShownLength = 64;

    /// <summary><paramref name="value"/> itself when short, else its first characters and how long it was; control characters become '?'.</summary>
    /// <param name="length">More than <see cref="ShownLength"/> only for text DevDb's own parts write around user input (a parser's message).</param>
    public static string Shown(string? value, int length = ShownLength)
    {
        if (value is null) return "";
        var head = value.Length <= length ? value : value[..length];
        var printable = string.Create(head.Length, head, (span, text) =>
        {
            for (var i = 0; i < text.Length; i++) span[i] = char.IsControl(text[i]) ? '?' : text[i];
        });
        return value.Length <= length ? printable : $"{printable}... ({value.Length} characters)";
    }
}
