using Tokenizer.Ledger.Schema;

namespace Tokenizer.Ledger.Privacy;

/// <summary>
/// Ledger migration 6 (privacy): per-subject data keys (wrapped by Data Protection), personal data encrypted
/// under them, erasure progress, all keyed by the subject's keyed pseudonym (never the reference in clear); and the
/// indexes the retention purge walks.
/// </summary>
internal static class PrivacyMigration
{
    public static IReadOnlyList<string> Statements(SqlDialect d) =>
    [
        $"""
        CREATE TABLE privacy_subject_keys (
            subject TEXT NOT NULL PRIMARY KEY CHECK (length(subject) BETWEEN 1 AND 64),
            wrapped_key {d.BytesType} NOT NULL CHECK (length(wrapped_key) BETWEEN 1 AND 4096),
            created_at {d.Int64Type} NOT NULL
        ){d.TableOptions}
        """,
        $"""
        CREATE TABLE privacy_personal_data (
            subject TEXT NOT NULL CHECK (length(subject) BETWEEN 1 AND 64),
            record_id TEXT NOT NULL CHECK (length(record_id) BETWEEN 1 AND 255),
            ciphertext {d.BytesType} NOT NULL CHECK (length(ciphertext) BETWEEN 29 AND 65536),
            updated_at {d.Int64Type} NOT NULL,
            PRIMARY KEY (subject, record_id)
        ){d.TableOptions}
        """,
        "CREATE INDEX ix_privacy_personal_data_record_id ON privacy_personal_data (record_id)",
        $"""
        CREATE TABLE privacy_erasures (
            subject TEXT NOT NULL PRIMARY KEY CHECK (length(subject) BETWEEN 1 AND 64),
            step TEXT NOT NULL CHECK (step IN ('detaching', 'deleting_customer', 'destroying_key', 'completed')),
            requested_at {d.Int64Type} NOT NULL,
            updated_at {d.Int64Type} NOT NULL,
            completed_at {d.Int64Type} NULL,
            payment_methods_detached {d.Int64Type} NOT NULL CHECK (payment_methods_detached >= 0),
            CHECK ((step = 'completed') = (completed_at IS NOT NULL))
        ){d.TableOptions}
        """,
        "CREATE INDEX ix_tokens_status_revoked_at ON tokens (status, revoked_at)",
        "CREATE INDEX ix_idempotency_records_state_updated_at ON idempotency_records (state, updated_at)",
    ];

    /// <summary>
    /// Ledger migration 18 (erasure fences): <c>erasure_fences</c> holds the reference of each erasure in progress, from
    /// before its first gateway call until the transaction that unlinks the reference (so the reference in clear lives
    /// no longer than it does on the subject's tokens); a tokenisation for a fenced reference is refused in its claim's
    /// transaction. <c>payment_methods_not_cleared</c> counts the PaymentMethods whose billing details the gateway refused
    /// to clear (detached behind our back: Stripe updates attached PaymentMethods only).
    /// </summary>
    public static IReadOnlyList<string> FenceStatements(SqlDialect d) =>
    [
        $"""
        CREATE TABLE erasure_fences (
            customer_reference TEXT NOT NULL PRIMARY KEY CHECK (length(customer_reference) BETWEEN 1 AND 4096),
            fenced_at {d.Int64Type} NOT NULL
        ){d.TableOptions}
        """,
        $"ALTER TABLE privacy_erasures ADD COLUMN payment_methods_not_cleared {d.Int64Type} NOT NULL DEFAULT 0 CHECK (payment_methods_not_cleared >= 0)",
    ];

    /// <summary>
    /// Ledger migration 20: <c>privacy_erasures.holding_since</c>, for an erasure of a reference used again after an
    /// earlier erasure completed, when that use began; the export serves none of the subject's audit records from before.
    /// </summary>
    public static IReadOnlyList<string> HoldingSinceStatements(SqlDialect d) =>
    [
        $"ALTER TABLE privacy_erasures ADD COLUMN holding_since {d.Int64Type} NULL",
    ];
}
