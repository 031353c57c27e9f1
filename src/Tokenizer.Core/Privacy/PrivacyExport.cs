using Tokenizer.Core.Audit;
using Tokenizer.Core.Domain;
using Tokenizer.Core.Errors;
using Tokenizer.Core.Ports;

namespace Tokenizer.Core.Privacy;

/// <summary>
/// One token of an export with the billing details and online mandate acceptance held for it (null when none are held),
/// and the details of a correction under way or cut off (<see cref="PersonalDataVault.CorrectionRecordSuffix"/>: the
/// gateway may hold them instead; null when none).
/// </summary>
public sealed record SubjectTokenData(
    TokenRecord Token,
    BillingDetails? BillingDetails,
    OnlineAcceptance? MandateAcceptance = null,
    BillingDetails? CorrectionUnderWay = null);

/// <summary>Everything Tokenizer holds about one subject. The same shape whether or not the subject is known.</summary>
public sealed record SubjectExport(
    string Subject,
    IReadOnlyList<SubjectTokenData> Tokens,
    IReadOnlyList<string> GatewayCustomerIds,
    IReadOnlyList<AuditRecord> AuditEvents,
    ErasureRecord? Erasure,
    DateTimeOffset ExportedAt);

/// <summary>
/// The data-subject access request (ExportSubjectData) for one <c>customer_reference</c>: its tokens with the personal
/// data held for each, its gateway Customer id, the audit records of its tokens and pseudonym, and its erasure's state.
/// Throws <see cref="TokenizerException"/> only for an invalid reference (the message names the field and rule, never
/// the value). A reference never seen answers the same shape as one with nothing held.
/// </summary>
public sealed class PrivacyExport(
    ICustomerRepository customerRepository,
    ITokenRepository tokenRepository,
    ITokenGateway gateway,
    IPrivacyStore store,
    PersonalDataVault vault,
    SubjectPseudonyms pseudonyms,
    IAuditTrailReader auditReader,
    TimeProvider timeProvider)
{
    /// <summary>
    /// Everything held about the subject. The audit records are those whose resource is one of the subject's tokens or
    /// its pseudonym, read through the trail's resource index (<see cref="IAuditTrailReader.ReadByResourcesAsync"/>),
    /// oldest first. Of a reference used again after an erasure completed, only what belongs to the new use: no erasure
    /// (null, until one of the new use is requested) and no audit record from before the use began.
    /// </summary>
    /// <exception cref="TokenizerException">INVALID_ARGUMENT: the reference is missing or malformed.</exception>
    public async Task<SubjectExport> ExportAsync(string? customerReference, CancellationToken cancellationToken)
    {
        var violations = new List<FieldViolation>();
        PrivacyRequest.CheckReference(customerReference, violations);
        PrivacyRequest.ThrowIfAny(violations);
        var reference = customerReference!;
        var subject = pseudonyms.Of(reference);

        var tokens = await PrivacyRequest.TokensOfAsync(tokenRepository, reference, activeOnly: false, cancellationToken).ConfigureAwait(false);
        var held = await vault.ReadAsync(reference, cancellationToken).ConfigureAwait(false);
        var acceptances = await vault.ReadMandateAcceptancesAsync(reference, cancellationToken).ConfigureAwait(false);
        var underWay = await vault.ReadCorrectionsUnderWayAsync(reference, cancellationToken).ConfigureAwait(false);
        var customer = await customerRepository.FindCustomerAsync(gateway.Name, reference, cancellationToken).ConfigureAwait(false);
        var erasure = await store.FindErasureAsync(subject, cancellationToken).ConfigureAwait(false);

        // The pseudonym is the reference's, whoever it stands for: once the reference is used again after an erasure,
        // the erasure and the subject's records from before it belong to the erased person, not to this one.
        var usedAgainAt = await PrivacyRequest.UsedAgainSinceAsync(store, reference, erasure, cancellationToken).ConfigureAwait(false);
        var since = usedAgainAt ?? erasure?.HoldingSince;
        var resources = new HashSet<string>(tokens.Select(t => t.Token), StringComparer.Ordinal) { subject };
        var events = await auditReader.ReadByResourcesAsync(resources, cancellationToken).ConfigureAwait(false);
        if (since is { } start)
        {
            events = [.. events.Where(e => e.Event.Time >= start)];
        }

        return new SubjectExport(
            subject,
            [.. tokens.Select(t => new SubjectTokenData(
                t,
                held.TryGetValue(t.Token, out var billing) ? billing : null,
                acceptances.TryGetValue(t.Token, out var acceptance) ? acceptance : null,
                underWay.TryGetValue(t.Token, out var correcting) ? correcting : null))],
            customer is null ? [] : [customer],
            events,
            usedAgainAt is null ? erasure : null,
            PrivacyRequest.Now(timeProvider));
    }
}
