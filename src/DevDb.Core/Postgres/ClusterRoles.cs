namespace DevDb.Core.Postgres;

/// <summary>
/// The roles DevDb puts in every cluster it makes, the same in every runtime. Developers never
/// get <see cref="Admin"/>; <see cref="Owner"/> owns what a restore creates and becomes the
/// database's login when it is cloned (<see cref="LoginRole"/>).
/// </summary>
public static class ClusterRoles
{
    /// <summary>
    /// The bootstrap superuser (initdb -U). Not named <c>postgres</c>, so a plain SQL dump's
    /// <c>OWNER TO postgres</c> names an ordinary role that the developer's login is a member of.
    /// Reached only by DevDb's own OS identity through the server's socket (peer authentication).
    /// </summary>
    public const string Admin = "devdb_admin";

    /// <summary>Owns the restored database and every object in it; not a superuser, holds no predefined role.</summary>
    public const string Owner = "devdb_owner";

    /// <summary>The pg_ident.conf map that ties DevDb's OS identities to the roles they may use.</summary>
    public const string PeerMap = "devdb";
}
