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

    public void Save(string database, string password) => IO.PrivateFiles.Write(PathOf(database), System.Text.Encoding.UTF8.GetBytes(password));

    public string Read(string database) => File.ReadAllText(PathOf(database));

    public void Delete(string database) => File.Delete(PathOf(database));

    private string PathOf(string database) => Path.Combine(folder, database);
}
