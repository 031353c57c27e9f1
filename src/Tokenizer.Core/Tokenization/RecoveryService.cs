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
    /// crashed), a failed one is swept. At least the pending lease, so the worker only ever takes over an expired claim;
    /// the lease itself must outlast a call (outside Development it is at least the per-call cap), so a live request
    /// is not taken over. The worker claims only an intent still as it listed it, and completes or releases only its own
    /// claim (fenced on its claim time).
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
/// <param name="Interrupted">
/// Calls cut off by a crash (pending claims past their lease) given their <see cref="InterruptedCalls.Reason"/> audit record.
/// </param>
public sealed record RecoveryPassResult(int Completed, int Released, int Detached, int Escalated, int Deferred, int Interrupted = 0);

/// <summary>
/// Resolves requests that were cut off between claiming their idempotency key and recording their token, without the
/// caller: the recovery worker (pending intents whose process died) and the orphan sweep (failed intents whose
/// PaymentMethod may still be attached). It finds a PaymentMethod through the Customer's list (Stripe API GET
/// /v1/customers/{id}/payment_methods) by its <c>tokenizer_intent</c> metadata. On the SetupIntent path a PaymentMethod is
/// attached only once its SetupIntent succeeded, so this finds exactly the setups that succeeded at Stripe with no record
/// here; a recorded one gets its setup from its SetupIntent (found by Customer and PaymentMethod) and its Mandate.
/// </summary>
/// <remarks>
/// <para>
/// Each intent is claimed exactly as the caller's retry would claim it (same caller, key id and request HMAC, through
/// <see cref="IClaimStore.ClaimAsync"/>), so the worker, a retry and other replicas never act on one key at once: only
/// the one that starts the claim acts; the others see it in flight or completed and leave it.
/// </para>
/// <para>
/// Outcomes: pending and found → token recorded active, the claim completed (a later retry replays it); pending and not
/// found → closed (nothing attached; a retry runs afresh); failed and found → an orphan: recorded revoked and the claim
/// completed with that revoked token first (fenced: only while no retry has taken the claim over), then detached at the
/// gateway, retried until the gateway confirms (intent Detaching, then Completed), so a later retry replays REVOKED and
/// never revives a detached PaymentMethod through the gateway's idempotent replay; failed and not found → closed; found
/// and already recorded in the ledger → completed with that record, never detached. Every action is audited as
/// caller <c>system</c> and counted by <c>tokenizer.recovery.actions</c>. Gateway failures leave the intent for a
/// later pass. Thread-safe.
/// </para>
/// </remarks>
public sealed partial class RecoveryService(
    IClaimStore claimStore,
    IIntentStore intentStore,
    ICustomerRepository customerRepository,
    ITokenRepository tokenRepository,
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
    /// One pass. First the calls cut off by a crash: up to <see cref="RecoverySettings.BatchSize"/> idempotency claims
    /// still pending after their lease and not audited yet get one audit record each, naming the claim's caller and the
    /// call's action, outcome failure, reason <see cref="InterruptedCalls.Reason"/>
    /// (<see cref="IClaimStore.AuditAbandonedAsync"/>: the record and the claim's mark in one transaction, so
    /// exactly once across passes, retries and replicas); a failure there is logged and the pass goes on. Then up to
    /// <see cref="RecoverySettings.BatchSize"/> intents of each kind: orphans whose detach is unconfirmed
    /// a lease after it was recorded (detached again: idempotent at the gateway, so two replicas repeating one only
    /// duplicate its audit record), then pending and failed intents older than the grace period. Never throws for one
    /// intent's failure (it is logged and deferred); throws when the ledger cannot list intents, and
    /// <see cref="OperationCanceledException"/> when cancelled.
    /// </summary>
    public async Task<RecoveryPassResult> RunOnceAsync(CancellationToken cancellationToken)
    {
        var counts = new int[Enum.GetValues<Outcome>().Length];
        var interrupted = await AuditInterruptedAsync(cancellationToken).ConfigureAwait(false);
        foreach (var state in new[] { IntentState.Detaching, IntentState.Pending, IntentState.Failed })
        {
            // A detach left unconfirmed is retried once its sweeper had a lease's time to finish it.
            var cutoff = timeProvider.GetUtcNow() - (state == IntentState.Detaching ? tokenization.PendingLease : settings.GracePeriod);
            var intents = await intentStore.ListIntentsAsync(state, cutoff, settings.BatchSize, cancellationToken).ConfigureAwait(false);
            foreach (var intent in intents)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var outcome = state == IntentState.Detaching
                    ? await DetachAsync(intent, intent.Token!, cancellationToken).ConfigureAwait(false)
                    : await ResolveAsync(intent, cancellationToken).ConfigureAwait(false);
                counts[(int)outcome]++;
            }
        }

        return new RecoveryPassResult(
            counts[(int)Outcome.Completed],
            counts[(int)Outcome.Released],
            counts[(int)Outcome.Detached],
            counts[(int)Outcome.Escalated],
            counts[(int)Outcome.Deferred],
            interrupted);
    }

    // Before the intents: a pending intent's claim is taken over below, and its cut-off call is audited either here or
    // in that takeover's transaction, never both (the claim's mark).
    private async Task<int> AuditInterruptedAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await claimStore.AuditAbandonedAsync(timeProvider.GetUtcNow(), tokenization.PendingLease, settings.BatchSize, cancellationToken)
                .ConfigureAwait(false);
        }
        catch (Exception error) when (error is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogInterruptedAuditFailed(logger, error.GetType().Name);
            return 0;
        }
    }

    private async Task<Outcome> ResolveAsync(TokenIntent intent, CancellationToken cancellationToken)
    {
        var claimedAt = Micros(timeProvider.GetUtcNow());
        var claim = new IdempotencyClaim(
            intent.CallerId,
            intent.Key,
            intent.Operation,
            intent.RequestHmac,
            claimedAt,
            tokenization.PendingLease,
            new IntentInfo(intent.IntentId, intent.CustomerReference),
            new IntentFence(intent.State, intent.UpdatedAt));
        var claimed = await claimStore.ClaimAsync(claim, cancellationToken).ConfigureAwait(false);
        if (claimed.State != IdempotencyState.Started)
        {
            // Replay: its request completed (a retry finished it), so the intent is settled with that token. In flight
            // (a retry or another replica holds it) or conflict (the key now belongs to another request): moved to the
            // back of the queue so it never blocks the intents behind it.
            var completed = claimed.State == IdempotencyState.Replay ? TokenJson.Deserialize(claimed.ResponseJson).Token : null;
            await intentStore.SettleUnclaimedAsync(intent.CallerId, intent.Key, completed, CancellationToken.None).ConfigureAwait(false);
            return Outcome.Deferred;
        }

        TokenRecord token;
        bool orphan;
        try
        {
            var search = await FindAsync(intent, cancellationToken).ConfigureAwait(false);
            if (search.Kind == SearchKind.GaveUp)
            {
                await GiveBackAsync(intent, claimedAt).ConfigureAwait(false);
                LogEscalated(logger, intent.IntentId);
                await AuditAsync(IntentEscalatedAction, intent.IntentId, AuditOutcome.Failure, "CUSTOMER_TOO_LARGE", intent).ConfigureAwait(false);
                return Record(Outcome.Escalated);
            }

            if (search.Kind == SearchKind.NotAttached)
            {
                await claimStore.ReleaseOwnedAsync(intent.CallerId, intent.Key, claimedAt, IntentState.Closed, CancellationToken.None).ConfigureAwait(false);
                LogClosed(logger, intent.IntentId);
                await AuditAsync(IntentClosedAction, intent.IntentId, AuditOutcome.Success, null, intent).ConfigureAwait(false);
                return Record(Outcome.Released);
            }

            // A PaymentMethod the ledger already records is no orphan, whatever the intent says: keep what is recorded.
            var recorded = await tokenRepository.GetTokenAsync(search.PaymentMethod!.Id, cancellationToken).ConfigureAwait(false);
            orphan = recorded is null && intent.State == IntentState.Failed;
            token = recorded ?? ToRecord(intent, search.CustomerId!, search.PaymentMethod, revoked: orphan);
            if (recorded is null && !orphan)
            {
                token = await WithSetupAsync(token, cancellationToken).ConfigureAwait(false);
            }

            // Fenced write-ahead: only while the claim is still ours (no retry took it over), and before any detach, so
            // a retry from now on replays this record and never revives the PaymentMethod through the gateway's replay.
            var owned = await claimStore.CompleteOwnedWithTokenAsync(
                intent.CallerId,
                intent.Key,
                claimedAt,
                TokenJson.Serialize(token),
                token,
                orphan ? IntentState.Detaching : IntentState.Completed,
                CancellationToken.None).ConfigureAwait(false);
            if (!owned)
            {
                LogLostClaim(logger, intent.IntentId);
                return Outcome.Deferred;
            }
        }
        catch (Exception error)
        {
            await GiveBackAsync(intent, claimedAt).ConfigureAwait(false);
            if (error is OperationCanceledException && cancellationToken.IsCancellationRequested)
            {
                throw;
            }

            LogDeferred(logger, intent.IntentId, error.GetType().Name);
            return Outcome.Deferred;
        }

        if (orphan)
        {
            return await DetachAsync(intent, token.Token, cancellationToken).ConfigureAwait(false);
        }

        LogCompleted(logger, token.Token, intent.IntentId);
        await AuditAsync(IntentCompletedAction, token.Token, AuditOutcome.Success, null, intent).ConfigureAwait(false);
        return Record(Outcome.Completed);
    }

    // The ledger already records the orphan revoked (intent Detaching): detach it at the gateway with the intent's own
    // Idempotency-Key (a repeat is replayed; an already detached one counts as success), then mark the intent completed.
    // A failure leaves it Detaching for a later pass.
    private async Task<Outcome> DetachAsync(TokenIntent intent, string token, CancellationToken cancellationToken)
    {
        try
        {
            await gateway.DetachAsync(token, intent.IntentId + "_sweep_detach", cancellationToken).ConfigureAwait(false);
            await intentStore.ConfirmDetachedAsync(intent.CallerId, intent.Key, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception error) when (error is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogDeferred(logger, intent.IntentId, error.GetType().Name);
            return Outcome.Deferred;
        }

        LogDetached(logger, token, intent.IntentId);
        await AuditAsync(OrphanDetachedAction, token, AuditOutcome.Success, null, intent).ConfigureAwait(false);
        return Record(Outcome.Detached);
    }

    // Leaves an undecided intent as it was found. A pending one keeps the claim this pass took: its lease runs out and
    // the next pass (or the caller's retry) takes it again. A failed one gets its claim released as failed again, so it
    // stays a sweep candidate and is not mistaken for a crashed request.
    private Task GiveBackAsync(TokenIntent intent, DateTimeOffset claimedAt) =>
        intent.State == IntentState.Failed
            ? claimStore.ReleaseOwnedAsync(intent.CallerId, intent.Key, claimedAt, IntentState.Failed, CancellationToken.None)
            : Task.CompletedTask;

    /// <summary>The PaymentMethod carrying the intent's id among its Customer's attached ones (Stripe lists attached ones only).</summary>
    private async Task<Search> FindAsync(TokenIntent intent, CancellationToken cancellationToken)
    {
        var customerId = await customerRepository.FindCustomerAsync(gateway.Name, intent.CustomerReference, cancellationToken).ConfigureAwait(false);
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

    /// <summary>
    /// The token with the setup its request made: the PaymentMethod's newest SetupIntent under the Customer (Stripe API
    /// GET /v1/setup_intents?customer=...&amp;payment_method=...) and, for a debit, its Mandate. On the SetupIntent path a
    /// PaymentMethod is attached only by a succeeded SetupIntent; one with none found was attached otherwise and reads as
    /// NOT_SET_UP. Gateway failures propagate (the intent is deferred to a later pass).
    /// </summary>
    private async Task<TokenRecord> WithSetupAsync(TokenRecord token, CancellationToken cancellationToken)
    {
        var setup = await gateway.FindSetupIntentAsync(token.GatewayCustomerId!, token.Token, cancellationToken).ConfigureAwait(false);
        if (setup is null)
        {
            return token;
        }

        var mandate = token.Type != TokenType.Card && setup.MandateId is { } mandateId
            ? await gateway.GetMandateAsync(mandateId, cancellationToken).ConfigureAwait(false)
            : null;
        return token with { Setup = TokenizationService.ToSetup(setup), Mandate = mandate };
    }

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

    // The intent id is the correlation id: it ties the record to the request's PaymentMethod metadata and to the logs.
    // The action already happened, so a failed append cannot undo it: it is logged (Critical) and the pass goes on.
    private async Task AuditAsync(string action, string resource, AuditOutcome outcome, string? reason, TokenIntent intent)
    {
        try
        {
            await audit.AppendAsync(
                new AuditEvent(timeProvider.GetUtcNow(), AuditCaller, null, action, resource, outcome, reason, intent.IntentId),
                CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception error)
        {
            var errorType = error.GetType().Name;
            LogAuditFailed(logger, action, intent.IntentId, errorType);
        }
    }

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

    [LoggerMessage(EventId = 1106, EventName = "RecoveryLostClaim", Level = LogLevel.Warning, Message = "Recovery left intent {IntentId}: a retry took its claim over first")]
    private static partial void LogLostClaim(ILogger logger, string intentId);

    [LoggerMessage(EventId = 1107, EventName = "RecoveryAuditFailed", Level = LogLevel.Critical, Message = "Recovery could not audit {Action} of intent {IntentId} ({ErrorType}); the action stands")]
    private static partial void LogAuditFailed(ILogger logger, string action, string intentId, string errorType);

    [LoggerMessage(EventId = 1108, EventName = "RecoveryInterruptedAuditFailed", Level = LogLevel.Error, Message = "Recovery could not audit the calls cut off by a crash ({ErrorType}); the next pass tries again")]
    private static partial void LogInterruptedAuditFailed(ILogger logger, string errorType);

    [LoggerMessage(EventId = 1105, EventName = "RecoveryDeferred", Level = LogLevel.Warning, Message = "Recovery deferred intent {IntentId} to a later pass ({ErrorType})")]
    private static partial void LogDeferred(ILogger logger, string intentId, string errorType);
}
