using System.Threading.RateLimiting;
using Tokenizer.Core.Domain;
using Tokenizer.Core.Errors;
using Tokenizer.Core.Ports;

namespace Tokenizer.Core.Reconciliation;

/// <summary>Settings of <see cref="Reconciler"/>.</summary>
public sealed record ReconcilerSettings
{
    /// <summary>PaymentMethods per gateway page (1-100).</summary>
    public int GatewayPageSize { get; init; } = 100;

    /// <summary>Customers read from the ledger at a time.</summary>
    public int CustomerBatchSize { get; init; } = 100;

    /// <summary>Ledger tokens per sweep page.</summary>
    public int SweepPageSize { get; init; } = 500;

    /// <summary>
    /// How long an intent may stay unresolved (pending, or failed and not yet checked by the orphan sweep) before a run
    /// reports it as <see cref="ReconciliationCategory.Pending"/>. Longer than the recovery worker's grace period.
    /// </summary>
    public TimeSpan PendingGrace { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>At most this many unresolved intents of each state are reported per run (oldest first).</summary>
    public int MaxPendingIntents { get; init; } = 1000;
}

/// <summary>
/// Carries one reconciliation run from its stored cursor to the end, one page at a time: walks our Customers (from the
/// ledger's customer map) and each one's PaymentMethods at the gateway (one paced request per page, cursor
/// pagination), looks the page's ids up in the ledger and classifies them (a Customer the gateway no longer has: its
/// tokens at once, as never chargeable); then sweeps the ledger's tokens of the period that the walk did not meet
/// (asking the gateway whether their Customer still exists); then records the intents left unresolved past the grace period. Every page is saved with the new cursor in one transaction, so memory holds one
/// page, and a run stopped anywhere (gateway errors, a crash, a restart) resumes where its last page ended with the
/// same result.
/// </summary>
/// <param name="store">Runs, items and the ledger reads.</param>
/// <param name="intentStore">The ledger's intents: the unresolved ones.</param>
/// <param name="gateway">The gateway (its <see cref="ITokenGateway.Name"/> selects our Customers).</param>
/// <param name="pacer">Paces gateway requests (one permit per request); shared by every run of the process.</param>
/// <param name="timeProvider">The clock.</param>
/// <param name="settings">Page sizes.</param>
public sealed class Reconciler(
    IReconciliationStore store,
    IIntentStore intentStore,
    ITokenGateway gateway,
    RateLimiter pacer,
    TimeProvider timeProvider,
    ReconcilerSettings settings)
{
    /// <summary>
    /// Runs <paramref name="run"/> (claimed by <paramref name="owner"/>) to the end and marks it completed; returns the
    /// final state. A gateway or ledger that is unavailable leaves it interrupted with the reason (a worker resumes it);
    /// another domain error fails it. Returns null when another worker took the run over. Cancellation releases the
    /// claim (the run stays running, as it was after its last saved page, for any worker to resume) and propagates.
    /// </summary>
    public async Task<ReconciliationState?> RunAsync(ReconciliationRun run, string owner, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentException.ThrowIfNullOrEmpty(owner);
        try
        {
            var cursor = run.Cursor;
            if (cursor.Phase == ReconciliationPhase.Customers && cursor.AfterCustomer is null && cursor.CurrentCustomer is null)
            {
                var total = await store.CountCustomersAsync(gateway.Name, run.Filter.CustomerReference, cancellationToken).ConfigureAwait(false);
                await store.SetCustomersTotalAsync(run.RunId, total, cancellationToken).ConfigureAwait(false);
            }

            while (cursor.Phase != ReconciliationPhase.Done)
            {
                var next = cursor.Phase switch
                {
                    ReconciliationPhase.Customers => await WalkCustomersAsync(run, owner, cursor, cancellationToken).ConfigureAwait(false),
                    ReconciliationPhase.LedgerSweep => await SweepLedgerAsync(run, owner, cursor, cancellationToken).ConfigureAwait(false),
                    _ => await SaveAsync(run, owner, await PendingIntentsAsync(run.Filter, cancellationToken).ConfigureAwait(false), cursor with { Phase = ReconciliationPhase.Done }, 0, 0, cancellationToken)
                        .ConfigureAwait(false),
                };
                if (next is null)
                {
                    return null;
                }

                cursor = next;
            }

            return await FinishAsync(run, owner, ReconciliationState.Completed, null).ConfigureAwait(false);
        }
        catch (TokenizerException error) when (error.Kind == ErrorKind.Unavailable)
        {
            return await FinishAsync(run, owner, ReconciliationState.Interrupted, error.Reason).ConfigureAwait(false);
        }
        catch (TokenizerException error)
        {
            return await FinishAsync(run, owner, ReconciliationState.Failed, error.Reason).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Shutting down: release the claim so the next worker (this host restarted, or a replica) resumes at once.
            await FinishAsync(run, owner, ReconciliationState.Running, null).ConfigureAwait(false);
            throw;
        }
    }

    // One batch of Customers, each walked page by page; returns the cursor after the batch, null when the run was lost.
    private async Task<ReconciliationCursor?> WalkCustomersAsync(
        ReconciliationRun run,
        string owner,
        ReconciliationCursor cursor,
        CancellationToken cancellationToken)
    {
        var customers = await store.ListCustomersAsync(
            gateway.Name,
            run.Filter.CustomerReference,
            cursor.AfterCustomer,
            settings.CustomerBatchSize,
            cancellationToken).ConfigureAwait(false);
        if (customers.Count == 0)
        {
            return await SaveAsync(run, owner, [], cursor with { Phase = ReconciliationPhase.LedgerSweep, CurrentCustomer = null, GatewayStartingAfter = null }, 0, 0, cancellationToken)
                .ConfigureAwait(false);
        }

        foreach (var customer in customers)
        {
            // Resuming inside the Customer that was in progress: continue after its stored gateway cursor.
            var startingAfter = string.Equals(customer.CustomerReference, cursor.CurrentCustomer, StringComparison.Ordinal)
                ? cursor.GatewayStartingAfter
                : null;
            while (true)
            {
                using (var permit = await pacer.AcquireAsync(1, cancellationToken).ConfigureAwait(false))
                {
                    if (!permit.IsAcquired)
                    {
                        continue;
                    }
                }

                var page = await gateway.ListCustomerPaymentMethodsAsync(
                    customer.GatewayCustomerId,
                    startingAfter,
                    settings.GatewayPageSize,
                    cancellationToken).ConfigureAwait(false);
                if (page.CustomerMissing)
                {
                    var past = await ReportDeletedCustomerAsync(
                        run,
                        owner,
                        customer,
                        cursor with { CurrentCustomer = customer.CustomerReference, GatewayStartingAfter = startingAfter },
                        cancellationToken).ConfigureAwait(false);
                    if (past is null)
                    {
                        return null;
                    }

                    cursor = past;
                    break;
                }

                var items = await ClassifyAsync(run.Filter, customer, page, cancellationToken).ConfigureAwait(false);
                var done = page.NextStartingAfter is null;
                var next = done
                    ? cursor with { AfterCustomer = customer.CustomerReference, CurrentCustomer = null, GatewayStartingAfter = null }
                    : cursor with { CurrentCustomer = customer.CustomerReference, GatewayStartingAfter = page.NextStartingAfter };
                if (await SaveAsync(run, owner, items, next, done ? 1 : 0, 1, cancellationToken).ConfigureAwait(false) is null)
                {
                    return null;
                }

                cursor = next;
                if (done)
                {
                    break;
                }

                startingAfter = page.NextStartingAfter;
            }
        }

        return cursor;
    }

    /// <summary>
    /// The gateway has no such Customer (deleted in the Dashboard or by an erasure, its <c>customer.deleted</c> perhaps
    /// not processed yet): every token of the run under it that the walk has not met is reported now as never chargeable
    /// (<see cref="ReconciliationClassifier.NotAttached"/> with the Customer deleted), a ledger page at a time; each page
    /// is saved with the cursor still on this Customer (<paramref name="inProgress"/>), so a resumed run lists it again
    /// and goes on with the tokens not yet reported. Then the walk moves past it. Returns null when the run was lost.
    /// </summary>
    private async Task<ReconciliationCursor?> ReportDeletedCustomerAsync(
        ReconciliationRun run,
        string owner,
        CustomerMapping customer,
        ReconciliationCursor inProgress,
        CancellationToken cancellationToken)
    {
        var filter = run.Filter with { CustomerReference = customer.CustomerReference };
        var requests = 1;
        string? after = null;
        while (true)
        {
            var tokens = await store.ListUnseenTokensAsync(run.RunId, filter, after, settings.SweepPageSize, cancellationToken).ConfigureAwait(false);
            if (tokens.Count == 0)
            {
                break;
            }

            after = tokens[^1].Token;

            // Only the tokens under this Customer (the reference may have a replacement Customer, walked on its own), and,
            // as in the sweep, none created after the run started.
            var items = tokens
                .Where(t => t.CreatedAt < run.CreatedAt && string.Equals(t.GatewayCustomerId, customer.GatewayCustomerId, StringComparison.Ordinal))
                .Select(t => ReconciliationClassifier.NotAttached(t, null, customerDeleted: true))
                .ToList();
            if (items.Count == 0)
            {
                continue;
            }

            if (await SaveAsync(run, owner, items, inProgress, 0, requests, cancellationToken).ConfigureAwait(false) is null)
            {
                return null;
            }

            requests = 0;
        }

        var past = inProgress with { AfterCustomer = customer.CustomerReference, CurrentCustomer = null, GatewayStartingAfter = null };
        return await SaveAsync(run, owner, [], past, 1, requests, cancellationToken).ConfigureAwait(false);
    }

    private async Task<List<ReconciliationItem>> ClassifyAsync(
        ReconciliationFilter filter,
        CustomerMapping customer,
        GatewayPaymentMethodPage page,
        CancellationToken cancellationToken)
    {
        var items = new List<ReconciliationItem>(page.PaymentMethods.Count);
        if (page.PaymentMethods.Count == 0)
        {
            return items;
        }

        var ledger = await store.GetTokensAsync([.. page.PaymentMethods.Select(p => p.Id)], cancellationToken).ConfigureAwait(false);
        foreach (var paymentMethod in page.PaymentMethods)
        {
            var record = ledger.GetValueOrDefault(paymentMethod.Id);
            var item = ReconciliationClassifier.Attached(paymentMethod, record, customer);
            if (record is not null && filter.InPeriod(item.CreatedAt) && (filter.Type is null || item.Type == filter.Type))
            {
                item = ReconciliationClassifier.WithSetup(item, await SetupDifferencesAsync(record, cancellationToken).ConfigureAwait(false));
            }

            if (filter.InPeriod(item.CreatedAt) && (filter.Type is null || item.Type == filter.Type))
            {
                items.Add(item);
            }
        }

        return items;
    }

    /// <summary>
    /// For a token the ledger holds READY: whether its SetupIntent is still succeeded (Stripe API GET
    /// /v1/setup_intents/{id}) and its mandate, if any, still active (GET /v1/mandates/{id}) at the gateway; each request
    /// takes a permit from the pacer. Returns "setup_status differs" / "mandate_status differs" for those that are not.
    /// </summary>
    private async Task<IReadOnlyList<string>> SetupDifferencesAsync(TokenRecord record, CancellationToken cancellationToken)
    {
        if (record.Status != TokenStatus.Active || record.Setup.Status != SetupStatus.Ready)
        {
            return [];
        }

        var differences = new List<string>();
        if (record.Setup.SetupIntentId is { } setupIntentId)
        {
            await PaceAsync(cancellationToken).ConfigureAwait(false);
            var setup = await gateway.GetSetupIntentAsync(setupIntentId, cancellationToken).ConfigureAwait(false);
            if (setup.Status != SetupStatus.Ready)
            {
                differences.Add("setup_status differs");
            }
        }

        if (record.Mandate is { } mandate)
        {
            await PaceAsync(cancellationToken).ConfigureAwait(false);
            var current = await gateway.GetMandateAsync(mandate.Id, cancellationToken).ConfigureAwait(false);
            if (current.Status != MandateStatus.Active)
            {
                differences.Add("mandate_status differs");
            }
        }

        return differences;
    }

    /// <summary>
    /// For an active token the ledger holds waiting for its setup (requires_action or processing), its SetupIntent as the
    /// gateway reports it now (Stripe API GET /v1/setup_intents/{id}, one permit from the pacer): the ledger's state may be
    /// stale (the customer authenticated, the webhook not processed yet). Null for any other token (no request).
    /// </summary>
    private async Task<GatewaySetup?> WaitingSetupAsync(TokenRecord record, CancellationToken cancellationToken)
    {
        if (record.Status != TokenStatus.Active || !record.Setup.IsPending || record.Setup.SetupIntentId is not { } setupIntentId)
        {
            return null;
        }

        await PaceAsync(cancellationToken).ConfigureAwait(false);
        return await gateway.GetSetupIntentAsync(setupIntentId, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// For a token the sweep reports whose category depends on whether its Customer still exists (an active one, or a
    /// revoked one whose setup is pending): whether the gateway says that Customer is deleted (Stripe API GET
    /// /v1/customers/{id}, one permit from the pacer, once per Customer per sweep page via <paramref name="known"/>).
    /// The walk may not have met that Customer (the reference now maps to a replacement) or met it in an earlier
    /// process (a resumed run), so the sweep asks instead of remembering: memory stays one page. False for any other
    /// token (no request).
    /// </summary>
    private async Task<bool> CustomerDeletedAsync(TokenRecord record, Dictionary<string, bool> known, CancellationToken cancellationToken)
    {
        var matters = record.Status == TokenStatus.Active || record.Setup.IsPending;
        if (!matters || record.GatewayCustomerId is not { Length: > 0 } customerId)
        {
            return false;
        }

        if (!known.TryGetValue(customerId, out var deleted))
        {
            await PaceAsync(cancellationToken).ConfigureAwait(false);
            deleted = await gateway.IsCustomerDeletedAsync(customerId, cancellationToken).ConfigureAwait(false);
            known[customerId] = deleted;
        }

        return deleted;
    }

    private async Task PaceAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            using var permit = await pacer.AcquireAsync(1, cancellationToken).ConfigureAwait(false);
            if (permit.IsAcquired)
            {
                return;
            }
        }
    }

    private async Task<ReconciliationCursor?> SweepLedgerAsync(
        ReconciliationRun run,
        string owner,
        ReconciliationCursor cursor,
        CancellationToken cancellationToken)
    {
        while (true)
        {
            var tokens = await store.ListUnseenTokensAsync(run.RunId, run.Filter, cursor.SweepAfterToken, settings.SweepPageSize, cancellationToken)
                .ConfigureAwait(false);
            var next = tokens.Count == 0
                ? cursor with { Phase = ReconciliationPhase.Pending }
                : cursor with { SweepAfterToken = tokens[^1].Token };
            // A token created after the run started is outside the gateway snapshot the walk saw: not evidence of a
            // missing PaymentMethod (a period that includes now would otherwise report every new token missing).
            var missing = new List<ReconciliationItem>();
            var customerDeleted = new Dictionary<string, bool>(StringComparer.Ordinal);
            foreach (var token in tokens.Where(t => t.CreatedAt < run.CreatedAt))
            {
                if (await CustomerDeletedAsync(token, customerDeleted, cancellationToken).ConfigureAwait(false))
                {
                    missing.Add(ReconciliationClassifier.NotAttached(token, null, customerDeleted: true));
                    continue;
                }

                missing.Add(ReconciliationClassifier.NotAttached(token, await WaitingSetupAsync(token, cancellationToken).ConfigureAwait(false)));
            }

            if (await SaveAsync(run, owner, missing, next, 0, 0, cancellationToken).ConfigureAwait(false) is null)
            {
                return null;
            }

            if (tokens.Count == 0)
            {
                return next;
            }

            cursor = next;
        }
    }

    // Intents of the period still unresolved past the grace period: pending, failed and not yet checked by the orphan
    // sweep, or detaching without a confirmed detach.
    private async Task<List<ReconciliationItem>> PendingIntentsAsync(ReconciliationFilter filter, CancellationToken cancellationToken)
    {
        var before = timeProvider.GetUtcNow() - settings.PendingGrace;
        var items = new List<ReconciliationItem>();
        foreach (var state in new[] { IntentState.Pending, IntentState.Failed, IntentState.Detaching })
        {
            var intents = await intentStore.ListIntentsAsync(state, before, settings.MaxPendingIntents, cancellationToken).ConfigureAwait(false);
            items.AddRange(intents
                .Where(intent => filter.InPeriod(intent.CreatedAt)
                    && (filter.CustomerReference is null || string.Equals(intent.CustomerReference, filter.CustomerReference, StringComparison.Ordinal)))
                .Select(ReconciliationClassifier.Unresolved)
                .Where(item => filter.Type is null || item.Type == filter.Type || (item.Type is null && filter.Type != TokenType.Card)));
        }

        return items;
    }

    private async Task<ReconciliationCursor?> SaveAsync(
        ReconciliationRun run,
        string owner,
        IReadOnlyList<ReconciliationItem> items,
        ReconciliationCursor cursor,
        int customersDone,
        int gatewayRequests,
        CancellationToken cancellationToken)
    {
        var saved = await store.SaveProgressAsync(
            run.RunId,
            owner,
            new ReconciliationProgress(items, cursor, customersDone, gatewayRequests),
            timeProvider.GetUtcNow(),
            cancellationToken).ConfigureAwait(false);
        return saved ? cursor : null;
    }

    // The final state is written even when the run's token was cancelled: it is the record of what happened.
    private async Task<ReconciliationState?> FinishAsync(ReconciliationRun run, string owner, ReconciliationState state, string? reason) =>
        await store.FinishRunAsync(run.RunId, owner, state, reason, timeProvider.GetUtcNow(), CancellationToken.None).ConfigureAwait(false)
            ? state
            : null;
}
