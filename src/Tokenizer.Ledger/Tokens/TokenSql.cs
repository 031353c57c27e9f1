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

}
