using Microsoft.Extensions.Logging;
using Tokenizer.Core.Audit;
using Tokenizer.Core.Domain;
using Tokenizer.Core.Ports;
using Tokenizer.Core.Telemetry;

namespace Tokenizer.Core.Tokenization;

/// <summary>Tunables of the recovery worker and the orphan sweep.</summary>
public sealed class RecoverySettings
{
    /// <summary>
    /// How long an intent stays untouched before the worker acts on it: a pending one is presumed dead (its process
    /// crashed), a failed one is swept. At least the pending lease, so a live request is never raced.
    /// </summary>
    public TimeSpan GracePeriod { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How many pending and how many failed intents one pass looks at, each (1-1000).</summary>
    public int BatchSize { get; set; } = 100;

    /// <summary>How many pages (100 PaymentMethods each) of one Customer to search before escalating to an operator.</summary>
    public int MaxPagesPerIntent { get; set; } = 20;
}

/// <summary>What one recovery pass did, by action.</summary>
/// <param name="Completed">Pending intents completed from the PaymentMethod found at the gateway.</param>
/// <param name="Released">Intents closed: nothing of theirs is attached at the gateway.</param>
/// <param name="Detached">Orphans (a failed intent's PaymentMethod still attached) detached and recorded revoked.</param>
/// <param name="Escalated">Intents the pass could not decide (Customer too large to search); logged for an operator.</param>
/// <param name="Deferred">Intents left for a later pass: claimed by a live request, or the gateway failed.</param>
public sealed record RecoveryPassResult(int Completed, int Released, int Detached, int Escalated, int Deferred);

/// <summary>
/// Resolves requests that were cut off between claiming their idempotency key and recording their token, without the
/// caller: the recovery worker (pending intents whose process died) and the orphan sweep (failed intents whose
/// PaymentMethod may still be attached). It finds a PaymentMethod through the Customer's list (Stripe API GET
/// /v1/customers/{id}/payment_methods) by its <c>tokenizer_intent</c> metadata.
/// </summary>
/// <remarks>
/// <para>
/// Each intent is claimed exactly as the caller's retry would claim it (same caller, key id and request HMAC, through
/// <see cref="ITokenLedger.BeginAsync"/>), so the worker, a retry and other replicas never act on one key at once: only
/// the one that starts the claim acts; the others see it in flight or completed and leave it.
/// </para>
/// <para>
/// Outcomes: pending and found → token recorded active, the claim completed (a later retry replays it); pending and not
/// found → closed (nothing attached; a retry runs afresh); failed and found → detached at the gateway and recorded
/// revoked, the claim completed with that revoked token (a later retry replays REVOKED rather than reviving a detached
/// PaymentMethod through the gateway's idempotent replay); failed and not found → closed. Every action is audited as
/// caller <c>system</c> and counted by <c>tokenizer.recovery.actions</c>. Gateway failures leave the intent for a
/// later pass. Thread-safe.
/// </para>
/// </remarks>
public sealed partial class RecoveryService(
    ITokenLedger ledger,
    ITokenGateway gateway,
    IAuditTrail audit,
    TokenizerMetrics metrics,
    TimeProvider timeProvider,
    TokenizationSettings tokenization,
    RecoverySettings settings,
    ILogger<RecoveryService> logger)
{
    /// <summary>The audit caller of recovery actions.</summary>
    public const string AuditCaller = "system";

    /// <summary>Audit action: a pending intent completed from the gateway.</summary>
    public const string IntentCompletedAction = "recovery/intent_completed";

    /// <summary>Audit action: an intent closed, nothing attached at the gateway.</summary>
    public const string IntentClosedAction = "recovery/intent_closed";

    /// <summary>Audit action: an orphan PaymentMethod detached.</summary>
    public const string OrphanDetachedAction = "recovery/orphan_detached";

    /// <summary>Audit action: an intent left for an operator.</summary>
    public const string IntentEscalatedAction = "recovery/intent_escalated";

    private const int PageSize = 100;

    private enum Outcome
    {
        Completed,
        Released,
        Detached,
        Escalated,
        Deferred,
    }

    /// <summary>
    /// One pass: up to <see cref="RecoverySettings.BatchSize"/> pending intents older than the grace period, then as many
    /// failed ones. Never throws for one intent's failure (it is logged and deferred); throws when the ledger cannot list
    /// intents, and <see cref="OperationCanceledException"/> when cancelled.
    /// </summary>
    public async Task<RecoveryPassResult> RunOnceAsync(CancellationToken cancellationToken)
    {
        var counts = new int[Enum.GetValues<Outcome>().Length];
        foreach (var state in new[] { IntentState.Pending, IntentState.Failed })
        {
            var cutoff = timeProvider.GetUtcNow() - settings.GracePeriod;
            var intents = await ledger.ListIntentsAsync(state, cutoff, settings.BatchSize, cancellationToken).ConfigureAwait(false);
            foreach (var intent in intents)
            {
                cancellationToken.ThrowIfCancellationRequested();
                counts[(int)await ResolveAsync(intent, cancellationToken).ConfigureAwait(false)]++;
            }
        }

        return new RecoveryPassResult(
            counts[(int)Outcome.Completed],
            counts[(int)Outcome.Released],
            counts[(int)Outcome.Detached],
            counts[(int)Outcome.Escalated],
            counts[(int)Outcome.Deferred]);
    }

    private async Task<Outcome> ResolveAsync(TokenIntent intent, CancellationToken cancellationToken)
    {
        var claim = new IdempotencyClaim(
            intent.CallerId,
            intent.Key,
            intent.Operation,
            intent.RequestHmac,
            timeProvider.GetUtcNow(),
            tokenization.PendingLease,
            new IntentInfo(intent.IntentId, intent.CustomerReference));
        var claimed = await ledger.BeginAsync(claim, cancellationToken).ConfigureAwait(false);
        if (claimed.State != IdempotencyState.Started)
        {
            // A retry or another replica holds or finished it, or the key now belongs to another request.
            return Outcome.Deferred;
        }

        Search search;
        try
        {
            search = await FindAsync(intent, cancellationToken).ConfigureAwait(false);
            if (search.Kind == SearchKind.GaveUp)
            {
                await GiveBackAsync(intent).ConfigureAwait(false);
                LogEscalated(logger, intent.IntentId);
                await AuditAsync(IntentEscalatedAction, intent.IntentId, AuditOutcome.Failure, "CUSTOMER_TOO_LARGE").ConfigureAwait(false);
                return Record(Outcome.Escalated);
            }

            if (search.Kind == SearchKind.NotAttached)
            {
                await ledger.ReleaseAsync(intent.CallerId, intent.Key, IntentState.Closed, CancellationToken.None).ConfigureAwait(false);
                LogClosed(logger, intent.IntentId);
                await AuditAsync(IntentClosedAction, intent.IntentId, AuditOutcome.Success, null).ConfigureAwait(false);
                return Record(Outcome.Released);
            }

            if (intent.State == IntentState.Failed)
            {
                await gateway.DetachAsync(search.PaymentMethod!.Id, intent.IntentId + "_sweep_detach", cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception error)
        {
            await GiveBackAsync(intent).ConfigureAwait(false);
            if (error is OperationCanceledException && cancellationToken.IsCancellationRequested)
            {
                throw;
            }

            LogDeferred(logger, intent.IntentId, error.GetType().Name);
            return Outcome.Deferred;
        }

        var revoked = intent.State == IntentState.Failed;
        var token = ToRecord(intent, search.CustomerId!, search.PaymentMethod!, revoked);
        await ledger.CompleteAsync(intent.CallerId, intent.Key, TokenJson.Serialize(token), token, CancellationToken.None).ConfigureAwait(false);
        if (revoked)
        {
            LogDetached(logger, token.Token, intent.IntentId);
            await AuditAsync(OrphanDetachedAction, token.Token, AuditOutcome.Success, null).ConfigureAwait(false);
            return Record(Outcome.Detached);
        }

        LogCompleted(logger, token.Token, intent.IntentId);
        await AuditAsync(IntentCompletedAction, token.Token, AuditOutcome.Success, null).ConfigureAwait(false);
        return Record(Outcome.Completed);
    }

    // Leaves an undecided intent as it was found. A pending one keeps the claim this pass took: its lease runs out and
    // the next pass (or the caller's retry) takes it again. A failed one gets its claim released as failed again, so it
    // stays a sweep candidate and is not mistaken for a crashed request.
    private Task GiveBackAsync(TokenIntent intent) =>
        intent.State == IntentState.Failed
            ? ledger.ReleaseAsync(intent.CallerId, intent.Key, IntentState.Failed, CancellationToken.None)
            : Task.CompletedTask;

    /// <summary>The PaymentMethod carrying the intent's id among its Customer's attached ones (Stripe lists attached ones only).</summary>
    private async Task<Search> FindAsync(TokenIntent intent, CancellationToken cancellationToken)
    {
        var customerId = await ledger.FindCustomerAsync(gateway.Name, intent.CustomerReference, cancellationToken).ConfigureAwait(false);
        if (customerId is null)
        {
            return new Search(SearchKind.NotAttached, null, null);
        }

        string? cursor = null;
        for (var page = 0; page < settings.MaxPagesPerIntent; page++)
        {
            var listed = await gateway.ListCustomerPaymentMethodsAsync(customerId, cursor, PageSize, cancellationToken).ConfigureAwait(false);
            foreach (var paymentMethod in listed.PaymentMethods)
            {
                if (paymentMethod.Metadata.TryGetValue(TokenizationService.MetadataIntentKey, out var value)
                    && string.Equals(value, intent.IntentId, StringComparison.Ordinal))
                {
                    return new Search(SearchKind.Found, customerId, paymentMethod);
                }
            }

            cursor = listed.NextStartingAfter;
            if (cursor is null)
            {
                return new Search(SearchKind.NotAttached, customerId, null);
            }
        }

        return new Search(SearchKind.GaveUp, customerId, null);
    }

    private TokenRecord ToRecord(TokenIntent intent, string customerId, GatewayPaymentMethod paymentMethod, bool revoked) => new()
    {
        Token = paymentMethod.Id,
        Gateway = gateway.Name,
        Type = paymentMethod.Type,
        Status = revoked ? TokenStatus.Revoked : TokenStatus.Active,
        CallerId = intent.CallerId,
        CustomerReference = intent.CustomerReference,
        GatewayCustomerId = customerId,
        Card = paymentMethod.Card,
        BankAccount = paymentMethod.BankAccount,
        CreatedAt = intent.CreatedAt,
        RevokedAt = revoked ? Micros(timeProvider.GetUtcNow()) : null,
    };

    private Outcome Record(Outcome outcome)
    {
        metrics.RecordRecoveryAction(outcome switch
        {
            Outcome.Completed => TokenizerMetrics.RecoveryActions.Completed,
            Outcome.Released => TokenizerMetrics.RecoveryActions.Released,
            Outcome.Detached => TokenizerMetrics.RecoveryActions.Detached,
            _ => TokenizerMetrics.RecoveryActions.Escalated,
        });
        return outcome;
    }

    private Task AuditAsync(string action, string resource, AuditOutcome outcome, string? reason) =>
        audit.AppendAsync(
            new AuditEvent(timeProvider.GetUtcNow(), AuditCaller, null, action, resource, outcome, reason, Guid.NewGuid().ToString("N")),
            CancellationToken.None);

    /// <summary>The ledgers store microseconds; so does the token a replay returns.</summary>
    private static DateTimeOffset Micros(DateTimeOffset value) =>
        new(value.UtcTicks - (value.UtcTicks % 10), TimeSpan.Zero);

    private enum SearchKind
    {
        Found,
        NotAttached,
        GaveUp,
    }

    private sealed record Search(SearchKind Kind, string? CustomerId, GatewayPaymentMethod? PaymentMethod);

    [LoggerMessage(EventId = 1101, EventName = "RecoveryCompleted", Level = LogLevel.Warning, Message = "Recovery completed {Token} for intent {IntentId}: its request was cut off after the gateway succeeded")]
    private static partial void LogCompleted(ILogger logger, string token, string intentId);

    [LoggerMessage(EventId = 1102, EventName = "RecoveryClosed", Level = LogLevel.Information, Message = "Recovery closed intent {IntentId}: nothing of it is attached at the gateway")]
    private static partial void LogClosed(ILogger logger, string intentId);

    [LoggerMessage(EventId = 1103, EventName = "OrphanDetached", Level = LogLevel.Warning, Message = "Orphan sweep detached {Token} of failed intent {IntentId} and recorded it revoked")]
    private static partial void LogDetached(ILogger logger, string token, string intentId);

    [LoggerMessage(EventId = 1104, EventName = "RecoveryEscalated", Level = LogLevel.Error, Message = "Recovery could not decide intent {IntentId}: its Customer has too many PaymentMethods to search; an operator must reconcile it")]
    private static partial void LogEscalated(ILogger logger, string intentId);

    [LoggerMessage(EventId = 1105, EventName = "RecoveryDeferred", Level = LogLevel.Warning, Message = "Recovery deferred intent {IntentId} to a later pass ({ErrorType})")]
    private static partial void LogDeferred(ILogger logger, string intentId, string errorType);
}
