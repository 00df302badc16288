namespace DevDb.Core.Engine;

/// <summary>
/// The local engine's database passwords (<see cref="Passwords.New"/>): one per file readable by
/// the current user alone, never written to the catalog or any log.
/// </summary>
public sealed class SecretStore(string folder)
{
    public void Save(string database, string password) => IO.PrivateFiles.Write(PathOf(database), System.Text.Encoding.UTF8.GetBytes(password));

    public string Read(string database) => File.ReadAllText(PathOf(database));

    public void Delete(string database) => File.Delete(PathOf(database));

    private string PathOf(string database) => Path.Combine(folder, database);
}
