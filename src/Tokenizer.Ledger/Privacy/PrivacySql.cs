namespace Tokenizer.Ledger.Privacy;

/// <summary>
/// The privacy store's statements (migration 6), in SQL that SQLite and PostgreSQL both run unchanged. Every value is a
/// parameter; no statement is built from input. Subjects are keyed pseudonyms; times are unix microseconds UTC.
/// </summary>
internal static class PrivacySql
{
    public const string SelectSubjectKey = "SELECT wrapped_key FROM privacy_subject_keys WHERE subject = @subject";

    public const string InsertSubjectKey = """
        INSERT INTO privacy_subject_keys (subject, wrapped_key, created_at) VALUES (@subject, @wrapped_key, @created_at)
        ON CONFLICT (subject) DO NOTHING
        """;

    public const string UpsertPersonalData = """
        INSERT INTO privacy_personal_data (subject, record_id, ciphertext, updated_at)
        VALUES (@subject, @record_id, @ciphertext, @updated_at)
        ON CONFLICT (subject, record_id) DO UPDATE SET ciphertext = excluded.ciphertext, updated_at = excluded.updated_at
        """;

    public const string SelectPersonalData =
        "SELECT record_id, ciphertext, updated_at FROM privacy_personal_data WHERE subject = @subject ORDER BY record_id";

    public const string SelectErasure = """
        SELECT step, requested_at, updated_at, completed_at, payment_methods_detached, payment_methods_not_cleared, holding_since
        FROM privacy_erasures WHERE subject = @subject
        """;

    /// <summary>The earliest created_at of the reference's Customer mapping and tokens (NULL: neither).</summary>
    public const string SelectHoldingStart = """
        SELECT MIN(created_at) FROM (
            SELECT created_at FROM customers WHERE customer_reference = @customer_reference
            UNION ALL
            SELECT MIN(created_at) FROM tokens WHERE customer_reference = @customer_reference) AS holding
        """;

    /// <summary>
    /// Records an erasure's progress. Progress never goes back: of two runs of one erasure (same requested_at), a write
    /// of an earlier step than the one recorded is ignored; a later request (a new erasure) replaces the record.
    /// </summary>
    public const string UpsertErasure = """
        INSERT INTO privacy_erasures (subject, step, requested_at, updated_at, completed_at, payment_methods_detached, payment_methods_not_cleared, holding_since)
        VALUES (@subject, @step, @requested_at, @updated_at, @completed_at, @payment_methods_detached, @payment_methods_not_cleared, @holding_since)
        ON CONFLICT (subject) DO UPDATE SET
            step = excluded.step,
            requested_at = excluded.requested_at,
            updated_at = excluded.updated_at,
            completed_at = excluded.completed_at,
            payment_methods_detached = excluded.payment_methods_detached,
            payment_methods_not_cleared = excluded.payment_methods_not_cleared,
            holding_since = excluded.holding_since
        WHERE excluded.requested_at > privacy_erasures.requested_at
           OR (excluded.requested_at = privacy_erasures.requested_at
               AND (CASE excluded.step WHEN 'detaching' THEN 1 WHEN 'deleting_customer' THEN 2 WHEN 'destroying_key' THEN 3 ELSE 4 END)
                   >= (CASE privacy_erasures.step WHEN 'detaching' THEN 1 WHEN 'deleting_customer' THEN 2 WHEN 'destroying_key' THEN 3 ELSE 4 END))
        """;

    /// <summary>Fences a reference for its erasure (migration 18); a fence already there stays as it is.</summary>
    public const string InsertFence = """
        INSERT INTO erasure_fences (customer_reference, fenced_at) VALUES (@customer_reference, @fenced_at)
        ON CONFLICT (customer_reference) DO NOTHING
        """;

    /// <summary>Read by a tokenisation's claim, in its transaction: is an erasure of the reference in progress?</summary>
    public const string SelectFence = "SELECT COUNT(*) FROM erasure_fences WHERE customer_reference = @customer_reference";

    /// <summary>
    /// What is in flight for a person: tokenisations under the reference whose claim is live or was cut off (intent still
    /// pending), plus live pending claims acting on the subject (resource = pseudonym: corrections) taken since
    /// @live_since (a cut-off one stops counting when its lease ends). Erasure claims (@erase_operation) are not counted:
    /// the one counting holds one itself.
    /// </summary>
    public const string CountInFlightOfSubject = """
        SELECT (SELECT COUNT(*) FROM intents WHERE state = 'pending' AND customer_reference = @customer_reference)
             + (SELECT COUNT(*) FROM idempotency_records
                WHERE state = 'pending' AND resource = @subject AND updated_at > @live_since AND operation <> @erase_operation)
        """;

    public const string DeleteFence = "DELETE FROM erasure_fences WHERE customer_reference = @customer_reference";

    public const string DeleteSubjectData = "DELETE FROM privacy_personal_data WHERE subject = @subject";

    public const string DeletePersonalDataRecord = "DELETE FROM privacy_personal_data WHERE subject = @subject AND record_id = @record_id";

    public const string DeleteSubjectKey = "DELETE FROM privacy_subject_keys WHERE subject = @subject";

    public const string UnlinkReconciliationItems =
        "UPDATE reconciliation_items SET customer_reference = @erased_reference WHERE customer_reference = @customer_reference";

    public const string UnlinkReconciliationRunFilters =
        "UPDATE reconciliation_runs SET customer_reference = @erased_reference WHERE customer_reference = @customer_reference";

    /// <summary>
    /// A run paused inside the subject's Customer goes on with the next Customer: that one is deleted (same transaction).
    /// </summary>
    public const string UnlinkReconciliationRunCurrent = """
        UPDATE reconciliation_runs SET current_customer = NULL, gateway_starting_after = NULL
        WHERE current_customer = @customer_reference
        """;

    /// <summary>
    /// A run whose cursor stands after the subject's Customer stands after the one before it instead (or at the start):
    /// with the subject's Customer deleted in the same transaction, both cursors select the same remaining Customers.
    /// </summary>
    public const string UnlinkReconciliationRunCursor = """
        UPDATE reconciliation_runs SET after_customer = (
            SELECT MAX(c.customer_reference) FROM customers c WHERE c.gateway = @gateway AND c.customer_reference < @customer_reference)
        WHERE after_customer = @customer_reference
        """;

    public const string PurgeRevokedTokenData = """
        DELETE FROM privacy_personal_data
        WHERE record_id IN (SELECT token FROM tokens WHERE status = 'revoked' AND revoked_at < @before)
           OR record_id IN (SELECT token || '.mandate' FROM tokens WHERE status = 'revoked' AND revoked_at < @before)
           OR record_id IN (SELECT token || '.correcting' FROM tokens WHERE status = 'revoked' AND revoked_at < @before)
        """;

}
