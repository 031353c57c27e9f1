using System.Security.Cryptography;
using Tokenizer.Core.Domain;
using Tokenizer.Core.Errors;
using Tokenizer.Core.Tokenization;
using Tokenizer.Core.Validation;

namespace Tokenizer.Core.Reconciliation;

/// <summary>Start a reconciliation run: the period and filters, and the caller's idempotency key.</summary>
public sealed record StartReconciliationCommand(
    DateTimeOffset? From,
    DateTimeOffset? To,
    string? CustomerReference,
    TokenType? Type,
    string? IdempotencyKey);

/// <summary>A run with its summary counts.</summary>
public sealed record ReconciliationReport(
    ReconciliationRun Run,
    IReadOnlyList<ReconciliationCount> Counts,
    IReadOnlyList<ReconciliationDailyCount> DailyCounts);

/// <summary>
/// The reconciliation use cases behind tokenizer.v1.ReconciliationService: validates and records new runs (the
/// server's worker carries them out), reads runs, their summaries and their items. Role checks are the transport's
/// (finance only, RpcPolicies). Errors are <see cref="TokenizerException"/>s that name fields and rules, never values;
/// an unknown or malformed run id is NOT_FOUND.
/// </summary>
public sealed class ReconciliationRuns(IReconciliationStore store, RequestHasher hasher, TimeProvider timeProvider)
{
    /// <summary>The longest period one run may cover.</summary>
    public static readonly TimeSpan MaxPeriod = TimeSpan.FromDays(366);

    private const int DefaultItemPageSize = 500;
    private const int MaxItemPageSize = 1000;
    private const int DefaultRunPageSize = 20;
    private const int MaxRunPageSize = 100;

    /// <summary>
    /// Validates and records a run (state running, no worker yet); the same caller and key return the first run with
    /// <c>Replayed</c> true.
    /// </summary>
    public async Task<(ReconciliationRun Run, bool Replayed)> StartAsync(
        string startedBy,
        StartReconciliationCommand command,
        CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(startedBy);
        ArgumentNullException.ThrowIfNull(command);
        var violations = new List<FieldViolation>();
        if (command.From is null)
        {
            violations.Add(new("filter.from", "required"));
        }

        if (command.To is null)
        {
            violations.Add(new("filter.to", "required"));
        }
        else if (command.From is { } from && (command.To <= from || command.To - from > MaxPeriod))
        {
            violations.Add(new("filter.to", "must be after from and at most 366 days later"));
        }

        if (command.CustomerReference is not null)
        {
            InputRules.CheckReference(command.CustomerReference, "filter.customer_reference", violations);
        }

        InputRules.CheckIdempotencyKey(command.IdempotencyKey, "idempotency_key", violations);

        if (violations.Count > 0)
        {
            throw TokenizerErrors.Invalid(violations);
        }

        var now = timeProvider.GetUtcNow();
        var run = new ReconciliationRun
        {
            RunId = NewRunId(),
            Filter = new ReconciliationFilter(command.From!.Value, command.To!.Value, command.CustomerReference, command.Type),
            State = ReconciliationState.Running,
            StartedBy = startedBy,
            CreatedAt = now,
            UpdatedAt = now,
            Cursor = ReconciliationCursor.Start,
        };
        var (stored, created) = await store.CreateRunAsync(run, hasher.IdempotencyKeyId(command.IdempotencyKey!), cancellationToken)
            .ConfigureAwait(false);
        if (!created && !SameFilter(stored.Filter, run.Filter))
        {
            // The key names another run: answering with it would hand back a report of another period or customer.
            throw TokenizerErrors.IdempotencyKeyReused();
        }

        return (stored, !created);
    }

    // Times as the ledger keeps them (microseconds), so a retry of the same request always matches.
    private static bool SameFilter(ReconciliationFilter stored, ReconciliationFilter asked) =>
        Math.Abs((stored.From - asked.From).Ticks) < 10
        && Math.Abs((stored.To - asked.To).Ticks) < 10
        && string.Equals(stored.CustomerReference, asked.CustomerReference, StringComparison.Ordinal)
        && stored.Type == asked.Type;

    /// <summary>A run with its counts per category, type and brand, and per day and category.</summary>
    public async Task<ReconciliationReport> GetAsync(string? runId, CancellationToken cancellationToken)
    {
        var run = await FindAsync(runId, cancellationToken).ConfigureAwait(false);
        var counts = await store.CountItemsAsync(run.RunId, cancellationToken).ConfigureAwait(false);
        var days = await store.CountItemsByDayAsync(run.RunId, cancellationToken).ConfigureAwait(false);
        return new ReconciliationReport(
            run with
            {
                ItemsTotal = counts.Sum(c => c.Count),
                Discrepancies = counts.Where(c => c.Category != ReconciliationCategory.Matched).Sum(c => c.Count),
            },
            counts,
            days);
    }

    /// <summary>A page of a run's items (0 means 500 per page, at most 1000).</summary>
    public async Task<ReconciliationItemPage> ListItemsAsync(
        string? runId,
        ReconciliationCategory? category,
        int pageSize,
        string? pageToken,
        CancellationToken cancellationToken)
    {
        var size = PageSize(pageSize, DefaultItemPageSize, MaxItemPageSize);
        var run = await FindAsync(runId, cancellationToken).ConfigureAwait(false);
        return await store.ListItemsAsync(run.RunId, category, size, string.IsNullOrEmpty(pageToken) ? null : pageToken, cancellationToken)
            .ConfigureAwait(false);
    }

    /// <summary>A page of runs, newest first (0 means 20 per page, at most 100).</summary>
    public Task<ReconciliationRunPage> ListAsync(int pageSize, string? pageToken, CancellationToken cancellationToken) =>
        store.ListRunsAsync(
            PageSize(pageSize, DefaultRunPageSize, MaxRunPageSize),
            string.IsNullOrEmpty(pageToken) ? null : pageToken,
            cancellationToken);

    private static int PageSize(int requested, int defaultSize, int max) => requested switch
    {
        0 => defaultSize,
        < 0 => throw TokenizerErrors.Invalid([new("page_size", "must not be negative")]),
        _ when requested > max => throw TokenizerErrors.Invalid([new("page_size", $"must be at most {max}")]),
        _ => requested,
    };

    private const string RunIdRule = "must be a run id of 1-255 letters, digits or underscores holding no card or bank account number";

    // 20 random lower-case letters (94 bits): no digits, so a run id can never look like a card number to a scanner.
    private static string NewRunId() => "rec_" + RandomNumberGenerator.GetString("abcdefghijklmnopqrstuvwxyz", 20);

    /// <summary>
    /// The run, or NOT_FOUND. An id that is not id-shaped, or holds a card or bank number, is INVALID_ARGUMENT naming
    /// <c>run_id</c> (the free-text rule every looked-up id follows), never a lookup.
    /// </summary>
    private async Task<ReconciliationRun> FindAsync(string? runId, CancellationToken cancellationToken)
    {
        if (!InputRules.IsValidTokenId(runId))
        {
            throw TokenizerErrors.Invalid([new FieldViolation("run_id", RunIdRule)]);
        }

        var run = await store.GetRunAsync(runId!, cancellationToken).ConfigureAwait(false);
        return run ?? throw TokenizerErrors.ReconciliationNotFound();
    }
}
