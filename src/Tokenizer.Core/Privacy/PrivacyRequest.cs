using Tokenizer.Core.Domain;
using Tokenizer.Core.Errors;
using Tokenizer.Core.Ports;
using Tokenizer.Core.Validation;

namespace Tokenizer.Core.Privacy;

/// <summary>
/// What the data-subject requests (<see cref="PrivacyExport"/>, <see cref="PrivacyCorrection"/>,
/// <see cref="PrivacyErasure"/>) share: the reference's validation, the subject's pseudonym for the audit record, the
/// subject's tokens read page by page, and the clock as the ledgers store it.
/// </summary>
public static class PrivacyRequest
{
    /// <summary>The request field of the reference.</summary>
    public const string CustomerReferenceField = "customer_reference";

    /// <summary>The tokens read per ledger page.</summary>
    internal const int PageSize = 100;

    /// <summary>The pseudonym of a valid reference (for the audit record), or null for an invalid one.</summary>
    public static string? TrySubjectOf(SubjectPseudonyms pseudonyms, string? customerReference)
    {
        ArgumentNullException.ThrowIfNull(pseudonyms);
        return InputRules.IsValidReference(customerReference) ? pseudonyms.Of(customerReference!) : null;
    }

    /// <summary>
    /// Adds a violation of <see cref="CustomerReferenceField"/> when the reference is missing, malformed or an erased
    /// subject's pseudonym (names nobody a privacy request could be for).
    /// </summary>
    internal static void CheckReference(string? reference, List<FieldViolation> violations) =>
        InputRules.CheckSubjectReference(reference, CustomerReferenceField, violations);

    /// <summary>Throws INVALID_ARGUMENT naming every field and rule, when there are any.</summary>
    /// <exception cref="TokenizerException">There are violations.</exception>
    internal static void ThrowIfAny(List<FieldViolation> violations)
    {
        if (violations.Count > 0)
        {
            throw TokenizerErrors.Invalid(violations);
        }
    }

    /// <summary>Every token recorded under <paramref name="reference"/> (only the active ones with <paramref name="activeOnly"/>), newest first.</summary>
    internal static async Task<List<TokenRecord>> TokensOfAsync(ITokenRepository tokenRepository, string reference, bool activeOnly, CancellationToken cancellationToken)
    {
        var tokens = new List<TokenRecord>();
        string? pageToken = null;
        do
        {
            var page = await tokenRepository.ListTokensAsync(
                new TokenQuery(reference, activeOnly ? TokenStatus.Active : null, null, null, PageSize, pageToken),
                cancellationToken).ConfigureAwait(false);
            tokens.AddRange(page.Tokens);
            pageToken = page.NextPageToken;
        }
        while (pageToken is not null);
        return tokens;
    }

    /// <summary>
    /// When the reference was used again after its completed erasure (<paramref name="erasure"/>): the start of what it
    /// holds now (<see cref="IPrivacyStore.FindHoldingStartAsync"/>), never before the erasure completed; null when the
    /// erasure is not complete or the reference holds nothing since. From then on the reference stands for a new holding
    /// (perhaps a new person): what the trail holds of the subject from before belongs to the erased one.
    /// </summary>
    internal static async Task<DateTimeOffset?> UsedAgainSinceAsync(IPrivacyStore store, string reference, ErasureRecord? erasure, CancellationToken cancellationToken)
    {
        if (erasure is not { Step: ErasureStep.Completed, CompletedAt: { } completed })
        {
            return null;
        }

        return await store.FindHoldingStartAsync(reference, cancellationToken).ConfigureAwait(false) is { } start
            ? (start > completed ? start : completed)
            : null;
    }

    /// <summary>UTC now at microsecond precision, what the ledgers store, so an answer equals a later read.</summary>
    internal static DateTimeOffset Now(TimeProvider timeProvider)
    {
        var now = timeProvider.GetUtcNow();
        return new(now.UtcTicks - (now.UtcTicks % 10), TimeSpan.Zero);
    }
}
