using Tokenizer.Core.Domain;

namespace Tokenizer.Core.Reconciliation;

/// <summary>How one token compares between the ledger and the gateway.</summary>
public enum ReconciliationCategory
{
    /// <summary>Active here and attached there with agreeing fields; or revoked here and not attached there.</summary>
    Matched = 1,

    /// <summary>Active here, not attached to our Customer there (detached or unknown).</summary>
    MissingAtGateway = 2,

    /// <summary>Attached to one of our Customers there (or carrying our metadata), no record here: an orphan.</summary>
    MissingInLedger = 3,

    /// <summary>Revoked here, still attached there.</summary>
    StatusMismatch = 4,

    /// <summary>Both sides know it but a field differs (the detail names the fields, never a value).</summary>
    FieldMismatch = 5,

    /// <summary>
    /// A tokenisation intent still unresolved past its grace period; or an active token whose setup waits for the
    /// customer (3-D Secure, ACH microdeposits) or is still processing, so not attached at the gateway yet.
    /// </summary>
    Pending = 6,
}

/// <summary>Lifecycle of a reconciliation run.</summary>
public enum ReconciliationState
{
    /// <summary>Being worked on, or waiting for a worker.</summary>
    Running = 1,

    /// <summary>Stopped by a transient error; resumed from its cursor.</summary>
    Interrupted = 2,

    /// <summary>Finished.</summary>
    Completed = 3,

    /// <summary>Stopped for good.</summary>
    Failed = 4,
}

/// <summary>Where a run is: the walk over our gateway Customers, then the ledger sweep, then pending intents.</summary>
public enum ReconciliationPhase
{
    /// <summary>Walking our Customers and their PaymentMethods at the gateway.</summary>
    Customers = 1,

    /// <summary>Classifying ledger tokens of the period that the gateway walk did not meet.</summary>
    LedgerSweep = 2,

    /// <summary>Recording intents unresolved past their grace period.</summary>
    Pending = 3,

    /// <summary>Nothing left to do.</summary>
    Done = 4,
}

/// <summary>The stored and reported texts of the reconciliation enums. Never change a text.</summary>
public static class ReconciliationTexts
{
    /// <summary><c>reconciliation_items.category</c> and the metrics' <c>category</c> tag: <c>matched</c>, <c>missing_at_gateway</c>...</summary>
    public static readonly EnumText<ReconciliationCategory> Category = new(
        "reconciliation category",
        (ReconciliationCategory.Matched, "matched"),
        (ReconciliationCategory.MissingAtGateway, "missing_at_gateway"),
        (ReconciliationCategory.MissingInLedger, "missing_in_ledger"),
        (ReconciliationCategory.StatusMismatch, "status_mismatch"),
        (ReconciliationCategory.FieldMismatch, "field_mismatch"),
        (ReconciliationCategory.Pending, "pending"));

    /// <summary><c>reconciliation_runs.state</c>: <c>running</c>, <c>interrupted</c>, <c>completed</c>, <c>failed</c>.</summary>
    public static readonly EnumText<ReconciliationState> State = new(
        "reconciliation state",
        (ReconciliationState.Running, "running"),
        (ReconciliationState.Interrupted, "interrupted"),
        (ReconciliationState.Completed, "completed"),
        (ReconciliationState.Failed, "failed"));

    /// <summary><c>reconciliation_runs.phase</c>: <c>customers</c>, <c>ledger_sweep</c>, <c>pending</c>, <c>done</c>.</summary>
    public static readonly EnumText<ReconciliationPhase> Phase = new(
        "reconciliation phase",
        (ReconciliationPhase.Customers, "customers"),
        (ReconciliationPhase.LedgerSweep, "ledger_sweep"),
        (ReconciliationPhase.Pending, "pending"),
        (ReconciliationPhase.Done, "done"));
}

/// <summary>What a run compares: tokens created in [<see cref="From"/>, <see cref="To"/>), optionally one reference or type.</summary>
public sealed record ReconciliationFilter(DateTimeOffset From, DateTimeOffset To, string? CustomerReference, TokenType? Type)
{
    /// <summary>Whether a creation time lies in the period.</summary>
    public bool InPeriod(DateTimeOffset createdAt) => createdAt >= From && createdAt < To;
}

/// <summary>
/// The resumable position of a run, persisted with every page: the phase; in the Customer walk, the last Customer
/// finished (by customer_reference), the one in progress and the gateway cursor inside it; in the ledger sweep, the
/// last token id swept.
/// </summary>
public sealed record ReconciliationCursor(
    ReconciliationPhase Phase,
    string? AfterCustomer,
    string? CurrentCustomer,
    string? GatewayStartingAfter,
    string? SweepAfterToken)
{
    /// <summary>The start of a run.</summary>
    public static ReconciliationCursor Start { get; } = new(ReconciliationPhase.Customers, null, null, null, null);
}

/// <summary>A stored run.</summary>
public sealed record ReconciliationRun
{
    public required string RunId { get; init; }

    public required ReconciliationFilter Filter { get; init; }

    public required ReconciliationState State { get; init; }

    /// <summary>The caller that started it, or <c>schedule</c>.</summary>
    public required string StartedBy { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public required DateTimeOffset UpdatedAt { get; init; }

    public DateTimeOffset? CompletedAt { get; init; }

    public string? ErrorReason { get; init; }

    public required ReconciliationCursor Cursor { get; init; }

    /// <summary>The worker that holds the run (a random id per claim), or null when none has claimed it.</summary>
    public string? Owner { get; init; }

    public long CustomersDone { get; init; }

    public long CustomersTotal { get; init; }

    public long ItemsTotal { get; init; }

    public long Discrepancies { get; init; }

    public long GatewayRequests { get; init; }
}

/// <summary>
/// One classified token. Masked metadata only: brand (or bank identifier) and last4, never a number.
/// </summary>
public sealed record ReconciliationItem
{
    public required string Token { get; init; }

    public TokenType? Type { get; init; }

    /// <summary>Card brand, or the bank identifier of a bank account.</summary>
    public string? Brand { get; init; }

    public string? Last4 { get; init; }

    public string? CustomerReference { get; init; }

    /// <summary>The ledger's creation time, else the gateway's.</summary>
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary><c>active</c>, <c>revoked</c> or <c>absent</c>.</summary>
    public required string LedgerStatus { get; init; }

    /// <summary><c>attached</c>, <c>not_attached</c> or <c>not_checked</c>.</summary>
    public required string GatewayStatus { get; init; }

    public required ReconciliationCategory Category { get; init; }

    /// <summary>Field names and rules only, never values; null when matched.</summary>
    public string? Detail { get; init; }
}

/// <summary>Items of one category, type and brand.</summary>
public sealed record ReconciliationCount(ReconciliationCategory Category, TokenType? Type, string? Brand, long Count);

/// <summary>Items of one category created on one UTC day.</summary>
public sealed record ReconciliationDailyCount(DateOnly Day, ReconciliationCategory Category, long Count);

/// <summary>One of our gateway Customers as the ledger maps it.</summary>
public sealed record CustomerMapping(string CustomerReference, string GatewayCustomerId);

/// <summary>A page of runs, newest first.</summary>
public sealed record ReconciliationRunPage(IReadOnlyList<ReconciliationRun> Runs, string? NextPageToken);

/// <summary>A page of items, by token id.</summary>
public sealed record ReconciliationItemPage(IReadOnlyList<ReconciliationItem> Items, string? NextPageToken);

/// <summary>What one processed page changes in a run: its items, the new cursor and the counters to add.</summary>
public sealed record ReconciliationProgress(
    IReadOnlyList<ReconciliationItem> Items,
    ReconciliationCursor Cursor,
    int CustomersDone,
    int GatewayRequests);

/// <summary>The fixed status words of <see cref="ReconciliationItem"/>.</summary>
public static class ReconciliationStatuses
{
    public const string Active = "active";
    public const string Revoked = "revoked";
    public const string Absent = "absent";
    public const string Attached = "attached";
    public const string NotAttached = "not_attached";
    public const string NotChecked = "not_checked";

    /// <summary>The ledger status word of a token.</summary>
    public static string Of(TokenStatus status) => status == TokenStatus.Revoked ? Revoked : Active;
}
