using System.Security.Cryptography;

namespace DevDb.Core;

/// <summary>Database passwords, made the same way by every engine.</summary>
public static class Passwords
{
    private const string Alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";

    /// <summary>32 characters from a 57-letter alphabet: about 186 bits, and safe in any connection-string format.</summary>
    public static string New() => RandomNumberGenerator.GetString(Alphabet, 32);
}
