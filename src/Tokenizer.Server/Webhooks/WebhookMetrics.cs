using System.Diagnostics.Metrics;
using Tokenizer.Core.Telemetry;

namespace Tokenizer.Server.Webhooks;

/// <summary>
/// The webhook instruments, on the service's meter (<see cref="TokenizerMetrics.MeterName"/>): deliveries received by
/// outcome and reason, events processed by type and result. Tags come from fixed vocabularies only (an event type
/// outside <see cref="WebhookEventTypes.Handled"/> is <c>other</c>).
/// </summary>
internal sealed class WebhookMetrics
{
    private readonly Counter<long> received;
    private readonly Counter<long> processed;
    private readonly Counter<long> catchUpRefused;
    private long failing;

    public WebhookMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(TokenizerMetrics.MeterName);
        received = meter.CreateCounter<long>("tokenizer.webhook.received", "{delivery}", "Stripe webhook deliveries, by outcome (accepted, replayed, ignored, refused) and reason");
        processed = meter.CreateCounter<long>("tokenizer.webhook.processed", "{event}", "Stripe events processed from the inbox, by type and result (processed, ignored, failed)");
        catchUpRefused = meter.CreateCounter<long>("tokenizer.webhook.catchup.refused", "{event}", "Events listed by the catch-up (Stripe API GET /v1/events) and not stored, by reason");
        meter.CreateObservableGauge("tokenizer.webhook.inbox.failing", () => Interlocked.Read(ref failing), "{event}", "Pending Stripe events that failed at least Tokenizer:Webhooks:AlertAfterAttempts times (alert when above 0)");
    }

    /// <summary>Sets the <c>tokenizer.webhook.inbox.failing</c> gauge, as this replica last counted the inbox.</summary>
    public void Failing(long count) => Interlocked.Exchange(ref failing, count);

    public void Received(string outcome, string reason) =>
        received.Add(1, new KeyValuePair<string, object?>("outcome", outcome), new KeyValuePair<string, object?>("reason", reason));

    /// <summary>Counts an event the catch-up listed and refused to store (<paramref name="reason"/>: a WebhookReasons code).</summary>
    public void CatchUpRefused(string reason) =>
        catchUpRefused.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void Processed(string type, string result) =>
        processed.Add(1, new KeyValuePair<string, object?>("type", WebhookEventTypes.IsHandled(type) ? type : "other"), new KeyValuePair<string, object?>("result", result));
}

/// <summary>The Stripe event types Tokenizer processes; every other type is acknowledged and ignored.</summary>
internal static class WebhookEventTypes
{
    public const string SetupIntentSucceeded = "setup_intent.succeeded";
    public const string SetupIntentSetupFailed = "setup_intent.setup_failed";
    public const string SetupIntentRequiresAction = "setup_intent.requires_action";
    public const string SetupIntentCanceled = "setup_intent.canceled";
    public const string MandateUpdated = "mandate.updated";
    public const string PaymentMethodAutomaticallyUpdated = "payment_method.automatically_updated";
    public const string PaymentMethodUpdated = "payment_method.updated";
    public const string PaymentMethodDetached = "payment_method.detached";
    public const string CustomerDeleted = "customer.deleted";

    /// <summary>The events to select when registering the endpoint with Stripe.</summary>
    public static IReadOnlyList<string> Handled { get; } =
    [
        SetupIntentSucceeded, SetupIntentSetupFailed, SetupIntentRequiresAction, SetupIntentCanceled, MandateUpdated,
        PaymentMethodAutomaticallyUpdated, PaymentMethodUpdated, PaymentMethodDetached, CustomerDeleted,
    ];

    public static bool IsHandled(string? type) => type is not null && Handled.Contains(type, StringComparer.Ordinal);
}

/// <summary>Why a delivery was refused or not stored: the <c>reason</c> tag and the aggregated audit record's reason.</summary>
internal static class WebhookReasons
{
    public const string MissingSignature = "WEBHOOK_SIGNATURE_MISSING";
    public const string BadSignature = "WEBHOOK_SIGNATURE_INVALID";
    public const string StaleTimestamp = "WEBHOOK_TIMESTAMP_STALE";
    public const string Oversize = "WEBHOOK_BODY_TOO_LARGE";
    public const string Malformed = "WEBHOOK_MALFORMED";

    /// <summary>A signed event whose <c>created</c> lies more than the signature tolerance ahead of the server's clock.</summary>
    public const string CreatedInFuture = "WEBHOOK_CREATED_IN_FUTURE";

    /// <summary>A signed event (or one listed by GET /v1/events) whose id, type or object id holds card data.</summary>
    public const string CardData = "WEBHOOK_CARD_DATA";
    public const string RateLimited = "RATE_LIMITED";
    public const string UnknownType = "unknown_type";
    public const string Replayed = "replayed";
    public const string None = "none";
}
