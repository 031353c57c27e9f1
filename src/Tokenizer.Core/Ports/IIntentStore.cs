using Tokenizer.Core.Domain;

namespace Tokenizer.Core.Ports;

/// <summary>
/// The intents of requests that create something at the gateway (ledger table <c>intents</c>), as the recovery worker
/// and the orphan sweep work through them. An intent is recorded and moved with its claim (<see cref="IClaimStore"/>);
/// these are the moves made without one.
/// </summary>
public interface IIntentStore
{
    /// <summary>
    /// Intents in <paramref name="state"/> last changed before <paramref name="updatedBefore"/>, oldest change first, at
    /// most <paramref name="limit"/> (1-1000). What the recovery worker and the orphan sweep work through.
    /// </summary>
    Task<IReadOnlyList<TokenIntent>> ListIntentsAsync(
        IntentState state,
        DateTimeOffset updatedBefore,
        int limit,
        CancellationToken cancellationToken);

    /// <summary>
    /// For an intent the recovery worker could not claim: with <paramref name="completedToken"/> (its request turned out
    /// completed), marks a pending or failed intent Completed with that token; without, only moves its updated_at to now,
    /// so the intent goes to the back of the worker's queue instead of blocking the front. Other states: nothing.
    /// </summary>
    Task SettleUnclaimedAsync(string callerId, string key, string? completedToken, CancellationToken cancellationToken);

    /// <summary>Marks a Detaching intent Completed once the gateway has confirmed the detach. Other states: nothing.</summary>
    Task ConfirmDetachedAsync(string callerId, string key, CancellationToken cancellationToken);
}

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
