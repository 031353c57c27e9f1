using Microsoft.Extensions.Logging;
using Tokenizer.Core.Domain;
using Tokenizer.Core.Errors;
using Tokenizer.Core.Idempotency;
using Tokenizer.Core.Ports;
using Tokenizer.Core.Validation;

namespace Tokenizer.Core.Privacy;

/// <summary>CorrectSubjectData as the domain sees it.</summary>
public sealed record CorrectSubjectCommand(string? IdempotencyKey, string? CustomerReference, BillingDetails? BillingDetails);

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

/// <summary>
/// The data-subject rectification request (CorrectSubjectData) for one <c>customer_reference</c>: the corrected billing
/// details applied to each of its active tokens, at the gateway and in the vault. Throws <see cref="TokenizerException"/>
/// only for input and idempotency problems; its messages name fields and rules, never values.
/// </summary>
public sealed partial class PrivacyCorrection(
    IClaimStore claimStore,
    ITokenRepository tokenRepository,
    ITokenGateway gateway,
    PersonalDataVault vault,
    SubjectPseudonyms pseudonyms,
    TimeProvider timeProvider,
    ILogger<PrivacyCorrection> logger)
{
    /// <summary>The idempotency-ledger caller of privacy corrections (admin calls share one key space per subject).</summary>
    internal const string PrivacyCaller = "privacy";

    internal const string CorrectOperation = "correct_subject_data";

    // How long a correction's claim blocks a duplicate; the call cap (30 s) is far below it.
    internal static readonly TimeSpan CorrectionLease = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Applies the set fields of the corrected billing details to each active token of the subject: first at the gateway
    /// (Stripe POST /v1/payment_methods/{id}), then here; a token the gateway refuses keeps its details and gets its own
    /// result. Idempotent by key: the same key and values replay the first answer without applying anything again; the
    /// same key with other values is refused (ALREADY_EXISTS IDEMPOTENCY_KEY_REUSED). An answer with a token the gateway
    /// could not reach (GATEWAY_UNAVAILABLE) is kept like any other: a retry under that key replays it, and the
    /// correction is run again under a new key (re-sending a token already updated under its first gateway key would only
    /// get the gateway's stored answer while the ledger applied it, so a newer correction made in between would be
    /// rolled back here and not at the gateway).
    /// </summary>
    /// <exception cref="TokenizerException">INVALID_ARGUMENT naming each field and rule; ALREADY_EXISTS or ABORTED for the idempotency key.</exception>
    public async Task<SubjectCorrection> CorrectAsync(CorrectSubjectCommand command, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        var violations = new List<FieldViolation>();
        InputRules.CheckIdempotencyKey(command.IdempotencyKey, "idempotency_key", violations);

        PrivacyRequest.CheckReference(command.CustomerReference, violations);
        var patch = BillingDetailsValidation.Validate(command.BillingDetails, RequiredBillingFields.None, violations);
        if (PersonalDataVault.IsEmpty(patch) && !violations.Any(v => v.Field.StartsWith("billing_details", StringComparison.Ordinal)))
        {
            violations.Add(new("billing_details", "must set at least one field"));
        }

        PrivacyRequest.ThrowIfAny(violations);
        var reference = command.CustomerReference!;
        var subject = pseudonyms.Of(reference);
        var canonical = System.Text.Json.JsonSerializer.Serialize(patch);

        // Claimed like a tokenisation: the same key and correction replays the first answer (nothing is applied again,
        // so an older correction replayed after a newer one changes nothing); the same key with other values is refused.
        var claimKey = pseudonyms.ClaimKey(subject, CorrectOperation, command.IdempotencyKey!);
        // Fenced by an erasure of the person (none starts once it runs; it waits for one already running), and one at a
        // time per person: each merges its fields over the details held, at the gateway and here, so two at once could
        // leave the two sides with different winners.
        var claim = new IdempotencyClaim(
            PrivacyCaller,
            claimKey,
            CorrectOperation,
            pseudonyms.RequestMac(subject, canonical),
            timeProvider.GetUtcNow(),
            CorrectionLease,
            Resource: subject,
            FencedReference: reference,
            OnePerResource: true);
        var runner = new IdempotencyRunner(claimStore, timeProvider, TimeSpan.Zero, TimeSpan.Zero);
        var result = await runner.RunAsync(
            claim,
            Correction,
            (ticket, ct) => ApplyAsync(reference, subject, command.IdempotencyKey!, patch, canonical, ticket.ClaimedAt, ct),
            cancellationToken).ConfigureAwait(false);
        return result.Answer;
    }

    /// <summary>
    /// A correction's claim: a duplicate still running is ABORTED at once (no wait); a failed attempt keeps nothing (a
    /// ledger failure, the call cap), so the same key runs again under gateway keys of its own attempt and the gateway
    /// applies what the ledger applies.
    /// </summary>
    private static readonly IdempotentOperation<SubjectCorrection> Correction =
        IdempotentOperation.JsonAnswer<SubjectCorrection>() with { ResourceBusy = TokenizerErrors.CorrectionInProgress };

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

    private async Task<SubjectCorrection> ApplyAsync(
        string reference,
        string subject,
        string idempotencyKey,
        BillingDetails patch,
        string canonical,
        DateTimeOffset attempt,
        CancellationToken cancellationToken)
    {
        // Per attempt (the claim's time): a run after a released one sends new gateway keys, so the gateway applies the
        // values again instead of replaying an answer from before a newer correction.
        var discriminator = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{idempotencyKey}\0{canonical}\0{attempt.UtcTicks}");
        var held = await vault.ReadAsync(reference, cancellationToken).ConfigureAwait(false);
        var underWay = await vault.ReadCorrectionsUnderWayAsync(reference, cancellationToken).ConfigureAwait(false);
        var results = new List<TokenCorrection>();
        foreach (var token in await PrivacyRequest.TokensOfAsync(tokenRepository, reference, activeOnly: true, cancellationToken).ConfigureAwait(false))
        {
            // A correction cut off after its request could have reached the gateway (a crash, a lost call, an
            // unreachable gateway) left the details it sent under way: the gateway may hold them, the ledger the earlier
            // ones. This one starts from them and sends them whole with its own fields, so both sides end the same.
            var cutOff = underWay.TryGetValue(token.Token, out var pending) ? pending : null;
            var current = cutOff ?? (held.TryGetValue(token.Token, out var existing) ? existing : BillingDetails.Empty);
            var merged = Merge(current, patch);

            // Written before the request: if this call dies after the gateway applied it, the next one knows.
            await vault.SaveCorrectionUnderWayAsync(reference, token.Token, merged, cancellationToken).ConfigureAwait(false);
            try
            {
                await gateway.UpdateBillingDetailsAsync(
                    token.Token,
                    cutOff is null ? patch : merged,
                    pseudonyms.GatewayKey(subject, token.Token, "correct", discriminator),
                    cancellationToken).ConfigureAwait(false);
            }
            catch (TokenizerException refused)
            {
                var unavailable = refused.Kind is ErrorKind.Unavailable or ErrorKind.Aborted or ErrorKind.DeadlineExceeded;
                if (!unavailable)
                {
                    // Refused for good: nothing of this correction reached the gateway; what was under way before stays so.
                    if (cutOff is null)
                    {
                        await vault.DiscardCorrectionAsync(reference, token.Token, CancellationToken.None).ConfigureAwait(false);
                    }
                    else
                    {
                        await vault.SaveCorrectionUnderWayAsync(reference, token.Token, cutOff, CancellationToken.None).ConfigureAwait(false);
                    }
                }

                // Unavailable: the gateway may have applied it (a lost answer), so it stays under way.
                LogCorrectionRefused(logger, token.Token, refused.Reason);
                results.Add(new TokenCorrection(token.Token, unavailable ? CorrectionOutcome.GatewayUnavailable : CorrectionOutcome.GatewayRefused, refused.Reason));
                continue;
            }

            await vault.CommitCorrectionAsync(reference, token.Token, merged, cancellationToken).ConfigureAwait(false);
            results.Add(new TokenCorrection(token.Token, CorrectionOutcome.Updated, null));
        }

        return new SubjectCorrection(subject, results);
    }

    [LoggerMessage(EventId = 1601, EventName = "PrivacyCorrectionRefused", Level = LogLevel.Warning, Message = "Correction of {Token} refused by the gateway ({Reason})")]
    private static partial void LogCorrectionRefused(ILogger logger, string token, string reason);
}
