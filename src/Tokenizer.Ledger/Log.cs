using Microsoft.Extensions.Logging;

namespace Tokenizer.Ledger;

/// <summary>The ledger's log events (3001-3099). Never logs caller ids, idempotency keys, references or responses.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 3001, EventName = "LedgerMigrationApplied", Level = LogLevel.Information,
        Message = "Applied ledger schema migration {Version} ({Name})")]
    public static partial void MigrationApplied(ILogger logger, int version, string name);

    [LoggerMessage(EventId = 3002, EventName = "LedgerBusyRetry", Level = LogLevel.Warning,
        Message = "Ledger database busy; retrying the transaction (attempt {Attempt} of {MaxAttempts})")]
    public static partial void BusyRetry(ILogger logger, int attempt, int maxAttempts);

    [LoggerMessage(EventId = 3003, EventName = "LedgerCompletedWithoutPendingClaim", Level = LogLevel.Warning,
        Message = "Recorded token {Token}, but its idempotency claim was not pending (released, or completed by another owner)")]
    public static partial void CompletedWithoutPendingClaim(ILogger logger, string token);

    [LoggerMessage(EventId = 3004, EventName = "LedgerTransientRetry", Level = LogLevel.Warning,
        Message = "Ledger transaction failed with SQLSTATE {SqlState} (serialization failure or deadlock); retrying (attempt {Attempt} of {MaxAttempts})")]
    public static partial void TransientRetry(ILogger logger, string sqlState, int attempt, int maxAttempts);

    [LoggerMessage(EventId = 3005, EventName = "LedgerUnavailable", Level = LogLevel.Error,
        Message = "Ledger database unavailable (SQLite error {SqliteErrorCode}, extended {SqliteExtendedErrorCode}); the operation failed with LEDGER_UNAVAILABLE and nothing was written")]
    public static partial void Unavailable(ILogger logger, int sqliteErrorCode, int sqliteExtendedErrorCode);

    [LoggerMessage(EventId = 3040, EventName = "LedgerFileMoved", Level = LogLevel.Critical,
        Message = "The ledger database file {Path} was deleted or moved while the server had it open; every ledger read and write now fails with LEDGER_UNAVAILABLE until the server restarts (a restart opens whatever is at that path)")]
    public static partial void FileMoved(ILogger logger, string path);

    [LoggerMessage(EventId = 3041, EventName = "LedgerCheckpointIncomplete", Level = LogLevel.Warning,
        Message = "After an erasure the ledger's WAL could not be checkpointed and truncated (readers or writers held it); its old frames are overwritten by later writes or removed at the next checkpoint")]
    public static partial void CheckpointIncomplete(ILogger logger);
}
