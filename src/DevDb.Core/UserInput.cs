namespace DevDb.Core;

/// <summary>
/// The one rule for putting what a user typed into a message, a log line or an error's target:
/// only a short prefix, so a huge or hostile value never makes a huge answer or log line.
/// </summary>
public static class UserInput
{
    /// <summary>Characters of user input a message shows at most.</summary>
    public const int ShownLength = 100;

    /// <summary><paramref name="value"/> itself when short, else its first characters and how long it was; control characters become '?'.</summary>
    public static string Shown(string? value)
    {
        if (value is null) return "";
        var head = value.Length <= ShownLength ? value : value[..ShownLength];
        var printable = string.Create(head.Length, head, (span, text) =>
        {
            for (var i = 0; i < text.Length; i++) span[i] = char.IsControl(text[i]) ? '?' : text[i];
        });
        return value.Length <= ShownLength ? printable : $"{printable}... ({value.Length} characters)";
    }
}
