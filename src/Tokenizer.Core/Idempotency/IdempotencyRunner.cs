using Tokenizer.Core.Errors;
using Tokenizer.Core.Ports;

namespace Tokenizer.Core.Idempotency;

/// <summary>A started claim as its owner holds it: the fence of every write that ends it.</summary>
/// <param name="CallerId">The claim's caller.</param>
/// <param name="Key">The claim's (keyed) idempotency key.</param>
/// <param name="ClaimedAt">When this attempt claimed it; a completion or release counts only while it still fences the claim.</param>
public sealed record ClaimTicket(string CallerId, string Key, DateTimeOffset ClaimedAt);

/// <summary>What a run answered.</summary>
/// <param name="Answer">The work's answer, or the first request's answer read back.</param>
/// <param name="Replayed">True when the answer is the first request's (nothing ran now).</param>
/// <param name="Kept">
/// False when this attempt ran but its answer is not stored: the operation chose not to keep it (see
/// <see cref="IdempotentOperation{T}.Keep"/>), or the claim was no longer this attempt's when it ended (its lease ran
/// out and another attempt took it over; that one stores its own answer).
/// </param>
public sealed record IdempotentResult<T>(T Answer, bool Replayed, bool Kept = true);

/// <summary>How one kind of idempotent call stores, reads and ends its claims. One per operation, shared by its calls.</summary>
/// <typeparam name="T">The answer.</typeparam>
public sealed record IdempotentOperation<T>
{
    /// <summary>Reads a completed claim's stored answer (a replay). Required.</summary>
    public required Func<string?, T> ReadAnswer { get; init; }

    /// <summary>
    /// Stores the answer and completes the claim, fenced on the ticket; false when the claim is no longer the ticket's
    /// (nothing stored). Required; <see cref="IdempotentOperation.JsonAnswer{T}"/> has the usual one.
    /// </summary>
    public required Func<IClaimStore, ClaimTicket, T, CancellationToken, Task<bool>> Complete { get; init; }

    /// <summary>
    /// Whether an answer is kept for replays (default: always). An answer that is not kept releases the claim as
    /// <see cref="IntentState.Closed"/>, so the same key runs again (an unfinished erasure).
    /// </summary>
    public Func<T, bool> Keep { get; init; } = static _ => true;

    /// <summary>
    /// What a failed attempt's intent becomes when its claim is released (default <see cref="IntentState.Closed"/>;
    /// <see cref="IntentState.Failed"/> when the gateway may hold something of it). Claims without an intent ignore it.
    /// </summary>
    public Func<Exception, IntentState> ReleaseAs { get; init; } = static _ => IntentState.Closed;

    /// <summary>The error for <see cref="IdempotencyState.ResourceBusy"/> (claims with OnePerResource); default none expected.</summary>
    public Func<TokenizerException>? ResourceBusy { get; init; }

}

/// <summary>The usual parts of an <see cref="IdempotentOperation{T}"/>.</summary>
public static class IdempotentOperation
{
    /// <summary>
    /// An operation whose answer records no token: stored as JSON (System.Text.Json defaults) and completed fenced on the
    /// ticket (<see cref="IClaimStore.CompleteOwnedWithoutTokenAsync"/>); set the rest with <c>with</c>.
    /// </summary>
    public static IdempotentOperation<T> JsonAnswer<T>() => new()
    {
        ReadAnswer = json => System.Text.Json.JsonSerializer.Deserialize<T>(json ?? "null")
            ?? throw new InvalidOperationException("a completed claim without an answer"),
        Complete = (store, ticket, answer, ct) =>
            store.CompleteOwnedWithoutTokenAsync(ticket.CallerId, ticket.Key, ticket.ClaimedAt, System.Text.Json.JsonSerializer.Serialize(answer), ct),
    };
}

/// <summary>
/// The one idempotency runner: claim (caller, key), run the work, then complete the claim with the answer or release it,
/// each end fenced on the claim time, so an attempt whose lease ran out never ends another attempt's claim. The callers'
/// idempotent calls go through it (tokenisations and their SetupIntents, revokes, privacy corrections and erasures); the
/// recovery worker's claims, reconciliation runs and the webhook inbox keep their own (not yet moved).
/// </summary>
/// <remarks>
/// Claim outcomes: new → the work runs; completed with the same request → its stored answer, <c>Replayed</c>; the same
/// request still running → waits up to <paramref name="duplicateWait"/> (polling every <paramref name="pollInterval"/>)
/// for it to end, then ABORTED <see cref="ErrorReasons.IdempotencyKeyInFlight"/>; another request under the key →
/// ALREADY_EXISTS <see cref="ErrorReasons.IdempotencyKeyReused"/>; the person's erasure in progress → FAILED_PRECONDITION
/// <see cref="ErrorReasons.ErasureInProgress"/>; another key's live claim on the same resource → the operation's
/// <see cref="IdempotentOperation{T}.ResourceBusy"/> error. A failed work releases the claim (a retry with the same key
/// runs again) and rethrows; the release and the completion run uncancelled (<see cref="CancellationToken.None"/>), so a
/// cancelled call still ends its claim. Thread-safe.
/// </remarks>
public sealed class IdempotencyRunner(IClaimStore claims, TimeProvider timeProvider, TimeSpan duplicateWait, TimeSpan pollInterval)
{
    /// <summary>
    /// Runs <paramref name="work"/> under <paramref name="claim"/> (its <see cref="IdempotencyClaim.Now"/> is set at each
    /// attempt). See the class remarks for the outcomes.
    /// </summary>
    /// <exception cref="TokenizerException">ALREADY_EXISTS, ABORTED or FAILED_PRECONDITION as above; or the work's own.</exception>
    public async Task<IdempotentResult<T>> RunAsync<T>(
        IdempotencyClaim claim,
        IdempotentOperation<T> operation,
        Func<ClaimTicket, CancellationToken, Task<T>> work,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(claim);
        ArgumentNullException.ThrowIfNull(operation);
        ArgumentNullException.ThrowIfNull(work);
        var deadline = timeProvider.GetUtcNow() + duplicateWait;
        while (true)
        {
            var attempt = claim with { Now = timeProvider.GetUtcNow() };
            var outcome = await claims.ClaimAsync(attempt, cancellationToken).ConfigureAwait(false);
            switch (outcome.State)
            {
                case IdempotencyState.Started:
                    return await RunStartedAsync(new ClaimTicket(claim.CallerId, claim.Key, attempt.Now), operation, work, cancellationToken).ConfigureAwait(false);
                case IdempotencyState.Replay:
                    return new IdempotentResult<T>(operation.ReadAnswer(outcome.ResponseJson), Replayed: true);
                case IdempotencyState.Conflict:
                    throw TokenizerErrors.IdempotencyKeyReused();
                case IdempotencyState.InFlight when timeProvider.GetUtcNow() < deadline:
                    await Task.Delay(pollInterval, timeProvider, cancellationToken).ConfigureAwait(false);
                    continue;
                case IdempotencyState.InFlight:
                    throw TokenizerErrors.IdempotencyKeyInFlight();
                case IdempotencyState.ErasureInProgress:
                    throw TokenizerErrors.ErasureInProgress();
                case IdempotencyState.ResourceBusy when operation.ResourceBusy is { } busy:
                    throw busy();
                default:
                    throw new InvalidOperationException("unexpected idempotency state " + outcome.State);
            }
        }
    }

    private async Task<IdempotentResult<T>> RunStartedAsync<T>(
        ClaimTicket ticket,
        IdempotentOperation<T> operation,
        Func<ClaimTicket, CancellationToken, Task<T>> work,
        CancellationToken cancellationToken)
    {
        T answer;
        try
        {
            answer = await work(ticket, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception error)
        {
            // Nothing kept: the caller's retry with the same key runs again. Fenced: a retry that took the claim over
            // after the lease keeps it.
            await claims.ReleaseOwnedAsync(ticket.CallerId, ticket.Key, ticket.ClaimedAt, operation.ReleaseAs(error), CancellationToken.None)
                .ConfigureAwait(false);
            throw;
        }

        if (!operation.Keep(answer))
        {
            await claims.ReleaseOwnedAsync(ticket.CallerId, ticket.Key, ticket.ClaimedAt, IntentState.Closed, CancellationToken.None)
                .ConfigureAwait(false);
            return new IdempotentResult<T>(answer, Replayed: false, Kept: false);
        }

        var kept = await operation.Complete(claims, ticket, answer, CancellationToken.None).ConfigureAwait(false);
        return new IdempotentResult<T>(answer, Replayed: false, kept);
    }
}
