using System.Text;

namespace DevDb.Core.Postgres;

/// <summary>
/// Who may connect to a DevDb server, and how: the pg_hba.conf and pg_ident.conf DevDb writes
/// into every cluster. No <c>trust</c> anywhere. The admin role is reached only through the
/// server's own socket by the OS identities mapped to it (peer); over TCP it is refused; every
/// other role logs in over TCP with its password (scram-sha-256).
/// </summary>
public static class ClientAuthentication
{
    /// <summary>An OS user that may connect through the socket as a role (a line of pg_ident.conf).</summary>
    public sealed record PeerLogin(string OsUser, string Role);

    /// <param name="peers">OS users that may use the socket, and as which role.</param>
    /// <param name="tcp">True for a database server (logins over TCP); false for a restore server, which has no TCP.</param>
    /// <param name="anyAddress">True when clients on other machines may connect (the server listens beyond loopback).</param>
    public static string HbaFile(IEnumerable<PeerLogin> peers, bool tcp, bool anyAddress)
    {
        var text = new StringBuilder("# Written by DevDb: no trust; the admin only through the socket, by the OS users pg_ident.conf maps.\n");
        foreach (var role in peers.Select(p => p.Role).Distinct(StringComparer.Ordinal))
            text.Append($"local all {role} peer map={ClusterRoles.PeerMap}\n");
        if (!tcp) return text.ToString();
        text.Append($"host all {ClusterRoles.Admin} all reject\n");
        text.Append("host all all 127.0.0.1/32 scram-sha-256\nhost all all ::1/128 scram-sha-256\n");
        if (anyAddress) text.Append("host all all 0.0.0.0/0 scram-sha-256\nhost all all ::/0 scram-sha-256\n");
        return text.ToString();
    }

    public static string IdentFile(IEnumerable<PeerLogin> peers) =>
        "# Written by DevDb.\n" + string.Concat(peers.Distinct().Select(p => $"{ClusterRoles.PeerMap} {p.OsUser} {p.Role}\n"));

    /// <summary>The OS user of a Kubernetes pod's containers: postgres (uid 999), as in the official postgres image.</summary>
    public const string PodOsUser = "postgres";

    /// <summary>In a pod the container's one OS user is DevDb's admin and, during a restore, the owner, through the socket.</summary>
    private static readonly PeerLogin[] PodPeers = [new(PodOsUser, ClusterRoles.Admin), new(PodOsUser, ClusterRoles.Owner)];

    /// <summary>pg_hba.conf of a cluster in a pod: the socket as above, TCP from any address (the router, the load balancer) with a password.</summary>
    public static string PodHbaFile => HbaFile(PodPeers, tcp: true, anyAddress: true);

    public static string PodIdentFile => IdentFile(PodPeers);
}
