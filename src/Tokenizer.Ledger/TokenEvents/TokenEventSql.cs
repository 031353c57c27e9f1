using Tokenizer.Ledger.Schema;

namespace Tokenizer.Ledger.TokenEvents;

/// <summary>
/// The token event schema (ledger migration 9) and statements, in SQL that SQLite and PostgreSQL both run. Every value
/// is a parameter.
/// </summary>
internal static class TokenEventSql
{
    /// <summary>The columns a read returns, in this order.</summary>
    private const string Columns = "sequence, token, caller_id, kind, source_id, occurred_at, recorded_at, brand, last4, exp_month, exp_year, fingerprint";

    /// <summary>
    /// Migration 9: one row per thing that happened to a token. <c>sequence</c> is the readers' cursor: assigned by the
    /// database, never reused (SQLite AUTOINCREMENT, a PostgreSQL identity), and committed in increasing order (see
    /// <see cref="RelationalTokenEventStore"/>). (source_id, kind, token) is unique, which makes appends idempotent.
    /// Card columns hold masked fields only (last4 is four digits, checked here and by the store); no personal data.
    /// The index on (caller_id, sequence) serves a billing caller's scoped page; the one on recorded_at the purge.
    /// </summary>
    public static string[] Schema(SqlDialect d) =>
    [
        $"""
        CREATE TABLE token_events (
            sequence {d.SequenceKey},
            token TEXT{d.TokenIdCollation} NOT NULL CHECK (length(token) BETWEEN 1 AND 255),
            caller_id TEXT NOT NULL CHECK (length(caller_id) BETWEEN 1 AND 200),
            kind TEXT NOT NULL CHECK (kind IN ('setup_succeeded', 'setup_failed', 'requires_action', 'mandate_inactive', 'card_updated', 'detached_at_gateway', 'customer_deleted', 'revoked')),
            source_id TEXT NOT NULL CHECK (length(source_id) BETWEEN 1 AND 300),
            occurred_at {d.Int64Type} NOT NULL,
            recorded_at {d.Int64Type} NOT NULL,
            brand TEXT NULL CHECK (length(brand) <= 32),
            last4 TEXT NULL CHECK (length(last4) = 4),
            exp_month {d.Int64Type} NULL CHECK (exp_month BETWEEN 1 AND 12),
            exp_year {d.Int64Type} NULL CHECK (exp_year BETWEEN 1000 AND 9999),
            fingerprint TEXT NULL CHECK (length(fingerprint) <= 64),
            UNIQUE (source_id, kind, token),
            CHECK (kind = 'card_updated' OR (brand IS NULL AND last4 IS NULL AND exp_month IS NULL AND exp_year IS NULL AND fingerprint IS NULL))
        ){d.TableOptions}
        """,
        "CREATE INDEX ix_token_events_caller_sequence ON token_events (caller_id, sequence)",
        "CREATE INDEX ix_token_events_recorded_at ON token_events (recorded_at)",
    ];

    /// <summary>Appends one event unless (source_id, kind, token) is there; one row affected means appended.</summary>
    public const string Insert = """
        INSERT INTO token_events (token, caller_id, kind, source_id, occurred_at, recorded_at, brand, last4, exp_month, exp_year, fingerprint)
        VALUES (@token, @caller_id, @kind, @source_id, @occurred_at, @recorded_at, @brand, @last4, @exp_month, @exp_year, @fingerprint)
        ON CONFLICT (source_id, kind, token) DO NOTHING
        """;

    /// <summary>Every caller's events after @after, oldest first, at most @limit.</summary>
    public const string SelectAfter = "SELECT " + Columns + " FROM token_events WHERE sequence > @after ORDER BY sequence LIMIT @limit";

    /// <summary>One caller's events after @after, oldest first, at most @limit.</summary>
    public const string SelectCallerAfter =
        "SELECT " + Columns + " FROM token_events WHERE caller_id = @caller_id AND sequence > @after ORDER BY sequence LIMIT @limit";

    /// <summary>Deletes events recorded before @before.</summary>
    public const string PurgeRecordedBefore = "DELETE FROM token_events WHERE recorded_at < @before";
}
