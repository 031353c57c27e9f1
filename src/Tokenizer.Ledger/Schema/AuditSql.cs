namespace Tokenizer.Ledger.Schema;

/// <summary>
/// The audit trail's statements (table <c>audit_events</c>, migration 2), in SQL that SQLite and PostgreSQL both run
/// unchanged. Every value is a parameter; times are unix microseconds UTC.
/// </summary>
internal static class AuditSql
{
    /// <summary>The columns in the order <see cref="Audit.AuditRow.Read"/> expects.</summary>
    public const string Columns =
        "sequence, time, caller_id, source_address, action, resource, outcome, reason, correlation_id, prev_mac, mac, key_id, recorded_at";

    /// <summary>The newest record's sequence, mac and recorded time; no row on an empty trail. Run inside the append's write lock.</summary>
    public const string SelectHead = "SELECT sequence, mac, recorded_at FROM audit_events ORDER BY sequence DESC LIMIT 1";

    /// <summary>Appends one record.</summary>
    public const string Insert = "INSERT INTO audit_events (" + Columns + """
        )
        VALUES (@sequence, @time, @caller_id, @source_address, @action, @resource, @outcome, @reason, @correlation_id,
                @prev_mac, @mac, @key_id, @recorded_at)
        """;

    /// <summary>The newest record, all columns; no row on an empty trail.</summary>
    public const string SelectNewest = "SELECT " + Columns + " FROM audit_events ORDER BY sequence DESC LIMIT 1";

    /// <summary>The record at <c>@sequence</c>, all columns; no row when there is none.</summary>
    public const string SelectAt = "SELECT " + Columns + " FROM audit_events WHERE sequence = @sequence";

    /// <summary>How many key check values are stored: none before the first start's checks.</summary>
    public const string CountKeyChecks = "SELECT count(*) FROM key_checks";

    /// <summary>The check value stored for the secret <c>@name</c>; no row when none is stored yet.</summary>
    public const string SelectKeyCheck = "SELECT check_value FROM key_checks WHERE name = @name";

    /// <summary>
    /// One row when the ledger holds anything keyed by the request HMAC secret or the privacy pseudonym secret
    /// (idempotency key ids and request MACs, intents and tokens made under them, Customers and reconciliation runs
    /// created under keys derived from it, privacy subjects and Customer successions named by pseudonyms); no row on a ledger never used.
    /// </summary>
    public const string SelectKeyedData = """
        SELECT 1 WHERE EXISTS (SELECT 1 FROM idempotency_records) OR EXISTS (SELECT 1 FROM intents)
            OR EXISTS (SELECT 1 FROM tokens) OR EXISTS (SELECT 1 FROM customers) OR EXISTS (SELECT 1 FROM reconciliation_runs)
            OR EXISTS (SELECT 1 FROM privacy_personal_data) OR EXISTS (SELECT 1 FROM privacy_erasures)
            OR EXISTS (SELECT 1 FROM privacy_subject_keys) OR EXISTS (SELECT 1 FROM customer_successions)
        """;

    /// <summary>Stores the check value of the secret <c>@name</c>, replacing an earlier one (a rotation).</summary>
    public const string UpsertKeyCheck = """
        INSERT INTO key_checks (name, check_value, updated_at) VALUES (@name, @check_value, @updated_at)
        ON CONFLICT (name) DO UPDATE SET check_value = excluded.check_value, updated_at = excluded.updated_at
        """;

    /// <summary>
    /// One page of the chain in sequence order, strictly after <c>@after_sequence</c> (the primary key: no sort), each row
    /// with a 14th column: 1 when every value has its column's type (<see cref="SqlDialect.AuditStoredTypes"/>).
    /// </summary>
    public static string SelectChainPage(SqlDialect dialect) =>
        "SELECT " + Columns + ", " + dialect.AuditStoredTypes + " FROM audit_events WHERE sequence > @after_sequence ORDER BY sequence LIMIT @limit";

    /// <summary>
    /// The columns of <c>audit_events</c> as the migrations create them (2, 7 and 13), in order: name, declared type,
    /// NOT NULL, primary key.
    /// </summary>
    public static IReadOnlyList<(string Name, string Type, bool NotNull, bool PrimaryKey)> ExpectedColumns(SqlDialect dialect) =>
    [
        ("sequence", dialect.Int64Type, true, true),
        ("time", dialect.Int64Type, true, false),
        ("caller_id", "TEXT", true, false),
        ("source_address", "TEXT", false, false),
        ("action", "TEXT", true, false),
        ("resource", "TEXT", false, false),
        ("outcome", "TEXT", true, false),
        ("reason", "TEXT", false, false),
        ("correlation_id", "TEXT", true, false),
        ("prev_mac", dialect.BytesType, true, false),
        ("mac", dialect.BytesType, true, false),
        ("key_id", "TEXT", false, false),
        ("recorded_at", dialect.Int64Type, false, false),
    ];

    /// <summary>The index the export's keyset reads by (migration 2), and its columns.</summary>
    public const string TimeIndex = "ix_audit_events_time";

    /// <summary>The columns of <see cref="TimeIndex"/>, comma-separated.</summary>
    public const string TimeIndexColumns = "time,sequence";

    /// <summary>The index the privacy export reads a subject's records by (migration 16), on <c>resource</c>.</summary>
    public const string ResourceIndex = "ix_audit_events_resource";

    /// <summary>How many resources one <see cref="SelectByResources"/> names at most (far below either database's parameter limit).</summary>
    public const int ResourceBatch = 100;

    /// <summary>
    /// Every record whose resource is one of <c>@r0</c> .. <c>@r{count - 1}</c>, all columns and a 1 (the stored-types
    /// column <see cref="Audit.AuditRow.Read"/> expects), in no particular order: the caller sorts, and drops a row below
    /// sequence 1 (written past the CHECK constraint, never served as evidence). Only an equality list on
    /// <c>resource</c>, so both planners read <see cref="ResourceIndex"/> and then the matching rows, never the whole
    /// table (a range on <c>sequence</c> here would let SQLite walk the table by rowid instead).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is not 1 to <see cref="ResourceBatch"/>.</exception>
    public static string SelectByResources(int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, ResourceBatch);
        return "SELECT " + Columns + ", 1 FROM audit_events WHERE resource IN ("
            + string.Join(", ", Enumerable.Range(0, count).Select(ResourceParameter))
            + ")";
    }

    /// <summary>The name of the <paramref name="position"/>th parameter of <see cref="SelectByResources"/>.</summary>
    public static string ResourceParameter(int position) => "@r" + position.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// How many records with sequence 1 to <c>@head</c> have a time in [<c>@from</c>, <c>@to</c>), read from the table
    /// itself.
    /// </summary>
    public static string CountRangeByTable(SqlDialect dialect) =>
        "SELECT count(*) FROM audit_events" + dialect.ByTable + " WHERE time >= @from AND time < @to AND sequence >= 1 AND sequence <= @head";

    /// <summary>
    /// The same through the time index: the entries in that range, and how many of them name a row that holds the same
    /// time. Both equal <see cref="CountRangeByTable"/> unless the index's contents were changed under an unchanged schema.
    /// </summary>
    public static string CountRangeByIndex(SqlDialect dialect) =>
        "SELECT count(*), count(t.sequence) FROM (SELECT sequence, time FROM audit_events" + dialect.ByTimeIndex
        + " WHERE time >= @from AND time < @to AND sequence >= 1 AND sequence <= @head) i LEFT JOIN audit_events t"
        + dialect.ByTable + " ON t.sequence = i.sequence AND t.time = i.time";

    /// <summary>The highest sequence stored; NULL on an empty trail.</summary>
    public const string SelectMaxSequence = "SELECT max(sequence) FROM audit_events";

    /// <summary>
    /// One page of an export found through the time index but read from the table: time in [<c>@from</c>, <c>@to</c>),
    /// sequence 1 or more (the walk reports a row below 1, written past the CHECK constraint, and never serves it as
    /// evidence), strictly after the keyset position (<c>@after_time</c>, <c>@after_sequence</c>, the index's values),
    /// ordered by time then sequence. Every column comes from the table row (an index can hold another time than its
    /// row), then a 1 (the stored-types column <see cref="Audit.AuditRow.Read"/> expects) and the index's time.
    /// </summary>
    public static string SelectRangePageByIndex(SqlDialect dialect) =>
        "SELECT " + string.Join(", ", Columns.Split(", ").Select(c => "t." + c)) + ", 1, i.time FROM (SELECT sequence, time FROM audit_events"
        + dialect.ByTimeIndex + """
         WHERE time >= @from AND time < @to AND (time, sequence) > (@after_time, @after_sequence) AND sequence >= 1
        ORDER BY time, sequence LIMIT @limit) i
        JOIN audit_events t
        """ + dialect.ByTable + " ON t.sequence = i.sequence ORDER BY i.time, i.sequence";

    /// <summary>
    /// One page of an export read from the table itself, no index (a full scan per page: only when the index
    /// disagrees with the table), same rows and order as <see cref="SelectRangePageByIndex"/>.
    /// </summary>
    public static string SelectRangePageByTable(SqlDialect dialect) =>
        "SELECT " + Columns + " FROM audit_events" + dialect.ByTable + """
         WHERE +time >= @from AND +time < @to AND (time, sequence) > (@after_time, @after_sequence) AND sequence >= 1
        ORDER BY time, sequence
        LIMIT @limit
        """;
}
