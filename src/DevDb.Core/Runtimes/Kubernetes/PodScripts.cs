namespace DevDb.Core.Runtimes.Kubernetes;

/// <summary>
/// The POSIX sh scripts that run inside the pods, in the official <c>postgres:&lt;major&gt;</c> image
/// (<c>sh -c &lt;script&gt;</c>), so no DevDb image is needed there. Embedded from Scripts/*.sh.
/// </summary>
internal static class PodScripts
{
    /// <summary>The restore Job's <c>restore</c> container: builds an image from the fetched dump (see restore.sh for its environment).</summary>
    public static string Restore { get; } = Read("restore.sh");

    /// <summary>A database pod's <c>set-password</c> init container (see set-password.sh for its environment), with DevDb's login rule in it.</summary>
    public static string SetPassword { get; } = Read("set-password.sh").Replace("@LOGIN_SQL@", Postgres.LoginRole.SetUpSql, StringComparison.Ordinal);

    private static string Read(string fileName)
    {
        var name = $"DevDb.Core.Kubernetes.{fileName}";
        using var stream = typeof(PodScripts).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"The embedded script '{name}' is missing from {typeof(PodScripts).Assembly.GetName().Name}.");
        using var reader = new StreamReader(stream);
        // sh cannot run a script with CRLF line ends (a Windows checkout with autocrlf would make them).
        return reader.ReadToEnd().Replace("\r\n", "\n", StringComparison.Ordinal);
    }
}
