namespace DevDb.Core;

/// <summary>What kind of failure an error is; the PowerShell layer maps it to an ErrorCategory.</summary>
public enum DevDbErrorCategory
{
    InvalidArgument,
    ObjectNotFound,
    ResourceExists,
    InvalidOperation,
    InvalidData,
    ConnectionError,
    PermissionDenied,
    NotInstalled,
    ResourceUnavailable,
    ResourceBusy,
    OperationTimeout,
    QuotaExceeded,
}

/// <summary>
/// Every failure DevDb reports on purpose. <see cref="Code"/> is stable: cmdlets use it as the
/// ErrorId, the API as the problem code, and tests assert it.
/// </summary>
public sealed class DevDbException : Exception
{
    // Only DevDbErrors makes new ones (one factory per code), so each code keeps one meaning and one category.
    internal DevDbException(string code, string message, string? recommendedAction, string? target, Exception? inner)
        : base(message, inner)
    {
        Code = code;
        Category = ErrorCodes.CategoryOf(code);
        RecommendedAction = recommendedAction;
        Target = target;
    }

    public string Code { get; }
    public DevDbErrorCategory Category { get; }
    /// <summary>What the user can do about it, in one sentence.</summary>
    public string? RecommendedAction { get; }
    /// <summary>The name or address the error is about.</summary>
    public string? Target { get; }

    /// <summary>
    /// An error DevDb reported before, raised again: from a record (a Failed database, a failed
    /// build), a problem document of the API, or a pod's termination message. Its code stays.
    /// </summary>
    public static DevDbException Reported(string code, string message, string? recommendedAction, string? target) =>
        new(code, message, recommendedAction, target, inner: null);

    /// <summary>The same error in other words (e.g. with an address redacted or a file name replaced by the address it came from).</summary>
    public DevDbException WithText(string message, string? recommendedAction, string? target) =>
        new(Code, message, recommendedAction, target, this);
}
