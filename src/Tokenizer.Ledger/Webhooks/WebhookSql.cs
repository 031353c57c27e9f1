namespace Tokenizer.Ledger.Webhooks;

/// <summary>The schema (migrations 10, 12, 14 and 15) and statements of the Stripe webhook inbox.</summary>
internal static class WebhookSql
{
    /// <summary>
    /// Migration 10. <c>webhook_inbox</c>: one row per Stripe event id (the primary key is what makes a replay or a
    /// catch-up copy a no-op), with only the event's id, type, creation time and the id of its object: no body column,
    /// because a webhook body carries billing details and processing takes the object's current state from Stripe
    /// anyway. <c>claimed_by</c>/<c>claimed_at</c> are a worker's lease on a pending row. <c>webhook_cursor</c>: where
    /// the catch-up listing of Stripe's events stands. Plus indexes that find a token by its SetupIntent, mandate or
    /// Customer, which the events name.
    /// </summary>
    public static string[] Schema(Ledger.Schema.SqlDialect d) =>
    [
        $"""
        CREATE TABLE webhook_inbox (
            event_id TEXT NOT NULL PRIMARY KEY CHECK (length(event_id) BETWEEN 1 AND 255),
            type TEXT NOT NULL CHECK (length(type) BETWEEN 1 AND 100),
            created {d.Int64Type} NOT NULL,
            object_id TEXT NULL CHECK (length(object_id) <= 255),
            source TEXT NOT NULL CHECK (source IN ('delivery', 'catch_up')),
            received_at {d.Int64Type} NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('pending', 'processed', 'ignored')),
            claimed_by TEXT NULL CHECK (length(claimed_by) <= 200),
            claimed_at {d.Int64Type} NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            processed_at {d.Int64Type} NULL
        ){d.TableOptions}
        """,
        "CREATE INDEX ix_webhook_inbox_state_created ON webhook_inbox (state, created, event_id)",
        $"""
        CREATE TABLE webhook_cursor (
            name TEXT NOT NULL PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 100),
            created {d.Int64Type} NOT NULL,
            updated_at {d.Int64Type} NOT NULL
        ){d.TableOptions}
        """,
        "CREATE INDEX ix_tokens_setup_intent ON tokens (setup_intent)",
        "CREATE INDEX ix_tokens_mandate_id ON tokens (mandate_id)",
        "CREATE INDEX ix_tokens_gateway_customer_id ON tokens (gateway_customer_id)",
    ];

    /// <summary>
    /// Migration 12. <c>retry_at</c>: when a row whose processing failed may be claimed again (unix microseconds UTC);
    /// null until a failure. The worker backs off per attempt, so an event that always fails costs little and never
    /// holds up the rows behind it.
    /// </summary>
    public static string[] RetrySchema(Ledger.Schema.SqlDialect d) =>
    [
        $"ALTER TABLE webhook_inbox ADD COLUMN retry_at {d.Int64Type} NULL",
    ];

    /// <summary>
    /// Migration 14. <c>tokens.revoke_requested_at</c>: set (unix microseconds UTC) by the Revoke RPC before it asks the
    /// gateway to detach, and committed first, so the <c>payment_method.detached</c> event that detach causes is known
    /// as ours even when it is processed before the revoke's own ledger update commits.
    /// </summary>
    public static string[] RevokeRequestSchema(Ledger.Schema.SqlDialect d) =>
    [
        $"ALTER TABLE tokens ADD COLUMN revoke_requested_at {d.Int64Type} NULL",
    ];

    /// <summary>
    /// Migration 15. <c>webhook_inbox.arrival</c>: the order rows were added in (SQLite: numbered by the insert, rows already
    /// there by their rowid; PostgreSQL: an identity). Stripe's <c>created</c> has whole seconds and event ids are random,
    /// so two events of one second were claimed in id order, not in the order they came; <c>arrival</c> breaks that tie.
    /// </summary>
    public static string[] ArrivalSchema(Ledger.Schema.SqlDialect d) =>
    [
        $"ALTER TABLE webhook_inbox ADD COLUMN arrival {d.AddedSequenceColumn}",

        // Only where the insert numbers the column (SQLite): the rows already there keep the order they were added in.
        .. d.NextInSequence is null ? Array.Empty<string>() : ["UPDATE webhook_inbox SET arrival = rowid"],
    ];

    public const string Exists = "SELECT count(*) FROM webhook_inbox WHERE event_id = @event_id";

    /// <summary>The insert of a new pending row; <c>arrival</c> numbered by the statement or by the column's identity.</summary>
    public static string Insert(Ledger.Schema.SqlDialect d) => d.NextInSequence is { } next
        ? $"""
            INSERT INTO webhook_inbox (event_id, type, created, object_id, source, received_at, state, attempts, arrival)
            VALUES (@event_id, @type, @created, @object_id, @source, @received_at, 'pending', 0, {next("webhook_inbox", "arrival")})
            ON CONFLICT (event_id) DO NOTHING
            """
        : """
            INSERT INTO webhook_inbox (event_id, type, created, object_id, source, received_at, state, attempts)
            VALUES (@event_id, @type, @created, @object_id, @source, @received_at, 'pending', 0)
            ON CONFLICT (event_id) DO NOTHING
            """;

    public const string SelectClaimable = """
        SELECT event_id FROM webhook_inbox
        WHERE state = 'pending' AND (claimed_at IS NULL OR claimed_at < @expired_before) AND (retry_at IS NULL OR retry_at <= @now)
        ORDER BY created, arrival, event_id
        LIMIT @limit
        """;

    // Re-checks the condition in the UPDATE itself: of two replicas claiming the same row, one changes it, the other
    // matches nothing (PostgreSQL re-evaluates the WHERE after waiting for the row lock).
    public const string Claim = """
        UPDATE webhook_inbox SET claimed_by = @owner, claimed_at = @now, attempts = attempts + 1
        WHERE event_id = @event_id AND state = 'pending' AND (claimed_at IS NULL OR claimed_at < @expired_before)
          AND (retry_at IS NULL OR retry_at <= @now)
        """;

    public const string SelectEntry = """
        SELECT event_id, type, created, object_id, source, received_at, state, claimed_by, claimed_at, attempts, arrival
        FROM webhook_inbox WHERE event_id = @event_id
        """;

    public const string Finish = """
        UPDATE webhook_inbox SET state = @state, processed_at = @now, claimed_by = NULL, claimed_at = NULL
        WHERE event_id = @event_id AND state = 'pending' AND claimed_by = @owner AND claimed_at = @claimed_at
        """;

    public const string Fail = """
        UPDATE webhook_inbox SET claimed_by = NULL, claimed_at = NULL, retry_at = @retry_at
        WHERE event_id = @event_id AND state = 'pending' AND claimed_by = @owner AND claimed_at = @claimed_at
        """;

    // An unstarted claim handed back: as if never claimed (the attempt it counted is taken back), claimable at once.
    public const string Release = """
        UPDATE webhook_inbox SET claimed_by = NULL, claimed_at = NULL, attempts = attempts - 1
        WHERE event_id = @event_id AND state = 'pending' AND claimed_by = @owner AND claimed_at = @claimed_at AND attempts > 0
        """;

    public const string CountFailing = "SELECT count(*) FROM webhook_inbox WHERE state = 'pending' AND attempts >= @attempts";

    public const string CountPending = "SELECT count(*) FROM webhook_inbox WHERE state = 'pending'";

    public const string NewestCreated = "SELECT max(created) FROM webhook_inbox";

    public const string SelectCursor = "SELECT created FROM webhook_cursor WHERE name = @name";

    public const string UpsertCursor = """
        INSERT INTO webhook_cursor (name, created, updated_at) VALUES (@name, @created, @now)
        ON CONFLICT (name) DO UPDATE SET created = excluded.created, updated_at = excluded.updated_at
        WHERE webhook_cursor.created < excluded.created
        """;

}
