using System.Buffers;
using System.Buffers.Binary;
using System.Buffers.Text;
using Tokenizer.Core.Errors;
using Tokenizer.Core.Ports;
using Tokenizer.Core.Tokenization;

namespace Tokenizer.Core.Events;

/// <summary>One page of token events and where the next one starts.</summary>
/// <param name="Events">The events, in log order; empty when there is nothing after the cursor yet.</param>
/// <param name="NextCursor">
/// The cursor to ask with next: the last event's, or the request's own when the page is empty (so a poller keeps its
/// place). Empty only when the log had nothing for the caller and the request started at the beginning.
/// </param>
public sealed record TokenEventPage(IReadOnlyList<TokenEvent> Events, string NextCursor);

/// <summary>
/// The billing service's view of the token event log (ListTokenEvents, WatchTokenEvents): validates the cursor and page
/// size, scopes the read to the caller's own tokens (the finance role reads every caller's) and encodes cursors.
/// Throws <see cref="TokenizerException"/> only, naming the field and rule, never the value. Thread-safe.
/// </summary>
public sealed class TokenEventFeed(ITokenEventReader reader)
{
    /// <summary>Events per page when the request asks for 0.</summary>
    public const int DefaultPageSize = 100;

    /// <summary>The largest page a request may ask for.</summary>
    public const int MaxPageSize = 500;

    /// <summary>
    /// The cursor of position 0, before the first event: the same as an empty <c>after</c> (from the oldest event kept).
    /// Accepted because it is what a reader of the cursor format writes for "from the start"; never handed out.
    /// </summary>
    public const string StartCursor = "AQAAAAAAAAAA";

    /// <summary>Reads the page after <paramref name="after"/> (empty or <see cref="StartCursor"/>: the oldest event still retained).</summary>
    /// <param name="caller">The authenticated caller; the finance role sees every caller's events, others only their own tokens'.</param>
    /// <param name="after">An opaque cursor from an earlier page or event, <see cref="StartCursor"/>, or empty.</param>
    /// <param name="pageSize">0 (the default, <see cref="DefaultPageSize"/>) or 1 to <see cref="MaxPageSize"/>.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <exception cref="TokenizerException">INVALID_ARGUMENT: <c>after</c> malformed or <c>page_size</c> out of range.</exception>
    public async Task<TokenEventPage> ReadAsync(CallerContext caller, string? after, int pageSize, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var violations = new List<FieldViolation>();
        var position = TryDecode(after, violations);
        if (pageSize is < 0 or > MaxPageSize)
        {
            violations.Add(new("page_size", "must be between 0 and 500"));
        }

        if (violations.Count > 0)
        {
            throw TokenizerErrors.Invalid(violations);
        }

        return await ReadPositionAsync(caller, position, pageSize == 0 ? DefaultPageSize : pageSize, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The position in <paramref name="after"/> (0 for empty or <see cref="StartCursor"/>), validated as <see cref="ReadAsync"/> does.</summary>
    /// <exception cref="TokenizerException">INVALID_ARGUMENT: <c>after</c> malformed.</exception>
    public static long DecodeAfter(string? after)
    {
        var violations = new List<FieldViolation>();
        var position = TryDecode(after, violations);
        return violations.Count > 0 ? throw TokenizerErrors.Invalid(violations) : position;
    }

    /// <summary>The page after the decoded position <paramref name="after"/>: what a watcher polls with.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="after"/> is negative or <paramref name="pageSize"/> out of range.</exception>
    public async Task<TokenEventPage> ReadPositionAsync(CallerContext caller, long after, int pageSize, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentOutOfRangeException.ThrowIfNegative(after);
        ArgumentOutOfRangeException.ThrowIfLessThan(pageSize, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(pageSize, MaxPageSize);

        // The scope comes from the caller's identity, never from the request: a cursor only positions.
        var scope = caller.CanReadAllTokens ? null : caller.CallerId;
        var events = await reader.ReadAfterAsync(after, scope, pageSize, cancellationToken).ConfigureAwait(false);
        var next = events.Count > 0 ? events[^1].Sequence : after;
        return new TokenEventPage(events, next == 0 ? string.Empty : EncodeCursor(next));
    }

    /// <summary>
    /// The opaque cursor of a position: unpadded base64url of <c>[version = 1][sequence: int64 big-endian]</c>. It only
    /// positions (the scope always comes from the caller), so an edited cursor can skip or repeat the caller's own events
    /// but never show another caller's.
    /// </summary>
    public static string EncodeCursor(long sequence)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sequence);
        return Format(sequence);
    }

    private static string Format(long sequence)
    {
        Span<byte> payload = stackalloc byte[9];
        payload[0] = 1;
        BinaryPrimitives.WriteInt64BigEndian(payload[1..], sequence);
        return Base64Url.EncodeToString(payload);
    }

    private static long TryDecode(string? after, List<FieldViolation> violations)
    {
        if (string.IsNullOrEmpty(after))
        {
            return 0;
        }

        Span<byte> payload = stackalloc byte[9];
        if (after.Length != 12
            || Base64Url.DecodeFromChars(after, payload, out var consumed, out var written) != OperationStatus.Done
            || consumed != after.Length
            || written != 9
            || payload[0] != 1
            || BinaryPrimitives.ReadInt64BigEndian(payload[1..]) is var sequence && sequence < 0
            || !string.Equals(Format(sequence), after, StringComparison.Ordinal))
        {
            violations.Add(new("after", "malformed"));
            return 0;
        }

        return sequence;
    }
}
