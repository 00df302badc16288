using System.Management.Automation;
using DevDb.Core;

namespace DevDb.Commands;

/// <summary>Turns a <see cref="DevDbException"/> into the ErrorRecord users and scripts see.</summary>
internal static class ErrorRecords
{
    public static ErrorRecord From(DevDbException exception)
    {
        var record = new ErrorRecord(exception, exception.ErrorCode, exception.Category, exception.Target);
        if (exception.RecommendedAction is { } action)
        {
            record.ErrorDetails = new ErrorDetails(exception.Message) { RecommendedAction = action };
        }
        return record;
    }

    public static ErrorCategory Map(DevDbErrorCategory category) => category switch
    {
        DevDbErrorCategory.InvalidArgument => ErrorCategory.InvalidArgument,
        DevDbErrorCategory.ObjectNotFound => ErrorCategory.ObjectNotFound,
        DevDbErrorCategory.ResourceExists => ErrorCategory.ResourceExists,
        DevDbErrorCategory.InvalidOperation => ErrorCategory.InvalidOperation,
        DevDbErrorCategory.InvalidData => ErrorCategory.InvalidData,
        DevDbErrorCategory.ConnectionError => ErrorCategory.ConnectionError,
        DevDbErrorCategory.PermissionDenied => ErrorCategory.PermissionDenied,
        DevDbErrorCategory.NotInstalled => ErrorCategory.NotInstalled,
        DevDbErrorCategory.ResourceUnavailable => ErrorCategory.ResourceUnavailable,
        DevDbErrorCategory.ResourceBusy => ErrorCategory.ResourceBusy,
        DevDbErrorCategory.OperationTimeout => ErrorCategory.OperationTimeout,
        DevDbErrorCategory.QuotaExceeded => ErrorCategory.QuotaExceeded,
        _ => ErrorCategory.NotSpecified,
    };
}
