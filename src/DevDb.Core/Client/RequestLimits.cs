using DevDb.Core.Model;
using DevDb.Core.Rules;
using DevDb.Core.Sources;

namespace DevDb.Core.Client;

/// <summary>
/// The shape and sizes a request may have, checked the same way by both engines before anything is
/// recorded (the API also bounds whole request bodies to <see cref="MaxRequestBytes"/>).
/// </summary>
public static class RequestLimits
{
    /// <summary>The largest request body the API reads (HTTP 413 beyond it).</summary>
    public const int MaxRequestBytes = 1024 * 1024;
    /// <summary>Post-restore SQL, in characters (a pod gets it as one command-line argument, which Linux caps at 128 KiB).</summary>
    public const int MaxPostRestoreSql = 64 * 1024;
    /// <summary>An owner's name (a user name as the API's tokens or the OS give it).</summary>
    public const int MaxOwner = 256;

    public static void Check(NewProjectRequest request)
    {
        Names.Validate(request.Name, "project");
        Names.ValidateDatabaseName(request.DatabaseName);
        ProjectRules.CheckPostgresVersion(request.PostgresVersion);
        CheckSource(request.Source);
        CheckSql(request.PostRestoreSql);
    }

    public static void Check(UpdateProjectRequest request)
    {
        if (request.Source is not null) CheckSource(request.Source);
        CheckSql(request.PostRestoreSql);
    }

    public static void Check(NewDatabaseRequest request)
    {
        Names.Validate(request.Name, "database");
        CheckpointRules.CheckBranchRequest(request);
        if (request.Owner is { Length: > MaxOwner } owner)
            throw TooLong("owner", owner.Length, MaxOwner, "Give the owner's user name.");
    }

    private static void CheckSource(string? source)
    {
        if (source is { Length: > DumpSources.MaxLength })
            throw TooLong("source", source.Length, DumpSources.MaxLength, "Give the dump's address: a path, an https:// URL or s3://bucket/key.");
    }

    private static void CheckSql(string? sql)
    {
        if (sql is { Length: > MaxPostRestoreSql })
            throw TooLong("post-restore SQL", sql.Length, MaxPostRestoreSql, "Keep the post-restore SQL to statements such as masking updates; load data through the dump.");
    }

    private static DevDbException TooLong(string what, int length, int limit, string action) =>
        DevDbErrors.RequestInvalid($"The {what} has {length} characters; DevDb takes at most {limit}.", action, what);
}
