using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Tokenizer.Core.Errors;
using Tokenizer.Core.Events;
using Tokenizer.Core.Ports;
using Tokenizer.Core.Tokenization;

namespace Tokenizer.Server.Events;

/// <summary>
/// Serves one WatchTokenEvents stream: reads a page after the cursor, writes it, moves the cursor to the last event
/// written, and once caught up polls again every <see cref="TokenEventOptions.WatchPollIntervalMilliseconds"/>. At most
/// one page is in memory; nothing is buffered per watcher between polls, so a slow reader only slows its own stream
/// (the write waits for HTTP/2 flow control). Thread-safe; one instance serves every stream.
/// </summary>
/// <remarks>
/// Ends with the caller's cancellation (CANCELLED, as every call), and when the host starts stopping with UNAVAILABLE
/// <see cref="ErrorReasons.ShuttingDown"/>, so streams never hold a shutdown up and clients reconnect (to any replica)
/// with the cursor of the last event they got. A caller may hold <see cref="TokenEventOptions.MaxWatchesPerCaller"/>
/// streams per replica; one more is RESOURCE_EXHAUSTED <see cref="ErrorReasons.TooManyWatches"/>.
/// </remarks>
internal sealed class TokenEventWatch(
    TokenEventFeed feed,
    IOptions<TokenEventOptions> options,
    IHostApplicationLifetime lifetime,
    TimeProvider timeProvider)
{
    /// <summary>Events per read: the most a stream holds in memory.</summary>
    public const int PageSize = 100;

    private readonly ConcurrentDictionary<string, int> open = new(StringComparer.Ordinal);

    /// <summary>Streams open now, per caller id (for tests and diagnostics).</summary>
    public int OpenFor(string callerId) => open.TryGetValue(callerId, out var count) ? count : 0;

    /// <summary>Streams <paramref name="caller"/>'s events after <paramref name="after"/> through <paramref name="write"/> until cancelled.</summary>
    /// <exception cref="TokenizerException">
    /// INVALID_ARGUMENT (<c>after</c> malformed), RESOURCE_EXHAUSTED (too many streams), UNAVAILABLE (shutting down).
    /// </exception>
    /// <exception cref="OperationCanceledException"><paramref name="callCancelled"/> fired (the client went away).</exception>
    public async Task RunAsync(CallerContext caller, string? after, Func<TokenEvent, CancellationToken, Task> write, CancellationToken callCancelled)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(write);
        var position = TokenEventFeed.DecodeAfter(after);
        if (!TryEnter(caller.CallerId))
        {
            throw new TokenizerException(
                ErrorKind.ResourceExhausted,
                ErrorReasons.TooManyWatches,
                "too many WatchTokenEvents streams for this caller; close one first");
        }

        try
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(callCancelled, lifetime.ApplicationStopping);
            var interval = TimeSpan.FromMilliseconds(options.Value.WatchPollIntervalMilliseconds);
            while (true)
            {
                var page = await feed.ReadPositionAsync(caller, position, PageSize, stop.Token).ConfigureAwait(false);
                foreach (var item in page.Events)
                {
                    await write(item, stop.Token).ConfigureAwait(false);
                    position = item.Sequence;
                }

                if (page.Events.Count < PageSize)
                {
                    await Task.Delay(interval, timeProvider, stop.Token).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (!callCancelled.IsCancellationRequested && lifetime.ApplicationStopping.IsCancellationRequested)
        {
            throw new TokenizerException(
                ErrorKind.Unavailable,
                ErrorReasons.ShuttingDown,
                "the server is shutting down; reconnect with the last cursor");
        }
        finally
        {
            Leave(caller.CallerId);
        }
    }

    private bool TryEnter(string callerId)
    {
        var limit = options.Value.MaxWatchesPerCaller;
        while (true)
        {
            var current = open.GetOrAdd(callerId, 0);
            if (current >= limit)
            {
                return false;
            }

            if (open.TryUpdate(callerId, current + 1, current))
            {
                return true;
            }
        }
    }

    private void Leave(string callerId)
    {
        while (true)
        {
            var current = open[callerId];
            if (current <= 1 ? open.TryRemove(new KeyValuePair<string, int>(callerId, current)) : open.TryUpdate(callerId, current - 1, current))
            {
                return;
            }
        }
    }
}
