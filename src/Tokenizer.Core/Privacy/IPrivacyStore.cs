using Tokenizer.Core.Domain;

namespace Tokenizer.Core.Privacy;

/// <summary>
/// Wraps and unwraps subject data keys with the service's key ring (ASP.NET Core Data Protection in the host, purpose
/// <c>Tokenizer.Privacy.SubjectKey.v1</c>). Every failure to unwrap is a <see cref="System.Security.Cryptography.CryptographicException"/>.
/// </summary>
public interface ISubjectKeyProtector
{
    /// <summary>The wrapped form of a data key, safe to store.</summary>
    byte[] Wrap(byte[] dataKey);

    /// <summary>The data key inside <paramref name="wrappedKey"/>.</summary>
    byte[] Unwrap(byte[] wrappedKey);
}

/// <summary>
/// Where the wrapped per-subject data keys are kept. Crypto-shredding rests on this store being outside what database
/// backups copy: the service's default keeps each key in a file of its own next to the key ring
/// (<c>{DataDirectory}/subject-keys</c>), so a copy of the ledger database holds ciphertexts but no key; a PostgreSQL
/// deployment keeps them in the ledger table <c>privacy_subject_keys</c> (see THREAT_MODEL.md for what that means for
/// backups).
/// </summary>
public interface ISubjectKeyStore
{
    /// <summary>The wrapped data key of <paramref name="subject"/>, or null when none exists (never created, or destroyed).</summary>
    Task<byte[]?> FindAsync(string subject, CancellationToken cancellationToken);

    /// <summary>Stores <paramref name="wrappedKey"/> unless the subject has a key; returns the key stored (the first writer wins).</summary>
    Task<byte[]> AddAsync(string subject, byte[] wrappedKey, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Destroys the subject's key; nothing to destroy is success.</summary>
    Task DestroyAsync(string subject, CancellationToken cancellationToken);
}

/// <summary>
/// Where encrypted personal data and erasure progress are kept (the ledger's database, its own
/// tables), plus the few writes on the ledger's tables that erasure and retention need. Subjects are keyed pseudonyms
/// (<see cref="SubjectPseudonyms"/>), never references in clear.
/// </summary>
public interface IPrivacyStore
{
    /// <summary>Inserts or replaces one encrypted record.</summary>
    Task SavePersonalDataAsync(PersonalDataRecord record, CancellationToken cancellationToken);

    /// <summary>Deletes one encrypted record of <paramref name="subject"/>; nothing to delete is success.</summary>
    Task DeletePersonalDataAsync(string subject, string recordId, CancellationToken cancellationToken);

    /// <summary>Every encrypted record of <paramref name="subject"/>, by record id.</summary>
    Task<IReadOnlyList<PersonalDataRecord>> ListPersonalDataAsync(string subject, CancellationToken cancellationToken);

    /// <summary>The erasure of <paramref name="subject"/>, or null when none was requested.</summary>
    Task<ErasureRecord?> FindErasureAsync(string subject, CancellationToken cancellationToken);

    /// <summary>Inserts or replaces the erasure's progress.</summary>
    Task SaveErasureAsync(ErasureRecord erasure, CancellationToken cancellationToken);

    /// <summary>
    /// When <paramref name="customerReference"/> began to hold what it holds now: the earliest <c>created_at</c> of its
    /// Customer mapping and its tokens (ledger tables <c>customers</c>, <c>tokens</c>), or null when it holds neither.
    /// An erasure renames its tokens and forgets its Customer, so after one this is when the reference was used again.
    /// </summary>
    Task<DateTimeOffset?> FindHoldingStartAsync(string customerReference, CancellationToken cancellationToken);

    /// <summary>
    /// Fences <paramref name="customerReference"/> for its erasure (a fence already there stays) and returns how many
    /// calls for the person are still in flight: tokenisations under the reference (intent pending: a live claim, or one
    /// cut off by a crash that the recovery worker settles) and pending claims acting on <paramref name="subject"/>
    /// (corrections) last claimed after <paramref name="claimsLiveSince"/>. From the commit on, every tokenisation and
    /// correction claim for the reference is refused (<see cref="Ports.IdempotencyState.ErasureInProgress"/>); a claim
    /// committed before it is counted. The fence goes in the transaction of <see cref="DestroySubjectAsync"/>.
    /// </summary>
    Task<int> FenceReferenceAsync(string customerReference, string subject, DateTimeOffset now, DateTimeOffset claimsLiveSince, CancellationToken cancellationToken);

    /// <summary>Marks an active token revoked at <paramref name="revokedAt"/>; a revoked or unknown token is left as it is.</summary>
    Task MarkTokenRevokedAsync(string token, DateTimeOffset revokedAt, CancellationToken cancellationToken);

    /// <summary>
    /// Stores the setup an erasure found at the gateway for <paramref name="token"/> (its <see cref="TokenRecord.Setup"/>,
    /// e.g. FAILED <c>canceled</c> after the erasure cancelled it), whatever the token's status, only while the stored
    /// setup is still pending under the same SetupIntent; no token event. A token whose stored setup is no longer pending
    /// is left as it is.
    /// </summary>
    Task SettleSetupAsync(TokenRecord token, CancellationToken cancellationToken);

    /// <summary>
    /// In one transaction: deletes the subject's encrypted records (and its key row in <c>privacy_subject_keys</c>, if
    /// any), forgets the gateway Customer recorded for <paramref name="customerReference"/>, lifts the reference's erasure
    /// fence (<see cref="FenceReferenceAsync"/>), and replaces that reference
    /// with <paramref name="erasedReference"/> wherever it links to the subject's tokens: tokens, intents, the stored
    /// idempotency answers, reconciliation items and runs. A store whose files keep deleted bytes (a SQLite WAL) clears
    /// them before returning, as far as it can. Changes nothing and returns false while an active token is under
    /// <paramref name="customerReference"/> (checked in the same transaction): an erasure never renames a chargeable token.
    /// </summary>
    /// <returns>True when done; false when an active token is under the reference (nothing changed).</returns>
    Task<bool> DestroySubjectAsync(string subject, string gateway, string customerReference, string erasedReference, CancellationToken cancellationToken);

    /// <summary>
    /// Deletes revoked tokens (and any record held for them) revoked before <paramref name="revokedTokensBefore"/>, and
    /// completed idempotency records (with their completed or closed intents) last changed before
    /// <paramref name="idempotencyBefore"/>. Pending claims and failed intents are never purged.
    /// </summary>
    Task<RetentionPurge> PurgeExpiredAsync(DateTimeOffset revokedTokensBefore, DateTimeOffset idempotencyBefore, CancellationToken cancellationToken);
}

/// <summary>One encrypted personal data record (<see cref="SubjectDataCipher"/>).</summary>
/// <param name="Subject">The subject's pseudonym.</param>
/// <param name="RecordId">What the record belongs to: the token id whose billing details it holds.</param>
/// <param name="Ciphertext">AES-GCM under the subject's data key.</param>
/// <param name="UpdatedAt">When it was last written.</param>
public sealed record PersonalDataRecord(string Subject, string RecordId, byte[] Ciphertext, DateTimeOffset UpdatedAt);

/// <summary>The steps of an erasure, in order.</summary>
public enum ErasureStep
{
    /// <summary>Clearing billing details at the gateway and detaching PaymentMethods; revoking the tokens.</summary>
    Detaching = 1,

    /// <summary>Deleting the gateway Customer.</summary>
    DeletingCustomer = 2,

    /// <summary>Destroying the data key and the encrypted records; unlinking the reference.</summary>
    DestroyingKey = 3,

    /// <summary>Done.</summary>
    Completed = 4,
}

/// <summary>The texts of the erasure enums.</summary>
public static class ErasureTexts
{
    /// <summary>The stored step (<c>privacy_erasures.step</c>): <c>detaching</c>, <c>deleting_customer</c>... Never change a text.</summary>
    public static readonly EnumText<ErasureStep> Step = new(
        "erasure step",
        (ErasureStep.Detaching, "detaching"),
        (ErasureStep.DeletingCustomer, "deleting_customer"),
        (ErasureStep.DestroyingKey, "destroying_key"),
        (ErasureStep.Completed, "completed"));
}

/// <summary>An erasure's progress, stored after every step so a later call resumes where a crash stopped it.</summary>
/// <param name="Subject">The subject's pseudonym.</param>
/// <param name="Step">Where it stands.</param>
/// <param name="RequestedAt">When this erasure was requested (UTC).</param>
/// <param name="UpdatedAt">When it last moved (UTC).</param>
/// <param name="CompletedAt">When it completed (UTC), or null.</param>
/// <param name="PaymentMethodsDetached">PaymentMethods whose billing details were cleared and which were then detached.</param>
/// <param name="PaymentMethodsNotCleared">
/// PaymentMethods the gateway refused to clear (detached behind our back, e.g. by a Customer deleted in the Dashboard:
/// Stripe updates attached PaymentMethods only): they are detached, but the gateway still holds their billing details.
/// </param>
/// <param name="HoldingSince">
/// For an erasure of a reference used again after an earlier erasure completed: when that use began
/// (<see cref="IPrivacyStore.FindHoldingStartAsync"/>). What the trail holds of the subject from before belongs to the
/// person erased earlier, and no export serves it. Null for a first erasure.
/// </param>
public sealed record ErasureRecord(
    string Subject,
    ErasureStep Step,
    DateTimeOffset RequestedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? CompletedAt,
    int PaymentMethodsDetached,
    int PaymentMethodsNotCleared = 0,
    DateTimeOffset? HoldingSince = null);

/// <summary>What one retention purge deleted.</summary>
/// <param name="RevokedTokens">Revoked tokens past their retention period.</param>
/// <param name="IdempotencyRecords">Finished idempotency records past theirs.</param>
/// <param name="TokenEvents">Token events past theirs (0 when the store purges none: the retention service fills it in).</param>
public sealed record RetentionPurge(int RevokedTokens, int IdempotencyRecords, int TokenEvents = 0);
