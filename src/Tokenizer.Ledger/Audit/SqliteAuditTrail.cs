using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Tokenizer.Core.Audit;
using Tokenizer.Ledger.Schema;
using Tokenizer.Ledger.Sqlite;

namespace Tokenizer.Ledger.Audit;

/// <summary>
/// The tamper-evident audit trail (PCI DSS 10.2, 10.3) in the ledger's SQLite file, table <c>audit_events</c>
/// (migration 2): an append-only chain in which each record's MAC is HMAC-SHA256(audit key, canonical record including
/// the previous record's MAC), see <see cref="AuditChain"/>. Register as a singleton per database file (in the service:
/// built on the <see cref="SqliteTokenLedger"/>, sharing its write queue) and call <see cref="InitializeAsync"/> before
/// anything else. Thread-safe.
/// </summary>
/// <remarks>
/// <para>
/// Appends are serialised in-process (an async gate) and across processes (<c>BEGIN IMMEDIATE</c>), so sequences are
/// gapless from 1; a commit is on disk before <see cref="AppendAsync"/> returns (WAL, <c>synchronous=FULL</c>). Every
/// failure throws, and the audited operation must fail with it.
/// </para>
/// <para>
/// Triggers refuse UPDATE and DELETE, which stops the service's own SQL and careless tools. Someone who can write the
/// file can drop them; the MAC chain is what detects the edit, as long as the key is not on the same disk. Deleting the
/// newest records leaves a valid shorter chain: only a head anchored elsewhere (<see cref="AuditVerification.HeadSequence"/>
/// and <see cref="AuditVerification.HeadMac"/>, checked with <see cref="AuditAnchor"/>) detects that.
/// </para>
/// <para>
/// Records hold what <see cref="AuditEvent"/> carries, which is no card, bank or personal data; text is sanitised by
/// <see cref="AuditText"/> (control characters stripped, 200 characters at most, card numbers redacted) before it is
/// signed and stored.
/// </para>
/// </remarks>
public sealed class SqliteAuditTrail : IAuditTrail, IAuditTrailReader, IAsyncDisposable, IDisposable
{
    private const int VerifyPageSize = 1000;
    private const int ExportPageSize = 500;

    private readonly SqliteDatabase database;
    private readonly bool ownsDatabase;
    private readonly TimeProvider timeProvider;
    private readonly byte[] key;
    private volatile bool disposed;

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
        : this(OwnDatabase(options, logger), ownsDatabase: true, auditKey, timeProvider)
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
        : this((ledger ?? throw new ArgumentNullException(nameof(ledger))).Database, ownsDatabase: false, auditKey, timeProvider)
    {
    }

    private SqliteAuditTrail(SqliteDatabase database, bool ownsDatabase, byte[] auditKey, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(auditKey);
        ArgumentNullException.ThrowIfNull(timeProvider);
        if (auditKey.Length < AuditChain.MinKeyLength)
        {
            if (ownsDatabase)
            {
                database.Dispose();
            }

            throw new ArgumentException("the audit key must be at least 32 bytes", nameof(auditKey));
        }

        key = auditKey.ToArray();
        this.timeProvider = timeProvider;
        this.database = database;
        this.ownsDatabase = ownsDatabase;
    }

    /// <summary>The SQLite plumbing, for tests that inspect pragmas or tamper with the file.</summary>
    internal SqliteDatabase Database => database;

    /// <summary>
    /// Creates the file if needed, switches it to WAL and applies pending ledger migrations (including the audit table).
    /// Safe to run next to <see cref="SqliteTokenLedger.InitializeAsync"/> on the same file, in any order.
    /// </summary>
    /// <exception cref="InvalidOperationException">The file holds a newer schema than this build, or cannot use WAL.</exception>
    public Task InitializeAsync(CancellationToken cancellationToken) =>
        database.MigrateAsync(timeProvider.GetUtcNow(), cancellationToken);

    /// <inheritdoc />
    /// <remarks>
    /// In one <c>BEGIN IMMEDIATE</c> transaction: reads the newest record's sequence and MAC, signs the next record and
    /// inserts it; durable when the task completes. Text fields are sanitised first (see <see cref="AuditText"/>).
    /// Pass <see cref="CancellationToken.None"/> when the audited call itself was cancelled: its record still belongs
    /// in the trail.
    /// </remarks>
    /// <exception cref="ArgumentException">The caller id or action is empty once sanitised.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The outcome is not a defined <see cref="AuditOutcome"/>.</exception>
    /// <exception cref="Microsoft.Data.Sqlite.SqliteException">The database refused the write (missing table, read-only or corrupt file, a lock held past every retry).</exception>
    /// <exception cref="ObjectDisposedException">The trail was disposed (e.g. a call still running at shutdown).</exception>
    public Task AppendAsync(AuditEvent auditEvent, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(auditEvent);
        ObjectDisposedException.ThrowIf(disposed, this);
        var callerId = AuditText.Clean(auditEvent.CallerId)
            ?? throw new ArgumentException("the audit record's caller id is empty", nameof(auditEvent));
        var action = AuditText.Clean(auditEvent.Action)
            ?? throw new ArgumentException("the audit record's action is empty", nameof(auditEvent));
        var outcome = AuditRow.OutcomeName(auditEvent.Outcome);
        var time = UnixMicros.From(auditEvent.Time);
        var sourceAddress = AuditText.Clean(auditEvent.SourceAddress);
        var resource = AuditText.Clean(auditEvent.Resource);
        var reason = AuditText.Clean(auditEvent.ReasonCode);
        var correlationId = AuditText.Clean(auditEvent.CorrelationId) ?? string.Empty;

        return database.WriteAsync(
            async (transaction, ct) =>
            {
                ObjectDisposedException.ThrowIf(disposed, this);
                long previousSequence = 0;
                var previousMac = AuditChain.Genesis();
                using (var head = SqliteDatabase.Command(transaction, AuditSql.SelectHead))
                using (var reader = await head.ExecuteReaderAsync(ct).ConfigureAwait(false))
                {
                    if (await reader.ReadAsync(ct).ConfigureAwait(false))
                    {
                        previousSequence = reader.GetInt64(0);
                        previousMac = (byte[])reader.GetValue(1);
                    }
                }

                var unsigned = new AuditRow(
                    checked(previousSequence + 1),
                    time,
                    callerId,
                    sourceAddress,
                    action,
                    resource,
                    outcome,
                    reason,
                    correlationId,
                    previousMac,
                    []);
                var row = unsigned with { Mac = AuditChain.ComputeMac(key, unsigned) };
                using var insert = SqliteDatabase.Command(transaction, AuditSql.Insert);
                row.Bind(insert);
                await insert.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                return row.Sequence;
            },
            cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>
    /// Reads the chain in pages of 1000 records, each page on its own connection, so neither memory nor a WAL snapshot
    /// is held for the whole walk; records appended meanwhile are verified if the walk reaches them.
    /// </remarks>
    public async Task<AuditVerification> VerifyAsync(AuditAnchor? anchor, CancellationToken cancellationToken)
    {
        var verifier = new AuditVerifier(key, anchor);
        while (true)
        {
            var page = await ReadPageAsync(
                AuditSql.SelectChainPage,
                command => command.Bind("@after_sequence", verifier.HeadSequence).Bind("@limit", VerifyPageSize),
                cancellationToken).ConfigureAwait(false);
            foreach (var row in page)
            {
                if (!verifier.Accept(row))
                {
                    return verifier.Result();
                }
            }

            if (page.Count < VerifyPageSize)
            {
                return verifier.Result();
            }
        }
    }

    /// <inheritdoc />
    /// <remarks>Pages of 500 records by keyset on (time, sequence); stored times are whole microseconds.</remarks>
    /// <exception cref="InvalidOperationException">A stored outcome is not one this build knows.</exception>
    public async IAsyncEnumerable<AuditRecord> ReadAsync(
        DateTimeOffset? fromInclusive,
        DateTimeOffset? toExclusive,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var fromMicros = fromInclusive is { } from ? CeilingMicros(from) : long.MinValue;
        var toMicros = toExclusive is { } to ? CeilingMicros(to) : long.MaxValue;
        var afterTime = long.MinValue;
        var afterSequence = 0L;
        while (true)
        {
            var page = await ReadPageAsync(
                AuditSql.SelectRangePage,
                command => command
                    .Bind("@from", fromMicros)
                    .Bind("@to", toMicros)
                    .Bind("@after_time", afterTime)
                    .Bind("@after_sequence", afterSequence)
                    .Bind("@limit", ExportPageSize),
                cancellationToken).ConfigureAwait(false);
            foreach (var row in page)
            {
                yield return row.ToRecord();
            }

            if (page.Count < ExportPageSize)
            {
                yield break;
            }

            (afterTime, afterSequence) = (page[^1].TimeMicros, page[^1].Sequence);
        }
    }

    /// <summary>
    /// Refuses further appends and, unless the file is shared with a token ledger, closes its pooled connections. The
    /// key is not cleared: an append already in the write queue may still need it, and a record signed with a cleared
    /// key would read as tampering forever.
    /// </summary>
    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>Same as <see cref="DisposeAsync"/>.</summary>
    public void Dispose()
    {
        disposed = true;
        if (ownsDatabase)
        {
            database.Dispose();
        }
    }

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

    // Stored times are whole microseconds: m >= bound and m < bound both hold exactly when they hold for ceil(bound).
    private static long CeilingMicros(DateTimeOffset value)
    {
        var floor = UnixMicros.From(value);
        return UnixMicros.ToDateTimeOffset(floor) == value ? floor : floor + 1;
    }

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA2100:Review SQL queries for security vulnerabilities", Justification = "Callers pass the audit SQL constants only; every value travels as a bound parameter.")]
    private Task<List<AuditRow>> ReadPageAsync(
        string sql,
        Action<Microsoft.Data.Sqlite.SqliteCommand> bind,
        CancellationToken cancellationToken) =>
        database.ReadAsync(
            async (connection, ct) =>
            {
                using var select = connection.CreateCommand();
                select.CommandText = sql;
                bind(select);
                var rows = new List<AuditRow>();
                using var reader = await select.ExecuteReaderAsync(ct).ConfigureAwait(false);
                while (await reader.ReadAsync(ct).ConfigureAwait(false))
                {
                    rows.Add(AuditRow.Read(reader));
                }

                return rows;
            },
            cancellationToken);
}
