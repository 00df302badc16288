using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using DevDb.Core.Postgres;

namespace DevDb.Core.Runtimes.Local;

/// <summary>
/// The files DevDb writes into a data folder before its server starts: devdb.conf (which
/// postgresql.conf includes: port, addresses, socket folder, TLS), the client authentication
/// files (<see cref="ClientAuthentication"/>) and a TLS certificate. Each belongs to the server's
/// user and is readable by it alone.
/// </summary>
internal static class ServerFiles
{
    public const string ConfigFile = "devdb.conf";

    /// <summary>Appended to an image's postgresql.conf at initdb, so each clone's devdb.conf takes effect.</summary>
    public const string IncludeLine = "\n# DevDb\ninclude_if_exists = '" + ConfigFile + "'\n";

    public static Task WriteConfigAsync(string data, ServerUser owner, string settings, CancellationToken cancellationToken) =>
        WriteAsync(Path.Combine(data, ConfigFile), owner, "# Written by DevDb.\n" + settings.Replace("\\", "\\\\"), cancellationToken);

    /// <summary>pg_hba.conf and pg_ident.conf: who may connect through the socket as which role, and whether TCP logins are taken.</summary>
    public static async Task WriteAccessAsync(string data, ServerUser owner, IReadOnlyList<ClientAuthentication.PeerLogin> peers, bool tcp,
        bool anyAddress, CancellationToken cancellationToken)
    {
        await WriteAsync(Path.Combine(data, "pg_hba.conf"), owner, ClientAuthentication.HbaFile(peers, tcp, anyAddress), cancellationToken);
        await WriteAsync(Path.Combine(data, "pg_ident.conf"), owner, ClientAuthentication.IdentFile(peers), cancellationToken);
    }

    /// <summary>
    /// A self-signed certificate for the server's TLS, made for the host clients are given. It
    /// encrypts; it cannot prove the server's identity to a client (no CA signed it).
    /// Returns the devdb.conf lines that turn TLS on.
    /// </summary>
    public static async Task<string> WriteCertificateAsync(string data, ServerUser owner, string host, CancellationToken cancellationToken)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={host}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        if (IPAddress.TryParse(host, out var address)) names.AddIpAddress(address);
        else names.AddDnsName(host);
        request.CertificateExtensions.Add(names.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddYears(5));
        var certificatePath = Path.Combine(data, "devdb-server.crt");
        var keyPath = Path.Combine(data, "devdb-server.key");
        await WriteAsync(certificatePath, owner, certificate.ExportCertificatePem(), cancellationToken);
        // Postgres refuses a key file that others can read.
        await WriteAsync(keyPath, owner, key.ExportPkcs8PrivateKeyPem(), cancellationToken);
        return $"ssl = on\nssl_cert_file = '{certificatePath}'\nssl_key_file = '{keyPath}'\n";
    }

    /// <summary>Replaces a file with content only its owner (the server's user) can read.</summary>
    private static async Task WriteAsync(string path, ServerUser owner, string content, CancellationToken cancellationToken)
    {
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        await using (var file = new StreamWriter(path, options))
            await file.WriteAsync(content.AsMemory(), cancellationToken);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        owner.Own(path);
    }
}
