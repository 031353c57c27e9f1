namespace Tokenizer.StripeSandbox.Webhooks;

/// <summary>A webhook endpoint given at start (<see cref="StripeSandboxOptions.WebhookEndpoints"/>).</summary>
public sealed class SandboxWebhookEndpoint
{
    /// <summary>Where events are POSTed: an absolute <c>http://</c> or <c>https://</c> URL on a loopback host (127.0.0.1, [::1], localhost).</summary>
    public string Url { get; set; } = string.Empty;

    /// <summary>The signing secret, <c>whsec_</c> followed by 16 to 250 printable ASCII characters without spaces. Never logged.</summary>
    public string Secret { get; set; } = string.Empty;

    /// <summary>The event types delivered (<c>setup_intent.succeeded</c>, ...), or <c>*</c> for all (the default).</summary>
    public IList<string> EnabledEvents { get; set; } = ["*"];
}

/// <summary>What happens to a new event (<c>POST /_sandbox/webhooks/mode</c>).</summary>
public enum SandboxWebhookMode
{
    /// <summary>Delivered at once, in creation order per endpoint; failures are retried with back-off.</summary>
    Deliver,

    /// <summary>Never delivered (still listed by <c>GET /v1/events</c>, with <c>pending_webhooks</c> left as it was): a lost delivery.</summary>
    Drop,

    /// <summary>Queued until <see cref="SandboxWebhooks.Release"/>.</summary>
    Hold,
}

/// <summary>The order <see cref="SandboxWebhooks.Release"/> delivers held events in.</summary>
public enum SandboxReleaseOrder
{
    /// <summary>Oldest first, as they were created.</summary>
    Created,

    /// <summary>Newest first: the opposite of creation order.</summary>
    Reverse,
}

/// <summary>One delivery attempt, or one event dropped for one endpoint (<c>GET /_sandbox/webhooks/deliveries</c>).</summary>
/// <param name="Sequence">Order of recording, from 1.</param>
/// <param name="Time">When the attempt ended (the sandbox's clock).</param>
/// <param name="EventId">The event's <c>evt_</c> id.</param>
/// <param name="EventType">Its type.</param>
/// <param name="EndpointId">The endpoint's <c>we_</c> id.</param>
/// <param name="Url">The endpoint's URL.</param>
/// <param name="Attempt">1 for the first attempt, 2 for the first retry...; 0 for a dropped event.</param>
/// <param name="Status">The HTTP status answered, or null (no answer, or dropped).</param>
/// <param name="Outcome"><c>succeeded</c> (2xx), <c>failed</c> or <c>dropped</c>.</param>
/// <param name="Error">Why an attempt without a status failed: <c>timeout</c>, <c>tls</c> or <c>connection</c>; else null.</param>
public sealed record SandboxWebhookDelivery(
    long Sequence, DateTimeOffset Time, string EventId, string EventType, string EndpointId, string Url, int Attempt, int? Status, string Outcome, string? Error);

/// <summary>The wire names of <see cref="SandboxWebhookMode"/>: deliver, drop, hold.</summary>
internal static class WebhookModes
{
    public static SandboxWebhookMode? Parse(string? name) => name switch
    {
        "deliver" => SandboxWebhookMode.Deliver,
        "drop" => SandboxWebhookMode.Drop,
        "hold" => SandboxWebhookMode.Hold,
        _ => null,
    };

    public static string Name(SandboxWebhookMode mode) => mode switch
    {
        SandboxWebhookMode.Drop => "drop",
        SandboxWebhookMode.Hold => "hold",
        _ => "deliver",
    };
}
