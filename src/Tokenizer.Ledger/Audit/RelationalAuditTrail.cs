using System.Security.Cryptography;
using System.Data.Common;
using System.Runtime.CompilerServices;
using Tokenizer.Core.Audit;
using Tokenizer.Ledger.Schema;

namespace Tokenizer.Ledger.Audit;

/// <summary>
/// The tamper-evident audit trail (PCI DSS 10.2, 10.3) in the ledger's database, table <c>audit_events</c>
/// (migration 2), shared by <see cref="SqliteAuditTrail"/> and <see cref="Postgres.PostgresAuditTrail"/>: an
/// append-only chain in which each record's MAC is HMAC-SHA256(audit key, canonical record including the previous
/// record's MAC), see <see cref="AuditChain"/>, verified by <see cref="AuditVerifier"/>. Only those two classes derive
/// from it. Thread-safe.
/// </summary>
/// <remarks>
/// <para>
/// Every append runs in one write transaction that first makes it the only append in flight (SQLite: the write lock of
/// <c>BEGIN IMMEDIATE</c>; PostgreSQL: a transaction-scoped advisory lock), then reads the newest record's sequence and
/// MAC, signs the next record and inserts it. So however many processes or replicas append, the trail is one chain with
/// gapless sequences from 1; the primary key on <c>sequence</c> would refuse a fork even without the lock. Every
/// failure throws, and the audited operation must fail with it.
/// </para>
/// <para>
/// The append-only guards (triggers, and on PostgreSQL revoked privileges) stop the service's own SQL and careless
/// tools. Someone with write access to the database can remove them; the MAC chain is what detects the edit, as long as
/// the key is kept elsewhere. Deleting the newest records leaves a valid shorter chain: only a head anchored elsewhere
/// (<see cref="AuditVerification.HeadSequence"/> and <see cref="AuditVerification.HeadMac"/>, checked with
/// <see cref="AuditAnchor"/>) detects that.
/// </para>
/// <para>
/// Records hold what <see cref="AuditEvent"/> carries, which is no card, bank or personal data; text is sanitised by
/// <see cref="AuditText"/> (control characters stripped, 200 characters at most, card numbers redacted) before it is
/// signed and stored.
/// </para>
/// </remarks>
public abstract class RelationalAuditTrail : IAuditTrail, IAuditTrailReader, IAsyncDisposable, IDisposable
{
    private const int VerifyPageSize = 1000;
    private const int ExportPageSize = 500;
    private const string AuditTable = "audit_events";

    // SQLite's integrity check lists up to 100 lines; a few name the kind of damage, the count says the rest.
    private const int IntegrityLinesListed = 5;

    private readonly ILedgerDatabase database;
    private readonly bool ownsDatabase;
    private readonly TimeProvider timeProvider;
    private readonly AuditKeyRing keys;
    private readonly SemaphoreSlim anchorGate = new(1, 1);
    private volatile bool closed;

    /// <param name="keys">The audit keys: the current one signs, every one verifies.</param>
    /// <param name="database">The database that holds the trail.</param>
    /// <param name="ownsDatabase">False when the database is a token ledger's (disposing the trail then leaves it open).</param>
    /// <param name="timeProvider">The clock for migration records and each record's recorded time.</param>
    private protected RelationalAuditTrail(AuditKeyRing keys, ILedgerDatabase database, bool ownsDatabase, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(timeProvider);
        this.keys = keys;
        this.database = database;
        this.ownsDatabase = ownsDatabase;
        this.timeProvider = timeProvider;
    }

    /// <summary>The audit keys this trail signs and verifies with.</summary>
    public AuditKeyRing Keys => keys;

    /// <summary>The database plumbing of this trail.</summary>
    private protected ILedgerDatabase LedgerDatabase => database;

    /// <summary>
    /// Applies pending ledger migrations (the audit table is migration 2). Safe to run next to the token ledger's
    /// InitializeAsync on the same database, in any order and from several processes.
    /// </summary>
    /// <exception cref="InvalidOperationException">The database holds a newer schema than this build (SQLite: or cannot use WAL).</exception>
    public Task InitializeAsync(CancellationToken cancellationToken) =>
        database.MigrateAsync(timeProvider.GetUtcNow(), cancellationToken);

    /// <summary>
    /// Recreates the append-only guards of <c>audit_events</c> that are missing (SQLite: the UPDATE and DELETE triggers;
    /// PostgreSQL: the UPDATE, DELETE and TRUNCATE triggers and the revoked privileges), each with idempotent DDL in one
    /// transaction. Run after <see cref="InitializeAsync"/>: a guard dropped while the service was stopped comes back.
    /// A guard present under its name with another definition than the service's (SQLite: its stored SQL, compared with
    /// whitespace and case ignored; e.g. a <c>WHEN 0</c> no-op; PostgreSQL: its definition, whether it fires and its
    /// function's body), or (SQLite, where trigger names are schema-wide) a
    /// trigger of its name on another table, is dropped and recreated too. Afterwards every guard is read back: one that
    /// is still not on <c>audit_events</c> as the service makes it fails the call (an <c>IF NOT EXISTS</c> that silently
    /// did nothing is never reported as restored).
    /// </summary>
    /// <returns>The names of the guards that were missing or changed and are now restored; empty when all were as made.</returns>
    /// <exception cref="DbException">The database refused the check or the DDL (e.g. a PostgreSQL role that does not own the table).</exception>
    /// <exception cref="InvalidOperationException">A guard is still missing or changed after its DDL ran.</exception>
    public Task<IReadOnlyList<string>> RestoreGuardsAsync(CancellationToken cancellationToken) =>
        database.WriteAsync<IReadOnlyList<string>>(
            async (transaction, ct) =>
            {
                var guards = database.Dialect.RestorableGuards(AuditTable);
                var restored = new List<string>();
                foreach (var (guard, state) in await GuardStatesAsync(transaction, guards, ct).ConfigureAwait(false))
                {
                    if (state == GuardState.Intact)
                    {
                        continue;
                    }

                    if (state == GuardState.Changed && guard.Drop is { } drop)
                    {
                        await transaction.ExecuteAsync(drop, ct).ConfigureAwait(false);
                    }

                    foreach (var statement in guard.Restore)
                    {
                        await transaction.ExecuteAsync(statement, ct).ConfigureAwait(false);
                    }

                    restored.Add(guard.Name);
                }

                if (restored.Count > 0)
                {
                    var still = (await GuardStatesAsync(transaction, guards, ct).ConfigureAwait(false))
                        .Where(g => g.State != GuardState.Intact)
                        .Select(g => g.Guard.Name)
                        .ToList();
                    if (still.Count > 0)
                    {
                        throw new InvalidOperationException($"the append-only guard(s) {string.Join(", ", still)} of {AuditTable} are still missing or changed after being recreated");
                    }
                }

                return restored;
            },
            cancellationToken);

    /// <inheritdoc />
    /// <remarks>
    /// In one transaction that serialises appends (see the class remarks): reads the newest record's sequence and MAC,
    /// signs the next record and inserts it; durable when the task completes. Text fields are sanitised first (see
    /// <see cref="AuditText"/>). Pass <see cref="CancellationToken.None"/> when the audited call itself was cancelled:
    /// its record still belongs in the trail.
    /// </remarks>
    /// <exception cref="ArgumentException">The caller id or action is empty once sanitised.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The outcome is not a defined <see cref="AuditOutcome"/>.</exception>
    /// <exception cref="DbException">The database refused the write (missing table, read-only or corrupt file, a lost connection, a lock held past every retry).</exception>
    /// <exception cref="InvalidOperationException">The insert stored no row (a foreign trigger or rule dropped it).</exception>
    /// <exception cref="ObjectDisposedException">The trail was disposed (e.g. a call still running at shutdown).</exception>
    public Task AppendAsync(AuditEvent auditEvent, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(auditEvent);
        ObjectDisposedException.ThrowIf(closed, this);
        var cleaned = Clean(auditEvent);
        return database.WriteAsync((transaction, ct) => AppendCleanAsync(transaction, cleaned, ct), cancellationToken);
    }

    /// <summary>
    /// Appends <paramref name="auditEvent"/> inside <paramref name="transaction"/>, a write transaction of this trail's
    /// database that commits it together with the caller's own writes (the token ledger's audit of a cut-off call and its
    /// mark). Same rules and exceptions as <see cref="AppendAsync"/>; returns the record's sequence.
    /// </summary>
    internal Task<long> AppendInTransactionAsync(DbTransaction transaction, AuditEvent auditEvent, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(auditEvent);
        return AppendCleanAsync(transaction, Clean(auditEvent), cancellationToken);
    }

    private static CleanEvent Clean(AuditEvent auditEvent) => new(
        AuditText.Clean(auditEvent.CallerId) ?? throw new ArgumentException("the audit record's caller id is empty", nameof(auditEvent)),
        AuditText.Clean(auditEvent.Action) ?? throw new ArgumentException("the audit record's action is empty", nameof(auditEvent)),
        AuditTexts.Outcome.Text(auditEvent.Outcome),
        UnixMicros.From(auditEvent.Time),
        AuditText.Clean(auditEvent.SourceAddress),
        AuditText.Clean(auditEvent.Resource),
        AuditText.Clean(auditEvent.ReasonCode),
        AuditText.Clean(auditEvent.CorrelationId) ?? string.Empty);

    private async Task<long> AppendCleanAsync(DbTransaction transaction, CleanEvent e, CancellationToken ct)
    {
        ObjectDisposedException.ThrowIf(closed, this);
        if (database.Dialect.AuditAppendLock is { } appendLock)
        {
            await transaction.ExecuteAsync(appendLock, ct).ConfigureAwait(false);
        }

        long previousSequence = 0;
        var previousMac = AuditChain.Genesis();
        var recordedAt = UnixMicros.From(timeProvider.GetUtcNow());
        using (var head = transaction.Command(AuditSql.SelectHead))
        {
            var stored = await head.QueryFirstAsync<(long Sequence, byte[] Mac, long? Time)?>(
                static reader => (reader.GetInt64(0), (byte[])reader.GetValue(1), reader.GetNullableInt64(2)),
                null,
                ct).ConfigureAwait(false);
            if (stored is { } found)
            {
                previousSequence = found.Sequence;
                previousMac = found.Mac;

                // Never back in time, whatever this host's clock or another replica's says: the verifier reads
                // a recorded time earlier than its predecessor's as a back-dated record.
                recordedAt = found.Time is { } time ? Math.Max(recordedAt, time) : recordedAt;
            }
        }

        var unsigned = new AuditRow(
            checked(previousSequence + 1),
            e.Time,
            e.CallerId,
            e.SourceAddress,
            e.Action,
            e.Resource,
            e.Outcome,
            e.Reason,
            e.CorrelationId,
            previousMac,
            [],
            keys.CurrentKeyId,
            recordedAt);
        var row = unsigned with { Mac = AuditChain.ComputeMac(keys.Current, unsigned) };
        using var insert = transaction.Command(AuditSql.Insert);
        row.Bind(insert);

        // A foreign trigger or rule can skip the row without an error: then the call must fail, not go unrecorded.
        if (await insert.ExecuteNonQueryAsync(ct).ConfigureAwait(false) != 1)
        {
            throw new InvalidOperationException("the audit record was not stored: a trigger or rule on audit_events dropped it");
        }

        return row.Sequence;
    }

    private sealed record CleanEvent(
        string CallerId,
        string Action,
        string Outcome,
        long Time,
        string? SourceAddress,
        string? Resource,
        string? Reason,
        string CorrelationId);

    /// <inheritdoc />
    /// <remarks>
    /// Reads the chain in pages of 1000 records, each page on its own connection, so neither memory nor a snapshot is
    /// held for the whole walk; records appended meanwhile are verified if the walk reaches them. The walk goes on past
    /// a broken record (see <see cref="AuditVerifier"/>), and reports a value stored with another type than its column's
    /// (<see cref="AuditProblems.StoredTypeChanged"/>). The table itself is checked too: foreign triggers and rules
    /// (<see cref="ForeignTriggersAsync"/>) and its definition (<see cref="TableDefinitionProblemsAsync"/>) go into
    /// <see cref="AuditVerification.TableProblems"/>, and any makes the trail not intact.
    /// </remarks>
    public async Task<AuditVerification> VerifyAsync(AuditAnchor? anchor, CancellationToken cancellationToken)
    {
        var verifier = new AuditVerifier(keys, anchor, UnixMicros.From(timeProvider.GetUtcNow()));
        var table = (await ForeignTriggersAsync(cancellationToken).ConfigureAwait(false))
            .Select(name => "trigger or rule this service did not create: " + name)
            .Concat((await ChangedGuardsAsync(cancellationToken).ConfigureAwait(false))
                .Select(name => ChangedGuardProblem + name))
            .Concat(await TableDefinitionProblemsAsync(cancellationToken).ConfigureAwait(false))
            .ToList();

        // From the lowest sequence stored, not from 1: a row below 1 (written past the CHECK constraint) is read and
        // reported rather than left outside the walk.
        var after = long.MinValue;
        var chainPage = AuditSql.SelectChainPage(database.Dialect);
        while (true)
        {
            var page = await ReadPageAsync(
                chainPage,
                command => command.Bind("@after_sequence", after).Bind("@limit", VerifyPageSize),
                cancellationToken).ConfigureAwait(false);
            foreach (var row in page)
            {
                verifier.Accept(row);
                after = row.Sequence;
            }

            if (page.Count < VerifyPageSize)
            {
                break;
            }
        }

        var result = verifier.Result();
        return table.Count == 0
            ? result
            : result with { Intact = false, Problem = result.Problem ?? AuditProblems.TableChanged, TableProblems = table };
    }

    /// <summary>
    /// How <c>audit_events</c> differs from the table the migrations create: SQLite's STRICT removed (then any column
    /// stores any type, and a time stored as a BLOB falls out of every export's period while the MAC still verifies); a
    /// column missing, added, or with another declared type, nullability or primary key; the time index the export
    /// reads by missing or on other columns; on SQLite, the stored b-trees disagreeing with each other under an unchanged
    /// schema (<see cref="SqlDialect.AuditIntegrityCheck"/>: e.g. the time index's b-tree swapped for a stale or forged
    /// one, which would leave a record out of an export or serve it with another time; each line as SQLite words it,
    /// scrubbed and capped at 120 characters, the first five and a count). On SQLite, too, the table's stored definition
    /// and every index on it compared as text with what the migrations create (<see cref="SqlDialect.AuditSchema"/>): a
    /// CHECK constraint added or changed, an index added, or one made partial, unique or on an expression can refuse
    /// chosen records as they are appended, after the audited change has committed.
    /// </summary>
    /// <returns>One short text per difference (column and index names as stored, scrubbed and capped); empty when none.</returns>
    /// <exception cref="DbException">The database could not be read.</exception>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA2100:Review SQL queries for security vulnerabilities", Justification = "The dialect's constant queries; the table name travels as a bound parameter.")]
    public Task<IReadOnlyList<string>> TableDefinitionProblemsAsync(CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<string>>(
            async (connection, ct) =>
            {
                var dialect = database.Dialect;
                var problems = new List<string>();
                var columnsFrom = 0;
                var strictLost = false;
                if (dialect.TableStrict is { } strictQuery)
                {
                    using var strict = connection.Command(strictQuery);
                    strict.Bind("@table", AuditTable);
                    var value = await strict.ExecuteScalarAsync(ct).ConfigureAwait(false);
                    if (value is null or DBNull || Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture) != 1)
                    {
                        problems.Add("table is no longer STRICT (a value of any type can be stored in any column)");
                        strictLost = true;
                    }
                }

                if (dialect.AuditIntegrityCheck is { } integrityQuery)
                {
                    // The schema text can be unchanged while an index's b-tree was swapped for a stale or forged one
                    // (writable_schema): the walk reads by primary key and would not see it, the export reads by time.
                    using var integrity = connection.Command(integrityQuery);
                    var lines = (await integrity.QueryAsync(static reader => reader.GetNullableString(0) ?? string.Empty, ct).ConfigureAwait(false))
                        .FindAll(static line => !string.Equals(line, "ok", StringComparison.Ordinal));

                    problems.AddRange(lines.Take(IntegrityLinesListed).Select(line => "storage disagrees with the table: " + UntrustedName(line, 120)));
                    if (lines.Count > IntegrityLinesListed)
                    {
                        problems.Add($"storage disagrees with the table: {lines.Count - IntegrityLinesListed} more");
                    }
                }

                // The problems from here to the index check are about the table's own definition.
                columnsFrom = problems.Count;
                List<(string Name, string Type, bool NotNull, bool PrimaryKey)> stored;
                using (var columns = connection.Command(dialect.TableColumns).Bind("@table", AuditTable))
                {
                    stored = await columns.QueryAsync(
                        static reader => (
                            reader.GetString(0),
                            reader.GetNullableString(1) ?? string.Empty,
                            Convert.ToInt64(reader.GetValue(2), System.Globalization.CultureInfo.InvariantCulture) != 0,
                            Convert.ToInt64(reader.GetValue(3), System.Globalization.CultureInfo.InvariantCulture) != 0),
                        ct).ConfigureAwait(false);
                }

                var expected = AuditSql.ExpectedColumns(dialect);
                foreach (var column in expected)
                {
                    var found = stored.FindIndex(c => string.Equals(c.Name, column.Name, StringComparison.OrdinalIgnoreCase));
                    if (found < 0)
                    {
                        problems.Add($"column {column.Name} is missing");
                        continue;
                    }

                    var actual = stored[found];
                    if (!string.Equals(actual.Type, column.Type, StringComparison.OrdinalIgnoreCase))
                    {
                        problems.Add($"column {column.Name} is declared {UntrustedName(actual.Type)}, not {column.Type}");
                    }

                    if (actual.NotNull != column.NotNull)
                    {
                        problems.Add($"column {column.Name} is {(actual.NotNull ? "NOT NULL" : "nullable")}, not {(column.NotNull ? "NOT NULL" : "nullable")}");
                    }

                    if (actual.PrimaryKey != column.PrimaryKey)
                    {
                        problems.Add($"column {column.Name} is {(actual.PrimaryKey ? string.Empty : "no longer ")}in the primary key");
                    }
                }

                problems.AddRange(stored
                    .Where(c => !expected.Any(e => string.Equals(e.Name, c.Name, StringComparison.OrdinalIgnoreCase)))
                    .Select(c => $"column {UntrustedName(c.Name)} was added"));

                var tableNamed = strictLost || problems.Count > columnsFrom;
                string? indexColumns = null;
                var indexFound = false;
                using (var indexes = connection.Command(dialect.TableIndexes).Bind("@table", AuditTable))
                {
                    var listed = await indexes.QueryAsync(static reader => (Name: reader.GetString(0), Columns: reader.GetNullableString(1) ?? string.Empty), ct).ConfigureAwait(false);
                    foreach (var index in listed.Where(index => string.Equals(index.Name, AuditSql.TimeIndex, StringComparison.Ordinal)))
                    {
                        indexFound = true;
                        indexColumns = index.Columns;
                    }
                }

                if (!indexFound)
                {
                    problems.Add($"index {AuditSql.TimeIndex} is missing");
                }
                else if (!string.Equals(indexColumns, AuditSql.TimeIndexColumns, StringComparison.Ordinal))
                {
                    problems.Add($"index {AuditSql.TimeIndex} is on ({UntrustedName(indexColumns ?? string.Empty)}), not ({AuditSql.TimeIndexColumns})");
                }

                // Named above already: a lost STRICT, a changed column, the time index missing or on other columns.
                var timeIndexNamed = !indexFound || !string.Equals(indexColumns, AuditSql.TimeIndexColumns, StringComparison.Ordinal);
                problems.AddRange(await SchemaProblemsAsync(connection, dialect.AuditSchema, dialect.ExpectedAuditSchema(AuditTable), tableNamed, timeIndexNamed, ct).ConfigureAwait(false));

                return problems;
            },
            cancellationToken);

    /// <summary>
    /// How <c>audit_events</c>' stored definition and its indexes differ from what the migrations create, compared as
    /// text (whitespace runs aside, case kept: a CHECK's <c>'success'</c> changed to <c>'SUCCESS'</c> refuses every
    /// successful call's record). Every index is evaluated on every insert and every CHECK constraint on every row, so
    /// one the migrations did not make can refuse chosen appends (e.g. an expression index that overflows for one
    /// caller's revokes) after the audited change has committed; a partial or otherwise changed time index breaks the
    /// export.
    /// </summary>
    /// <param name="connection">An open connection.</param>
    /// <param name="query">The dialect's <see cref="SqlDialect.AuditSchema"/>.</param>
    /// <param name="expected">The objects the migrations create on <c>audit_events</c>.</param>
    /// <param name="tableNamed">Whether a problem of the table's own definition was named already (no second, vaguer line then).</param>
    /// <param name="timeIndexNamed">Whether the time index was named already as missing or on other columns.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA2100:Review SQL queries for security vulnerabilities", Justification = "The dialect's constant query; the table name travels as a bound parameter.")]
    private async Task<List<string>> SchemaProblemsAsync(DbConnection connection, string query, IReadOnlyList<SchemaObject> expected, bool tableNamed, bool timeIndexNamed, CancellationToken cancellationToken)
    {
        var names = database.Dialect.Identifiers;
        List<(string Type, string Name, string Sql)> stored;
        using (var select = connection.Command(query).Bind("@table", AuditTable))
        {
            stored = await select.QueryAsync(static reader => (reader.GetString(0), reader.GetString(1), reader.GetNullableString(2) ?? string.Empty), cancellationToken).ConfigureAwait(false);
        }

        var problems = new List<string>();
        var expectedTable = expected.FirstOrDefault(o => o.Type == "table");
        var storedTable = stored.FirstOrDefault(o => o.Type == "table");
        if (!tableNamed && expectedTable is not null && storedTable.Name is not null && !SameSql(storedTable.Sql, expectedTable.Sql))
        {
            problems.Add("table definition differs from the migrations' (a CHECK constraint, default, collation or key changed or added: one can refuse chosen records)");
        }

        foreach (var (type, what) in new[] { ("index", "an index"), ("constraint", "a constraint") })
        {
            var made = expected.Where(o => o.Type == type).ToList();
            foreach (var found in stored.Where(o => o.Type == type))
            {
                var same = made.FirstOrDefault(e => names.Equals(e.Name, found.Name));
                if (same is null)
                {
                    problems.Add($"{type} {UntrustedName(found.Name)} was added ({what} the migrations do not create can refuse chosen records)");
                }
                else if (!SameSql(found.Sql, same.Sql) && !(timeIndexNamed && type == "index" && names.Equals(same.Name, AuditSql.TimeIndex)))
                {
                    problems.Add(type == "index"
                        ? $"index {same.Name} differs from the migrations' definition (made partial, unique, or on an expression or another order)"
                        : $"constraint {same.Name} differs from the migrations' definition (it can refuse chosen records)");
                }
            }

            problems.AddRange(made
                .Where(e => !(type == "index" && names.Equals(e.Name, AuditSql.TimeIndex)) && !stored.Any(o => o.Type == type && names.Equals(o.Name, e.Name)))
                .Select(e => $"{type} {e.Name} is missing"));
        }

        return problems;

        static bool SameSql(string left, string right) => string.Equals(Collapsed(left), Collapsed(right), StringComparison.Ordinal);

        static string Collapsed(string sql) => string.Join(' ', sql.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)).TrimEnd(';', ' ');
    }

    /// <summary>
    /// The start-up checks, without walking the whole chain: the newest record must verify under a configured key (a
    /// wrong key would otherwise append records that verify under no key), and, with <paramref name="anchor"/>, the
    /// anchored record must still exist with the anchored MAC (deleted newest records leave a valid shorter chain).
    /// </summary>
    /// <exception cref="DbException">The database could not be read.</exception>
    public async Task<AuditStartCheck> CheckAsync(AuditAnchor? anchor, CancellationToken cancellationToken)
    {
        var newest = await ReadPageAsync(AuditSql.SelectNewest, _ => { }, cancellationToken).ConfigureAwait(false);
        var head = newest.Count == 0 ? null : newest[0];
        var headVerifies = head is null || keys.Verifies(head);
        string? anchorProblem = null;
        if (anchor is not null)
        {
            var at = await ReadPageAsync(AuditSql.SelectAt, command => command.Bind("@sequence", anchor.Sequence), cancellationToken)
                .ConfigureAwait(false);
            anchorProblem = at.Count == 0
                ? AuditProblems.Truncated
                : CryptographicOperations.FixedTimeEquals(at[0].Mac, anchor.Mac) ? null : AuditProblems.AnchorMismatch;
        }

        var keyChecks = await database.ReadAsync(
            async (connection, ct) =>
            {
                using var count = connection.Command(AuditSql.CountKeyChecks);
                return Convert.ToInt64(await count.ExecuteScalarAsync(ct).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
            },
            cancellationToken).ConfigureAwait(false);
        return new AuditStartCheck(head?.Sequence ?? 0, headVerifies, head?.KeyId, anchorProblem) { UsedBefore = keyChecks > 0 };
    }

    /// <summary>
    /// Every trigger in the database (PostgreSQL: and every rule), on whichever table, that is not one of this service's
    /// append-only guards on <c>audit_events</c>: the migrations create no other. Someone with DDL rights added it, and
    /// one on any table can change the trail unseen: on <c>audit_events</c> one that fires on an insert drops or changes a
    /// record before the chain sees it; on another table one can delete the newest record whenever that table is written,
    /// and the service then appends the next record under the same sequence. A guard's name is no proof: a trigger of
    /// that name on another table (SQLite trigger names are schema-wide, so it also keeps the guard from being recreated)
    /// or one that mentions INSERT is listed too.
    /// </summary>
    /// <returns>
    /// Each as its name, followed by <c>(on table)</c> when it is not on <c>audit_events</c>; names and tables were chosen by
    /// whoever made them, so both are cleaned (control characters and card numbers removed) and capped at 64 characters.
    /// Empty when there are none.
    /// </returns>
    /// <exception cref="DbException">The database could not be read.</exception>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA2100:Review SQL queries for security vulnerabilities", Justification = "The dialect's constant query.")]
    public async Task<IReadOnlyList<string>> ForeignTriggersAsync(CancellationToken cancellationToken)
    {
        var dialect = database.Dialect;
        var guards = dialect.RestorableGuards(AuditTable).Select(g => g.Name).ToHashSet(dialect.Identifiers);
        return await database.ReadAsync<IReadOnlyList<string>>(
            async (connection, ct) =>
            {
                using var select = connection.Command(dialect.AllTriggers);
                var foreign = new List<string>();
                foreach (var (name, table, definition) in await select.QueryAsync(ReadTrigger, ct).ConfigureAwait(false))
                {
                    var onAuditTable = dialect.Identifiers.Equals(table, AuditTable);
                    if (onAuditTable && guards.Contains(name) && !definition.Contains("INSERT", StringComparison.OrdinalIgnoreCase))
                    {
                        continue;
                    }

                    foreign.Add(onAuditTable ? UntrustedName(name) : $"{UntrustedName(name)} (on {UntrustedName(table)})");
                }

                return foreign;
            },
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The start of the <see cref="AuditVerification.TableProblems"/> entry naming a guard that
    /// <see cref="ChangedGuardsAsync"/> lists (followed by its name); start-up restores such a guard rather than refusing.
    /// </summary>
    public const string ChangedGuardProblem = "append-only guard changed outside this service (restored at the next start): ";

    /// <summary>
    /// The append-only guards of <c>audit_events</c> present under their own names with another definition than the
    /// service's (SQLite: e.g. replaced by a <c>WHEN 0</c> no-op, so edits go through); <see cref="RestoreGuardsAsync"/>
    /// drops and recreates them.
    /// </summary>
    /// <returns>Their names (the service's own guard names); empty when none was changed or definitions are not compared.</returns>
    /// <exception cref="DbException">The database could not be read.</exception>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA2100:Review SQL queries for security vulnerabilities", Justification = "The dialect's constant query; the table name travels as a bound parameter.")]
    public async Task<IReadOnlyList<string>> ChangedGuardsAsync(CancellationToken cancellationToken)
    {
        var guards = database.Dialect.RestorableGuards(AuditTable);
        if (!guards.Any(g => g.Definitions.Count > 0))
        {
            return [];
        }

        return await database.ReadAsync<IReadOnlyList<string>>(
            async (connection, ct) =>
            {
                using var select = connection.Command(database.Dialect.TableTriggers);
                select.Bind("@table", AuditTable);
                var triggers = await select.QueryAsync(static reader => (Name: reader.GetString(0), Definition: reader.GetNullableString(1) ?? string.Empty), ct).ConfigureAwait(false);
                return ChangedAmong(guards, triggers);
            },
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Where each guard stands: as the service makes it, absent, or present under its name in another shape or place.</summary>
    private enum GuardState
    {
        Intact,
        Missing,
        Changed,
    }

    /// <summary>
    /// Each guard's state. Where definitions are compared (SQLite) a guard is intact only when every trigger of its name
    /// (names are schema-wide there, compared as SQLite does, ignoring case) is on <c>audit_events</c> with one of its
    /// definitions; a trigger of its name elsewhere makes it changed, so the restore drops it before recreating the guard.
    /// </summary>
    private async Task<List<(AppendOnlyGuard Guard, GuardState State)>> GuardStatesAsync(DbTransaction transaction, IReadOnlyList<AppendOnlyGuard> guards, CancellationToken cancellationToken)
    {
        var dialect = database.Dialect;
        var present = new HashSet<string>(dialect.Identifiers);
        using (var select = transaction.Command(dialect.PresentGuards).Bind("@table", AuditTable))
        {
            present.UnionWith(await select.QueryAsync(static reader => reader.GetString(0), cancellationToken).ConfigureAwait(false));
        }

        var triggers = new List<(string Name, string Table, string Definition)>();
        if (guards.Any(g => g.Definitions.Count > 0))
        {
            using var all = transaction.Command(dialect.AllTriggers);
            triggers = await all.QueryAsync(ReadTrigger, cancellationToken).ConfigureAwait(false);
        }

        return guards.Select(guard =>
        {
            if (guard.Definitions.Count == 0)
            {
                return (guard, present.Contains(guard.Name) ? GuardState.Intact : GuardState.Missing);
            }

            var named = triggers
                .Where(t => dialect.Identifiers.Equals(t.Name, guard.Name) && (!dialect.TriggerNamesPerTable || dialect.Identifiers.Equals(t.Table, AuditTable)))
                .ToList();
            var state = named.Count == 0
                ? GuardState.Missing
                : named.All(t => dialect.Identifiers.Equals(t.Table, AuditTable) && guard.Matches(t.Definition)) ? GuardState.Intact : GuardState.Changed;
            return (guard, state);
        }).ToList();
    }

    private List<string> ChangedAmong(IReadOnlyList<AppendOnlyGuard> guards, List<(string Name, string Definition)> triggers)
    {
        var byName = guards.ToDictionary(g => g.Name, database.Dialect.Identifiers);
        return triggers
            .Where(trigger => byName.TryGetValue(trigger.Name, out var guard) && !guard.Matches(trigger.Definition))
            .Select(trigger => byName[trigger.Name].Name)
            .ToList();
    }

    private static (string Name, string Table, string Definition) ReadTrigger(DbDataReader reader) =>
        (reader.GetString(0), reader.GetString(1), reader.GetNullableString(2) ?? string.Empty);

    /// <summary>
    /// Reads the committed head and hands it to <paramref name="write"/> (which keeps it outside the database), one
    /// writer at a time: in-process for SQLite (one process owns the file), across replicas for PostgreSQL (an advisory
    /// lock), so a writer that checks the stored anchor before replacing it never moves it backwards. Nothing is written
    /// for an empty trail.
    /// </summary>
    /// <returns>The head handed over; null for an empty trail.</returns>
    /// <exception cref="DbException">The database could not be read.</exception>
    public async Task<AuditAnchor?> AnchorAsync(Func<AuditAnchor, CancellationToken, Task> write, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(write);
        await anchorGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (database.Dialect.AuditAnchorLock is not { } anchorLock)
            {
                var head = await ReadHeadAsync(cancellationToken).ConfigureAwait(false);
                if (head is not null)
                {
                    await write(head, cancellationToken).ConfigureAwait(false);
                }

                return head;
            }

            return await database.WriteAsync(
                async (transaction, ct) =>
                {
                    await transaction.ExecuteAsync(anchorLock, ct).ConfigureAwait(false);
                    using var select = transaction.Command(AuditSql.SelectHead);
                    var head = await select.QueryFirstAsync<AuditAnchor?>(static reader => new AuditAnchor(reader.GetInt64(0), (byte[])reader.GetValue(1)), null, ct).ConfigureAwait(false);

                    if (head is not null)
                    {
                        await write(head, ct).ConfigureAwait(false);
                    }

                    return head;
                },
                cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            anchorGate.Release();
        }
    }

    /// <summary>
    /// Checks the stored check value of the secret <paramref name="name"/> against the check values of the configured
    /// secrets (<paramref name="current"/> first): stores the current one when none is stored, replaces a previous one by
    /// the current one (a rotation), and reports a value that matches none. A missing value is stored only when the
    /// ledger holds nothing the secret keys (<see cref="AuditSql.SelectKeyedData"/>); otherwise it was deleted, and it is
    /// stored only when <paramref name="adoptMissing"/> says the operator vouches for the current secret. Check values are
    /// 16 bytes, derived from the secret by the caller (never the secret); they live in <c>key_checks</c>, next to the
    /// trail they protect.
    /// </summary>
    /// <param name="name">The secret's setting name, e.g. <c>Tokenizer:RequestHmacSecret</c>.</param>
    /// <param name="current">The current secret's check value.</param>
    /// <param name="previous">The previous secrets' check values.</param>
    /// <param name="adoptMissing">Store the current value when none is stored although the ledger holds keyed data.</param>
    /// <param name="cancellationToken">Cancels the check.</param>
    /// <returns>Whether the stored value was absent (stored, missing or adopted), current, rotated from a previous one, or matches no configured secret.</returns>
    /// <exception cref="DbException">The database could not be read or written.</exception>
    public Task<KeyCheckOutcome> CheckKeyAsync(string name, byte[] current, IReadOnlyList<byte[]> previous, bool adoptMissing, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(previous);
        return database.WriteAsync(
            async (transaction, ct) =>
            {
                byte[]? stored;
                using (var select = transaction.Command(AuditSql.SelectKeyCheck))
                {
                    select.Bind("@name", name);
                    stored = await select.ExecuteScalarAsync(ct).ConfigureAwait(false) as byte[];
                }

                KeyCheckOutcome outcome;
                if (stored is null)
                {
                    bool keyedData;
                    using (var keyed = transaction.Command(AuditSql.SelectKeyedData))
                    {
                        keyedData = await keyed.ExecuteScalarAsync(ct).ConfigureAwait(false) is not (null or DBNull);
                    }

                    // A used ledger without the value: it was deleted, and storing whatever secret is configured now
                    // would accept a changed one silently.
                    outcome = !keyedData ? KeyCheckOutcome.Stored : adoptMissing ? KeyCheckOutcome.Adopted : KeyCheckOutcome.Missing;
                    if (outcome == KeyCheckOutcome.Missing)
                    {
                        return outcome;
                    }
                }
                else if (CryptographicOperations.FixedTimeEquals(stored, current))
                {
                    return KeyCheckOutcome.Matched;
                }
                else if (previous.Any(p => CryptographicOperations.FixedTimeEquals(stored, p)))
                {
                    outcome = KeyCheckOutcome.Rotated;
                }
                else
                {
                    return KeyCheckOutcome.Mismatch;
                }

                using var upsert = transaction.Command(AuditSql.UpsertKeyCheck);
                upsert.Bind("@name", name).Bind("@check_value", current).Bind("@updated_at", UnixMicros.From(timeProvider.GetUtcNow()));
                await upsert.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                return outcome;
            },
            cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>
    /// Pages of 500 records by keyset on (time, sequence); stored times are whole microseconds. The time index only
    /// finds the records: every served value is read from the table row, and its time checked again against the period
    /// and the order. First the records of the period that exist at the start (sequence up to the head) are counted
    /// through the index and in the table itself (one scan of the table); when the counts differ (the index's contents
    /// were changed under an unchanged schema, which verification reports as a table problem) the export reads the table
    /// itself, a full scan per page: slow, but every record of the period is served with its signed time.
    /// </remarks>
    /// <exception cref="InvalidOperationException">A stored outcome is not one this build knows; or the index served a row whose stored time lies outside the period or out of order (an index changed to agree in count only).</exception>
    public async IAsyncEnumerable<AuditRecord> ReadAsync(
        DateTimeOffset? fromInclusive,
        DateTimeOffset? toExclusive,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var fromMicros = fromInclusive is { } from ? CeilingMicros(from) : long.MinValue;
        var toMicros = toExclusive is { } to ? CeilingMicros(to) : long.MaxValue;
        var dialect = database.Dialect;
        var byIndex = await database.ReadAsync(
            async (connection, ct) =>
            {
                using var max = connection.Command(AuditSql.SelectMaxSequence);
                var head = await max.ExecuteScalarAsync(ct).ConfigureAwait(false);
                if (head is null or DBNull)
                {
                    return true;
                }

                var headSequence = Convert.ToInt64(head, System.Globalization.CultureInfo.InvariantCulture);
                var table = await CountAsync(connection, AuditSql.CountRangeByTable(dialect), ct).ConfigureAwait(false);
                var index = await CountAsync(connection, AuditSql.CountRangeByIndex(dialect), ct).ConfigureAwait(false);
                return index.Entries == table.Entries && index.Matching == table.Entries;

                [System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA2100:Review SQL queries for security vulnerabilities", Justification = "The audit SQL constants only; every value travels as a bound parameter.")]
                async Task<(long Entries, long Matching)> CountAsync(DbConnection on, string query, CancellationToken token)
                {
                    using var count = on.Command(query).Bind("@from", fromMicros).Bind("@to", toMicros).Bind("@head", headSequence);
                    return await count.QueryFirstAsync(
                        static reader =>
                        {
                            var entries = Convert.ToInt64(reader.GetValue(0), System.Globalization.CultureInfo.InvariantCulture);
                            return (entries, reader.FieldCount > 1 ? Convert.ToInt64(reader.GetValue(1), System.Globalization.CultureInfo.InvariantCulture) : entries);
                        },
                        (0L, 0L),
                        token).ConfigureAwait(false);
                }
            },
            cancellationToken).ConfigureAwait(false);

        var sql = byIndex ? AuditSql.SelectRangePageByIndex(dialect) : AuditSql.SelectRangePageByTable(dialect);
        var afterTime = long.MinValue;
        var afterSequence = 0L;
        (long Time, long Sequence) served = (long.MinValue, 0L);
        while (true)
        {
            var page = await ReadPageAsync(
                sql,
                command => command
                    .Bind("@from", fromMicros)
                    .Bind("@to", toMicros)
                    .Bind("@after_time", afterTime)
                    .Bind("@after_sequence", afterSequence)
                    .Bind("@limit", ExportPageSize),
                keysetTime: byIndex,
                cancellationToken).ConfigureAwait(false);
            foreach (var (row, indexTime) in page)
            {
                // The row's own time, not the index's: an index entry can name a row under another time. The counts
                // above agreed, so this fails only when the index changes while the export runs.
                if (indexTime != row.TimeMicros || row.TimeMicros < fromMicros || row.TimeMicros >= toMicros || (row.TimeMicros, row.Sequence).CompareTo(served) <= 0)
                {
                    throw new InvalidOperationException("the audit time index disagrees with the table: run `tokenizer audit verify`");
                }

                served = (row.TimeMicros, row.Sequence);
                yield return row.ToRecord();
            }

            if (page.Count < ExportPageSize)
            {
                yield break;
            }

            (afterTime, afterSequence) = (page[^1].KeysetTime, page[^1].Row.Sequence);
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// One query per batch of up to 100 resources (<see cref="AuditSql.SelectByResources"/>), each an equality list that
    /// reads the resource index and then only the matching rows; the records are sorted here. Every served value comes
    /// from the table row, whose resource is checked again: an index entry naming another row fails the read. An entry
    /// removed from the index's b-tree under an unchanged schema would leave its record out; the storage check of
    /// <see cref="VerifyAsync"/> and of every start (SQLite's integrity check) reports such an index.
    /// </remarks>
    /// <exception cref="DbException">The database could not be read.</exception>
    public async Task<IReadOnlyList<AuditRecord>> ReadByResourcesAsync(IReadOnlyCollection<string> resources, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(resources);
        var wanted = new HashSet<string>(resources, StringComparer.Ordinal);
        var rows = new List<AuditRow>();
        foreach (var batch in wanted.Order(StringComparer.Ordinal).Chunk(AuditSql.ResourceBatch))
        {
            rows.AddRange(await ReadPageAsync(
                AuditSql.SelectByResources(batch.Length),
                command =>
                {
                    for (var i = 0; i < batch.Length; i++)
                    {
                        command.Bind(AuditSql.ResourceParameter(i), batch[i]);
                    }
                },
                cancellationToken).ConfigureAwait(false));
        }

        if (rows.Any(row => row.Resource is not { } resource || !wanted.Contains(resource)))
        {
            throw new InvalidOperationException("the audit resource index disagrees with the table: run `tokenizer audit verify`");
        }

        return rows
            .Where(row => row.Sequence >= 1)
            .DistinctBy(row => row.Sequence)
            .OrderBy(row => row.TimeMicros)
            .ThenBy(row => row.Sequence)
            .Select(row => row.ToRecord())
            .ToList();
    }

    /// <summary>
    /// Refuses further appends and, unless the database is shared with a token ledger, closes its pooled connections.
    /// The key is not cleared: an append already in the write queue may still need it, and a record signed with a
    /// cleared key would read as tampering forever.
    /// </summary>
    public ValueTask DisposeAsync()
    {
        Dispose();
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }

    /// <summary>Same as <see cref="DisposeAsync"/>.</summary>
    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Refuses further appends; closes the database when <paramref name="disposing"/> and this trail owns it.</summary>
    protected virtual void Dispose(bool disposing)
    {
        closed = true;
        if (disposing)
        {
            anchorGate.Dispose();
        }

        if (disposing && ownsDatabase)
        {
            database.Dispose();
        }
    }

    /// <summary>A ring holding a copy of <paramref name="auditKey"/> only, checked for length.</summary>
    /// <exception cref="ArgumentException">The key is shorter than 32 bytes.</exception>
    private protected static AuditKeyRing CopyKey(byte[] auditKey)
    {
        ArgumentNullException.ThrowIfNull(auditKey);
        if (auditKey.Length < AuditChain.MinKeyLength)
        {
            throw new ArgumentException("the audit key must be at least 32 bytes", nameof(auditKey));
        }

        return new AuditKeyRing(auditKey);
    }

    /// <summary>A name chosen by whoever changed the table, fit for a message: capped at 64 characters and cleaned.</summary>
    private static string UntrustedName(string name, int cap = 64) =>
        AuditText.Clean(name.Length > cap ? name[..cap] : name) ?? "(no visible name)";

    private async Task<AuditAnchor?> ReadHeadAsync(CancellationToken cancellationToken)
    {
        var newest = await ReadPageAsync(AuditSql.SelectNewest, _ => { }, cancellationToken).ConfigureAwait(false);
        return newest.Count == 0 ? null : new AuditAnchor(newest[0].Sequence, newest[0].Mac);
    }

    // Stored times are whole microseconds: m >= bound and m < bound both hold exactly when they hold for ceil(bound).
    private static long CeilingMicros(DateTimeOffset value)
    {
        var floor = UnixMicros.From(value);
        return UnixMicros.ToDateTimeOffset(floor) == value ? floor : floor + 1;
    }

    private async Task<List<AuditRow>> ReadPageAsync(string sql, Action<DbCommand> bind, CancellationToken cancellationToken) =>
        (await ReadPageAsync(sql, bind, keysetTime: false, cancellationToken).ConfigureAwait(false)).Select(r => r.Row).ToList();

    /// <summary>Rows of <paramref name="sql"/>; with <paramref name="keysetTime"/> each with its 15th column (the index's time), else its own time.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA2100:Review SQL queries for security vulnerabilities", Justification = "Callers pass the audit SQL constants only; every value travels as a bound parameter.")]
    private Task<List<(AuditRow Row, long KeysetTime)>> ReadPageAsync(string sql, Action<DbCommand> bind, bool keysetTime, CancellationToken cancellationToken) =>
        database.ReadAsync(
            async (connection, ct) =>
            {
                using var select = connection.Command(sql);
                bind(select);
                return await select.QueryAsync(
                    reader => AuditRow.Read(reader) is var row ? (row, keysetTime ? reader.GetInt64(14) : row.TimeMicros) : default,
                    ct).ConfigureAwait(false);
            },
            cancellationToken);
}
