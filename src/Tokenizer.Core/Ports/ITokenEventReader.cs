namespace Tokenizer.Core.Ports;

/// <summary>One stored token event (ledger table <c>token_events</c>).</summary>
/// <param name="Sequence">
/// The event's position in the log, from 1, strictly increasing in commit order across every replica (gaps allowed):
/// everything after a position a reader has seen is yet to come, never behind it.
/// </param>
/// <param name="Token">The token the event is about.</param>
/// <param name="CallerId">The caller that owns the token.</param>
/// <param name="Kind">What happened.</param>
/// <param name="SourceId">The Stripe event id, or "revoke:" + token.</param>
/// <param name="OccurredAt">When it happened at the source, UTC, microsecond precision.</param>
/// <param name="RecordedAt">When the ledger recorded it, UTC, microsecond precision (retention counts from here).</param>
/// <param name="Card">The masked card fields of a <see cref="TokenEventKind.CardUpdated"/> event; null otherwise.</param>
public sealed record TokenEvent(
    long Sequence,
    string Token,
    string CallerId,
    TokenEventKind Kind,
    string SourceId,
    DateTimeOffset OccurredAt,
    DateTimeOffset RecordedAt,
    CardUpdate? Card);

/// <summary>
/// The read side of the token event log: pages in sequence order after a position, scoped to one caller or all, and
/// the retention purge. Thread-safe.
/// </summary>
public interface ITokenEventReader
{
    /// <summary>
    /// Up to <paramref name="limit"/> events with a sequence above <paramref name="after"/>, in sequence order; only
    /// those of <paramref name="callerId"/> unless it is null (all callers). A reader that keeps the last sequence it was
    /// given and asks again never misses an event and never sees one twice (while the event is retained).
    /// </summary>
    /// <param name="after">0 for the start, else a sequence returned earlier; not negative.</param>
    /// <param name="callerId">The owning caller to scope to, or null for every caller's events.</param>
    /// <param name="limit">1 to 1000 events.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="after"/> is negative or <paramref name="limit"/> out of range.</exception>
    Task<IReadOnlyList<TokenEvent>> ReadAfterAsync(long after, string? callerId, int limit, CancellationToken cancellationToken);

    /// <summary>Deletes the events recorded before <paramref name="recordedBefore"/>; returns how many.</summary>
    Task<int> PurgeRecordedBeforeAsync(DateTimeOffset recordedBefore, CancellationToken cancellationToken);
}
