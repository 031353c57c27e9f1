using Microsoft.Extensions.Logging;
using Tokenizer.Core.Audit;
using Tokenizer.Core.Domain;
using Tokenizer.Core.Errors;
using Tokenizer.Core.Ports;
using Tokenizer.Core.Validation;

namespace Tokenizer.Core.Privacy;

/// <summary>Tunables of the privacy operations.</summary>
public sealed class PrivacySettings
{
    /// <summary>
    /// Test hook (Development only, see Tokenizer:FailPoint): called with a <see cref="PrivacyFailPoints"/> name at that
    /// point of an erasure, e.g. to kill the process halfway.
    /// </summary>
    public Action<string>? FailPoint { get; set; }
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
}

/// <summary>CorrectSubjectData as the domain sees it.</summary>
public sealed record CorrectSubjectCommand(string? IdempotencyKey, string? CustomerReference, BillingDetails? BillingDetails);

/// <summary>EraseSubject as the domain sees it.</summary>
public sealed record EraseSubjectCommand(string? CustomerReference, string? IdempotencyKey, string? Reason);

/// <summary>One token of an export with the billing details and online mandate acceptance held for it (null when none are held).</summary>
public sealed record SubjectTokenData(TokenRecord Token, BillingDetails? BillingDetails, OnlineAcceptance? MandateAcceptance = null);

/// <summary>Everything Tokenizer holds about one subject. The same shape whether or not the subject is known.</summary>
public sealed record SubjectExport(
    string Subject,
    IReadOnlyList<SubjectTokenData> Tokens,
    IReadOnlyList<string> GatewayCustomerIds,
    IReadOnlyList<AuditRecord> AuditEvents,
    ErasureRecord? Erasure,
    DateTimeOffset ExportedAt);

/// <summary>How the correction of one token ended.</summary>
public enum CorrectionOutcome
{
    /// <summary>The gateway and the ledger hold the corrected details.</summary>
    Updated = 1,

    /// <summary>The gateway refused; nothing changed for this token.</summary>
    GatewayRefused = 2,

    /// <summary>The gateway could not be reached; nothing changed for this token; retry.</summary>
    GatewayUnavailable = 3,
}

/// <summary>The correction of one token.</summary>
public sealed record TokenCorrection(string Token, CorrectionOutcome Outcome, string? Reason);

/// <summary>The corrections of a subject's active tokens.</summary>
public sealed record SubjectCorrection(string Subject, IReadOnlyList<TokenCorrection> Results);

/// <summary>An erasure's state as callers see it: null <see cref="Erasure"/> means never requested.</summary>
public sealed record ErasureView(string Subject, ErasureRecord? Erasure);

/// <summary>
/// Data-subject requests for one <c>customer_reference</c>: access (<see cref="ExportAsync"/>), correction
/// (<see cref="CorrectAsync"/>) and erasure (<see cref="EraseAsync"/>). Throws <see cref="TokenizerException"/> only for
/// input and gateway problems; its messages name fields and rules, never values. A reference never seen answers the
/// same shape as one with nothing held.
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
/// already deleted Customer count as done.
/// </remarks>
public sealed partial class PrivacyService(
    ITokenLedger ledger,
    ITokenGateway gateway,
    IPrivacyStore store,
    ISubjectKeyStore keys,
    PersonalDataVault vault,
    SubjectPseudonyms pseudonyms,
    IAuditTrailReader auditReader,
    TimeProvider timeProvider,
    PrivacySettings settings,
    ILogger<PrivacyService> logger)
{
    /// <summary>The idempotency-ledger caller of privacy corrections (admin calls share one key space per subject).</summary>
    internal const string PrivacyCaller = "privacy";

    internal const string CorrectOperation = "correct_subject_data";

    // How long a correction's claim blocks a duplicate; the call cap (30 s) is far below it.
    internal static readonly TimeSpan CorrectionLease = TimeSpan.FromMinutes(2);

    /// <summary>The request field of the reference.</summary>
    public const string CustomerReferenceField = "customer_reference";

    private const int MaxReasonLength = 200;
    private const int PageSize = 100;
    private const int MaxListPages = 50;

    /// <summary>The pseudonym of a valid reference (for the audit record), or null for an invalid one.</summary>
    public string? TrySubjectOf(string? customerReference) =>
        InputRules.IsValidReference(customerReference) ? pseudonyms.Of(customerReference!) : null;

    /// <summary>Everything held about the subject.</summary>
    public async Task<SubjectExport> ExportAsync(string? customerReference, CancellationToken cancellationToken)
    {
        var violations = new List<FieldViolation>();
        RequireReference(customerReference, violations);
        ThrowIfAny(violations);
        var reference = customerReference!;
        var subject = pseudonyms.Of(reference);

        var tokens = await TokensOfAsync(reference, activeOnly: false, cancellationToken).ConfigureAwait(false);
        var held = await vault.ReadAsync(reference, cancellationToken).ConfigureAwait(false);
        var acceptances = await vault.ReadMandateAcceptancesAsync(reference, cancellationToken).ConfigureAwait(false);
        var customer = await ledger.FindCustomerAsync(gateway.Name, reference, cancellationToken).ConfigureAwait(false);
        var erasure = await store.FindErasureAsync(subject, cancellationToken).ConfigureAwait(false);

        var resources = new HashSet<string>(tokens.Select(t => t.Token), StringComparer.Ordinal) { subject };
        var events = new List<AuditRecord>();
        await foreach (var record in auditReader.ReadAsync(null, null, cancellationToken).ConfigureAwait(false))
        {
            if (record.Event.Resource is { } resource && resources.Contains(resource))
            {
                events.Add(record);
            }
        }

        return new SubjectExport(
            subject,
            [.. tokens.Select(t => new SubjectTokenData(
                t,
                held.TryGetValue(t.Token, out var billing) ? billing : null,
                acceptances.TryGetValue(t.Token, out var acceptance) ? acceptance : null))],
            customer is null ? [] : [customer],
            events,
            erasure,
            Now());
    }

    /// <summary>
    /// Applies the set fields of the corrected billing details to each active token of the subject: first at the gateway
    /// (Stripe POST /v1/payment_methods/{id}), then here; a token the gateway refuses keeps its details and gets its own
    /// result. Idempotent by key: the same key and values replay the first answer without applying anything again; the
    /// same key with other values is refused (ALREADY_EXISTS IDEMPOTENCY_KEY_REUSED). An answer with a token the gateway
    /// could not reach (GATEWAY_UNAVAILABLE) is not kept, so a retry with the same key tries again.
    /// </summary>
    public async Task<SubjectCorrection> CorrectAsync(CorrectSubjectCommand command, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        var violations = new List<FieldViolation>();
        InputRules.CheckIdempotencyKey(command.IdempotencyKey, "idempotency_key", violations);

        RequireReference(command.CustomerReference, violations);
        var patch = BillingDetailsValidation.Validate(command.BillingDetails, RequiredBillingFields.None, violations);
        if (PersonalDataVault.IsEmpty(patch) && !violations.Any(v => v.Field.StartsWith("billing_details", StringComparison.Ordinal)))
        {
            violations.Add(new("billing_details", "must set at least one field"));
        }

        ThrowIfAny(violations);
        var reference = command.CustomerReference!;
        var subject = pseudonyms.Of(reference);
        var canonical = System.Text.Json.JsonSerializer.Serialize(patch);

        // Claimed like a tokenisation: the same key and correction replays the first answer (nothing is applied again,
        // so an older correction replayed after a newer one changes nothing); the same key with other values is refused.
        var claimKey = pseudonyms.ClaimKey(subject, CorrectOperation, command.IdempotencyKey!);
        var claim = new IdempotencyClaim(PrivacyCaller, claimKey, CorrectOperation, pseudonyms.RequestMac(subject, canonical), timeProvider.GetUtcNow(), CorrectionLease);
        switch ((await ledger.BeginAsync(claim, cancellationToken).ConfigureAwait(false)) is var claimed ? claimed.State : default)
        {
            case IdempotencyState.Replay:
                return System.Text.Json.JsonSerializer.Deserialize<SubjectCorrection>(claimed.ResponseJson!)
                    ?? throw new InvalidOperationException("replay without response");
            case IdempotencyState.Conflict:
                throw new TokenizerException(ErrorKind.AlreadyExists, ErrorReasons.IdempotencyKeyReused, "idempotency_key: already used with a different request");
            case IdempotencyState.InFlight:
                throw new TokenizerException(ErrorKind.Aborted, ErrorReasons.IdempotencyKeyInFlight, "idempotency_key: a request with this key is still in progress; retry");
        }

        SubjectCorrection correction;
        try
        {
            correction = await ApplyCorrectionAsync(reference, subject, command.IdempotencyKey!, patch, canonical, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await ledger.ReleaseOwnedAsync(PrivacyCaller, claimKey, claim.Now, IntentState.Closed, CancellationToken.None).ConfigureAwait(false);
            throw;
        }

        if (correction.Results.Any(r => r.Outcome == CorrectionOutcome.GatewayUnavailable))
        {
            // Worth retrying with the same key: the tokens already updated are replayed by the gateway.
            await ledger.ReleaseOwnedAsync(PrivacyCaller, claimKey, claim.Now, IntentState.Closed, CancellationToken.None).ConfigureAwait(false);
        }
        else
        {
            await ledger.CompleteClaimAsync(PrivacyCaller, claimKey, System.Text.Json.JsonSerializer.Serialize(correction), CancellationToken.None).ConfigureAwait(false);
        }

        return correction;
    }

    private async Task<SubjectCorrection> ApplyCorrectionAsync(
        string reference,
        string subject,
        string idempotencyKey,
        BillingDetails patch,
        string canonical,
        CancellationToken cancellationToken)
    {
        var discriminator = $"{idempotencyKey}\0{canonical}";
        var held = await vault.ReadAsync(reference, cancellationToken).ConfigureAwait(false);
        var results = new List<TokenCorrection>();
        foreach (var token in await TokensOfAsync(reference, activeOnly: true, cancellationToken).ConfigureAwait(false))
        {
            try
            {
                await gateway.UpdateBillingDetailsAsync(
                    token.Token,
                    patch,
                    pseudonyms.GatewayKey(subject, token.Token, "correct", discriminator),
                    cancellationToken).ConfigureAwait(false);
            }
            catch (TokenizerException refused)
            {
                var outcome = refused.Kind is ErrorKind.Unavailable or ErrorKind.Aborted or ErrorKind.DeadlineExceeded
                    ? CorrectionOutcome.GatewayUnavailable
                    : CorrectionOutcome.GatewayRefused;
                LogCorrectionRefused(logger, token.Token, refused.Reason);
                results.Add(new TokenCorrection(token.Token, outcome, refused.Reason));
                continue;
            }

            var current = held.TryGetValue(token.Token, out var existing) ? existing : BillingDetails.Empty;
            await vault.SaveAsync(reference, token.Token, Merge(current, patch), cancellationToken).ConfigureAwait(false);
            results.Add(new TokenCorrection(token.Token, CorrectionOutcome.Updated, null));
        }

        return new SubjectCorrection(subject, results);
    }

    /// <summary>
    /// Erases the subject (see the class remarks). Idempotent: a completed erasure with nothing held since answers as it
    /// is; an interrupted one resumes where it stopped; new data held after a completed erasure starts a new one.
    /// </summary>
    public async Task<ErasureView> EraseAsync(EraseSubjectCommand command, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        var violations = new List<FieldViolation>();
        RequireReference(command.CustomerReference, violations);
        InputRules.CheckIdempotencyKey(command.IdempotencyKey, "idempotency_key", violations);

        FreeTextRule.Check(command.Reason, "reason", MaxReasonLength, violations);

        ThrowIfAny(violations);
        var reference = command.CustomerReference!;
        var subject = pseudonyms.Of(reference);
        var customer = await ledger.FindCustomerAsync(gateway.Name, reference, cancellationToken).ConfigureAwait(false);
        var erasure = await store.FindErasureAsync(subject, cancellationToken).ConfigureAwait(false);
        var erasedReference = SubjectPseudonyms.ErasedReference(subject);
        if (erasure is { Step: ErasureStep.Completed })
        {
            // A setup still pending on an erased token (left by an erasure that did not cancel setups) could yet attach
            // its PaymentMethod: that is something held again, so the erasure runs again and settles it.
            var heldAgain = customer is not null
                || await keys.FindAsync(subject, cancellationToken).ConfigureAwait(false) is not null
                || (await TokensOfAsync(reference, activeOnly: false, cancellationToken).ConfigureAwait(false)).Count > 0
                || (await TokensOfAsync(erasedReference, activeOnly: false, cancellationToken).ConfigureAwait(false)).Any(t => t.Setup.IsPending);
            if (!heldAgain)
            {
                return new ErasureView(subject, erasure);
            }

            erasure = null;
        }

        var now = Now();
        erasure ??= new ErasureRecord(subject, ErasureStep.Detaching, now, now, null, 0);
        await store.SaveErasureAsync(erasure, cancellationToken).ConfigureAwait(false);

        if (erasure.Step == ErasureStep.Detaching)
        {
            var detached = erasure.PaymentMethodsDetached;
            var stillProcessing = 0;
            foreach (var token in await OpenTokensAsync(reference, erasedReference, cancellationToken).ConfigureAwait(false))
            {
                var outcome = await EraseTokenAsync(subject, token, cancellationToken).ConfigureAwait(false);
                await store.MarkTokenRevokedAsync(token.Token, Now(), cancellationToken).ConfigureAwait(false);
                if (outcome == TokenErasure.SetupProcessing)
                {
                    stillProcessing++;
                }

                // Only a PaymentMethod that was attached counts as detached; one whose setup was cancelled never was.
                erasure = erasure with { PaymentMethodsDetached = outcome == TokenErasure.Detached ? ++detached : detached, UpdatedAt = Now() };
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
                    var page = await gateway.ListCustomerPaymentMethodsAsync(customer, cursor, PageSize, cancellationToken).ConfigureAwait(false);
                    foreach (var paymentMethod in page.PaymentMethods)
                    {
                        await ClearAndDetachAsync(subject, paymentMethod.Id, cancellationToken).ConfigureAwait(false);
                        await store.MarkTokenRevokedAsync(paymentMethod.Id, Now(), cancellationToken).ConfigureAwait(false);
                        erasure = erasure with { PaymentMethodsDetached = ++detached, UpdatedAt = Now() };
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
                return new ErasureView(subject, erasure);
            }

            erasure = erasure with { Step = ErasureStep.DeletingCustomer, UpdatedAt = Now() };
            await store.SaveErasureAsync(erasure, cancellationToken).ConfigureAwait(false);
        }

        if (erasure.Step == ErasureStep.DeletingCustomer)
        {
            if (customer is not null)
            {
                await gateway.DeleteCustomerAsync(customer, cancellationToken).ConfigureAwait(false);
            }

            erasure = erasure with { Step = ErasureStep.DestroyingKey, UpdatedAt = Now() };
            await store.SaveErasureAsync(erasure, cancellationToken).ConfigureAwait(false);
        }

        if (erasure.Step == ErasureStep.DestroyingKey)
        {
            // The key first: from here on every copy of the ciphertexts is noise, whatever happens to the rest.
            await keys.DestroyAsync(subject, cancellationToken).ConfigureAwait(false);
            await store.DestroySubjectAsync(subject, gateway.Name, reference, SubjectPseudonyms.ErasedReference(subject), cancellationToken)
                .ConfigureAwait(false);
            var done = Now();
            erasure = erasure with { Step = ErasureStep.Completed, UpdatedAt = done, CompletedAt = done };
            await store.SaveErasureAsync(erasure, cancellationToken).ConfigureAwait(false);
            LogErased(logger, subject, erasure.PaymentMethodsDetached);
        }

        return new ErasureView(subject, erasure);
    }

    /// <summary>Where the subject's erasure stands (null erasure: never requested).</summary>
    public async Task<ErasureView> GetErasureStatusAsync(string? customerReference, CancellationToken cancellationToken)
    {
        var violations = new List<FieldViolation>();
        RequireReference(customerReference, violations);
        ThrowIfAny(violations);
        var subject = pseudonyms.Of(customerReference!);
        return new ErasureView(subject, await store.FindErasureAsync(subject, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>The set fields of <paramref name="patch"/> over <paramref name="current"/>, address fields one by one.</summary>
    public static BillingDetails Merge(BillingDetails current, BillingDetails patch)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(patch);
        var a = current.Address;
        var p = patch.Address;
        var address = p is null
            ? a
            : new Address(
                p.Line1 ?? a?.Line1,
                p.Line2 ?? a?.Line2,
                p.City ?? a?.City,
                p.State ?? a?.State,
                p.PostalCode ?? a?.PostalCode,
                p.Country ?? a?.Country);
        return new BillingDetails(patch.Name ?? current.Name, patch.Email ?? current.Email, patch.Phone ?? current.Phone, address);
    }

    /// <summary>
    /// The tokens an erasure still has to settle: the subject's active tokens and any of its tokens (under the reference,
    /// or already under <paramref name="erasedReference"/>) whose setup is still pending at the gateway.
    /// </summary>
    private async Task<List<TokenRecord>> OpenTokensAsync(string reference, string erasedReference, CancellationToken cancellationToken)
    {
        var open = (await TokensOfAsync(reference, activeOnly: false, cancellationToken).ConfigureAwait(false))
            .Where(t => t.Status == TokenStatus.Active || t.Setup.IsPending)
            .ToList();
        open.AddRange((await TokensOfAsync(erasedReference, activeOnly: false, cancellationToken).ConfigureAwait(false)).Where(t => t.Setup.IsPending));
        return open;
    }

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
            await ledger.MarkRevokeRequestedAsync(token.Token, Now(), cancellationToken).ConfigureAwait(false);
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

        await ClearAndDetachAsync(subject, token.Token, cancellationToken).ConfigureAwait(false);
        return TokenErasure.Detached;
    }

    /// <summary>
    /// Clears the PaymentMethod's billing details at the gateway (Stripe keeps a detached PaymentMethod, and can only
    /// update an attached one), then detaches it. A refusal to clear is logged and the detach still runs.
    /// </summary>
    private async Task ClearAndDetachAsync(string subject, string paymentMethodId, CancellationToken cancellationToken)
    {
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
        }

        await gateway.DetachAsync(paymentMethodId, pseudonyms.GatewayKey(subject, paymentMethodId, "erase_detach"), cancellationToken)
            .ConfigureAwait(false);
    }

    /// <summary>Empty strings: the gateway unsets each field (Stripe: an empty value unsets).</summary>
    private static BillingDetails ClearedBillingDetails { get; } =
        new(string.Empty, string.Empty, string.Empty, new Address(string.Empty, string.Empty, string.Empty, string.Empty, string.Empty, string.Empty));

    private async Task<List<TokenRecord>> TokensOfAsync(string reference, bool activeOnly, CancellationToken cancellationToken)
    {
        var tokens = new List<TokenRecord>();
        string? pageToken = null;
        do
        {
            var page = await ledger.ListTokensAsync(
                new TokenQuery(reference, activeOnly ? TokenStatus.Active : null, null, null, PageSize, pageToken),
                cancellationToken).ConfigureAwait(false);
            tokens.AddRange(page.Tokens);
            pageToken = page.NextPageToken;
        }
        while (pageToken is not null);
        return tokens;
    }

    private static void RequireReference(string? reference, List<FieldViolation> violations)
    {
        InputRules.CheckReference(reference, CustomerReferenceField, violations);
    }

    private static void ThrowIfAny(List<FieldViolation> violations)
    {
        if (violations.Count > 0)
        {
            throw TokenizerException.Invalid(violations);
        }
    }

    /// <summary>UTC now at microsecond precision, what the ledgers store, so an answer equals a later read.</summary>
    private DateTimeOffset Now()
    {
        var now = timeProvider.GetUtcNow();
        return new(now.UtcTicks - (now.UtcTicks % 10), TimeSpan.Zero);
    }

    [LoggerMessage(EventId = 1601, EventName = "PrivacyCorrectionRefused", Level = LogLevel.Warning, Message = "Correction of {Token} refused by the gateway ({Reason})")]
    private static partial void LogCorrectionRefused(ILogger logger, string token, string reason);

    [LoggerMessage(EventId = 1602, EventName = "PrivacyClearRefused", Level = LogLevel.Warning, Message = "Clearing the billing details of {Token} before erasure was refused by the gateway ({Reason}); detaching it anyway")]
    private static partial void LogClearRefused(ILogger logger, string token, string reason);

    [LoggerMessage(EventId = 1604, EventName = "PrivacyErasureWaitsForSetups", Level = LogLevel.Warning, Message = "Erasure of {Subject} is not complete: {Processing} SetupIntents are processing at the gateway and cannot be cancelled; run the erasure again once they have settled")]
    private static partial void LogErasureWaitsForSetups(ILogger logger, string subject, int processing);

    [LoggerMessage(EventId = 1603, EventName = "PrivacySubjectErased", Level = LogLevel.Information, Message = "Subject {Subject} erased; {Detached} PaymentMethods detached")]
    private static partial void LogErased(ILogger logger, string subject, int detached);
}
