using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Stripe;
using Tokenizer.Core.Redaction;
using Tokenizer.Ledger.Webhooks;

namespace Tokenizer.Server.Webhooks;

/// <summary>
/// <c>POST /stripe/webhook</c>: checks a Stripe delivery and puts it into the inbox. In this order: the body's size
/// (64 KiB, read no further), the <c>Stripe-Signature</c> header against every configured secret with Stripe.net's
/// <see cref="EventUtility.ValidateSignature(string, string, string, long, long)"/> (300 s tolerance) before anything of
/// the body is parsed, then the event's id, type, creation time and object id, and that none of them holds card data
/// (<see cref="HoldsCardData"/>), and that its <c>created</c> is at most <see cref="MaxClockAhead"/> ahead of the
/// server's clock. Refusals answer 400 (counted, audited in aggregate, nothing stored); an unhandled type or a known id answers 200 and stores nothing; a new event answers
/// 200 only once its inbox row has committed (a database failure answers 503, so Stripe retries).
/// </summary>
/// <remarks>The body is never logged, and nothing of it is kept beyond the four fields the inbox holds.</remarks>
internal sealed partial class WebhookReceiver(
    WebhookSecrets secrets,
    RelationalWebhookStore store,
    WebhookRefusalAudit refusals,
    WebhookMetrics metrics,
    WebhookSignal signal,
    WebhookRateLimits limits,
    TimeProvider timeProvider,
    ILogger<WebhookReceiver> logger)
{
    /// <summary>The path Stripe posts to.</summary>
    public const string Path = "/stripe/webhook";

    /// <summary>Stripe's default tolerance for the signed timestamp, in seconds.</summary>
    public const long ToleranceSeconds = 300;

    /// <summary>The longest run of ASCII digits a Stripe id may hold: Stripe's ids are random base62, so a longer run is an account number.</summary>
    public const int MaxDigitRun = 7;

    /// <summary>How far ahead of the server's clock an event's <c>created</c> may lie (the signature's tolerance).</summary>
    public static readonly TimeSpan MaxClockAhead = TimeSpan.FromSeconds(ToleranceSeconds);

    public async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var address = context.Connection.RemoteIpAddress?.ToString();
        if (request.ContentLength > WebhookOptions.MaxBodyBytes)
        {
            await RefuseAsync(context, WebhookReasons.Oversize, address);
            return;
        }

        string? body;
        try
        {
            body = await ReadBodyAsync(request, context.RequestAborted);
        }
        catch (BadHttpRequestException)
        {
            // Kestrel's own body limit (a chunked body has no Content-Length to refuse up front): the caller's mistake,
            // answered like any oversize body, never as an unhandled exception.
            body = null;
        }

        if (body is null)
        {
            await RefuseAsync(context, WebhookReasons.Oversize, address);
            return;
        }

        var header = request.Headers["Stripe-Signature"].ToString();
        if (string.IsNullOrWhiteSpace(header))
        {
            await RefuseAsync(context, WebhookReasons.MissingSignature, address);
            return;
        }

        var json = body;
        var now = timeProvider.GetUtcNow().ToUnixTimeSeconds();
        if (!IsSigned(json, header, now))
        {
            await RefuseAsync(context, IsStale(header, now) ? WebhookReasons.StaleTimestamp : WebhookReasons.BadSignature, address);
            return;
        }

        // Signed: only now is the shared bucket charged (junk never empties it), and the body parsed, only for the fields
        // the inbox keeps.
        using (var lease = limits.Signed.AttemptAcquire())
        {
            if (!lease.IsAcquired)
            {
                metrics.Received("refused", WebhookReasons.RateLimited);
                refusals.Add(WebhookReasons.RateLimited, address);
                context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                return;
            }
        }

        // Signed by Stripe: only now is the body parsed, and only for the fields the inbox keeps.
        if (Parse(json) is not { } webhookEvent)
        {
            await RefuseAsync(context, WebhookReasons.Malformed, address);
            return;
        }

        // Stripe stamps created itself when the event happens: one far ahead of our clock was not made by Stripe, and
        // would otherwise push the catch-up's position (the newest created seen) past every event still to come.
        if (webhookEvent.Created > timeProvider.GetUtcNow() + MaxClockAhead)
        {
            await RefuseAsync(context, WebhookReasons.CreatedInFuture, address);
            return;
        }

        // Stripe makes its ids itself and none holds a card number: one that does was not made by Stripe, and storing it
        // would put a PAN into the inbox and the token event log. Refused like any malformed event, before any write.
        if (HoldsCardData(webhookEvent))
        {
            await RefuseAsync(context, WebhookReasons.CardData, address);
            return;
        }

        if (!WebhookEventTypes.IsHandled(webhookEvent.Type))
        {
            metrics.Received("ignored", WebhookReasons.UnknownType);
            context.Response.StatusCode = StatusCodes.Status200OK;
            return;
        }

        try
        {
            // A replay of a known id is acknowledged without a write: the ledger stays byte for byte as it was.
            if (await store.ContainsAsync(webhookEvent.EventId, context.RequestAborted)
                || !await store.AddAsync(webhookEvent, WebhookSource.Delivery, timeProvider.GetUtcNow(), context.RequestAborted))
            {
                metrics.Received("replayed", WebhookReasons.Replayed);
                context.Response.StatusCode = StatusCodes.Status200OK;
                return;
            }
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            LogInboxUnavailable(logger, error.GetType().Name);
            metrics.Received("failed", "INBOX_UNAVAILABLE");
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            return;
        }

        metrics.Received("accepted", WebhookReasons.None);
        signal.Wake();
        context.Response.StatusCode = StatusCodes.Status200OK;
    }

    /// <summary>The body as text, or null when it exceeds <see cref="WebhookOptions.MaxBodyBytes"/> (reading stops there).</summary>
    private static async Task<string?> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(WebhookOptions.MaxBodyBytes + 1);
        try
        {
            var total = 0;
            while (true)
            {
                var read = await request.Body.ReadAsync(buffer.AsMemory(total, WebhookOptions.MaxBodyBytes + 1 - total), cancellationToken);
                if (read == 0)
                {
                    break;
                }

                total += read;
                if (total > WebhookOptions.MaxBodyBytes)
                {
                    return null;
                }
            }

            // Invalid UTF-8 becomes replacement characters, so such a body can never match its signature.
            return Encoding.UTF8.GetString(buffer, 0, total);
        }
        finally
        {
            // Billing details must not linger in a pooled buffer.
            Array.Clear(buffer);
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private bool IsSigned(string json, string header, long now)
    {
        IReadOnlyList<string> accepted;
        try
        {
            accepted = secrets.Current;
        }
        catch (InvalidOperationException)
        {
            return false;
        }

        foreach (var secret in accepted)
        {
            try
            {
                EventUtility.ValidateSignature(json, header, secret, ToleranceSeconds, now);
                return true;
            }
            catch (StripeException)
            {
                // Try the next secret (rotation); Stripe.net's message is not logged: it may name the header's content.
            }
        }

        return false;
    }

    /// <summary>For the refusal's reason only (the verdict is Stripe.net's): the header's t= is further than the tolerance from now.</summary>
    private static bool IsStale(string header, long now)
    {
        foreach (var part in header.Split(','))
        {
            var item = part.Trim();
            if (item.StartsWith("t=", StringComparison.Ordinal)
                && long.TryParse(item.AsSpan(2), NumberStyles.None, CultureInfo.InvariantCulture, out var timestamp))
            {
                return Math.Abs(now - timestamp) > ToleranceSeconds;
            }
        }

        return false;
    }

    /// <summary>
    /// The event's id (<c>evt_...</c>), type, created (unix seconds) and <c>data.object.id</c>, or null when the body is not
    /// a JSON object with those. Nothing else is read.
    /// </summary>
    internal static WebhookEvent? Parse(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 64 });
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("id", out var id) || id.ValueKind != JsonValueKind.String
                || !root.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String
                || !root.TryGetProperty("created", out var created) || created.ValueKind != JsonValueKind.Number || !created.TryGetInt64(out var createdSeconds)
                || createdSeconds is < 0 or > 253402300799)
            {
                return null;
            }

            var eventId = id.GetString()!;
            var eventType = type.GetString()!;
            if (!IsId(eventId, "evt_") || eventType.Length is 0 or > 100 || !eventType.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '.' or '_'))
            {
                return null;
            }

            string? objectId = null;
            if (root.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Object
                && data.TryGetProperty("object", out var dataObject) && dataObject.ValueKind == JsonValueKind.Object
                && dataObject.TryGetProperty("id", out var objectIdElement) && objectIdElement.ValueKind == JsonValueKind.String)
            {
                objectId = objectIdElement.GetString();
                if (!IsId(objectId, null))
                {
                    return null;
                }
            }

            return new WebhookEvent(eventId, eventType, DateTimeOffset.FromUnixTimeSeconds(createdSeconds), objectId);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// True when the event's id, type or object id holds what the one detector reads as card or bank data under its
    /// validation preset (<see cref="SensitiveDataDetector.FindCardOrBankNumber"/>: what every caller input goes through,
    /// with no exempt shapes: these ids come from outside, and a Luhn-valid run that also reads as a timestamp is still a
    /// possible PAN). Such an event is refused before anything of it is stored, on the delivery path and on the catch-up
    /// path alike. Also true for a run of more than <see cref="MaxDigitRun"/> ASCII digits (an account number without a check
    /// digit, such as <c>mandate_000123456789</c>): Stripe's own ids (a prefix and about 24 random letters and digits) hold
    /// one about once in 10^5 (measured by a property test).
    /// </summary>
    internal static bool HoldsCardData(WebhookEvent webhookEvent)
    {
        ArgumentNullException.ThrowIfNull(webhookEvent);
        return Holds(webhookEvent.EventId) || Holds(webhookEvent.Type) || Holds(webhookEvent.ObjectId);

        static bool Holds(string? text) =>
            !string.IsNullOrEmpty(text) && (SensitiveDataDetector.FindCardOrBankNumber(text) is not null || LongestDigitRun(text) > MaxDigitRun);
    }

    /// <summary>
    /// The longest run of consecutive ASCII digits in <paramref name="text"/>. A bank account number has no check digit
    /// the detector could test, so a long run of digits is refused by its length: a random base62 id of 24 characters
    /// holds 8 digits in a row about once in 10^5 (the ids' property test measures it).
    /// </summary>
    internal static int LongestDigitRun(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int longest = 0, run = 0;
        foreach (var c in text)
        {
            run = char.IsAsciiDigit(c) ? run + 1 : 0;
            longest = Math.Max(longest, run);
        }

        return longest;
    }

    private static bool IsId(string? value, string? prefix) =>
        value is { Length: > 0 and <= 255 }
        && (prefix is null || value.StartsWith(prefix, StringComparison.Ordinal))
        && value.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');

    private Task RefuseAsync(HttpContext context, string reason, string? address)
    {
        metrics.Received("refused", reason);
        refusals.Add(reason, address);
        context.Response.StatusCode = StatusCodes.Status400BadRequest;
        return Task.CompletedTask;
    }

    [LoggerMessage(EventId = 7101, EventName = "WebhookInboxUnavailable", Level = LogLevel.Error,
        Message = "A Stripe webhook delivery could not be stored in the inbox ({ExceptionType}); answered 503 so Stripe retries")]
    private static partial void LogInboxUnavailable(ILogger logger, string exceptionType);
}

/// <summary>Wakes the inbox worker when a delivery was stored, so it need not wait for its next poll.</summary>
internal sealed class WebhookSignal : IDisposable
{
    private readonly SemaphoreSlim semaphore = new(0, 1);

    public void Wake()
    {
        try
        {
            if (semaphore.CurrentCount == 0)
            {
                semaphore.Release();
            }
        }
        catch (SemaphoreFullException)
        {
            // Already awake.
        }
    }

    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => semaphore.WaitAsync(timeout, cancellationToken);

    public void Dispose() => semaphore.Dispose();
}
