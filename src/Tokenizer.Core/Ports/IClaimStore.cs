using Tokenizer.Core.Domain;

namespace Tokenizer.Core.Ports;

/// <summary>
/// The idempotency claims of calls (ledger table <c>idempotency_records</c>): a call claims its (caller, key), then
/// completes the claim (with the token it recorded, or with an answer alone) or releases it so a retry runs again.
/// Completing or releasing a claim moves the key's intent in the same transaction (see <see cref="IIntentStore"/>).
/// Stores no PAN, CVC, full account number or IBAN, and no unkeyed hash of one.
/// </summary>
public interface IClaimStore
{
    /// <summary>
    /// Claims (caller, key) for a new request, or reports what an earlier request with that key did.
    /// A pending claim older than <see cref="IdempotencyClaim.Lease"/> may be taken over (its owner died). A key whose
    /// request was released (failed or refused, e.g. declined) stays bound to that request for claims with an intent:
    /// the same request starts again, another one is <see cref="IdempotencyState.Conflict"/>.
    /// </summary>
    Task<IdempotencyOutcome> ClaimAsync(IdempotencyClaim claim, CancellationToken cancellationToken);

    /// <summary>
    /// True when an idempotency record (pending or completed) exists for (caller, key id): used after a secret rotation
    /// to find a claim made under a previous secret. Changes nothing.
    /// </summary>
    Task<bool> HasClaimAsync(string callerId, string idempotencyKeyId, CancellationToken cancellationToken) =>
        Task.FromResult(false);

    /// <summary>
    /// In one transaction: inserts or updates <paramref name="token"/> (by token id) and marks the claim completed
    /// with <paramref name="responseJson"/> for replays.
    /// </summary>
    Task CompleteWithTokenAsync(string callerId, string key, string responseJson, TokenRecord token, CancellationToken cancellationToken);

    /// <summary>
    /// Completes a claim only while <paramref name="claimedAt"/> still fences it (the claim is pending and was last
    /// claimed at that time, i.e. nobody took it over): in one transaction marks it completed with
    /// <paramref name="responseJson"/>, records <paramref name="token"/>, and sets the intent to
    /// <paramref name="intentState"/> (Completed, or Detaching for an orphan about to be detached) with the token.
    /// Returns false, having written nothing, when the claim is no longer the caller's.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="intentState"/> is neither Completed nor Detaching.</exception>
    Task<bool> CompleteOwnedWithTokenAsync(
        string callerId,
        string key,
        DateTimeOffset claimedAt,
        string responseJson,
        TokenRecord token,
        IntentState intentState,
        CancellationToken cancellationToken);

    /// <summary>
    /// Marks a pending claim completed with <paramref name="responseJson"/> for replays, for requests that record no
    /// token (privacy corrections and erasures), only while <paramref name="claimedAt"/> still fences it (pending, last
    /// claimed at that time). Returns false, having written nothing, when the claim is no longer the caller's.
    /// </summary>
    Task<bool> CompleteOwnedWithoutTokenAsync(string callerId, string key, DateTimeOffset claimedAt, string responseJson, CancellationToken cancellationToken);

    /// <summary>
    /// Deletes a pending claim so a retry with the same key runs again (completed records are kept), only while
    /// <paramref name="claimedAt"/> still fences it (pending, last claimed at that time): a claim taken over since is
    /// left alone. In the same transaction the key's intent, pending or failed and last touched by this claim (a claim
    /// without an intent, such as a revoke reusing the key, leaves another request's intent alone), moves to
    /// <paramref name="intentOutcome"/>: <see cref="IntentState.Failed"/> when the gateway may hold a PaymentMethod of it
    /// (the outcome is unknown: timeout, lost response, crash), so the orphan sweep looks after the grace period;
    /// <see cref="IntentState.Closed"/> when it cannot (the gateway refused). Returns whether the claim was still the
    /// caller's (an unknown or completed key: false, nothing changed).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="intentOutcome"/> is neither Failed nor Closed.</exception>
    Task<bool> ReleaseOwnedAsync(
        string callerId,
        string key,
        DateTimeOffset claimedAt,
        IntentState intentOutcome,
        CancellationToken cancellationToken);

    /// <summary>
    /// Audits calls cut off by a crash: for up to <paramref name="limit"/> pending claims whose lease ran out (last claimed
    /// before <paramref name="now"/> minus <paramref name="lease"/>, or the operation's own longer lease,
    /// <see cref="Audit.InterruptedCalls.LeaseOf"/>) and which are not audited yet, appends one
    /// <see cref="Audit.InterruptedCalls.Reason"/> audit record naming the claim's caller and marks the claim audited, both
    /// in one transaction, so no pass, retry or replica audits one claim twice. Returns how many it audited. A ledger
    /// without an audit trail on its database audits nothing (0).
    /// </summary>
    Task<int> AuditAbandonedAsync(DateTimeOffset now, TimeSpan lease, int limit, CancellationToken cancellationToken) =>
        Task.FromResult(0);
}

/// <summary>A claim on an idempotency key.</summary>
/// <param name="CallerId">The authenticated caller; keys are scoped per caller.</param>
/// <param name="Key">The caller's idempotency key (1-255 printable ASCII).</param>
/// <param name="Operation">The RPC, e.g. <c>tokenize_card</c>.</param>
/// <param name="RequestHmac">Keyed HMAC-SHA256 of the canonical request, 32 bytes.</param>
/// <param name="Now">The current time.</param>
/// <param name="Lease">How long a pending claim blocks others before it may be taken over.</param>
/// <param name="Intent">
/// For requests that create something at the gateway: the intent recorded (as pending) with the claim, in the same
/// transaction, when the claim is started. Null for requests that create nothing (revoke).
/// </param>
/// <param name="Fence">
/// The recovery worker's condition: claim only if the intent is still in the state and at the updated_at it was listed
/// with (otherwise <see cref="IdempotencyState.InFlight"/>: someone moved it since). A claimed Failed intent stays Failed
/// (its updated_at moves to now), so a crash in the middle of a sweep never makes it look like a crashed request.
/// </param>
/// <param name="Resource">
/// What the call acts on, kept with the claim for the audit record of a call cut off by a crash (a revoke's token id, a
/// correction's or an erasure's subject pseudonym); null when the claim does not know it yet (a tokenisation's token).
/// </param>
/// <param name="FencedReference">
/// A customer reference whose erasure refuses this claim (<see cref="IdempotencyState.ErasureInProgress"/>) while it
/// runs, for claims without an intent (a correction); a claim with an intent is fenced by the intent's reference.
/// </param>
/// <param name="OnePerResource">
/// At most one live claim of this operation per <see cref="Resource"/>: another key's pending claim of the same
/// operation and resource within its lease refuses this one (<see cref="IdempotencyState.ResourceBusy"/>).
/// </param>
public sealed record IdempotencyClaim(
    string CallerId,
    string Key,
    string Operation,
    byte[] RequestHmac,
    DateTimeOffset Now,
    TimeSpan Lease,
    IntentInfo? Intent = null,
    IntentFence? Fence = null,
    string? Resource = null,
    string? FencedReference = null,
    bool OnePerResource = false);

/// <summary>
/// A pending idempotency claim whose lease ran out (its call was cut off by a crash), as the ledger audits it.
/// </summary>
/// <param name="CallerId">The claim's caller (<c>idempotency_records.caller_id</c>).</param>
/// <param name="Operation">The claim's operation, e.g. <c>tokenize_card</c>.</param>
/// <param name="Key">The keyed idempotency key id (never the caller's key itself).</param>
/// <param name="Resource">The claim's resource (a revoke's token id), or null.</param>
/// <param name="IntentId">The key's intent id (tokenisations), or null.</param>
/// <param name="ClaimedAt">When the cut-off call claimed the key (its <c>updated_at</c>; the first call's <c>created_at</c>).</param>
public sealed record AbandonedClaim(
    string CallerId,
    string Operation,
    string Key,
    string? Resource,
    string? IntentId,
    DateTimeOffset ClaimedAt);

/// <summary>What <see cref="IClaimStore.ClaimAsync"/> found.</summary>
public enum IdempotencyState
{
    /// <summary>The claim is ours: do the work, then Complete or Release.</summary>
    Started,
    /// <summary>Completed before with the same request: replay <see cref="IdempotencyOutcome.ResponseJson"/>.</summary>
    Replay,
    /// <summary>Used before with a different request (HMAC or operation differs).</summary>
    Conflict,
    /// <summary>The same request is pending under a live lease.</summary>
    InFlight,
    /// <summary>
    /// Nothing claimed: the claim's intent names a customer reference whose erasure is in progress (fenced by the
    /// erasure before its first gateway call). Only claims with an intent and no <see cref="IdempotencyClaim.Fence"/>.
    /// </summary>
    ErasureInProgress,
    /// <summary>
    /// Nothing claimed: another key's claim of the same operation on the same resource is still live (only claims with
    /// <see cref="IdempotencyClaim.OnePerResource"/>).
    /// </summary>
    ResourceBusy,
}

/// <summary>The outcome of claiming an idempotency key.</summary>
public sealed record IdempotencyOutcome(IdempotencyState State, string? ResponseJson = null);
