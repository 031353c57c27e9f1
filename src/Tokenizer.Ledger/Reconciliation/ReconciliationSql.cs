using Tokenizer.Ledger.Tokens;
using Tokenizer.Ledger.Schema;

namespace Tokenizer.Ledger.Reconciliation;

/// <summary>
/// The reconciliation schema (ledger migration 5) and statements, in SQL that SQLite and PostgreSQL both run. Every
/// value is a parameter; the only text assembled at run time is from the constant fragments below.
/// </summary>
internal static class ReconciliationSql
{
    /// <summary>Migration 5: runs (with their resumable cursor) and their items (masked metadata only).</summary>
    public static string[] Schema(SqlDialect d) =>
    [
        $"""
        CREATE TABLE reconciliation_runs (
            run_id TEXT{d.TokenIdCollation} NOT NULL PRIMARY KEY,
            started_by TEXT NOT NULL,
            request_key_id TEXT NOT NULL,
            period_from {d.Int64Type} NOT NULL,
            period_to {d.Int64Type} NOT NULL,
            customer_reference TEXT NULL,
            token_type TEXT NULL CHECK (token_type IN ('card', 'au_becs_debit', 'sepa_debit', 'bacs_debit', 'us_bank_account')),
            state TEXT NOT NULL CHECK (state IN ('running', 'interrupted', 'completed', 'failed')),
            phase TEXT NOT NULL CHECK (phase IN ('customers', 'ledger_sweep', 'pending', 'done')),
            after_customer TEXT NULL,
            current_customer TEXT NULL,
            gateway_starting_after TEXT NULL,
            sweep_after_token TEXT NULL,
            owner TEXT NULL,
            error_reason TEXT NULL CHECK (length(error_reason) <= 100),
            customers_done {d.Int64Type} NOT NULL,
            customers_total {d.Int64Type} NOT NULL,
            items_total {d.Int64Type} NOT NULL,
            discrepancies {d.Int64Type} NOT NULL,
            gateway_requests {d.Int64Type} NOT NULL,
            created_at {d.Int64Type} NOT NULL,
            updated_at {d.Int64Type} NOT NULL,
            completed_at {d.Int64Type} NULL,
            UNIQUE (started_by, request_key_id)
        ){d.TableOptions}
        """,
        "CREATE INDEX ix_reconciliation_runs_created_at ON reconciliation_runs (created_at DESC, run_id DESC)",
        "CREATE INDEX ix_reconciliation_runs_state ON reconciliation_runs (state, updated_at)",
        $"""
        CREATE TABLE reconciliation_items (
            run_id TEXT{d.TokenIdCollation} NOT NULL,
            token TEXT{d.TokenIdCollation} NOT NULL,
            type TEXT NULL CHECK (type IN ('card', 'au_becs_debit', 'sepa_debit', 'bacs_debit', 'us_bank_account')),
            brand TEXT NULL,
            last4 TEXT NULL CHECK (length(last4) <= 4),
            customer_reference TEXT NULL,
            created_at {d.Int64Type} NOT NULL,
            ledger_status TEXT NOT NULL CHECK (ledger_status IN ('active', 'revoked', 'absent')),
            gateway_status TEXT NOT NULL CHECK (gateway_status IN ('attached', 'not_attached', 'not_checked')),
            category TEXT NOT NULL CHECK (category IN ('matched', 'missing_at_gateway', 'missing_in_ledger', 'status_mismatch', 'field_mismatch', 'pending')),
            detail TEXT NULL CHECK (length(detail) <= 300),
            PRIMARY KEY (run_id, token)
        ){d.TableOptions}
        """,
        "CREATE INDEX ix_reconciliation_items_category ON reconciliation_items (run_id, category, token)",
    ];

    public const string RunColumns =
        "run_id, started_by, period_from, period_to, customer_reference, token_type, state, phase, after_customer, "
        + "current_customer, gateway_starting_after, sweep_after_token, owner, error_reason, customers_done, customers_total, "
        + "items_total, discrepancies, gateway_requests, created_at, updated_at, completed_at";

    public const string InsertRun = """
        INSERT INTO reconciliation_runs (
            run_id, started_by, request_key_id, period_from, period_to, customer_reference, token_type, state, phase,
            customers_done, customers_total, items_total, discrepancies, gateway_requests, created_at, updated_at)
        VALUES (@run_id, @started_by, @request_key_id, @period_from, @period_to, @customer_reference, @token_type,
                'running', 'customers', 0, 0, 0, 0, 0, @now, @now)
        ON CONFLICT (started_by, request_key_id) DO NOTHING
        """;

    public const string SelectRunByKey =
        "SELECT " + RunColumns + " FROM reconciliation_runs WHERE started_by = @started_by AND request_key_id = @request_key_id";

    public const string SelectRun = "SELECT " + RunColumns + " FROM reconciliation_runs WHERE run_id = @run_id";

    public const string SelectRuns = "SELECT " + RunColumns + " FROM reconciliation_runs";

    public const string WhereRunAfterPosition = " WHERE (created_at, run_id) < (@after_created_at, @after_run_id)";

    public const string RunsOrder = " ORDER BY created_at DESC, run_id DESC LIMIT @limit";

    public const string SelectResumableRuns = "SELECT " + RunColumns + """
         FROM reconciliation_runs
        WHERE (state = 'running' AND (owner IS NULL OR updated_at < @running_stale_before))
           OR (state = 'interrupted' AND updated_at < @interrupted_before)
        ORDER BY updated_at, run_id
        LIMIT @limit
        """;

    public const string ClaimRun = """
        UPDATE reconciliation_runs SET owner = @owner, state = 'running', error_reason = NULL, updated_at = @now
        WHERE run_id = @run_id AND state IN ('running', 'interrupted')
          AND updated_at = @seen_updated_at AND COALESCE(owner, '') = @seen_owner
        """;

    public const string SetCustomersTotal = "UPDATE reconciliation_runs SET customers_total = @total WHERE run_id = @run_id";

    public const string SaveProgress = """
        UPDATE reconciliation_runs SET
            phase = @phase, after_customer = @after_customer, current_customer = @current_customer,
            gateway_starting_after = @gateway_starting_after, sweep_after_token = @sweep_after_token,
            customers_done = customers_done + @customers_done, gateway_requests = gateway_requests + @gateway_requests,
            updated_at = @now
        WHERE run_id = @run_id AND owner = @owner AND state = 'running'
        """;

    public const string FinishRun = """
        UPDATE reconciliation_runs SET
            state = @state, error_reason = @error_reason, owner = NULL, updated_at = @now, completed_at = @completed_at,
            items_total = (SELECT COUNT(*) FROM reconciliation_items i WHERE i.run_id = @run_id),
            discrepancies = (SELECT COUNT(*) FROM reconciliation_items i WHERE i.run_id = @run_id AND i.category <> 'matched')
        WHERE run_id = @run_id AND owner = @owner AND state = 'running'
        """;

    public const string UpsertItem = """
        INSERT INTO reconciliation_items (run_id, token, type, brand, last4, customer_reference, created_at, ledger_status,
                                          gateway_status, category, detail)
        VALUES (@run_id, @token, @type, @brand, @last4, @customer_reference, @created_at, @ledger_status, @gateway_status,
                @category, @detail)
        ON CONFLICT (run_id, token) DO UPDATE SET
            type = excluded.type, brand = excluded.brand, last4 = excluded.last4,
            customer_reference = excluded.customer_reference, created_at = excluded.created_at,
            ledger_status = excluded.ledger_status, gateway_status = excluded.gateway_status,
            category = excluded.category, detail = excluded.detail
        """;

    public const string ItemColumns =
        "token, type, brand, last4, customer_reference, created_at, ledger_status, gateway_status, category, detail";

    public const string SelectItems = "SELECT " + ItemColumns + " FROM reconciliation_items WHERE run_id = @run_id";

    public const string WhereItemCategory = " AND category = @category";

    public const string WhereItemAfterToken = " AND token > @after_token";

    public const string ItemsOrder = " ORDER BY token LIMIT @limit";

    public const string CountItems = """
        SELECT category, type, brand, COUNT(*) FROM reconciliation_items WHERE run_id = @run_id
        GROUP BY category, type, brand ORDER BY category, type, brand
        """;

    /// <summary>86 400 000 000 microseconds in a day; integer division by it gives the UTC day since the epoch.</summary>
    public const string CountItemsByDay = """
        SELECT created_at / 86400000000, category, COUNT(*) FROM reconciliation_items WHERE run_id = @run_id
        GROUP BY created_at / 86400000000, category ORDER BY 1, 2
        """;

    public const string CountCustomers = "SELECT COUNT(*) FROM customers WHERE gateway = @gateway";

    public const string SelectCustomers = "SELECT customer_reference, gateway_customer_id FROM customers WHERE gateway = @gateway";

    public const string WhereCustomerReference = " AND customer_reference = @customer_reference";

    public const string WhereCustomerAfter = " AND customer_reference > @after_reference";

    public const string CustomersOrder = " ORDER BY customer_reference LIMIT @limit";

    public const string SelectTokensIn = "SELECT " + TokenSql.TokenColumns + " FROM tokens WHERE token IN (";

    public const string SelectUnseenTokens = "SELECT " + TokenSql.TokenColumns + """
         FROM tokens t
        WHERE t.created_at >= @period_from AND t.created_at < @period_to
          AND NOT EXISTS (SELECT 1 FROM reconciliation_items i WHERE i.run_id = @run_id AND i.token = t.token)
        """;

    public const string WhereTokenCustomer = " AND t.customer_reference = @customer_reference";

    public const string WhereTokenType = " AND t.type = @token_type";

    public const string WhereTokenAfter = " AND t.token > @after_token";

    public const string TokensOrder = " ORDER BY t.token LIMIT @limit";
}
