using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Tokenizer.Core.Ports;
using Tokenizer.Ledger.Sqlite;

namespace Tokenizer.Ledger;

/// <summary>
/// The ledger (<see cref="RelationalTokenLedger"/>: schema and stores) on one SQLite file: WAL, <c>synchronous=FULL</c> (a commit is durable when the call
/// returns), a connection per operation from the pool. Register as a singleton (one per database file) and call
/// <see cref="RelationalTokenLedger.InitializeAsync"/> before anything else. Thread-safe.
/// </summary>
/// <remarks>
/// <see cref="RelationalTokenLedger.InitializeAsync"/> creates the parent directory and the file, switches it to WAL,
/// and applies pending migrations each in its own transaction; it throws <see cref="InvalidOperationException"/> if the
/// file holds a newer schema than this build or cannot use WAL. Writers in this process queue on one async gate;
/// writers in other processes meet at <c>BEGIN IMMEDIATE</c> and SQLite's busy timeout. A database that cannot be
/// reached or written (a lock held past the busy timeout on every retry, read-only, disk full, I/O error, cannot open)
/// surfaces as <see cref="Tokenizer.Core.Errors.TokenizerException"/> UNAVAILABLE <c>LEDGER_UNAVAILABLE</c>; corruption and schema errors as
/// <see cref="SqliteException"/>. Every write is one transaction: a failure leaves nothing half-written. Disposing closes the file's pooled connections; the last one to close checkpoints the WAL.
/// </remarks>
public sealed class SqliteTokenLedger : RelationalTokenLedger
{
    /// <param name="options">Where the database lives.</param>
    /// <param name="timeProvider">The clock for times the port does not pass in (completion, migration records).</param>
    /// <param name="logger">Migration, retry and anomaly events; never input values.</param>
    /// <exception cref="ArgumentException"><see cref="SqliteLedgerOptions.DatabasePath"/> is empty.</exception>
    public SqliteTokenLedger(SqliteLedgerOptions options, TimeProvider timeProvider, ILogger<SqliteTokenLedger> logger)
        : base(CreateDatabase(options, timeProvider, logger), timeProvider, logger)
    {
    }

    /// <summary>The SQLite plumbing, for the audit trail that shares it and for tests that inspect pragmas.</summary>
    internal SqliteDatabase Database => (SqliteDatabase)LedgerDatabase;

    private static SqliteDatabase CreateDatabase(SqliteLedgerOptions options, TimeProvider timeProvider, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(logger);
        if (string.IsNullOrWhiteSpace(options.DatabasePath))
        {
            throw new ArgumentException("SqliteLedgerOptions.DatabasePath must be set", nameof(options));
        }

        return new SqliteDatabase(options.DatabasePath, logger, options.BusyTimeout);
    }
}
