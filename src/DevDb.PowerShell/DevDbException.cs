using System.Management.Automation;

namespace DevDb.Commands;

/// <summary>
/// The exception behind every error a DevDb cmdlet reports, so that scripts can catch DevDb's
/// errors by type: <c>catch [DevDb.Commands.DevDbException] { $_.Exception.ErrorCode }</c>.
/// </summary>
/// <remarks>
/// <see cref="ErrorCode"/> is the stable id of the problem (for example DatabaseNotFound); it is
/// also the start of the ErrorRecord's FullyQualifiedErrorId (DatabaseNotFound,DevDb.Commands.GetDevDbDatabaseCommand)
/// and the same in every mode (local engine, DevDb API, Kubernetes).
/// </remarks>
public sealed class DevDbException : Exception
{
    private DevDbException(string errorCode, ErrorCategory category, string message, string? recommendedAction, string? target,
        Exception? innerException = null)
        : base(message, innerException)
    {
        ErrorCode = errorCode;
        Category = category;
        RecommendedAction = recommendedAction;
        Target = target;
    }

    /// <summary>The stable id of the problem, e.g. DatabaseNotFound or ProjectHasDatabases (the README's Troubleshooting table lists them).</summary>
    public string ErrorCode { get; }

    /// <summary>The kind of problem, as PowerShell's ErrorCategory (ObjectNotFound, InvalidArgument, ...).</summary>
    public ErrorCategory Category { get; }

    /// <summary>What to do about it, in one sentence.</summary>
    public string? RecommendedAction { get; }

    /// <summary>The name or address the error is about (only a short prefix of what was typed).</summary>
    public string? Target { get; }

    /// <summary>The exception of an error DevDb's engine or server reported.</summary>
    internal static DevDbException From(Core.DevDbException error) =>
        new(error.Code, ErrorRecords.Map(error.Category), error.Message, error.RecommendedAction, error.Target, error);
}
