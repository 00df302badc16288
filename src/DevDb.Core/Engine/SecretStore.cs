using System.Security.Cryptography;

namespace DevDb.Core.Engine;

/// <summary>
/// Database passwords: generated here, kept one per file readable by the current user alone,
/// never written to the catalog or any log.
/// </summary>
public sealed class SecretStore(string folder)
{
    private const string Alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";

    /// <summary>32 characters from a 57-letter alphabet: about 186 bits, and safe in any connection-string format.</summary>
    public static string NewPassword() => RandomNumberGenerator.GetString(Alphabet, 32);

    public void Save(string database, string password)
    {
        var path = PathOf(database);
        var temporary = path + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var stream = new FileStream(temporary, options))
        using (var writer = new StreamWriter(stream))
            writer.Write(password);
        File.Move(temporary, path, overwrite: true);
    }

    public string Read(string database) => File.ReadAllText(PathOf(database));

    public void Delete(string database) => File.Delete(PathOf(database));

    private string PathOf(string database) => Path.Combine(folder, database);
}
