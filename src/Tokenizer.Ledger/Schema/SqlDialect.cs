namespace Tokenizer.Ledger.Schema;

/// <summary>
/// The few spellings that differ between the SQL databases the ledger supports; everything else in
/// <see cref="LedgerMigrations"/> and <see cref="LedgerSql"/> is written once in SQL that SQLite and PostgreSQL
/// both accept (<c>ON CONFLICT</c>, row values, <c>length()</c>, <c>@name</c> parameters).
/// </summary>
/// <param name="Int64Type">Column type of a 64-bit integer (times as unix microseconds).</param>
/// <param name="BytesType">Column type of a byte string (the request HMAC).</param>
/// <param name="TableOptions">Text appended after a <c>CREATE TABLE (...)</c>.</param>
/// <param name="AppendOnlyGuards">The DDL that makes a table refuse UPDATE and DELETE (given the table name).</param>
/// <remarks>
/// A PostgreSQL ledger mirrors this with <c>new("BIGINT", "BYTEA", "", ...)</c>, <c>COLLATE "C"</c> on
/// <c>tokens.token</c> (so <c>token DESC</c> orders by bytes as SQLite's BINARY collation does), <c>BEGIN</c> instead of
/// <c>BEGIN IMMEDIATE</c>, and serialization failures instead of <c>SQLITE_BUSY</c> as the transient error. Its
/// append-only guard is a plpgsql function that raises, fired <c>BEFORE UPDATE OR DELETE</c> per row and
/// <c>BEFORE TRUNCATE</c> per statement, plus <c>REVOKE UPDATE, DELETE, TRUNCATE</c> from the service's role.
/// </remarks>
internal sealed record SqlDialect(
    string Int64Type,
    string BytesType,
    string TableOptions,
    Func<string, IReadOnlyList<string>> AppendOnlyGuards)
{
    /// <summary>SQLite: STRICT tables, so a value of the wrong type is an error instead of being stored as is.</summary>
    public static SqlDialect Sqlite { get; } = new("INTEGER", "BLOB", " STRICT", SqliteAppendOnlyGuards);

    // Triggers stop the service's own SQL and careless tools; anyone who can write the file can drop them, which is why
    // the audit trail is also an HMAC chain. The table name comes from LedgerMigrations, never from input.
    private static string[] SqliteAppendOnlyGuards(string table) =>
    [
        $"CREATE TRIGGER {table}_refuse_update BEFORE UPDATE ON {table} BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END",
        $"CREATE TRIGGER {table}_refuse_delete BEFORE DELETE ON {table} BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END",
    ];
}
