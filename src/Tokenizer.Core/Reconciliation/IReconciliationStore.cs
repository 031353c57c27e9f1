using Tokenizer.Core.Domain;

namespace Tokenizer.Core.Reconciliation;

/// <summary>
/// Reconciliation runs and their items in the ledger's database, and the ledger reads a run needs. Every method is one
/// statement or one transaction; nothing is held in memory across calls, so a run over any number of tokens needs
/// memory for one page only. Implementations are thread-safe.
/// </summary>
public interface IReconciliationStore
{
    /// <summary>
    /// Records a new run unless (<paramref name="run"/>.StartedBy, <paramref name="requestKeyId"/>) already started one;
    /// returns the stored run and whether it was created by this call.
    /// </summary>
    Task<(ReconciliationRun Run, bool Created)> CreateRunAsync(ReconciliationRun run, string requestKeyId, CancellationToken cancellationToken);

    /// <summary>One run, or null.</summary>
    Task<ReconciliationRun?> GetRunAsync(string runId, CancellationToken cancellationToken);

    /// <summary>Runs newest first, keyset-paged (1-100 per page).</summary>
    Task<ReconciliationRunPage> ListRunsAsync(int pageSize, string? pageToken, CancellationToken cancellationToken);

    /// <summary>
    /// Runs a worker should take up, oldest update first: unclaimed running runs, claimed running runs whose last update
    /// is before <paramref name="runningStaleBefore"/> (their worker died), and interrupted runs whose last update is
    /// before <paramref name="interruptedBefore"/>.
    /// </summary>
    Task<IReadOnlyList<ReconciliationRun>> ListResumableRunsAsync(
        DateTimeOffset runningStaleBefore,
        DateTimeOffset interruptedBefore,
        int limit,
        CancellationToken cancellationToken);

    /// <summary>
    /// Takes a run for the worker <paramref name="owner"/>: an update conditional on the owner and updated_at that were
    /// read, so of two workers (processes, replicas) exactly one wins. Sets it running. Returns the run as claimed, or
    /// null when another worker won.
    /// </summary>
    Task<ReconciliationRun?> ClaimRunAsync(ReconciliationRun seen, string owner, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>
    /// In one transaction, if <paramref name="owner"/> still holds the run: upserts the items (by run and token; a later
    /// classification replaces an earlier one), moves the cursor, adds the counters and sets updated_at. Re-processing a
    /// page after a crash therefore changes no item. Returns false (and changes nothing) when the run was taken over.
    /// </summary>
    Task<bool> SaveProgressAsync(string runId, string owner, ReconciliationProgress progress, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>
    /// Sets the state if <paramref name="owner"/> still holds the run: completed records the completion time and the
    /// final item and discrepancy counts; interrupted and failed record <paramref name="errorReason"/>. Returns false when
    /// the run was taken over.
    /// </summary>
    Task<bool> FinishRunAsync(
        string runId,
        string owner,
        ReconciliationState state,
        string? errorReason,
        DateTimeOffset now,
        CancellationToken cancellationToken);

    /// <summary>Records the number of Customers the run will walk.</summary>
    Task SetCustomersTotalAsync(string runId, long total, CancellationToken cancellationToken);

    /// <summary>Counts the gateway's Customers (optionally one reference).</summary>
    Task<long> CountCustomersAsync(string gateway, string? customerReference, CancellationToken cancellationToken);

    /// <summary>Our Customers at <paramref name="gateway"/> after <paramref name="afterReference"/>, by customer_reference.</summary>
    Task<IReadOnlyList<CustomerMapping>> ListCustomersAsync(
        string gateway,
        string? customerReference,
        string? afterReference,
        int limit,
        CancellationToken cancellationToken);

    /// <summary>The ledger's tokens among <paramref name="tokens"/> (at most 100 ids), by id.</summary>
    Task<IReadOnlyDictionary<string, TokenRecord>> GetTokensAsync(IReadOnlyCollection<string> tokens, CancellationToken cancellationToken);

    /// <summary>
    /// Tokens of the run's filter that have no item in the run yet, by token id after <paramref name="afterToken"/>:
    /// what the gateway walk did not meet.
    /// </summary>
    Task<IReadOnlyList<TokenRecord>> ListUnseenTokensAsync(
        string runId,
        ReconciliationFilter filter,
        string? afterToken,
        int limit,
        CancellationToken cancellationToken);

    /// <summary>A run's items by token id, optionally of one category, keyset-paged (1-1000 per page).</summary>
    Task<ReconciliationItemPage> ListItemsAsync(
        string runId,
        ReconciliationCategory? category,
        int pageSize,
        string? pageToken,
        CancellationToken cancellationToken);

    /// <summary>A run's items counted by category, type and brand.</summary>
    Task<IReadOnlyList<ReconciliationCount>> CountItemsAsync(string runId, CancellationToken cancellationToken);

    /// <summary>A run's items counted by UTC creation day and category.</summary>
    Task<IReadOnlyList<ReconciliationDailyCount>> CountItemsByDayAsync(string runId, CancellationToken cancellationToken);
}
