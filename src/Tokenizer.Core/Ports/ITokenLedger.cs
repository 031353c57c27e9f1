using Tokenizer.Core.Domain;

namespace Tokenizer.Core.Ports;

/// <summary>
/// The durable record of issued tokens, the customer mapping and idempotency records.
/// Stores no PAN, CVC, full account number or IBAN, and no unkeyed hash of one.
/// </summary>
public interface ITokenLedger
{
    /// <summary>Creates or upgrades the schema (versioned migrations). Safe to call on every start.</summary>
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Claims (caller, key) for a new request, or reports what an earlier request with that key did.
    /// A pending claim older than <see cref="IdempotencyClaim.Lease"/> may be taken over (its owner died). A key whose
    /// request was released (failed or refused, e.g. declined) stays bound to that request for claims with an intent:
    /// the same request starts again, another one is <see cref="IdempotencyState.Conflict"/>.
    /// </summary>
    Task<IdempotencyOutcome> BeginAsync(IdempotencyClaim claim, CancellationToken cancellationToken);

    /// <summary>
    /// True when an idempotency record (pending or completed) exists for (caller, key id): used after a secret rotation
    /// to find a claim made under a previous secret. Changes nothing.
    /// </summary>
    Task<bool> HasIdempotencyRecordAsync(string callerId, string idempotencyKeyId, CancellationToken cancellationToken) =>
        Task.FromResult(false);

    /// <summary>
    /// Audits calls cut off by a crash: for up to <paramref name="limit"/> pending claims whose lease ran out (last claimed
    /// before <paramref name="now"/> minus <paramref name="lease"/>, or the operation's own longer lease,
    /// <see cref="Audit.InterruptedCalls.LeaseOf"/>) and which are not audited yet, appends one
    /// <see cref="Audit.InterruptedCalls.Reason"/> audit record naming the claim's caller and marks the claim audited, both
    /// in one transaction, so no pass, retry or replica audits one claim twice. Returns how many it audited. A ledger
    /// without an audit trail on its database audits nothing (0).
    /// </summary>
    Task<int> AuditAbandonedClaimsAsync(DateTimeOffset now, TimeSpan lease, int limit, CancellationToken cancellationToken) =>
        Task.FromResult(0);

    /// <summary>
    /// In one transaction: inserts or updates <paramref name="token"/> (by token id) and marks the claim completed
    /// with <paramref name="responseJson"/> for replays.
    /// </summary>
    Task CompleteAsync(string callerId, string key, string responseJson, TokenRecord token, CancellationToken cancellationToken);

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
    /// Completes a claim only while <paramref name="claimedAt"/> still fences it (the claim is pending and was last
    /// claimed at that time, i.e. nobody took it over): in one transaction marks it completed with
    /// <paramref name="responseJson"/>, records <paramref name="token"/>, and sets the intent to
    /// <paramref name="intentState"/> (Completed, or Detaching for an orphan about to be detached) with the token.
    /// Returns false, having written nothing, when the claim is no longer the caller's.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="intentState"/> is neither Completed nor Detaching.</exception>
    Task<bool> CompleteOwnedAsync(
        string callerId,
        string key,
        DateTimeOffset claimedAt,
        string responseJson,
        TokenRecord token,
        IntentState intentState,
        CancellationToken cancellationToken);

    /// <summary>
    /// For an intent the recovery worker could not claim: with <paramref name="completedToken"/> (its request turned out
    /// completed), marks a pending or failed intent Completed with that token; without, only moves its updated_at to now,
    /// so the intent goes to the back of the worker's queue instead of blocking the front. Other states: nothing.
    /// </summary>
    Task SettleIntentAsync(string callerId, string key, string? completedToken, CancellationToken cancellationToken);

    /// <summary>
    /// Marks a pending claim completed with <paramref name="responseJson"/> for replays, for requests that record no
    /// token (privacy corrections). A claim that is not pending is left as it is.
    /// </summary>
    Task CompleteClaimAsync(string callerId, string key, string responseJson, CancellationToken cancellationToken);

    /// <summary>Marks a Detaching intent Completed once the gateway has confirmed the detach. Other states: nothing.</summary>
    Task FinishDetachingAsync(string callerId, string key, CancellationToken cancellationToken);

    /// <summary>
    /// Intents in <paramref name="state"/> last changed before <paramref name="updatedBefore"/>, oldest change first, at
    /// most <paramref name="limit"/> (1-1000). What the recovery worker and the orphan sweep work through.
    /// </summary>
    Task<IReadOnlyList<TokenIntent>> ListIntentsAsync(
        IntentState state,
        DateTimeOffset updatedBefore,
        int limit,
        CancellationToken cancellationToken);

    /// <summary>The gateway Customer id for a customer reference, or null.</summary>
    Task<string?> FindCustomerAsync(string gateway, string customerReference, CancellationToken cancellationToken);

    /// <summary>Records the mapping unless one exists; returns the id that is recorded (the first writer wins).</summary>
    Task<string> SaveCustomerAsync(
        string gateway,
        string customerReference,
        string gatewayCustomerId,
        DateTimeOffset now,
        CancellationToken cancellationToken);

    /// <summary>
    /// Replaces the mapping of <paramref name="customerReference"/> to <paramref name="deletedCustomerId"/> (a Customer the
    /// gateway deleted) by <paramref name="gatewayCustomerId"/>; records it when no mapping exists; leaves a mapping to any
    /// other Customer as it is (another request replaced it first). Returns the id that is recorded.
    /// </summary>
    Task<string> ReplaceCustomerAsync(
        string gateway,
        string customerReference,
        string deletedCustomerId,
        string gatewayCustomerId,
        DateTimeOffset now,
        CancellationToken cancellationToken);

    /// <summary>
    /// The last Customer of a data subject that the gateway confirmed deleted (<c>customer_successions</c>), or null when
    /// none is recorded. <paramref name="subject"/> is the subject's pseudonym (<see cref="Privacy.SubjectPseudonyms.Of"/>),
    /// never a reference in clear: the record outlives an erasure. The next Customer of the subject is created under a key
    /// derived from it, so each deletion starts a fresh creation key instead of replaying the deleted Customer.
    /// </summary>
    Task<string?> FindLastDeletedCustomerAsync(string gateway, string subject, CancellationToken cancellationToken);

    /// <summary>
    /// Records <paramref name="deletedCustomerId"/> as the subject's last deleted Customer, only while the recorded one is
    /// still <paramref name="expected"/> (null: none recorded), so concurrent requests never move it back. Returns
    /// whether it was recorded.
    /// </summary>
    Task<bool> RecordDeletedCustomerAsync(
        string gateway,
        string subject,
        string? expected,
        string deletedCustomerId,
        DateTimeOffset now,
        CancellationToken cancellationToken);

    /// <summary>
    /// Stores a refreshed setup (<see cref="TokenRecord.Setup"/> and <see cref="TokenRecord.Mandate"/>) of
    /// <paramref name="token"/>, only while the stored setup is still pending (requires_action or processing) under the
    /// same SetupIntent: a late refresh never overwrites a newer outcome. Returns whether it was stored.
    /// </summary>
    Task<bool> UpdateSetupAsync(TokenRecord token, CancellationToken cancellationToken);

    /// <summary>
    /// Records, durably, that a revoke of active <paramref name="token"/> has started here, before the gateway is asked
    /// to detach it: the <c>payment_method.detached</c> event that detach causes is then known as this service's own
    /// (a <see cref="TokenEventKind.Revoked"/>, never a <see cref="TokenEventKind.DetachedAtGateway"/>), even when it is
    /// processed before the revoke's own ledger update commits. A revoked or unknown token, or one already marked:
    /// nothing changes.
    /// </summary>
    Task MarkRevokeRequestedAsync(string token, DateTimeOffset now, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>One token by gateway id, or null.</summary>
    Task<TokenRecord?> GetTokenAsync(string token, CancellationToken cancellationToken);

    /// <summary>
    /// Tokens newest first (created_at desc, token desc), filtered, keyset-paged.
    /// A malformed page token throws <see cref="Errors.TokenizerException"/> (INVALID_ARGUMENT, field page_token).
    /// </summary>
    Task<TokenPage> ListTokensAsync(TokenQuery query, CancellationToken cancellationToken);
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
/// correction's subject pseudonym); null when the claim does not know it yet (a tokenisation's token).
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

/// <summary>An intent as the recovery worker listed it: the condition of its claim.</summary>
public sealed record IntentFence(IntentState State, DateTimeOffset UpdatedAt);

/// <summary>What an intent records beyond its claim.</summary>
/// <param name="IntentId">
/// The id sent as PaymentMethod metadata <c>tokenizer_intent</c> (<c>tkz_{40 hex}_intent</c>, derived from the caller
/// and key with a keyed HMAC), so a PaymentMethod can be traced back to its request without the caller.
/// </param>
/// <param name="CustomerReference">The billing service's customer identifier: where at the gateway to look.</param>
public sealed record IntentInfo(string IntentId, string CustomerReference);

/// <summary>Where a request that creates a gateway object stands.</summary>
public enum IntentState
{
    /// <summary>Claimed; the gateway may be working on it, or its owner died (the recovery worker resolves it after the grace period).</summary>
    Pending = 1,

    /// <summary>The token is recorded (active, or revoked when the sweep detached it as an orphan).</summary>
    Completed = 2,

    /// <summary>Released with an unknown gateway outcome: the orphan sweep checks the gateway after the grace period.</summary>
    Failed = 3,

    /// <summary>Nothing of it is attached at the gateway (refused, or checked by the sweep). A retry may still start it again.</summary>
    Closed = 4,

    /// <summary>
    /// An orphan the sweep recorded revoked (claim completed, token revoked) and is detaching at the gateway; the sweep
    /// repeats the detach until the gateway confirms it, then marks the intent completed.
    /// </summary>
    Detaching = 5,
}

/// <summary>The texts of the intent enums.</summary>
public static class IntentTexts
{
    /// <summary>The stored state (<c>intents.state</c>): <c>pending</c>, <c>completed</c>... Never change a text.</summary>
    public static readonly EnumText<IntentState> State = new(
        "intent state",
        (IntentState.Pending, "pending"),
        (IntentState.Completed, "completed"),
        (IntentState.Failed, "failed"),
        (IntentState.Closed, "closed"),
        (IntentState.Detaching, "detaching"));
}

/// <summary>One recorded intent (no card data: the request is a keyed HMAC only).</summary>
/// <param name="IntentId">The PaymentMethod metadata value, see <see cref="IntentInfo.IntentId"/>.</param>
/// <param name="CallerId">The caller that sent the request.</param>
/// <param name="Key">The ledger's id of the caller's idempotency key (as in <see cref="IdempotencyClaim.Key"/>).</param>
/// <param name="Operation">The RPC, e.g. <c>tokenize_card</c>.</param>
/// <param name="CustomerReference">The billing service's customer identifier.</param>
/// <param name="RequestHmac">The request's keyed HMAC-SHA256 (32 bytes): lets the worker claim the key as the request would.</param>
/// <param name="State">Where it stands.</param>
/// <param name="Token">The token recorded for it, once completed.</param>
/// <param name="CreatedAt">When it was first claimed (UTC, microseconds).</param>
/// <param name="UpdatedAt">When its state last changed (UTC, microseconds).</param>
public sealed record TokenIntent(
    string IntentId,
    string CallerId,
    string Key,
    string Operation,
    string CustomerReference,
    byte[] RequestHmac,
    IntentState State,
    string? Token,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);

/// <summary>What <see cref="ITokenLedger.BeginAsync"/> found.</summary>
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

/// <summary>A token listing query. <see cref="PageSize"/> is 1-100, already validated.</summary>
public sealed record TokenQuery(
    string? CustomerReference,
    TokenStatus? Status,
    DateTimeOffset? CreatedAfter,
    DateTimeOffset? CreatedBefore,
    int PageSize,
    string? PageToken);

/// <summary>One page of tokens; <see cref="NextPageToken"/> is null on the last page.</summary>
public sealed record TokenPage(IReadOnlyList<TokenRecord> Tokens, string? NextPageToken);
