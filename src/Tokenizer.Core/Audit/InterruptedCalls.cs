using Tokenizer.Core.Ports;

namespace Tokenizer.Core.Audit;

/// <summary>
/// The audit record of a state-changing call cut off by a crash (SIGKILL, OOM, host loss) after it claimed its
/// idempotency key and before the audit interceptor appended the call's own record: the ledger appends it for a claim
/// still pending after its lease, once, when the recovery worker or a retry with the same key finds it first.
/// </summary>
public static class InterruptedCalls
{
    /// <summary>The reason code of such a record (outcome <c>failure</c>).</summary>
    public const string Reason = "INTERRUPTED";

    /// <summary>
    /// The audit action of a claim's operation: the RPC's full method name, as the audit interceptor names the call
    /// (<c>tokenizer.v1.TokenizerService/TokenizeCard</c>); an unknown operation is named <c>idempotent/{operation}</c>.
    /// </summary>
    public static string ActionOf(string operation) => operation switch
    {
        Tokenization.TokenizationOperations.TokenizeCard => "tokenizer.v1.TokenizerService/TokenizeCard",
        Tokenization.TokenizationOperations.TokenizeBankAccount => "tokenizer.v1.TokenizerService/TokenizeBankAccount",
        Tokenization.TokenizationOperations.RevokeToken => "tokenizer.v1.TokenizerService/RevokeToken",
        Privacy.PrivacyCorrection.CorrectOperation => "tokenizer.v1.PrivacyService/CorrectSubjectData",
        Privacy.PrivacyErasure.EraseOperation => "tokenizer.v1.PrivacyService/EraseSubject",
        _ => "idempotent/" + operation,
    };

    /// <summary>
    /// The lease after which a pending claim of <paramref name="operation"/> is abandoned: <paramref name="lease"/>
    /// (Tokenizer:PendingLeaseSeconds), or a privacy correction's own fixed lease when that is longer, so a call still
    /// running is never audited as cut off.
    /// </summary>
    public static TimeSpan LeaseOf(string operation, TimeSpan lease) =>
        string.Equals(operation, Privacy.PrivacyCorrection.CorrectOperation, StringComparison.Ordinal) && Privacy.PrivacyCorrection.CorrectionLease > lease
            ? Privacy.PrivacyCorrection.CorrectionLease
            : lease;

    /// <summary>
    /// The record: the claim's caller, the call's action, the claim's resource, outcome failure with
    /// <see cref="Reason"/>. Its time is when the cut-off call claimed the key (the trail's recorded time says when it
    /// was appended); its correlation id is the key's intent id (as on the <c>recovery/...</c> records of that intent),
    /// else the keyed idempotency key id.
    /// </summary>
    public static AuditEvent ToAuditEvent(AbandonedClaim claim)
    {
        ArgumentNullException.ThrowIfNull(claim);
        return new AuditEvent(
            claim.ClaimedAt,
            claim.CallerId,
            null,
            ActionOf(claim.Operation),
            claim.Resource,
            AuditOutcome.Failure,
            Reason,
            claim.IntentId ?? claim.Key);
    }
}
