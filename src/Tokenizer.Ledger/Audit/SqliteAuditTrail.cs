using Microsoft.Extensions.Logging;
using Tokenizer.Ledger.Sqlite;

namespace Tokenizer.Ledger.Audit;

/// <summary>
/// The tamper-evident audit trail (see <see cref="RelationalAuditTrail"/>) in the ledger's SQLite file. Register as a
/// singleton per database file (in the service: built on the <see cref="SqliteTokenLedger"/>, sharing its write queue)
/// and call <see cref="RelationalAuditTrail.InitializeAsync"/> before anything else. Thread-safe.
/// </summary>
/// <remarks>
/// Appends are serialised in-process (an async gate) and across processes (<c>BEGIN IMMEDIATE</c>); a commit is on
/// disk before <see cref="RelationalAuditTrail.AppendAsync"/> returns (WAL, <c>synchronous=FULL</c>). Database failures
/// surface as <see cref="Microsoft.Data.Sqlite.SqliteException"/>. Triggers refuse UPDATE and DELETE; anyone who can
/// write the file can drop them, and the MAC chain detects what they do then. Disposing refuses further appends and,
/// unless the file is the token ledger's, closes its pooled connections.
/// </remarks>
public sealed class SqliteAuditTrail : RelationalAuditTrail
{
    /// <param name="options">Where the database lives: the ledger's file (the audit trail is its migration 2).</param>
    /// <param name="auditKey">
    /// The audit HMAC key, at least 32 bytes; copied. A secret of its own: never the request HMAC secret, and kept off
    /// the disk that holds the database where possible.
    /// </param>
    /// <param name="timeProvider">The clock for migration records.</param>
    /// <param name="logger">Migration and retry events; never record contents.</param>
    /// <exception cref="ArgumentException">The database path is empty or the key is shorter than 32 bytes.</exception>
    /// <remarks>
    /// The trail opens the file on its own: its appends and another instance's writes (the token ledger's, another
    /// process's) meet at SQLite's lock and busy timeout. In the service, prefer the constructor that shares the token
    /// ledger's connection settings and write queue.
    /// </remarks>
    public SqliteAuditTrail(
        SqliteLedgerOptions options,
        byte[] auditKey,
        TimeProvider timeProvider,
        ILogger<SqliteAuditTrail> logger)
        : base(CopyKey(auditKey), OwnDatabase(options, logger), ownsDatabase: true, timeProvider)
    {
    }

    /// <summary>
    /// The audit trail in the file of <paramref name="ledger"/>, sharing its in-process write queue: ledger writes and
    /// audit appends take turns on one async gate instead of polling SQLite's busy handler against each other, so
    /// neither starves the other under load. The ledger keeps owning the file (disposing the trail leaves it open).
    /// </summary>
    /// <param name="ledger">The token ledger whose file holds the trail; must outlive this trail.</param>
    /// <param name="auditKey">As for the other constructor: at least 32 bytes, copied, its own secret.</param>
    /// <param name="timeProvider">The clock for migration records.</param>
    /// <exception cref="ArgumentException">The key is shorter than 32 bytes.</exception>
    public SqliteAuditTrail(SqliteTokenLedger ledger, byte[] auditKey, TimeProvider timeProvider)
        : base(CopyKey(auditKey), (ledger ?? throw new ArgumentNullException(nameof(ledger))).Database, ownsDatabase: false, timeProvider)
    {
        // The ledger audits calls cut off by a crash in the transactions that find them (see RelationalTokenLedger).
        ledger.AuditTrail = this;
    }

    /// <summary>As the constructor above, with a key ring: the current key signs, every key of the ring verifies.</summary>
    /// <param name="ledger">The token ledger whose file holds the trail; must outlive this trail.</param>
    /// <param name="keys">The audit keys.</param>
    /// <param name="timeProvider">The clock for migration records.</param>
    public SqliteAuditTrail(SqliteTokenLedger ledger, AuditKeyRing keys, TimeProvider timeProvider)
        : base(keys, (ledger ?? throw new ArgumentNullException(nameof(ledger))).Database, ownsDatabase: false, timeProvider)
    {
        // The ledger audits calls cut off by a crash in the transactions that find them (see RelationalTokenLedger).
        ledger.AuditTrail = this;
    }

    private SqliteAuditTrail(AuditKeyRing keys, SqliteDatabase database, TimeProvider timeProvider)
        : base(keys, database, ownsDatabase: true, timeProvider)
    {
    }

    /// <summary>
    /// The trail in an existing ledger file, opened read-only, for verifying a stopped server's trail (<c>tokenizer audit
    /// verify --offline</c>): <see cref="RelationalAuditTrail.VerifyAsync"/>, <see cref="RelationalAuditTrail.CheckAsync"/>
    /// and <see cref="RelationalAuditTrail.ReadAsync"/> work; every write fails (SQLite refuses it), and no migration runs.
    /// </summary>
    /// <param name="databasePath">The ledger file (<c>{DataDirectory}/ledger/tokenizer.db</c>); must exist.</param>
    /// <param name="keys">The audit keys that verify the chain.</param>
    /// <param name="logger">Read retry events; never record contents.</param>
    /// <exception cref="FileNotFoundException">No file at <paramref name="databasePath"/>.</exception>
    public static SqliteAuditTrail OpenReadOnly(string databasePath, AuditKeyRing keys, ILogger<SqliteAuditTrail> logger)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(databasePath);
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(logger);
        if (!File.Exists(databasePath))
        {
            throw new FileNotFoundException("The ledger database file does not exist.", databasePath);
        }

        return new SqliteAuditTrail(keys, new SqliteDatabase(databasePath, logger, readOnly: true), TimeProvider.System);
    }

    /// <summary>The SQLite plumbing, for tests that inspect pragmas.</summary>
    internal SqliteDatabase Database => (SqliteDatabase)LedgerDatabase;

    private static SqliteDatabase OwnDatabase(SqliteLedgerOptions options, ILogger<SqliteAuditTrail> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        if (string.IsNullOrWhiteSpace(options.DatabasePath))
        {
            throw new ArgumentException("SqliteLedgerOptions.DatabasePath must be set", nameof(options));
        }

        return new SqliteDatabase(options.DatabasePath, logger, options.BusyTimeout);
    }
}
