using System.Data.Common;
using System.Globalization;

namespace Tokenizer.Ledger.Schema;

/// <summary>One schema step. Applied once, in its own transaction, and recorded in <c>schema_migrations</c>.</summary>
/// <param name="Version">Position in the sequence, 1, 2, 3, ... Never reused or renumbered once released.</param>
/// <param name="Name">What the step does, for the log.</param>
/// <param name="Statements">The DDL, rendered for one dialect; executed in order.</param>
internal sealed record LedgerMigration(int Version, string Name, Func<SqlDialect, IReadOnlyList<string>> Statements);

/// <summary>
/// The ledger schema as an ordered list of migrations. Append a new <see cref="LedgerMigration"/> to change it; never
/// edit a released one (databases in the field have already applied it).
/// </summary>
/// <remarks>
/// Times are unix microseconds UTC in 64-bit integers: exact ordering, no time-zone or text-format ambiguity, and the
/// same precision as PostgreSQL timestamps. No column holds a PAN, CVC, full account number or IBAN; <c>last4</c> is
/// bounded to four characters by the schema itself. Every provider applies the same list, so a version number means the
/// same tables everywhere; only the spellings of <see cref="SqlDialect"/> differ.
/// </remarks>
internal static class LedgerMigrations
{
    /// <summary>The table that records applied versions; created before any migration runs.</summary>
    public static string CreateMigrationsTable(SqlDialect d) =>
        $"CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER NOT NULL PRIMARY KEY, applied_at TEXT NOT NULL){d.TableOptions}";

    /// <summary>All migrations, in version order.</summary>
    public static IReadOnlyList<LedgerMigration> All { get; } =
    [
        new(1, "tokens, customers, idempotency_records", InitialSchema),
        new(2, "audit_events (append-only, HMAC-chained)", AuditEvents),
        new(3, "data_protection_keys", DataProtectionKeys),
        new(4, "intents (crash recovery and orphan sweep)", Intents),

        // Version 5: reconciliation (its own store, Reconciliation/ReconciliationSql.cs).
        new(5, "reconciliation_runs, reconciliation_items", Reconciliation.ReconciliationSql.Schema),
        new(6, "privacy: subject keys, encrypted personal data, erasures; retention indexes", Privacy.PrivacyMigration.Statements),
        new(7, "audit key ids; key check values", KeyIds),
        new(8, "token setup (SetupIntent) and mandate columns; existing tokens not_set_up", TokenSetup),

        // Version 9: the token event log (its own store, TokenEvents/TokenEventSql.cs).
        new(9, "token_events (what happened to each token, for the billing service)", TokenEvents.TokenEventSql.Schema),
        // Version 10: the Stripe webhook inbox (its own store, Webhooks/WebhookSql.cs).
        new(10, "webhook_inbox, webhook_cursor; token lookup indexes", Webhooks.WebhookSql.Schema),
        new(11, "card request HMACs that covered the CVC erased", EraseCvcBearingRequestHmacs),
        new(12, "webhook_inbox.retry_at (back-off after a failed attempt)", Webhooks.WebhookSql.RetrySchema),
        new(13, "audit_events.recorded_at (signed append time: retired audit keys)", AuditRecordedAt),
        new(14, "tokens.revoke_requested_at (a detach this service started)", Webhooks.WebhookSql.RevokeRequestSchema),
        new(15, "webhook_inbox.arrival (the order events came in, within one second of Stripe's created)", Webhooks.WebhookSql.ArrivalSchema),
        new(16, "audit_events.resource index (a subject's records for the privacy export)", AuditResourceIndex),
        new(17, "idempotency_records.resource, interrupted_audited_at (audit of calls cut off by a crash)", InterruptedClaims),
        new(18, "erasure_fences (no tokenisation during an erasure); privacy_erasures.payment_methods_not_cleared", Privacy.PrivacyMigration.FenceStatements),
        new(19, "customer_successions (the last deleted Customer of a subject: each deletion starts a fresh creation key)", CustomerSuccessions),
        new(20, "privacy_erasures.holding_since (a reference used again after its erasure: the export serves only the new use)", Privacy.PrivacyMigration.HoldingSinceStatements),
    ];

    /// <summary>The highest version this build knows.</summary>
    public static int LatestVersion => All[^1].Version;

    private static string[] InitialSchema(SqlDialect d) =>
    [
        $"""
        CREATE TABLE tokens (
            token TEXT{d.TokenIdCollation} NOT NULL PRIMARY KEY,
            gateway TEXT NOT NULL,
            type TEXT NOT NULL CHECK (type IN ('card', 'au_becs_debit', 'sepa_debit', 'bacs_debit', 'us_bank_account')),
            status TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
            caller_id TEXT NOT NULL,
            customer_reference TEXT NOT NULL,
            gateway_customer_id TEXT NULL,
            brand TEXT NULL,
            last4 TEXT NULL CHECK (length(last4) <= 4),
            exp_month INTEGER NULL,
            exp_year INTEGER NULL,
            funding TEXT NULL,
            country TEXT NULL,
            fingerprint TEXT NULL,
            bank_identifier TEXT NULL,
            created_at {d.Int64Type} NOT NULL,
            revoked_at {d.Int64Type} NULL
        ){d.TableOptions}
        """,
        "CREATE INDEX ix_tokens_created_at ON tokens (created_at DESC, token DESC)",
        "CREATE INDEX ix_tokens_customer_reference ON tokens (customer_reference, created_at DESC, token DESC)",
        $"""
        CREATE TABLE customers (
            gateway TEXT NOT NULL,
            customer_reference TEXT NOT NULL,
            gateway_customer_id TEXT NOT NULL,
            created_at {d.Int64Type} NOT NULL,
            PRIMARY KEY (gateway, customer_reference)
        ){d.TableOptions}
        """,
        $"""
        CREATE TABLE idempotency_records (
            caller_id TEXT NOT NULL,
            idempotency_key TEXT NOT NULL,
            operation TEXT NOT NULL,
            request_hmac {d.BytesType} NOT NULL CHECK (length(request_hmac) = 32),
            state TEXT NOT NULL CHECK (state IN ('pending', 'completed')),
            response TEXT NULL,
            created_at {d.Int64Type} NOT NULL,
            updated_at {d.Int64Type} NOT NULL,
            PRIMARY KEY (caller_id, idempotency_key),
            CHECK ((state = 'pending' AND response IS NULL) OR (state = 'completed' AND response IS NOT NULL))
        ){d.TableOptions}
        """,
    ];

    /// <summary>
    /// The audit trail (PCI DSS 10.2/10.3): one row per audited action, <c>sequence</c> gapless from 1, each row's
    /// <c>mac</c> an HMAC-SHA256 over its canonical content and the previous row's mac (<c>prev_mac</c>; 32 zero bytes
    /// for the first). Text columns are sanitised and capped at 200 characters before they are stored; none holds card,
    /// bank or personal data. UPDATE and DELETE are refused by the dialect's append-only guards.
    /// </summary>
    private static string[] AuditEvents(SqlDialect d) =>
    [
        $"""
        CREATE TABLE audit_events (
            sequence {d.Int64Type} NOT NULL PRIMARY KEY CHECK (sequence >= 1),
            time {d.Int64Type} NOT NULL,
            caller_id TEXT NOT NULL CHECK (length(caller_id) BETWEEN 1 AND 200),
            source_address TEXT NULL CHECK (length(source_address) <= 200),
            action TEXT NOT NULL CHECK (length(action) BETWEEN 1 AND 200),
            resource TEXT NULL CHECK (length(resource) <= 200),
            outcome TEXT NOT NULL CHECK (outcome IN ('success', 'failure', 'denied')),
            reason TEXT NULL CHECK (length(reason) <= 200),
            correlation_id TEXT NOT NULL CHECK (length(correlation_id) <= 200),
            prev_mac {d.BytesType} NOT NULL CHECK (length(prev_mac) = 32),
            mac {d.BytesType} NOT NULL CHECK (length(mac) = 32)
        ){d.TableOptions}
        """,
        "CREATE INDEX ix_audit_events_time ON audit_events (time, sequence)",
        .. d.AppendOnlyGuards("audit_events"),
    ];

    /// <summary>
    /// The ASP.NET Core Data Protection key ring, one row per key XML document as the framework hands it over (encrypted
    /// by the host's key encryptor before it gets here). Read and written by <c>PostgresXmlRepository</c>, so replicas
    /// share one key ring; a SQLite ledger keeps its key ring in files and leaves this table empty (it exists there so
    /// version 3 means the same schema for every provider).
    /// </summary>
    private static string[] DataProtectionKeys(SqlDialect d) =>
    [
        $"""
        CREATE TABLE data_protection_keys (
            id {d.IdentityKey},
            friendly_name TEXT NULL,
            xml TEXT NOT NULL,
            created_at {d.Int64Type} NOT NULL
        ){d.TableOptions}
        """,
    ];

    /// <summary>
    /// One row per request that creates a gateway object, keyed like its idempotency record: the intent id sent as
    /// PaymentMethod metadata, the customer reference (where to look at the gateway), the keyed request HMAC (so the
    /// recovery worker can claim the key as the request would) and the state. Written in the same transactions as the
    /// claim, its completion and its release. No card data: the HMAC is keyed, the ids are HMAC-derived.
    /// </summary>
    private static string[] Intents(SqlDialect d) =>
    [
        $"""
        CREATE TABLE intents (
            caller_id TEXT NOT NULL,
            idempotency_key TEXT NOT NULL,
            intent_id TEXT NOT NULL UNIQUE CHECK (length(intent_id) BETWEEN 1 AND 200),
            operation TEXT NOT NULL,
            customer_reference TEXT NOT NULL,
            request_hmac {d.BytesType} NOT NULL CHECK (length(request_hmac) = 32),
            state TEXT NOT NULL CHECK (state IN ('pending', 'completed', 'failed', 'closed', 'detaching')),
            token TEXT NULL,
            created_at {d.Int64Type} NOT NULL,
            updated_at {d.Int64Type} NOT NULL,
            PRIMARY KEY (caller_id, idempotency_key),
            CHECK ((state IN ('completed', 'detaching')) = (token IS NOT NULL))
        ){d.TableOptions}
        """,
        "CREATE INDEX ix_intents_state_updated_at ON intents (state, updated_at, intent_id)",
    ];

    /// <summary>
    /// Key rotation: each audit record names the key that signed it (<c>key_id</c>, a keyed check value of the key, never
    /// the key; NULL on records written before this version, which verify under any configured audit key), and
    /// <c>key_checks</c> keeps one check value per secret the ledger depends on (the request HMAC secret), so a start
    /// with another secret is refused instead of silently breaking idempotency.
    /// </summary>
    private static string[] KeyIds(SqlDialect d) =>
    [
        "ALTER TABLE audit_events ADD COLUMN key_id TEXT NULL CHECK (length(key_id) <= 64)",
        $"""
        CREATE TABLE key_checks (
            name TEXT NOT NULL PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 100),
            check_value {d.BytesType} NOT NULL CHECK (length(check_value) = 16),
            updated_at {d.Int64Type} NOT NULL
        ){d.TableOptions}
        """,
    ];

    /// <summary>
    /// When each audit record was appended (unix microseconds UTC, signed with the key id in the record's MAC), so a key
    /// replaced by a rotation can be told to have signed a record after it was replaced. NULL on older records.
    /// </summary>
    private static string[] AuditRecordedAt(SqlDialect d) =>
    [
        $"ALTER TABLE audit_events ADD COLUMN recorded_at {d.Int64Type} NULL",
    ];

    /// <summary>
    /// The privacy export reads the records of one subject's resources (its token ids and pseudonym) through this index
    /// instead of walking the whole trail. Like every index on <c>audit_events</c> it is part of the audited table's
    /// expected definition (<see cref="SqlDialect.ExpectedAuditSchema"/>).
    /// </summary>
    private static string[] AuditResourceIndex(SqlDialect d) =>
    [
        "CREATE INDEX " + AuditSql.ResourceIndex + " ON audit_events (resource)",
    ];

    /// <summary>
    /// Each token's setup through a Stripe SetupIntent (status, SetupIntent id, the customer's next action,
    /// the failure code) and, for direct debits, its mandate (id, status, type, accepted_at). Tokens made before this
    /// version were created and attached only: the column default gives them <c>not_set_up</c>. No IP address or user
    /// agent here: those are personal data, held encrypted in the privacy tables.
    /// </summary>
    private static string[] TokenSetup(SqlDialect d) =>
    [
        "ALTER TABLE tokens ADD COLUMN setup_status TEXT NOT NULL DEFAULT 'not_set_up' CHECK (setup_status IN ('ready', 'requires_action', 'processing', 'failed', 'not_set_up'))",
        "ALTER TABLE tokens ADD COLUMN setup_intent TEXT NULL CHECK (length(setup_intent) <= 255)",
        "ALTER TABLE tokens ADD COLUMN next_action_kind TEXT NULL CHECK (next_action_kind IN ('redirect_to_url', 'verify_with_microdeposits'))",
        "ALTER TABLE tokens ADD COLUMN next_action_url TEXT NULL CHECK (length(next_action_url) <= 2048)",
        $"ALTER TABLE tokens ADD COLUMN next_action_expires_at {d.Int64Type} NULL",
        "ALTER TABLE tokens ADD COLUMN setup_failure_code TEXT NULL CHECK (length(setup_failure_code) <= 100)",
        "ALTER TABLE tokens ADD COLUMN mandate_id TEXT NULL CHECK (length(mandate_id) <= 255)",
        "ALTER TABLE tokens ADD COLUMN mandate_status TEXT NULL CHECK (mandate_status IN ('active', 'pending', 'inactive'))",
        "ALTER TABLE tokens ADD COLUMN mandate_type TEXT NULL CHECK (mandate_type IN ('online', 'offline'))",
        $"ALTER TABLE tokens ADD COLUMN mandate_accepted_at {d.Int64Type} NULL",
    ];

    /// <summary>
    /// Card requests' HMACs used to cover the CVC: a 3-4 digit value under a keyed hash is recoverable by whoever holds the
    /// key and the PAN (a thousand guesses), and PCI DSS 3.3.1.2 allows no form of the CVC after authorisation. The HMACs
    /// of card requests made before this version are overwritten with zeros, which <c>RelationalTokenLedger</c> reads as
    /// "made before the inputs changed": any retry under the key is that request (it cannot be compared any more).
    /// </summary>
    private static string[] EraseCvcBearingRequestHmacs(SqlDialect d) =>
    [
        $"UPDATE idempotency_records SET request_hmac = {d.ZeroRequestHmac} WHERE operation = 'tokenize_card'",
        $"UPDATE intents SET request_hmac = {d.ZeroRequestHmac} WHERE operation = 'tokenize_card'",
    ];

    /// <summary>
    /// A call cut off by a crash leaves its claim pending: <c>resource</c> keeps what the call acts on (a revoke's token
    /// id; never card, bank or personal data) for its audit record, and <c>interrupted_audited_at</c> (unix microseconds
    /// UTC) marks a claim whose cut-off call has its <c>INTERRUPTED</c> audit record, written in the same transaction, or
    /// one the recovery worker holds (not a caller's call). A caller's takeover clears it: the retry is a call of its own.
    /// The partial index finds the abandoned claims still to audit without reading completed ones.
    /// </summary>
    private static string[] InterruptedClaims(SqlDialect d) =>
    [
        "ALTER TABLE idempotency_records ADD COLUMN resource TEXT NULL CHECK (length(resource) <= 255)",
        $"ALTER TABLE idempotency_records ADD COLUMN interrupted_audited_at {d.Int64Type} NULL",
        "CREATE INDEX ix_idempotency_records_unaudited ON idempotency_records (updated_at) WHERE state = 'pending' AND interrupted_audited_at IS NULL",
    ];

    /// <summary>
    /// Per data subject (its pseudonym, never the reference: the row outlives an erasure), the last of its Customers the
    /// gateway confirmed deleted. The subject's next Customer is created under a key derived from it, so a Customer
    /// deleted (an erasure, a deletion at Stripe) never comes back as the replay of its own creation, and no request walks
    /// the deletions before it. A Stripe Customer id and a keyed pseudonym: no card, bank or personal data.
    /// </summary>
    private static string[] CustomerSuccessions(SqlDialect d) =>
    [
        $"""
        CREATE TABLE customer_successions (
            gateway TEXT NOT NULL,
            subject TEXT NOT NULL CHECK (length(subject) <= 64),
            deleted_customer_id TEXT NOT NULL CHECK (length(deleted_customer_id) <= 255),
            updated_at {d.Int64Type} NOT NULL,
            PRIMARY KEY (gateway, subject)
        ){d.TableOptions}
        """,
    ];

    /// <summary>
    /// Creates <c>schema_migrations</c> if needed and returns the highest applied version (0 for a new database). Run
    /// first in the migrating transaction.
    /// </summary>
    /// <exception cref="InvalidOperationException">The database holds a newer schema than this build.</exception>
    public static async Task<long> PrepareAsync(DbTransaction transaction, SqlDialect dialect, CancellationToken cancellationToken)
    {
        await transaction.ExecuteAsync(CreateMigrationsTable(dialect), cancellationToken).ConfigureAwait(false);
        using var command = transaction.Command(LedgerSql.SelectLatestMigration);
        var latest = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is { } value and not DBNull
            ? Convert.ToInt64(value, CultureInfo.InvariantCulture)
            : 0;
        if (latest > LatestVersion)
        {
            throw new InvalidOperationException(string.Create(
                CultureInfo.InvariantCulture,
                $"the ledger database has schema version {latest}, newer than this build's {LatestVersion}; refusing to run an older build against it"));
        }

        return latest;
    }

    /// <summary>
    /// Applies <paramref name="migration"/> and records it with <paramref name="appliedAt"/>, unless it is recorded
    /// already. Returns whether it was applied by this call.
    /// </summary>
    public static async Task<bool> ApplyAsync(
        DbTransaction transaction,
        SqlDialect dialect,
        LedgerMigration migration,
        DateTimeOffset appliedAt,
        CancellationToken cancellationToken)
    {
        using (var check = transaction.Command(LedgerSql.SelectMigration))
        {
            check.Bind("@version", migration.Version);
            if (Convert.ToInt64(await check.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture) != 0)
            {
                return false;
            }
        }

        foreach (var statement in migration.Statements(dialect))
        {
            await transaction.ExecuteAsync(statement, cancellationToken).ConfigureAwait(false);
        }

        using var record = transaction.Command(LedgerSql.InsertMigration);
        record.Bind("@version", migration.Version)
            .Bind("@applied_at", appliedAt.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
        await record.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }
}
