using Tokenizer.Ledger.Schema;

namespace Tokenizer.Ledger.Tokens;

/// <summary>
/// The statements on <c>tokens</c>: the only SQL that writes that table. SQL that SQLite and PostgreSQL both run unchanged;
/// every value is a parameter (<c>@name</c>), no statement is built from input. Times are unix microseconds UTC.
/// </summary>
internal static class TokenSql
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

    /// <summary>The start of a listing; <see cref="RelationalTokenRepository"/> appends the filters it needs.</summary>
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

    public const string SelectActiveTokenCaller = "SELECT caller_id FROM tokens WHERE token = @token AND status = 'active'";

    /// <summary>
    /// An erasure's settled setup: the setup columns of one token, whatever its status, only while its stored setup is
    /// still pending under the same SetupIntent (a newer outcome is never overwritten).
    /// </summary>
    public const string SettleSetup = "UPDATE tokens SET " + SetupAssignments + """

        WHERE token = @token AND setup_intent = @setup_intent AND setup_status IN ('requires_action', 'processing')
        """;

    public const string CountActiveTokensOfReference =
        "SELECT COUNT(*) FROM tokens WHERE customer_reference = @customer_reference AND status = 'active'";

    public const string UnlinkTokens =
        "UPDATE tokens SET customer_reference = @erased_reference WHERE customer_reference = @customer_reference";

    public const string PurgeRevokedTokens = "DELETE FROM tokens WHERE status = 'revoked' AND revoked_at < @before";

    // A webhook's updates: what the gateway reports about a token or Customer (RelationalWebhookStore runs them).
    public const string SelectTokensBySetupIntent = "SELECT " + TokenColumns + " FROM tokens WHERE setup_intent = @id";

    public const string SelectTokensByMandate = "SELECT " + TokenColumns + " FROM tokens WHERE mandate_id = @id";

    public const string SelectTokensByCustomer = "SELECT " + TokenColumns + " FROM tokens WHERE gateway_customer_id = @id";

    // Only the token's own SetupIntent, and only when something differs: a replay writes nothing. Only an active token:
    // a revoked one has had its final event, and stays as it was then (every update below is fenced the same way).
    public const string UpdateSetupFromWebhook = "UPDATE tokens SET " + SetupAssignments + """

        WHERE token = @token AND setup_intent = @setup_intent AND status = 'active' AND (
            setup_status IS DISTINCT FROM @setup_status
            OR next_action_kind IS DISTINCT FROM @next_action_kind
            OR next_action_url IS DISTINCT FROM @next_action_url
            OR next_action_expires_at IS DISTINCT FROM @next_action_expires_at
            OR setup_failure_code IS DISTINCT FROM @setup_failure_code
            OR mandate_id IS DISTINCT FROM @mandate_id
            OR mandate_status IS DISTINCT FROM @mandate_status
            OR mandate_type IS DISTINCT FROM @mandate_type
            OR mandate_accepted_at IS DISTINCT FROM @mandate_accepted_at)
        """;

    // The same, only when the setup status itself changes: the one change a token event reports. Not once a revoke here
    // has started (revoke_requested_at): that revoke cancels the SetupIntent itself and ends with its own revoked event.
    public const string UpdateSetupStatusFromWebhook = "UPDATE tokens SET " + SetupAssignments + """

        WHERE token = @token AND setup_intent = @setup_intent AND status = 'active' AND setup_status IS DISTINCT FROM @setup_status
            AND revoke_requested_at IS NULL
        """;

    // RETURNING: the tokens that changed, each of which gets its own token event in the same transaction.
    public const string UpdateMandateStatus = """
        UPDATE tokens SET mandate_status = @mandate_status
        WHERE mandate_id = @mandate_id AND status = 'active' AND mandate_status IS DISTINCT FROM @mandate_status
        RETURNING token, caller_id
        """;

    public const string UpdateCard = """
        UPDATE tokens SET brand = @brand, last4 = @last4, exp_month = @exp_month, exp_year = @exp_year, fingerprint = @fingerprint
        WHERE token = @token AND type = 'card' AND status = 'active' AND (
            brand IS DISTINCT FROM @brand
            OR last4 IS DISTINCT FROM @last4
            OR exp_month IS DISTINCT FROM @exp_month
            OR exp_year IS DISTINCT FROM @exp_year
            OR fingerprint IS DISTINCT FROM @fingerprint)
        """;

    // A detach nobody here asked for: the token was active and no revoke of it had started.
    public const string RevokeDetachedElsewhere = """
        UPDATE tokens SET status = 'revoked', revoked_at = @now
        WHERE token = @token AND status = 'active' AND revoke_requested_at IS NULL
        """;

    // The detach a Revoke RPC started, seen before that revoke's own ledger update committed.
    public const string RevokeRequestedHere = """
        UPDATE tokens SET status = 'revoked', revoked_at = @now
        WHERE token = @token AND status = 'active' AND revoke_requested_at IS NOT NULL
        """;
}
