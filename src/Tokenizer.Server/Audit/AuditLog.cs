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

    [LoggerMessage(EventId = 2151, EventName = "AuditAnchorFailed", Level = LogLevel.Error,
        Message = "The audit anchor could not be written to {Store}; the next attempt follows: {ExceptionType}")]
    public static partial void AnchorFailed(ILogger logger, string store, string exceptionType);

    [LoggerMessage(EventId = 2152, EventName = "AuditAnchorAheadOfTrail", Level = LogLevel.Critical,
        Message = "The audit anchor in {Store} is at sequence {AnchoredSequence} but the trail's head is {HeadSequence} or does not match it: audit records were deleted while the service ran")]
    public static partial void AnchorAheadOfTrail(ILogger logger, string store, long anchoredSequence, long headSequence);

    [LoggerMessage(EventId = 2153, EventName = "AuditAnchorInvalid", Level = LogLevel.Critical,
        Message = "The audit anchor in {Store} fails its seal under the configured audit keys: it was edited or forged; it is left as found")]
    public static partial void AnchorInvalid(ILogger logger, string store);

    [LoggerMessage(EventId = 2154, EventName = "AuditAnchorMissing", Level = LogLevel.Warning,
        Message = "No audit anchor in {Store} for a trail of {HeadSequence} records: a new anchor starts now (expected on the first start with anchoring, or after an operator removed it)")]
    public static partial void AnchorMissing(ILogger logger, string store, long headSequence);

    [LoggerMessage(EventId = 2157, EventName = "AuditTrailEmptied", Level = LogLevel.Warning,
        Message = "The audit trail is empty and there is no audit anchor in {Store}, yet this ledger was started before (it holds key check values): its records and the anchor were deleted; a new trail starts now")]
    public static partial void TrailEmptied(ILogger logger, string store);

    [LoggerMessage(EventId = 2158, EventName = "KeyCheckStored", Level = LogLevel.Information,
        Message = "The check value of {Secret} is stored: the ledger held no check value and nothing keyed by it (a first start)")]
    public static partial void KeyCheckStored(ILogger logger, string secret);

    [LoggerMessage(EventId = 2159, EventName = "KeyCheckAdopted", Level = LogLevel.Warning,
        Message = "The check value of {Secret} was missing although the ledger holds data keyed by it, and Tokenizer:AdoptKeyChecks is set: the configured secret's check value is stored and from now on required. Remove Tokenizer:AdoptKeyChecks")]
    public static partial void KeyCheckAdopted(ILogger logger, string secret);

    [LoggerMessage(EventId = 2155, EventName = "AuditGuardRestored", Level = LogLevel.Warning,
        Message = "The audit trail's append-only guard {Guard} was missing or changed (dropped or replaced in the database while the service was stopped) and is restored; the whole chain is verified next")]
    public static partial void GuardRestored(ILogger logger, string guard);

    [LoggerMessage(EventId = 2156, EventName = "AuditGuardsNotRestored", Level = LogLevel.Warning,
        Message = "The audit trail's append-only guards could not be checked or restored (the database role may not own audit_events); the MAC chain still detects edits: {ExceptionType}")]
    public static partial void GuardsNotRestored(ILogger logger, string exceptionType);
}
