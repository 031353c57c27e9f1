using System.Globalization;

namespace Tokenizer.Ledger.Schema;

/// <summary>
/// The few spellings that differ between the SQL databases the ledger supports; everything else in
/// <see cref="LedgerMigrations"/>, <see cref="LedgerSql"/> and <see cref="AuditSql"/> is written once in SQL that SQLite
/// and PostgreSQL both accept (<c>ON CONFLICT</c>, row values, <c>length()</c>, <c>@name</c> parameters).
/// </summary>
/// <remarks>
/// Beyond the DDL, the PostgreSQL ledger differs in how it runs transactions (see <c>PostgresDatabase</c>):
/// <c>BEGIN</c> at READ COMMITTED instead of <c>BEGIN IMMEDIATE</c> (writers do not take one database-wide lock; the
/// statements are written so that unique constraints and conditional updates decide races), serialization failures and
/// deadlocks instead of <c>SQLITE_BUSY</c> as the transient errors that retry a transaction, and advisory locks where one
/// writer at a time is required (migrations, audit appends).
/// </remarks>
internal sealed record SqlDialect
{
    // The triggers by name, and "<table>_privileges_revoked" while the service's role holds none of UPDATE, DELETE and
    // TRUNCATE on the table (a NULL ACL is the owner's default: every privilege).
    // A trigger as compared with the guards: its definition without the table's schema, whether it fires (tgenabled 'O'
    // in normal operation, 'D' once disabled) and the body of the function it runs (a guard's name on a function
    // replaced by a no-op guards nothing).
    private const string PostgresTriggerDefinition =
        "replace(pg_get_triggerdef(t.oid), ' ON ' || quote_ident(n.nspname) || '.', ' ON ') || ' ENABLED ' || t.tgenabled::text || ' BODY ' || p.prosrc";

    private const string PostgresPresentGuards = """
        SELECT tgname::text FROM pg_trigger WHERE tgrelid = to_regclass(@table) AND NOT tgisinternal
        UNION ALL
        SELECT @table || '_privileges_revoked' FROM pg_class c
        WHERE c.oid = to_regclass(@table) AND c.relacl IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM aclexplode(c.relacl) a
            WHERE a.grantee = (SELECT oid FROM pg_roles WHERE rolname = current_user) AND a.privilege_type IN ('UPDATE', 'DELETE', 'TRUNCATE'))
        """;

    /// <summary>SQLite: STRICT tables, so a value of the wrong type is an error instead of being stored as is.</summary>
    public static SqlDialect Sqlite { get; } = new()
    {
        Int64Type = "INTEGER",
        BytesType = "BLOB",
        ZeroRequestHmac = "zeroblob(32)",
        IdentityKey = "INTEGER PRIMARY KEY",
        SequenceKey = "INTEGER PRIMARY KEY AUTOINCREMENT",
        TokenIdCollation = "",
        TableOptions = " STRICT",
        AppendOnlyGuards = SqliteAppendOnlyGuards,
        RestorableGuards = SqliteRestorableGuards,
        PresentGuards = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = @table",
        TableTriggers = "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = @table COLLATE NOCASE",
        AllTriggers = "SELECT name, tbl_name, coalesce(sql, '') FROM sqlite_master WHERE type = 'trigger'",
        Identifiers = StringComparer.OrdinalIgnoreCase,
        AuditSchema = """
            SELECT 'table', name, coalesce(sql, '') FROM sqlite_master WHERE type = 'table' AND name = @table COLLATE NOCASE
            UNION ALL
            SELECT 'index', il.name, coalesce((SELECT m.sql FROM sqlite_master m WHERE m.type = 'index' AND m.name = il.name), '')
            FROM pragma_index_list(@table) il
            """,
        ExpectedAuditSchema = table => Tokenizer.Ledger.Sqlite.SqliteSchemaReference.Objects
            .Where(o => o.Type is "table" or "index" && string.Equals(o.Table, table, StringComparison.OrdinalIgnoreCase))
            .ToList(),
        TableStrict = "SELECT strict FROM pragma_table_list WHERE schema = 'main' AND name = @table",
        AuditIntegrityCheck = "PRAGMA integrity_check(audit_events)",
        ByTimeIndex = " INDEXED BY ix_audit_events_time",
        ByTable = " NOT INDEXED",
        TableColumns = "SELECT name, type, \"notnull\", pk FROM pragma_table_info(@table) ORDER BY cid",
        TableIndexes = """
            SELECT il.name, (SELECT group_concat(n, ',') FROM (SELECT ii.name AS n FROM pragma_index_info(il.name) ii ORDER BY ii.seqno))
            FROM pragma_index_list(@table) il
            """,
        AuditStoredTypes = """
            (typeof(sequence) = 'integer' AND typeof(time) = 'integer' AND typeof(caller_id) = 'text'
             AND typeof(source_address) IN ('text', 'null') AND typeof(action) = 'text' AND typeof(resource) IN ('text', 'null')
             AND typeof(outcome) = 'text' AND typeof(reason) IN ('text', 'null') AND typeof(correlation_id) = 'text'
             AND typeof(prev_mac) = 'blob' AND typeof(mac) = 'blob' AND typeof(key_id) IN ('text', 'null')
             AND typeof(recorded_at) IN ('integer', 'null'))
            """,
        AuditAppendLock = null,
        ReferenceFenceLock = null,
        ReferenceFenceSharedLock = null,
        AddedSequenceColumn = "INTEGER NULL",
        NextInSequence = (table, column) => $"(SELECT coalesce(max({column}), 0) + 1 FROM {table})",
    };

    /// <summary>
    /// PostgreSQL 15 or later: typed columns (no STRICT needed), <c>COLLATE "C"</c> on token ids so <c>token DESC</c>
    /// orders by bytes exactly as SQLite's BINARY collation does whatever the database's locale, a plpgsql function that
    /// raises as the append-only guard, and a transaction-scoped advisory lock that serialises audit appends.
    /// </summary>
    public static SqlDialect Postgres { get; } = new()
    {
        Int64Type = "BIGINT",
        BytesType = "BYTEA",
        ZeroRequestHmac = "decode(repeat('00', 32), 'hex')",
        IdentityKey = "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
        SequenceKey = "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
        TokenIdCollation = " COLLATE \"C\"",
        TableOptions = "",
        AppendOnlyGuards = PostgresAppendOnlyGuards,
        RestorableGuards = PostgresRestorableGuards,
        PresentGuards = PostgresPresentGuards,
        TableTriggers = $"""
            SELECT t.tgname::text, {PostgresTriggerDefinition}
            FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_proc p ON p.oid = t.tgfoid
            WHERE t.tgrelid = to_regclass(@table) AND NOT t.tgisinternal
            UNION ALL
            SELECT rulename::text, definition FROM pg_rules WHERE tablename = @table
            """,
        AllTriggers = $"""
            SELECT t.tgname::text, c.relname::text, {PostgresTriggerDefinition}
            FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_proc p ON p.oid = t.tgfoid
            WHERE NOT t.tgisinternal
            UNION ALL
            SELECT rulename::text, tablename::text, definition FROM pg_rules WHERE schemaname NOT IN ('pg_catalog', 'information_schema')
            """,
        Identifiers = StringComparer.Ordinal,
        TriggerNamesPerTable = true,
        AuditSchema = """
            SELECT 'index', i.relname::text, replace(pg_get_indexdef(x.indexrelid), ' ON ' || quote_ident(n.nspname) || '.', ' ON ')
            FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace
            WHERE x.indrelid = to_regclass(@table)
            UNION ALL
            SELECT 'constraint', conname::text, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = to_regclass(@table) AND contype <> 'n'
            """,
        ExpectedAuditSchema = PostgresAuditSchema,
        TableStrict = null,
        AuditIntegrityCheck = null,
        ByTimeIndex = string.Empty,
        ByTable = string.Empty,
        TableColumns = """
            SELECT a.attname::text, format_type(a.atttypid, a.atttypmod), CASE WHEN a.attnotnull THEN 1 ELSE 0 END,
                   CASE WHEN EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conrelid = a.attrelid AND c.contype = 'p' AND a.attnum = ANY (c.conkey)) THEN 1 ELSE 0 END
            FROM pg_attribute a WHERE a.attrelid = to_regclass(@table) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum
            """,
        TableIndexes = """
            SELECT i.relname::text, (SELECT string_agg(a.attname::text, ',' ORDER BY k.ord)
                FROM unnest(x.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
                JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum)
            FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = to_regclass(@table)
            """,
        AuditStoredTypes = "1",
        AuditAppendLock = AdvisoryLock(AdvisoryLocks.AuditAppend),
        AuditAnchorLock = AdvisoryLock(AdvisoryLocks.AuditAnchor),
        TokenEventAppendLock = AdvisoryLock(AdvisoryLocks.TokenEventAppend),
        ReferenceFenceLock = ReferenceLock("pg_advisory_xact_lock"),
        ReferenceFenceSharedLock = ReferenceLock("pg_advisory_xact_lock_shared"),
        AddedSequenceColumn = "BIGINT GENERATED BY DEFAULT AS IDENTITY",
        NextInSequence = null,
    };

    /// <summary>Column type of a 64-bit integer (times as unix microseconds, audit sequences).</summary>
    public required string Int64Type { get; init; }

    /// <summary>Column type of a byte string (the request HMAC, audit MACs).</summary>
    public required string BytesType { get; init; }

    /// <summary>A 32-byte all-zero byte string: the request HMAC of a record made before the HMAC's inputs changed.</summary>
    public required string ZeroRequestHmac { get; init; }

    /// <summary>Column definition (type and constraints) of a database-assigned 64-bit primary key.</summary>
    public required string IdentityKey { get; init; }

    /// <summary>
    /// Column definition of a database-assigned 64-bit key that is never reused, even after the rows with the highest
    /// values are deleted (a reader's cursor must never meet a new row behind it): SQLite needs AUTOINCREMENT for that.
    /// </summary>
    public required string SequenceKey { get; init; }

    /// <summary>Text after the type of a token id column, so listings order token ids by their bytes.</summary>
    public required string TokenIdCollation { get; init; }

    /// <summary>Text appended after a <c>CREATE TABLE (...)</c>.</summary>
    public required string TableOptions { get; init; }

    /// <summary>The DDL that makes a table refuse UPDATE and DELETE (given the table name).</summary>
    public required Func<string, IReadOnlyList<string>> AppendOnlyGuards { get; init; }

    /// <summary>
    /// The append-only guards of a table (given its name), each under the name <see cref="PresentGuards"/> lists it by,
    /// with DDL that recreates it when missing and changes nothing when present (run at every start: a guard dropped
    /// while the service was stopped comes back).
    /// </summary>
    public required Func<string, IReadOnlyList<AppendOnlyGuard>> RestorableGuards { get; init; }

    /// <summary>A query listing the names of the guards of table <c>@table</c> present now (one text column).</summary>
    public required string PresentGuards { get; init; }

    /// <summary>
    /// A query listing every trigger on table <c>@table</c> (PostgreSQL: and every rule), whoever made it: its name and
    /// its definition (two text columns). Anything but the guards is foreign: a trigger or rule that fires on INSERT can
    /// drop or change a row as it is written, or delete it right after.
    /// </summary>
    public required string TableTriggers { get; init; }

    /// <summary>
    /// A query listing every trigger in the database (PostgreSQL: and every rule), on whichever table, whoever made it:
    /// its name, its table and its definition (three text columns). A trigger on any table can write
    /// <c>audit_events</c> (e.g. delete the newest record whenever another table is written), and trigger names are
    /// schema-wide on SQLite, so the guards are looked up here and not only among the table's own triggers.
    /// </summary>
    public required string AllTriggers { get; init; }

    /// <summary>Whether a trigger's name is unique per table (PostgreSQL) rather than per schema (SQLite).</summary>
    public bool TriggerNamesPerTable { get; init; }

    /// <summary>How the database compares the names of triggers and tables: SQLite ignores ASCII case, PostgreSQL does not (quoted names).</summary>
    public required StringComparer Identifiers { get; init; }

    /// <summary>
    /// A query listing <c>audit_events</c>' own definition and every index on it as the database uses them: type
    /// (SQLite: <c>table</c> or <c>index</c>; PostgreSQL: <c>index</c> or <c>constraint</c>), name, definition.
    /// </summary>
    public required string AuditSchema { get; init; }

    /// <summary>
    /// The objects <see cref="AuditSchema"/> should list for a table (given its name), as the migrations create them
    /// (SQLite: see <see cref="Tokenizer.Ledger.Sqlite.SqliteSchemaReference"/>; PostgreSQL: the definitions PostgreSQL 15 and later list).
    /// </summary>
    public required Func<string, IReadOnlyList<SchemaObject>> ExpectedAuditSchema { get; init; }

    /// <summary>
    /// A query giving 1 when table <c>@table</c> is STRICT (SQLite: a value of another type than its column's is refused),
    /// 0 when not; null where column types are always enforced (PostgreSQL).
    /// </summary>
    public required string? TableStrict { get; init; }

    /// <summary>
    /// A statement comparing the stored b-trees of <c>audit_events</c> and its indexes with each other (SQLite 3.33+:
    /// <c>PRAGMA integrity_check(audit_events)</c>, one row "ok" or one row per disagreement, e.g. an index b-tree swapped
    /// under an unchanged schema); null where no such check runs without superuser rights (PostgreSQL: amcheck is an
    /// extension that needs them).
    /// </summary>
    public required string? AuditIntegrityCheck { get; init; }

    /// <summary>
    /// Written after <c>FROM audit_events</c>: makes the query read through <c>ix_audit_events_time</c> (SQLite
    /// <c>INDEXED BY</c>); empty where the planner chooses (PostgreSQL).
    /// </summary>
    public required string ByTimeIndex { get; init; }

    /// <summary>
    /// Written after <c>FROM audit_events</c>: makes the query read the table itself, no index (SQLite
    /// <c>NOT INDEXED</c>); empty where the planner chooses (PostgreSQL).
    /// </summary>
    public required string ByTable { get; init; }

    /// <summary>
    /// A query listing the columns of table <c>@table</c> in order: name, declared type, 1 when NOT NULL, and above 0
    /// when part of the primary key.
    /// </summary>
    public required string TableColumns { get; init; }

    /// <summary>A query listing the indexes of table <c>@table</c>: name, and its columns in order, comma-separated.</summary>
    public required string TableIndexes { get; init; }

    /// <summary>
    /// An expression over the columns of <c>audit_events</c>, 1 when every value is stored with its column's type.
    /// SQLite: <c>typeof</c> per column, since a table whose STRICT was removed stores any type anywhere; PostgreSQL:
    /// always 1, the column type is the stored type (a changed column type is a table problem instead).
    /// </summary>
    public required string AuditStoredTypes { get; init; }

    /// <summary>
    /// The statement that makes an audit append the only one in flight, run first in the append's transaction; null
    /// where the transaction already holds the database's single write lock (SQLite's <c>BEGIN IMMEDIATE</c>).
    /// </summary>
    public required string? AuditAppendLock { get; init; }

    /// <summary>
    /// The statement that makes an anchor write the only one in flight across processes; null where one process owns the
    /// database (SQLite: the data directory lock), and an in-process gate is enough.
    /// </summary>
    public string? AuditAnchorLock { get; init; }

    /// <summary>
    /// The statement that makes a token event append the only one in flight, run first in the append's transaction, so
    /// sequences commit in order (see <c>RelationalTokenEventStore</c>); null where the transaction already holds the
    /// database's single write lock (SQLite).
    /// </summary>
    public string? TokenEventAppendLock { get; init; }

    /// <summary>
    /// Taken (exclusive) by an erasure's transaction that fences a customer reference and counts its tokenisations in
    /// flight; <see cref="ReferenceFenceSharedLock"/> is taken (shared) by a tokenisation's claim before it reads the
    /// fence. Binds <c>@fence_key</c> (a 32-bit hash of the reference; two references sharing one only wait for each
    /// other). At READ COMMITTED the claim and the erasure then never both miss each other: the claim commits before the
    /// erasure counts, or reads the committed fence. Null where the transaction already holds the database's single
    /// write lock (SQLite).
    /// </summary>
    public string? ReferenceFenceLock { get; init; }

    /// <summary>The shared form of <see cref="ReferenceFenceLock"/>, taken by tokenisation claims (which never wait for each other).</summary>
    public string? ReferenceFenceSharedLock { get; init; }

    /// <summary>
    /// Column definition of a 64-bit number added to an existing table that numbers the rows inserted from then on in
    /// insert order. SQLite cannot add an identity column to a table, so the insert numbers it (<see cref="NextInSequence"/>);
    /// PostgreSQL numbers it itself (an identity, which also numbers the rows already there).
    /// </summary>
    public required string AddedSequenceColumn { get; init; }

    /// <summary>
    /// The value an INSERT gives a column added as <see cref="AddedSequenceColumn"/> (given the table and the column):
    /// SQLite one more than the highest so far, which no other insert can see at the same time (its writer is single:
    /// <c>BEGIN IMMEDIATE</c>); null where the column's identity default numbers it, and the insert leaves it out.
    /// </summary>
    public required Func<string, string, string>? NextInSequence { get; init; }

    // What PostgreSQL 15 and later list for audit_events as migrations 2, 7 and 13 create it (pg_get_indexdef with the
    // schema left out, pg_get_constraintdef; NOT NULL is compared per column instead). The PostgreSQL audit tests start
    // from the migrations and expect no table problem, so a migration that changes these fails them.
    private static SchemaObject[] PostgresAuditSchema(string table) =>
    [
        new("index", $"{table}_pkey", table, $"CREATE UNIQUE INDEX {table}_pkey ON {table} USING btree (sequence)"),
        new("index", "ix_audit_events_time", table, $"CREATE INDEX ix_audit_events_time ON {table} USING btree (\"time\", sequence)"),
        new("index", "ix_audit_events_resource", table, $"CREATE INDEX ix_audit_events_resource ON {table} USING btree (resource)"),
        new("constraint", $"{table}_pkey", table, "PRIMARY KEY (sequence)"),
        new("constraint", $"{table}_sequence_check", table, "CHECK ((sequence >= 1))"),
        new("constraint", $"{table}_caller_id_check", table, "CHECK (((length(caller_id) >= 1) AND (length(caller_id) <= 200)))"),
        new("constraint", $"{table}_source_address_check", table, "CHECK ((length(source_address) <= 200))"),
        new("constraint", $"{table}_action_check", table, "CHECK (((length(action) >= 1) AND (length(action) <= 200)))"),
        new("constraint", $"{table}_resource_check", table, "CHECK ((length(resource) <= 200))"),
        new("constraint", $"{table}_outcome_check", table, "CHECK ((outcome = ANY (ARRAY['success'::text, 'failure'::text, 'denied'::text])))"),
        new("constraint", $"{table}_reason_check", table, "CHECK ((length(reason) <= 200))"),
        new("constraint", $"{table}_correlation_id_check", table, "CHECK ((length(correlation_id) <= 200))"),
        new("constraint", $"{table}_prev_mac_check", table, "CHECK ((length(prev_mac) = 32))"),
        new("constraint", $"{table}_mac_check", table, "CHECK ((length(mac) = 32))"),
        new("constraint", $"{table}_key_id_check", table, "CHECK ((length(key_id) <= 64))"),
    ];

    /// <summary>A transaction-scoped PostgreSQL advisory lock on the pair (<see cref="AdvisoryLocks.ReferenceFence"/>, @fence_key): a key space apart from the single-key locks.</summary>
    private static string ReferenceLock(string function) =>
        string.Create(CultureInfo.InvariantCulture, $"SELECT {function}({AdvisoryLocks.ReferenceFence}, @fence_key)");

    /// <summary>A statement that takes the transaction-scoped PostgreSQL advisory lock <paramref name="key"/>.</summary>
    public static string AdvisoryLock(long key) =>
        string.Create(CultureInfo.InvariantCulture, $"SELECT pg_advisory_xact_lock({key})");

    // Triggers stop the service's own SQL and careless tools; anyone who can write the file can drop them, which is why
    // the audit trail is also an HMAC chain. The table name comes from LedgerMigrations, never from input.
    private static string[] SqliteAppendOnlyGuards(string table) =>
    [
        SqliteGuard(table, "UPDATE", ifNotExists: false),
        SqliteGuard(table, "DELETE", ifNotExists: false),
    ];

    private static AppendOnlyGuard[] SqliteRestorableGuards(string table) =>
    [
        SqliteRestorableGuard(table, "UPDATE"),
        SqliteRestorableGuard(table, "DELETE"),
    ];

    // A guard kept under its name with another body (e.g. WHEN 0) guards nothing: its stored SQL must be what the
    // migration or a restore wrote, else it is dropped and recreated.
    private static AppendOnlyGuard SqliteRestorableGuard(string table, string operation) =>
        new($"{table}_refuse_{GuardSuffix(operation)}", [SqliteGuard(table, operation, ifNotExists: true)])
        {
            Definitions = [SqliteGuard(table, operation, ifNotExists: false), SqliteGuard(table, operation, ifNotExists: true)],
            Drop = $"DROP TRIGGER IF EXISTS {table}_refuse_{GuardSuffix(operation)}",
        };

    private static string SqliteGuard(string table, string operation, bool ifNotExists) =>
        $"CREATE TRIGGER {(ifNotExists ? "IF NOT EXISTS " : string.Empty)}{table}_refuse_{GuardSuffix(operation)} BEFORE {operation} ON {table} BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END";

    // The same for PostgreSQL, plus TRUNCATE (which fires no row trigger) and the privileges themselves: the role that
    // runs the migration (the service's) loses UPDATE, DELETE and TRUNCATE on the table. An owner or superuser can
    // grant them back and drop the triggers; the MAC chain is what detects what they do then.
    private static string[] PostgresAppendOnlyGuards(string table) =>
    [
        PostgresGuardFunction(table, orReplace: false),
        PostgresGuard(table, "UPDATE", "ROW", orReplace: false),
        PostgresGuard(table, "DELETE", "ROW", orReplace: false),
        PostgresGuard(table, "TRUNCATE", "STATEMENT", orReplace: false),
        PostgresRevoke(table),
    ];

    // CREATE OR REPLACE (PostgreSQL 14+) recreates a dropped trigger and its function and leaves a present one as it is.
    // The trigger guards are compared by definition, whether they fire and their function's body (see
    // PostgresTriggerDefinition): a changed one is dropped, and CREATE OR REPLACE FUNCTION puts the body back.
    private static AppendOnlyGuard[] PostgresRestorableGuards(string table) =>
    [
        PostgresRestorableGuard(table, "UPDATE", "ROW"),
        PostgresRestorableGuard(table, "DELETE", "ROW"),
        PostgresRestorableGuard(table, "TRUNCATE", "STATEMENT"),
        new($"{table}_privileges_revoked", [PostgresRevoke(table)]),
    ];

    private static AppendOnlyGuard PostgresRestorableGuard(string table, string operation, string level) =>
        new($"{table}_refuse_{GuardSuffix(operation)}", [PostgresGuardFunction(table, orReplace: true), PostgresGuard(table, operation, level, orReplace: true)])
        {
            Definitions =
            [
                $"{PostgresGuard(table, operation, level, orReplace: false)} ENABLED O BODY BEGIN RAISE EXCEPTION '{table} is append-only' USING ERRCODE = 'insufficient_privilege'; END",
            ],
            Drop = $"DROP TRIGGER IF EXISTS {table}_refuse_{GuardSuffix(operation)} ON {table}",
        };

    private static string PostgresGuardFunction(string table, bool orReplace) =>
        $"""
        CREATE {(orReplace ? "OR REPLACE " : string.Empty)}FUNCTION {table}_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '{table} is append-only' USING ERRCODE = 'insufficient_privilege';
        END
        $$
        """;

    private static string PostgresGuard(string table, string operation, string level, bool orReplace) =>
        $"CREATE {(orReplace ? "OR REPLACE " : string.Empty)}TRIGGER {table}_refuse_{GuardSuffix(operation)} BEFORE {operation} ON {table} FOR EACH {level} EXECUTE FUNCTION {table}_refuse_change()";

    private static string GuardSuffix(string operation) => operation switch
    {
        "UPDATE" => "update",
        "DELETE" => "delete",
        _ => "truncate",
    };

    private static string PostgresRevoke(string table) => $"REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM PUBLIC, CURRENT_USER";
}

/// <summary>One append-only guard: its name (a trigger's, or a pseudo-name for revoked privileges) and DDL that restores it.</summary>
/// <param name="Name">The name <see cref="SqlDialect.PresentGuards"/> lists it by.</param>
/// <param name="Restore">Idempotent statements that recreate it.</param>
internal sealed record AppendOnlyGuard(string Name, IReadOnlyList<string> Restore)
{
    /// <summary>
    /// The definitions <see cref="SqlDialect.TableTriggers"/> may list this guard with when it is the service's own (equal
    /// once whitespace runs and case are ignored); empty where the definition is not compared (PostgreSQL's revoked privileges).
    /// </summary>
    public IReadOnlyList<string> Definitions { get; init; } = [];

    /// <summary>The statement that drops it when its definition is none of <see cref="Definitions"/>, before <see cref="Restore"/>.</summary>
    public string? Drop { get; init; }

    /// <summary>Whether <paramref name="definition"/> is one of <see cref="Definitions"/> (whitespace runs and case ignored); true where none are known.</summary>
    /// <param name="definition">The stored definition, as <see cref="SqlDialect.TableTriggers"/> lists it.</param>
    /// <returns>False when the stored guard was changed.</returns>
    public bool Matches(string definition) =>
        Definitions.Count == 0 || Definitions.Any(expected => string.Equals(Normalised(expected), Normalised(definition), StringComparison.OrdinalIgnoreCase));

    private static string Normalised(string sql) =>
        string.Join(' ', sql.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)).TrimEnd(';', ' ');
}

/// <summary>
/// The PostgreSQL advisory lock keys the ledger uses, one per purpose. Advisory locks are scoped to one database, so
/// two ledgers in different databases of one server never wait for each other.
/// </summary>
internal static class AdvisoryLocks
{
    /// <summary>Held while migrations are checked and applied ("tkz-migr" in ASCII).</summary>
    public const long Migrations = 0x746B7A2D6D696772;

    /// <summary>Held by the audit append in flight ("tkz-audt" in ASCII): one chain, one writer at a time.</summary>
    public const long AuditAppend = 0x746B7A2D61756474;

    /// <summary>Held while a replica writes the audit anchor ("tkz-anch" in ASCII): the anchor never goes backwards.</summary>
    public const long AuditAnchor = 0x746B7A2D616E6368;

    /// <summary>Held by the token event append in flight ("tkz-tevt" in ASCII): sequences commit in the order they are taken.</summary>
    public const long TokenEventAppend = 0x746B7A2D74657674;

    /// <summary>The first key of the two-key locks that fence one customer reference for its erasure ("tkzf" in ASCII).</summary>
    public const int ReferenceFence = 0x746B7A66;
}
