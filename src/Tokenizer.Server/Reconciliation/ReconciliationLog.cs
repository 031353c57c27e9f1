namespace Tokenizer.Server.Reconciliation;

/// <summary>
/// Reconciliation log events (7001-7099). Run ids are ours (<c>rec_</c> and random letters), reasons and states are constants,
/// counts are numbers: no token, reference or card data is logged.
/// </summary>
internal static partial class ReconciliationLog
{
    [LoggerMessage(EventId = 7001, EventName = "ReconciliationCompleted", Level = LogLevel.Information,
        Message = "Reconciliation {RunId} completed: {Items} tokens, all matched")]
    public static partial void Completed(ILogger logger, string runId, long items);

    [LoggerMessage(EventId = 7002, EventName = "ReconciliationDiscrepancies", Level = LogLevel.Warning,
        Message = "Reconciliation {RunId} completed with {Discrepancies} discrepancies among {Items} tokens (missing at gateway {MissingAtGateway}, missing in ledger {MissingInLedger}, status mismatch {StatusMismatch}, field mismatch {FieldMismatch}, pending {Pending})")]
    public static partial void Discrepancies(
        ILogger logger,
        string runId,
        long discrepancies,
        long items,
        long missingAtGateway,
        long missingInLedger,
        long statusMismatch,
        long fieldMismatch,
        long pending);

    [LoggerMessage(EventId = 7003, EventName = "ReconciliationInterrupted", Level = LogLevel.Warning,
        Message = "Reconciliation {RunId} interrupted ({Reason}); it resumes from its cursor")]
    public static partial void Interrupted(ILogger logger, string runId, string reason);

    [LoggerMessage(EventId = 7004, EventName = "ReconciliationFailed", Level = LogLevel.Error,
        Message = "Reconciliation {RunId} failed ({Reason})")]
    public static partial void Failed(ILogger logger, string runId, string reason);

    [LoggerMessage(EventId = 7005, EventName = "ReconciliationScheduled", Level = LogLevel.Information,
        Message = "Scheduled reconciliation {RunId} started for {Day}")]
    public static partial void Scheduled(ILogger logger, string runId, string day);

    [LoggerMessage(EventId = 7006, EventName = "ReconciliationWorkerError", Level = LogLevel.Error,
        Message = "The reconciliation worker failed a pass and tries again later: {ExceptionType}")]
    public static partial void WorkerError(ILogger logger, string exceptionType);
}
