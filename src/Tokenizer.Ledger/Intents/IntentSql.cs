namespace Tokenizer.Ledger.Intents;

/// <summary>
/// The statements on <c>intents</c>: the only SQL that writes that table. SQL that SQLite and PostgreSQL both run unchanged;
/// every value is a parameter (<c>@name</c>), no statement is built from input. Times are unix microseconds UTC.
/// </summary>
internal static class IntentSql
{
    /// <summary>A key's intent id (tokenisations), for the audit record of its cut-off call.</summary>
    public const string SelectIntentIdOfKey = """
        SELECT intent_id FROM intents WHERE caller_id = @caller_id AND idempotency_key = @idempotency_key
        """;

    /// <summary>
    /// Records a started claim's intent as pending; a key claimed again (after a release, or taken over) keeps its
    /// first created_at and intent id and starts pending again. A failed or closed intent is only restarted by the same
    /// request: a different request reusing the key must not erase what the orphan sweep has to look for, nor the request
    /// the key is bound to. <c>@erased_hmac</c> is the all-zero HMAC of a request made before the HMAC's inputs changed,
    /// which any request matches.
    /// </summary>
    public const string UpsertPendingIntent = """
        INSERT INTO intents
            (caller_id, idempotency_key, intent_id, operation, customer_reference, request_hmac, state, token, created_at, updated_at)
        VALUES (@caller_id, @idempotency_key, @intent_id, @operation, @customer_reference, @request_hmac, 'pending', NULL, @now, @now)
        ON CONFLICT (caller_id, idempotency_key) DO UPDATE SET
            operation = excluded.operation,
            customer_reference = excluded.customer_reference,
            request_hmac = excluded.request_hmac,
            state = 'pending',
            token = NULL,
            updated_at = excluded.updated_at
        WHERE intents.state NOT IN ('failed', 'closed') OR intents.request_hmac = excluded.request_hmac
            OR intents.request_hmac = @erased_hmac
        """;

    /// <summary>A key's intent state, updated_at and request HMAC, for the claim's fence and the failed-key check.</summary>
    public const string SelectIntentOfKey = """
        SELECT state, updated_at, request_hmac FROM intents
        WHERE caller_id = @caller_id AND idempotency_key = @idempotency_key
        """;

    /// <summary>A failed intent claimed by the sweep stays failed; only its updated_at moves.</summary>
    public const string TouchIntent = """
        UPDATE intents SET updated_at = @now
        WHERE caller_id = @caller_id AND idempotency_key = @idempotency_key
        """;

    /// <summary>
    /// Moves a key's pending or failed intent to failed or closed after a fenced release, only if the released claim was
    /// the last to touch it (every claim with an intent sets its updated_at to the claim time): a claim without an
    /// intent (a revoke reusing the key) leaves another request's failed intent to the sweep.
    /// </summary>
    public const string ReleaseOwnedIntent = """
        UPDATE intents SET state = @state, updated_at = @now
        WHERE caller_id = @caller_id AND idempotency_key = @idempotency_key AND state IN ('pending', 'failed')
          AND updated_at = @claimed_at
        """;

    /// <summary>Marks a key's pending intent completed with its token (nothing when the key has none pending).</summary>
    public const string CompleteIntent = """
        UPDATE intents SET state = 'completed', token = @token, updated_at = @now
        WHERE caller_id = @caller_id AND idempotency_key = @idempotency_key AND state = 'pending'
        """;

    /// <summary>Sets a key's intent to completed or detaching with its token.</summary>
    public const string SetIntentToken = """
        UPDATE intents SET state = @state, token = @token, updated_at = @now
        WHERE caller_id = @caller_id AND idempotency_key = @idempotency_key
        """;

    /// <summary>An unclaimable pending or failed intent: completed with its request's token, or just moved to the back.</summary>
    public const string SettleIntent = """
        UPDATE intents
        SET state = CASE WHEN CAST(@token AS TEXT) IS NULL THEN state ELSE 'completed' END,
            token = COALESCE(CAST(@token AS TEXT), token),
            updated_at = @now
        WHERE caller_id = @caller_id AND idempotency_key = @idempotency_key AND state IN ('pending', 'failed')
        """;

    /// <summary>A detaching intent whose detach the gateway confirmed: completed.</summary>
    public const string ConfirmDetachedIntent = """
        UPDATE intents SET state = 'completed', updated_at = @now
        WHERE caller_id = @caller_id AND idempotency_key = @idempotency_key AND state = 'detaching'
        """;

    /// <summary>Intents in one state changed before a time, oldest change first (index ix_intents_state_updated_at).</summary>
    public const string SelectIntents = """
        SELECT intent_id, caller_id, idempotency_key, operation, customer_reference, request_hmac, state, token, created_at, updated_at
        FROM intents
        WHERE state = @state AND updated_at < @updated_before
        ORDER BY updated_at, intent_id
        LIMIT @limit
        """;

    public const string UnlinkIntents =
        "UPDATE intents SET customer_reference = @erased_reference WHERE customer_reference = @customer_reference";

    public const string PurgeFinishedIntents = """
        DELETE FROM intents
        WHERE state IN ('completed', 'closed')
          AND (caller_id, idempotency_key) IN (
              SELECT caller_id, idempotency_key FROM idempotency_records WHERE state = 'completed' AND updated_at < @before)
        """;
}
