namespace Tokenizer.Ledger.Schema;

/// <summary>
/// The ledger's statements, in SQL that SQLite and PostgreSQL both run unchanged. Every value is a parameter
/// (<c>@name</c>); no statement is built from input. Times are unix microseconds UTC.
/// </summary>
internal static class LedgerSql
{
    /// <summary>The token columns in the order <see cref="TokenRows.Read"/> expects.</summary>
    public const string TokenColumns =
        "token, gateway, type, status, caller_id, customer_reference, gateway_customer_id, brand, last4, exp_month, "
        + "exp_year, funding, country, fingerprint, bank_identifier, created_at, revoked_at, setup_status, setup_intent, "
        + "next_action_kind, next_action_url, next_action_expires_at, setup_failure_code, mandate_id, mandate_status, "
        + "mandate_type, mandate_accepted_at";

    /// <summary>
    /// Inserts a token or updates the one with the same id. Identity (gateway, type, caller, customer reference,
    /// created_at) is fixed by the first insert; revocation is one-way: a revoked token stays revoked with its first
    /// revoked_at.
    /// </summary>
    public const string UpsertToken =
        "INSERT INTO tokens (" + TokenColumns + """
        )
        VALUES (@token, @gateway, @type, @status, @caller_id, @customer_reference, @gateway_customer_id, @brand, @last4,
                @exp_month, @exp_year, @funding, @country, @fingerprint, @bank_identifier, @created_at, @revoked_at,
                @setup_status, @setup_intent, @next_action_kind, @next_action_url, @next_action_expires_at,
                @setup_failure_code, @mandate_id, @mandate_status, @mandate_type, @mandate_accepted_at)
        ON CONFLICT (token) DO UPDATE SET
            status = CASE WHEN tokens.status = 'revoked' THEN tokens.status ELSE excluded.status END,
            revoked_at = COALESCE(tokens.revoked_at, excluded.revoked_at),
            gateway_customer_id = excluded.gateway_customer_id,
            brand = excluded.brand,
            last4 = excluded.last4,
            exp_month = excluded.exp_month,
            exp_year = excluded.exp_year,
            funding = excluded.funding,
            country = excluded.country,
            fingerprint = excluded.fingerprint,
            bank_identifier = excluded.bank_identifier,
            setup_status = excluded.setup_status,
            setup_intent = excluded.setup_intent,
            next_action_kind = excluded.next_action_kind,
            next_action_url = excluded.next_action_url,
            next_action_expires_at = excluded.next_action_expires_at,
            setup_failure_code = excluded.setup_failure_code,
            mandate_id = excluded.mandate_id,
            mandate_status = excluded.mandate_status,
            mandate_type = excluded.mandate_type,
            mandate_accepted_at = excluded.mandate_accepted_at
        """;

    /// <summary>
    /// A refreshed setup: the setup and mandate columns of one token, only while its setup is still the one that was read
    /// (same SetupIntent, still requires_action or processing), so a late refresh never overwrites a newer outcome; and
    /// only while the token is active (a revoked token has had its final event and gets no later one).
    /// </summary>
    public const string UpdateTokenSetup = "UPDATE tokens SET " + SetupAssignments + """

        WHERE token = @token AND setup_intent = @setup_intent AND status = 'active' AND setup_status IN ('requires_action', 'processing')
        """;

    /// <summary>
    /// The assignments of a token's setup and mandate columns from the parameters of the same names (its SetupIntent id
    /// stays: every statement that uses them matches on it).
    /// </summary>
    public const string SetupAssignments = """
        setup_status = @setup_status,
            next_action_kind = @next_action_kind,
            next_action_url = @next_action_url,
            next_action_expires_at = @next_action_expires_at,
            setup_failure_code = @setup_failure_code,
            mandate_id = @mandate_id,
            mandate_status = @mandate_status,
            mandate_type = @mandate_type,
            mandate_accepted_at = @mandate_accepted_at
        """;

    /// <summary>
    /// The same, only when the setup status itself changes (the change a token event reports), and not once a revoke here
    /// has started (<c>revoke_requested_at</c>): that revoke cancels the SetupIntent itself and its <c>revoked</c> event
    /// is the token's last.
    /// </summary>
    public const string UpdateTokenSetupStatus = UpdateTokenSetup + " AND setup_status <> @setup_status AND revoke_requested_at IS NULL";

    /// <summary>Revokes an active token (the revoke's own write, ahead of the upsert that records the rest).</summary>
    public const string RevokeActiveToken = "UPDATE tokens SET status = 'revoked', revoked_at = @revoked_at WHERE token = @token AND status = 'active'";

    /// <summary>Marks a revoke started here (before the gateway is asked to detach); the first mark stays.</summary>
    public const string MarkRevokeRequested =
        "UPDATE tokens SET revoke_requested_at = @now WHERE token = @token AND status = 'active' AND revoke_requested_at IS NULL";

    /// <summary>One token by id.</summary>
    public const string SelectToken = "SELECT " + TokenColumns + " FROM tokens WHERE token = @token";

    /// <summary>The start of a listing; <see cref="SqliteTokenLedger"/> appends the filters it needs.</summary>
    public const string SelectTokens = "SELECT " + TokenColumns + " FROM tokens";

    /// <summary>Listing filter: one customer reference.</summary>
    public const string WhereCustomerReference = "customer_reference = @customer_reference";

    /// <summary>Listing filter: one status.</summary>
    public const string WhereStatus = "status = @status";

    /// <summary>Listing filter: created at or after (inclusive).</summary>
    public const string WhereCreatedAfter = "created_at >= @created_after";

    /// <summary>Listing filter: created before (exclusive).</summary>
    public const string WhereCreatedBefore = "created_at < @created_before";

    /// <summary>Keyset position: strictly after the last row of the previous page in listing order.</summary>
    public const string WhereAfterPosition = "(created_at, token) < (@after_created_at, @after_token)";

    /// <summary>The listing order; matches the indexes on tokens, so no sort step. Fetches one row more than a page.</summary>
    public const string ListOrder = " ORDER BY created_at DESC, token DESC LIMIT @limit";

    /// <summary>Claims a key if nobody has; 1 row affected means the claim is new.</summary>
    public const string InsertPendingClaim = """
        INSERT INTO idempotency_records
            (caller_id, idempotency_key, operation, request_hmac, state, response, created_at, updated_at, resource, interrupted_audited_at)
        VALUES (@caller_id, @idempotency_key, @operation, @request_hmac, 'pending', NULL, @now, @now, @resource, @mark)
        ON CONFLICT (caller_id, idempotency_key) DO NOTHING
        """;

    /// <summary>Another key's live pending claim of the same operation on the same resource (one correction per person at a time).</summary>
    public const string CountOtherLiveClaimsOnResource = """
        SELECT COUNT(*) FROM idempotency_records
        WHERE state = 'pending' AND operation = @operation AND resource = @resource AND updated_at > @live_since
          AND NOT (caller_id = @caller_id AND idempotency_key = @idempotency_key)
        """;

    /// <summary>The existing record of a key.</summary>
    public const string SelectClaim = """
        SELECT operation, request_hmac, state, response, updated_at, resource, interrupted_audited_at
        FROM idempotency_records
        WHERE caller_id = @caller_id AND idempotency_key = @idempotency_key
        """;

    /// <summary>
    /// Takes over a pending claim whose lease expired. Compare-and-set on the updated_at and audit mark that were read,
    /// so two takers cannot both win, nor a taker and the audit of abandoned claims both audit it, even without a write
    /// lock (PostgreSQL, READ COMMITTED). Sets the taker's resource and audit mark (NULL for a caller's call, which is
    /// audited when it ends or is cut off in turn; the claim time for the recovery worker's, which is no caller's call).
    /// </summary>
    public const string TakeOverClaim = """
        UPDATE idempotency_records SET updated_at = @now, resource = @resource, interrupted_audited_at = @mark
        WHERE caller_id = @caller_id AND idempotency_key = @idempotency_key
          AND state = 'pending' AND updated_at = @seen_updated_at
          AND COALESCE(interrupted_audited_at, -1) = @seen_mark
        """;

    /// <summary>Pending claims whose lease ran out and whose cut-off call has no audit record yet, oldest first.</summary>
    public const string SelectUnauditedAbandonedClaims = """
        SELECT r.caller_id, r.idempotency_key, r.operation, r.resource, r.updated_at, i.intent_id
        FROM idempotency_records r
        LEFT JOIN intents i ON i.caller_id = r.caller_id AND i.idempotency_key = r.idempotency_key
        WHERE r.state = 'pending' AND r.interrupted_audited_at IS NULL AND r.updated_at < @before
        ORDER BY r.updated_at
        LIMIT @limit
        """;

    /// <summary>
    /// Marks an abandoned claim audited, only while it is still pending, unaudited and at the claim time that was read
    /// (compare-and-set: of two replicas exactly one marks it, and only that one appends its record).
    /// </summary>
    public const string MarkClaimAudited = """
        UPDATE idempotency_records SET interrupted_audited_at = @now
        WHERE caller_id = @caller_id AND idempotency_key = @idempotency_key
          AND state = 'pending' AND updated_at = @seen_updated_at AND interrupted_audited_at IS NULL
        """;

    /// <summary>A key's intent id (tokenisations), for the audit record of its cut-off call.</summary>
    public const string SelectIntentIdOfKey = """
        SELECT intent_id FROM intents WHERE caller_id = @caller_id AND idempotency_key = @idempotency_key
        """;

    /// <summary>Marks a pending claim completed with its response; a completed one keeps its first response.</summary>
    public const string CompleteClaim = """
        UPDATE idempotency_records SET state = 'completed', response = @response, updated_at = @now
        WHERE caller_id = @caller_id AND idempotency_key = @idempotency_key AND state = 'pending'
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

    /// <summary>Deletes a pending claim only while its owner's claim time still fences it.</summary>
    public const string ReleaseOwnedClaim = """
        DELETE FROM idempotency_records
        WHERE caller_id = @caller_id AND idempotency_key = @idempotency_key AND state = 'pending'
          AND updated_at = @claimed_at
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

    /// <summary>
    /// Completes a claim only while the caller still owns it: pending, and last claimed at the time the owner claimed it
    /// (a fencing token). 0 rows: someone took it over or finished it.
    /// </summary>
    public const string CompleteOwnedClaim = """
        UPDATE idempotency_records SET state = 'completed', response = @response, updated_at = @now
        WHERE caller_id = @caller_id AND idempotency_key = @idempotency_key AND state = 'pending'
          AND updated_at = @claimed_at
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
    public const string FinishDetachingIntent = """
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

    /// <summary>The recorded gateway Customer of a reference.</summary>
    public const string SelectCustomer =
        "SELECT gateway_customer_id FROM customers WHERE gateway = @gateway AND customer_reference = @customer_reference";

    /// <summary>Records a Customer unless one is recorded (the first writer wins).</summary>
    public const string InsertCustomer = """
        INSERT INTO customers (gateway, customer_reference, gateway_customer_id, created_at)
        VALUES (@gateway, @customer_reference, @gateway_customer_id, @now)
        ON CONFLICT (gateway, customer_reference) DO NOTHING
        """;

    /// <summary>Forgets a reference's mapping only while it still names the given (deleted) Customer.</summary>
    public const string DeleteCustomerIfMapped = """
        DELETE FROM customers
        WHERE gateway = @gateway AND customer_reference = @customer_reference AND gateway_customer_id = @deleted_customer_id
        """;

    /// <summary>The last deleted Customer recorded for a subject.</summary>
    public const string SelectLastDeletedCustomer =
        "SELECT deleted_customer_id FROM customer_successions WHERE gateway = @gateway AND subject = @subject";

    /// <summary>Records a subject's first deleted Customer unless one is recorded (the first writer wins).</summary>
    public const string InsertDeletedCustomer = """
        INSERT INTO customer_successions (gateway, subject, deleted_customer_id, updated_at)
        VALUES (@gateway, @subject, @deleted_customer_id, @now)
        ON CONFLICT (gateway, subject) DO NOTHING
        """;

    /// <summary>Moves a subject's last deleted Customer on, only from the one the caller read (compare-and-set).</summary>
    public const string AdvanceDeletedCustomer = """
        UPDATE customer_successions SET deleted_customer_id = @deleted_customer_id, updated_at = @now
        WHERE gateway = @gateway AND subject = @subject AND deleted_customer_id = @expected
        """;

    /// <summary>Whether a migration version is recorded.</summary>
    public const string SelectMigration = "SELECT COUNT(*) FROM schema_migrations WHERE version = @version";

    /// <summary>The highest recorded migration version, or NULL.</summary>
    public const string SelectLatestMigration = "SELECT MAX(version) FROM schema_migrations";

    /// <summary>Records a migration as applied.</summary>
    public const string InsertMigration = "INSERT INTO schema_migrations (version, applied_at) VALUES (@version, @applied_at)";
}
