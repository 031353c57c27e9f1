using Microsoft.Extensions.Logging;
using Tokenizer.Core.Domain;
using Tokenizer.Core.Errors;
using Tokenizer.Core.Idempotency;
using Tokenizer.Core.Ports;
using Tokenizer.Core.Validation;

namespace Tokenizer.Core.Privacy;

/// <summary>Tunables of the erasure.</summary>
public sealed class PrivacySettings
{
    /// <summary>
    /// Test hook (Development only, see Tokenizer:FailPoint): called with a <see cref="PrivacyFailPoints"/> name at that
    /// point of an erasure, e.g. to kill the process halfway.
    /// </summary>
    public Action<string>? FailPoint { get; set; }

    /// <summary>
    /// How long an erasure waits for tokenisations of the subject already in flight when it fences the reference; past
    /// it the erasure stays DETACHING (the next EraseSubject resumes it). A tokenisation cut off by a crash stays in flight
    /// until the recovery worker settles it.
    /// </summary>
    public TimeSpan InFlightWait { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often a waiting erasure looks again.</summary>
    public TimeSpan InFlightPollInterval { get; set; } = TimeSpan.FromMilliseconds(100);
}

/// <summary>Named points of an erasure where crash tests stop the process.</summary>
public static class PrivacyFailPoints
{
    /// <summary>The first PaymentMethod of the subject is detached and its token revoked; the others are not yet.</summary>
    public const string ErasureAfterFirstDetach = "erasure-after-first-detach";
}

/// <summary>How an erasure left one token's PaymentMethod.</summary>
internal enum TokenErasure
{
    /// <summary>It was attached; its billing details were cleared and it was detached.</summary>
    Detached = 1,

    /// <summary>Never attached: its setup was cancelled (or had failed), so nothing can attach it.</summary>
    NeverAttached = 2,

    /// <summary>Its setup is processing at the gateway and cannot be cancelled; it settles later.</summary>
    SetupProcessing = 3,

    /// <summary>
    /// Detached, but the gateway refused to clear its billing details (it was detached behind our back before: Stripe
    /// updates attached PaymentMethods only), so the gateway still holds them.
    /// </summary>
    NotCleared = 4,
}

/// <summary>EraseSubject as the domain sees it.</summary>
public sealed record EraseSubjectCommand(string? CustomerReference, string? IdempotencyKey, string? Reason);

/// <summary>An erasure's state as callers see it: null <see cref="Erasure"/> means never requested.</summary>
/// <param name="Subject">The subject's pseudonym.</param>
/// <param name="Erasure">The subject's last erasure, or null.</param>
/// <param name="UsedAgainAt">
/// Set when that erasure completed and the reference was used again since (a tokenisation for it): when. The erasure
/// covered what was held before; what the reference holds now is not erased (another EraseSubject erases it).
/// </param>
public sealed record ErasureView(string Subject, ErasureRecord? Erasure, DateTimeOffset? UsedAgainAt = null);

/// <summary>
/// The data-subject erasure request (EraseSubject, GetErasureStatus) for one <c>customer_reference</c>. Throws
/// <see cref="TokenizerException"/> only for input and gateway problems; its messages name fields and rules, never
/// values. A reference never seen answers the same shape as one with nothing held.
/// </summary>
/// <remarks>
/// Erasure is a sequence of idempotent steps whose progress is stored after each one (<see cref="ErasureStep"/>):
/// cancel every setup that has not succeeded (as RevokeToken does; one Stripe cannot cancel, processing, holds the
/// erasure in <see cref="ErasureStep.Detaching"/> until a later call finds it settled), clear the billing details at the
/// gateway and detach each attached PaymentMethod (the ledger's tokens, then whatever else the
/// Customer still has attached), revoking the tokens here; delete the gateway Customer; then, in one transaction,
/// destroy the data key and the encrypted records, forget the Customer and replace the reference on tokens and intents
/// with <see cref="SubjectPseudonyms.ErasedReference"/>. Every gateway call carries an Idempotency-Key derived from the
/// subject and item, so a call after a crash replays rather than repeats; an already detached PaymentMethod and an
/// already deleted Customer count as done. A resume runs the detaching step again, whatever step it stopped at, over
/// what the reference maps to now: a token issued for the reference in between is detached and revoked like the others,
/// and the last step never renames an active token (it goes back to detaching instead).
/// </remarks>
public sealed partial class PrivacyErasure(
    ICustomerRepository customerRepository,
    ITokenRepository tokenRepository,
    ITokenGateway gateway,
    IPrivacyStore store,
    ISubjectKeyStore keys,
    SubjectPseudonyms pseudonyms,
    TimeProvider timeProvider,
    PrivacySettings settings,
    ILogger<PrivacyErasure> logger,
    IClaimStore claimStore,
    Tokenization.TokenizationSettings tokenization)
{
    /// <summary>The operation of an erasure's idempotency claim (<c>idempotency_records.operation</c>).</summary>
    public const string EraseOperation = "erase_subject";

    private const int MaxReasonLength = 200;
    private const int MaxListPages = 50;

    /// <summary>How often one call goes back to detaching when a token was issued for the reference meanwhile.</summary>
    private const int MaxRounds = 2;

    /// <summary>
    /// Erases the subject (see the class remarks). Idempotent: a completed erasure with nothing held since answers as it
    /// is; an interrupted one resumes where it stopped; new data held after a completed erasure starts a new one.
    /// One call per person runs at a time, under an idempotency claim on the subject's pseudonym (caller
    /// <c>privacy</c>, the keyed idempotency key): the same key while it runs waits for it
    /// (Tokenizer:DuplicateWaitSeconds) and answers its answer, or ABORTED <see cref="ErrorReasons.IdempotencyKeyInFlight"/>;
    /// another key while it runs is ABORTED <see cref="ErrorReasons.ErasureRunning"/>; the same key with another reason
    /// is ALREADY_EXISTS <see cref="ErrorReasons.IdempotencyKeyReused"/>. A completed erasure's answer is kept, so a retry
    /// with its key replays it (until a later erasure of the reference forgets the person's claims); an unfinished one
    /// (DETACHING) or a failed one keeps nothing, so the next call, under any key, resumes it.
    /// </summary>
    /// <exception cref="TokenizerException">INVALID_ARGUMENT naming each field and rule; ABORTED or ALREADY_EXISTS for the claim as above; a gateway error (the erasure resumes from its stored step on the next call).</exception>
    public async Task<ErasureView> EraseAsync(EraseSubjectCommand command, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        var violations = new List<FieldViolation>();
        PrivacyRequest.CheckReference(command.CustomerReference, violations);
        InputRules.CheckIdempotencyKey(command.IdempotencyKey, "idempotency_key", violations);

        var reason = FreeTextRule.Check(command.Reason, "reason", MaxReasonLength, violations);

        PrivacyRequest.ThrowIfAny(violations);
        var reference = command.CustomerReference!;
        var subject = pseudonyms.Of(reference);

        // Not fenced by the reference (the erasure sets that fence itself); the erasure's own claim is not counted among
        // what it waits for (IPrivacyStore.FenceReferenceAsync), and its destroy step forgets only finished claims, so
        // this pending one survives it and keeps its answer.
        var claim = new IdempotencyClaim(
            PrivacyCorrection.PrivacyCaller,
            pseudonyms.ClaimKey(subject, EraseOperation, command.IdempotencyKey!),
            EraseOperation,
            pseudonyms.RequestMac(subject, reason ?? string.Empty),
            timeProvider.GetUtcNow(),
            tokenization.PendingLease,
            Resource: subject,
            OnePerResource: true);
        var runner = new IdempotencyRunner(claimStore, timeProvider, tokenization.DuplicateWait, tokenization.DuplicatePollInterval);
        var result = await runner.RunAsync(claim, Erasure, (_, ct) => EraseClaimedAsync(reference, subject, ct), cancellationToken)
            .ConfigureAwait(false);
        return result.Answer;
    }

    /// <summary>An erasure's claim: the answer of a completed erasure is kept for replays; an unfinished one is not.</summary>
    private static readonly IdempotentOperation<ErasureView> Erasure = IdempotentOperation.JsonAnswer<ErasureView>() with
    {
        Keep = view => view.Erasure is { Step: ErasureStep.Completed },
        ResourceBusy = TokenizerErrors.ErasureRunning,
    };

    private async Task<ErasureView> EraseClaimedAsync(string reference, string subject, CancellationToken cancellationToken)
    {
        var customer = await customerRepository.FindCustomerAsync(gateway.Name, reference, cancellationToken).ConfigureAwait(false);
        var erasure = await store.FindErasureAsync(subject, cancellationToken).ConfigureAwait(false);
        DateTimeOffset? holdingSince = erasure?.HoldingSince;
        if (erasure is { Step: ErasureStep.Completed })
        {
            if (!await HeldAgainAsync(reference, subject, customer, cancellationToken).ConfigureAwait(false))
            {
                return new ErasureView(subject, erasure);
            }

            // A new erasure, of what the reference holds since the last one: its record says from when, so the export
            // of this holding never serves the erased person's records (an erased token still active, from a build
            // before the last step's check, is the same holding).
            holdingSince = await PrivacyRequest.UsedAgainSinceAsync(store, reference, erasure, cancellationToken).ConfigureAwait(false)
                ?? holdingSince;
            erasure = null;
        }

        var now = Now();
        erasure ??= new ErasureRecord(subject, ErasureStep.Detaching, now, now, null, 0, HoldingSince: holdingSince);
        await store.SaveErasureAsync(erasure, cancellationToken).ConfigureAwait(false);

        // Before any gateway call: from here on no tokenisation for the reference starts, and those that started before
        // have finished (their tokens are then detached below) or the erasure stays DETACHING. Without the fence a setup
        // could attach to the Customer while its delete is in flight, and the delete would detach it uncleared.
        if (!await FenceAsync(reference, subject, cancellationToken).ConfigureAwait(false))
        {
            return new ErasureView(subject, erasure);
        }

        for (var round = 1; ; round++)
        {
            // Every run (a resume at DeletingCustomer or DestroyingKey too) detaches again, over what the reference maps
            // to now: a token issued for the reference since an earlier run stopped past this step is then cleared,
            // detached and revoked like the others. Idempotent: revoked tokens are no longer open, and the gateway calls
            // carry the same keys.
            (erasure, var settled) = await DetachAllAsync(erasure, reference, customer, cancellationToken).ConfigureAwait(false);
            if (!settled)
            {
                return new ErasureView(subject, erasure);
            }

            erasure = await DeleteCustomerAsync(erasure, customer, cancellationToken).ConfigureAwait(false);
            erasure = await DestroyAsync(erasure, reference, cancellationToken).ConfigureAwait(false);
            if (erasure.Step == ErasureStep.Completed || round == MaxRounds)
            {
                // Still DETACHING after the last round: tokenisations keep arriving; the erasure says it is not complete
                // and the next call resumes it.
                return new ErasureView(subject, erasure);
            }

            customer = await customerRepository.FindCustomerAsync(gateway.Name, reference, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Where the subject's erasure stands (null erasure: never requested), and whether the reference was used again
    /// after it completed.
    /// </summary>
    /// <exception cref="TokenizerException">INVALID_ARGUMENT: the reference is missing or malformed.</exception>
    public async Task<ErasureView> GetErasureStatusAsync(string? customerReference, CancellationToken cancellationToken)
    {
        var violations = new List<FieldViolation>();
        PrivacyRequest.CheckReference(customerReference, violations);
        PrivacyRequest.ThrowIfAny(violations);
        var subject = pseudonyms.Of(customerReference!);
        var erasure = await store.FindErasureAsync(subject, cancellationToken).ConfigureAwait(false);
        return new ErasureView(
            subject,
            erasure,
            await PrivacyRequest.UsedAgainSinceAsync(store, customerReference!, erasure, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>
    /// Fences the reference (<see cref="IPrivacyStore.FenceReferenceAsync"/>) and waits up to
    /// <see cref="PrivacySettings.InFlightWait"/> for the tokenisations already in flight under it. False when some are
    /// still in flight: the erasure stays where it is.
    /// </summary>
    private async Task<bool> FenceAsync(string reference, string subject, CancellationToken cancellationToken)
    {
        var deadline = timeProvider.GetUtcNow() + settings.InFlightWait;
        while (true)
        {
            var now = Now();
            var inFlight = await store.FenceReferenceAsync(reference, subject, now, now - PrivacyCorrection.CorrectionLease, cancellationToken)
                .ConfigureAwait(false);
            if (inFlight == 0)
            {
                return true;
            }

            if (timeProvider.GetUtcNow() >= deadline)
            {
                LogErasureWaitsForTokenisations(logger, subject, inFlight);
                return false;
            }

            await Task.Delay(settings.InFlightPollInterval, timeProvider, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Whether something is held again after a completed erasure: a Customer, a data key, a token under the reference,
    /// or an erased token (under the erased reference) still active or whose setup is still pending (left by an older
    /// erasure that did not detach or cancel it: it is chargeable or could yet attach its PaymentMethod), so the erasure
    /// runs again and settles it.
    /// </summary>
    private async Task<bool> HeldAgainAsync(string reference, string subject, string? customer, CancellationToken cancellationToken) =>
        customer is not null
        || await keys.FindAsync(subject, cancellationToken).ConfigureAwait(false) is not null
        || (await PrivacyRequest.TokensOfAsync(tokenRepository, reference, activeOnly: false, cancellationToken).ConfigureAwait(false)).Count > 0
        || (await PrivacyRequest.TokensOfAsync(tokenRepository, SubjectPseudonyms.ErasedReference(subject), activeOnly: false, cancellationToken).ConfigureAwait(false)).Any(IsOpen);

    /// <summary>
    /// Step <see cref="ErasureStep.Detaching"/>: settles each open token (<see cref="EraseTokenAsync"/>), revoking it
    /// here and storing the count after each, then detaches whatever else the Customer still has attached. Moves on to
    /// <see cref="ErasureStep.DeletingCustomer"/> (stored) unless a setup is still processing at the gateway.
    /// </summary>
    /// <returns>The erasure's progress, and whether this step is done (false: a setup is processing; the erasure waits in this step).</returns>
    private async Task<(ErasureRecord Erasure, bool Settled)> DetachAllAsync(ErasureRecord erasure, string reference, string? customer, CancellationToken cancellationToken)
    {
        var subject = erasure.Subject;
        var detached = erasure.PaymentMethodsDetached;
        var notCleared = erasure.PaymentMethodsNotCleared;
        var stillProcessing = 0;
        foreach (var token in await OpenTokensAsync(reference, SubjectPseudonyms.ErasedReference(subject), cancellationToken).ConfigureAwait(false))
        {
            var outcome = await EraseTokenAsync(subject, token, cancellationToken).ConfigureAwait(false);
            await store.MarkTokenRevokedAsync(token.Token, Now(), cancellationToken).ConfigureAwait(false);
            if (outcome == TokenErasure.SetupProcessing)
            {
                stillProcessing++;
            }

            // Only a PaymentMethod that was attached and cleared counts as detached; one whose setup was cancelled never
            // was attached, and one the gateway would not clear is counted apart (the gateway keeps its details).
            erasure = erasure with
            {
                PaymentMethodsDetached = outcome == TokenErasure.Detached ? ++detached : detached,
                PaymentMethodsNotCleared = outcome == TokenErasure.NotCleared ? ++notCleared : notCleared,
                UpdatedAt = Now(),
            };
            await store.SaveErasureAsync(erasure, cancellationToken).ConfigureAwait(false);
            settings.FailPoint?.Invoke(PrivacyFailPoints.ErasureAfterFirstDetach);
        }

        if (customer is not null)
        {
            // Whatever else the Customer still has attached (a token recovered or swept, a PaymentMethod we never
            // recorded). Detaching shifts the list under a cursor, so after a page with detaches the walk starts again
            // from the top; it ends at an empty last page, or after a bounded number of pages (deleting the Customer
            // next detaches what is left).
            string? cursor = null;
            for (var pages = 0; pages < MaxListPages; pages++)
            {
                var page = await gateway.ListCustomerPaymentMethodsAsync(customer, cursor, PrivacyRequest.PageSize, cancellationToken).ConfigureAwait(false);
                foreach (var paymentMethod in page.PaymentMethods)
                {
                    var cleared = await ClearAndDetachAsync(subject, paymentMethod.Id, cancellationToken).ConfigureAwait(false);
                    await store.MarkTokenRevokedAsync(paymentMethod.Id, Now(), cancellationToken).ConfigureAwait(false);
                    erasure = cleared
                        ? erasure with { PaymentMethodsDetached = ++detached, UpdatedAt = Now() }
                        : erasure with { PaymentMethodsNotCleared = ++notCleared, UpdatedAt = Now() };
                }

                if (page.PaymentMethods.Count > 0)
                {
                    cursor = null;
                    continue;
                }

                if (page.NextStartingAfter is null)
                {
                    break;
                }

                cursor = page.NextStartingAfter;
            }
        }

        if (stillProcessing > 0)
        {
            // Stripe cannot cancel a processing SetupIntent; it settles later (attached to the Customer, or failed).
            // The Customer stays, so a success attaches there where the next run finds and detaches it; until then
            // the erasure is not complete and says so (DETACHING), and the next EraseSubject resumes it here.
            LogErasureWaitsForSetups(logger, subject, stillProcessing);
            return (erasure, false);
        }

        erasure = erasure with { Step = ErasureStep.DeletingCustomer, UpdatedAt = Now() };
        await store.SaveErasureAsync(erasure, cancellationToken).ConfigureAwait(false);
        return (erasure, true);
    }

    /// <summary>Step <see cref="ErasureStep.DeletingCustomer"/>: deletes the gateway Customer, if any; then on to <see cref="ErasureStep.DestroyingKey"/> (stored).</summary>
    private async Task<ErasureRecord> DeleteCustomerAsync(ErasureRecord erasure, string? customer, CancellationToken cancellationToken)
    {
        if (customer is not null)
        {
            await gateway.DeleteCustomerAsync(customer, cancellationToken).ConfigureAwait(false);
        }

        erasure = erasure with { Step = ErasureStep.DestroyingKey, UpdatedAt = Now() };
        await store.SaveErasureAsync(erasure, cancellationToken).ConfigureAwait(false);
        return erasure;
    }

    /// <summary>
    /// Step <see cref="ErasureStep.DestroyingKey"/>: destroys the data key, then the encrypted records, the Customer's
    /// record and the reference (<see cref="IPrivacyStore.DestroySubjectAsync"/>); then <see cref="ErasureStep.Completed"/> (stored).
    /// Never renames an active token: when one is under the reference (issued since the detaching step), the erasure goes
    /// back to <see cref="ErasureStep.Detaching"/> (stored) instead.
    /// </summary>
    private async Task<ErasureRecord> DestroyAsync(ErasureRecord erasure, string reference, CancellationToken cancellationToken)
    {
        var subject = erasure.Subject;
        if ((await PrivacyRequest.TokensOfAsync(tokenRepository, reference, activeOnly: true, cancellationToken).ConfigureAwait(false)).Any(t => t.Status == TokenStatus.Active))
        {
            return await BackToDetachingAsync(erasure, cancellationToken).ConfigureAwait(false);
        }

        // The key first: from here on every copy of the ciphertexts is noise, whatever happens to the rest.
        await keys.DestroyAsync(subject, cancellationToken).ConfigureAwait(false);

        // The store checks again inside its transaction: a tokenisation committed since the check above leaves
        // everything as it is (its data, under a key it creates anew, is destroyed by the next round).
        if (!await store.DestroySubjectAsync(subject, gateway.Name, reference, SubjectPseudonyms.ErasedReference(subject), cancellationToken)
            .ConfigureAwait(false))
        {
            return await BackToDetachingAsync(erasure, cancellationToken).ConfigureAwait(false);
        }

        var done = Now();
        erasure = erasure with { Step = ErasureStep.Completed, UpdatedAt = done, CompletedAt = done };
        await store.SaveErasureAsync(erasure, cancellationToken).ConfigureAwait(false);
        LogErased(logger, subject, erasure.PaymentMethodsDetached);
        return erasure;
    }

    private async Task<ErasureRecord> BackToDetachingAsync(ErasureRecord erasure, CancellationToken cancellationToken)
    {
        LogTokenisedDuringErasure(logger, erasure.Subject);
        erasure = erasure with { Step = ErasureStep.Detaching, UpdatedAt = Now() };
        await store.SaveErasureAsync(erasure, cancellationToken).ConfigureAwait(false);
        return erasure;
    }

    /// <summary>
    /// The tokens an erasure still has to settle: the subject's tokens (under the reference, or already under
    /// <paramref name="erasedReference"/>, whatever their gateway Customer) that are active or whose setup is still
    /// pending at the gateway.
    /// </summary>
    private async Task<List<TokenRecord>> OpenTokensAsync(string reference, string erasedReference, CancellationToken cancellationToken)
    {
        var open = (await PrivacyRequest.TokensOfAsync(tokenRepository, reference, activeOnly: false, cancellationToken).ConfigureAwait(false))
            .Where(IsOpen)
            .ToList();
        open.AddRange((await PrivacyRequest.TokensOfAsync(tokenRepository, erasedReference, activeOnly: false, cancellationToken).ConfigureAwait(false)).Where(IsOpen));
        return open;
    }

    /// <summary>Whether an erasure still has to settle the token: active (chargeable), or its setup pending at the gateway.</summary>
    private static bool IsOpen(TokenRecord token) => token.Status == TokenStatus.Active || token.Setup.IsPending;

    /// <summary>
    /// Leaves nothing of one token attachable: a setup that has not succeeded is cancelled first, as RevokeToken does
    /// (<see cref="Tokenization.PendingSetup.CancelAsync"/>, its outcome stored on the token), so completing 3-D Secure or
    /// verifying microdeposits afterwards attaches nothing; then an attached PaymentMethod is cleared and detached.
    /// </summary>
    private async Task<TokenErasure> EraseTokenAsync(string subject, TokenRecord token, CancellationToken cancellationToken)
    {
        var setup = token.Setup;
        if (setup.SetupIntentId is not null && setup.Status != SetupStatus.Ready && setup.FailureCode != "canceled")
        {
            // Marked first, as RevokeToken does: the setup_intent.canceled this cancel causes is then the erasure's own
            // (no setup_failed; the token's revoked is its last event), even when processed before the token is revoked.
            await tokenRepository.MarkRevokeRequestedAsync(token.Token, Now(), cancellationToken).ConfigureAwait(false);
            setup = await Tokenization.PendingSetup.CancelAsync(
                gateway, setup, pseudonyms.GatewayKey(subject, token.Token, "erase_seti_cancel"), cancellationToken).ConfigureAwait(false);
            if (setup != token.Setup)
            {
                await store.SettleSetupAsync(token with { Setup = setup }, cancellationToken).ConfigureAwait(false);
            }

            if (setup.IsPending)
            {
                return TokenErasure.SetupProcessing;
            }

            if (setup.Status != SetupStatus.Ready)
            {
                // Never attached (Stripe updates attached PaymentMethods only, so its billing details cannot be cleared):
                // the detach is a safety net that finds nothing attached.
                await gateway.DetachAsync(token.Token, pseudonyms.GatewayKey(subject, token.Token, "erase_detach"), cancellationToken)
                    .ConfigureAwait(false);
                return TokenErasure.NeverAttached;
            }
        }

        return await ClearAndDetachAsync(subject, token.Token, cancellationToken).ConfigureAwait(false)
            ? TokenErasure.Detached
            : TokenErasure.NotCleared;
    }

    /// <summary>
    /// Clears the PaymentMethod's billing details at the gateway (Stripe keeps a detached PaymentMethod, and can only
    /// update an attached one), then detaches it. A refusal to clear is logged and the detach still runs.
    /// </summary>
    /// <returns>Whether the billing details were cleared (false: the gateway refused, and still holds them).</returns>
    private async Task<bool> ClearAndDetachAsync(string subject, string paymentMethodId, CancellationToken cancellationToken)
    {
        var cleared = true;
        try
        {
            await gateway.UpdateBillingDetailsAsync(
                paymentMethodId,
                ClearedBillingDetails,
                pseudonyms.GatewayKey(subject, paymentMethodId, "erase_clear"),
                cancellationToken).ConfigureAwait(false);
        }
        catch (TokenizerException refused) when (refused.Kind is not (ErrorKind.Unavailable or ErrorKind.Aborted or ErrorKind.DeadlineExceeded))
        {
            LogClearRefused(logger, paymentMethodId, refused.Reason);
            cleared = false;
        }

        await gateway.DetachAsync(paymentMethodId, pseudonyms.GatewayKey(subject, paymentMethodId, "erase_detach"), cancellationToken)
            .ConfigureAwait(false);
        return cleared;
    }

    /// <summary>Empty strings: the gateway unsets each field (Stripe: an empty value unsets).</summary>
    private static BillingDetails ClearedBillingDetails { get; } =
        new(string.Empty, string.Empty, string.Empty, new Address(string.Empty, string.Empty, string.Empty, string.Empty, string.Empty, string.Empty));

    private DateTimeOffset Now() => PrivacyRequest.Now(timeProvider);

    [LoggerMessage(EventId = 1602, EventName = "PrivacyClearRefused", Level = LogLevel.Warning, Message = "Clearing the billing details of {Token} before erasure was refused by the gateway ({Reason}); detaching it anyway. The gateway still holds its billing details: ask the gateway to erase them (counted as not cleared)")]
    private static partial void LogClearRefused(ILogger logger, string token, string reason);

    [LoggerMessage(EventId = 1604, EventName = "PrivacyErasureWaitsForSetups", Level = LogLevel.Warning, Message = "Erasure of {Subject} is not complete: {Processing} SetupIntents are processing at the gateway and cannot be cancelled; run the erasure again once they have settled")]
    private static partial void LogErasureWaitsForSetups(ILogger logger, string subject, int processing);

    [LoggerMessage(EventId = 1606, EventName = "PrivacyErasureWaitsForTokenisations", Level = LogLevel.Warning, Message = "Erasure of {Subject} is not complete: {InFlight} tokenisations or corrections for the person started before it and are still in flight (a tokenisation cut off by a crash is settled by the recovery worker; a correction cut off stops counting when its lease ends, 2 minutes); run the erasure again once they have finished")]
    private static partial void LogErasureWaitsForTokenisations(ILogger logger, string subject, int inFlight);

    [LoggerMessage(EventId = 1605, EventName = "PrivacyTokenisedDuringErasure", Level = LogLevel.Warning, Message = "Erasure of {Subject} found an active token issued for the reference since it detached; detaching again before it completes")]
    private static partial void LogTokenisedDuringErasure(ILogger logger, string subject);

    [LoggerMessage(EventId = 1603, EventName = "PrivacySubjectErased", Level = LogLevel.Information, Message = "Subject {Subject} erased; {Detached} PaymentMethods detached")]
    private static partial void LogErased(ILogger logger, string subject, int detached);
}
