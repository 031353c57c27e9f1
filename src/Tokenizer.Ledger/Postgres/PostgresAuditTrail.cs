using Microsoft.Extensions.Logging;
using Tokenizer.Ledger.Audit;

namespace Tokenizer.Ledger.Postgres;

/// <summary>
/// The tamper-evident audit trail (see <see cref="RelationalAuditTrail"/>) in the ledger's PostgreSQL database, one
/// chain however many replicas append to it. Register as a singleton per database (in the service: built on the
/// <see cref="PostgresTokenLedger"/>, sharing its connection pool) and call
/// <see cref="RelationalAuditTrail.InitializeAsync"/> before anything else. Thread-safe.
/// </summary>
/// <remarks>
/// Each append takes the transaction-scoped advisory lock "tkz-audt" first, so appends from every process and replica
/// run one at a time: each reads the head the previous one committed and inserts sequence + 1. The lock is released at
/// commit or rollback, also when a connection dies. Database failures surface as <see cref="Npgsql.NpgsqlException"/>.
/// Triggers refuse UPDATE, DELETE and TRUNCATE and the migrating role loses those privileges on the table; an owner or
/// superuser can undo both, and the MAC chain detects what they do then. Disposing refuses further appends and, unless
/// the pool is the token ledger's, closes it.
/// </remarks>
public sealed class PostgresAuditTrail : RelationalAuditTrail
{
    /// <param name="options">The ledger's database (the audit trail is its migration 2).</param>
    /// <param name="auditKey">
    /// The audit HMAC key, at least 32 bytes; copied. A secret of its own: never the request HMAC secret, and never
    /// stored in the database.
    /// </param>
    /// <param name="timeProvider">The clock for migration records.</param>
    /// <param name="loggerFactory">Migration and retry events and Npgsql's own; never record contents.</param>
    /// <exception cref="ArgumentException">The connection string is empty or malformed, or the key is shorter than 32 bytes.</exception>
    /// <remarks>The trail opens a connection pool of its own. In the service, prefer the constructor that shares the ledger's.</remarks>
    public PostgresAuditTrail(PostgresLedgerOptions options, byte[] auditKey, TimeProvider timeProvider, ILoggerFactory loggerFactory)
        : base(CopyKey(auditKey), OwnDatabase(options, loggerFactory), ownsDatabase: true, timeProvider)
    {
    }

    /// <summary>The audit trail in the database of <paramref name="ledger"/>, on its connection pool. Disposing the trail leaves the pool open.</summary>
    /// <param name="ledger">The token ledger whose database holds the trail; must outlive this trail.</param>
    /// <param name="auditKey">As for the other constructor: at least 32 bytes, copied, its own secret.</param>
    /// <param name="timeProvider">The clock for migration records.</param>
    /// <exception cref="ArgumentException">The key is shorter than 32 bytes.</exception>
    public PostgresAuditTrail(PostgresTokenLedger ledger, byte[] auditKey, TimeProvider timeProvider)
        : base(CopyKey(auditKey), (ledger ?? throw new ArgumentNullException(nameof(ledger))).Database, ownsDatabase: false, timeProvider)
    {
        // The ledger audits calls cut off by a crash in the transactions that find them (see RelationalTokenLedger).
        ledger.AuditTrail = this;
    }

    /// <summary>As the constructor above, with a key ring: the current key signs, every key of the ring verifies.</summary>
    /// <param name="ledger">The token ledger whose database holds the trail; must outlive this trail.</param>
    /// <param name="keys">The audit keys.</param>
    /// <param name="timeProvider">The clock for migration records.</param>
    public PostgresAuditTrail(PostgresTokenLedger ledger, AuditKeyRing keys, TimeProvider timeProvider)
        : base(keys, (ledger ?? throw new ArgumentNullException(nameof(ledger))).Database, ownsDatabase: false, timeProvider)
    {
        // The ledger audits calls cut off by a crash in the transactions that find them (see RelationalTokenLedger).
        ledger.AuditTrail = this;
    }

    private static PostgresDatabase OwnDatabase(PostgresLedgerOptions options, ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        return new PostgresDatabase(options.ConnectionString, loggerFactory, loggerFactory.CreateLogger<PostgresAuditTrail>());
    }
}
