namespace Tokenizer.Server.Audit;

/// <summary>
/// The audit trail's log events (2101-2199). Never logs record contents beyond the action name, nor exception messages
/// (a library's message may quote input): only the exception type.
/// </summary>
internal static partial class AuditLog
{
    /// <summary>The name logged for an exception: its type, never its message.</summary>
    public static string Describe(Exception failure) => failure.GetType().FullName ?? "unknown";

    [LoggerMessage(EventId = 2101, EventName = "AuditAppendFailed", Level = LogLevel.Critical,
        Message = "The audit trail could not record {Action}; the call failed with AUDIT_UNAVAILABLE: {ExceptionType}")]
    public static partial void AppendFailed(ILogger logger, string action, string exceptionType);

    [LoggerMessage(EventId = 2103, EventName = "AuditStopNotRecorded", Level = LogLevel.Critical,
        Message = "The audit trail could not record the service stopping: {ExceptionType}")]
    public static partial void StopNotRecorded(ILogger logger, string exceptionType);

    [LoggerMessage(EventId = 2104, EventName = "AuditRefusedCallsNotRecorded", Level = LogLevel.Critical,
        Message = "The audit trail could not record {Calls} refused calls (aggregated); they were refused anyway: {ExceptionType}")]
    public static partial void RefusedCallsNotRecorded(ILogger logger, long calls, string exceptionType);
}
