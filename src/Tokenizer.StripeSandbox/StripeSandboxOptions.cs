using Tokenizer.StripeSandbox.Webhooks;

namespace Tokenizer.StripeSandbox;

/// <summary>
/// Settings of the Stripe-compatible sandbox. Bound from configuration keys of the same names
/// (<c>--DataDirectory=...</c>, <c>--ApiKey=...</c>, <c>--RawCardDataEnabled=false</c>, <c>--AllowFaultHeader=true</c>,
/// <c>--RecordedRequestLimit=...</c>, <c>--urls ...</c>; <c>ControlToken</c> from <c>STRIPE_SANDBOX_ControlToken</c>).
/// </summary>
public sealed class StripeSandboxOptions
{
    /// <summary>
    /// Where state survives a restart: <c>state.json</c> (customers, PaymentMethods as Stripe shows them, SetupIntents,
    /// mandates with their customer acceptance, PaymentIntents, idempotency records as HMAC plus response body) and <c>fingerprint.key</c> (the sandbox HMAC secret).
    /// Null keeps everything in memory with a fresh secret per start.
    /// </summary>
    public string? DataDirectory { get; set; }

    /// <summary>
    /// The one secret key the sandbox accepts (<c>Authorization: Bearer sk_test_...</c>); must start with <c>sk_test_</c>.
    /// Null accepts any key that starts with <c>sk_test_</c>.
    /// </summary>
    public string? ApiKey { get; set; }

    /// <summary>
    /// Whether the account may send raw card numbers to <c>POST /v1/payment_methods</c>. False answers card creates the way
    /// Stripe does for accounts without raw card data APIs: HTTP 402 <c>invalid_request_error</c>.
    /// </summary>
    public bool RawCardDataEnabled { get; set; } = true;

    /// <summary>
    /// Turns on the HTTP control endpoints (<c>/_sandbox/faults</c>, <c>/_sandbox/requests</c>, <c>/_sandbox/webhooks/...</c>,
    /// <c>/_sandbox/payment_methods/{pm}/automatic_update</c>, <c>/_sandbox/mandates/{id}/deactivate</c>) and is the secret each of
    /// their requests must present as <c>Sandbox-Control-Token: &lt;token&gt;</c>. 32 to 256 printable ASCII characters, no
    /// spaces (e.g. <c>openssl rand -hex 32</c>). Null (the default) leaves the endpoints out (404). Pass it through the
    /// environment (<c>STRIPE_SANDBOX_ControlToken</c>), not the command line, where other local users can read it.
    /// In process, <see cref="StripeSandboxServer.Faults"/> and <see cref="StripeSandboxServer.Requests"/> need no token.
    /// </summary>
    public string? ControlToken { get; set; }

    /// <summary>
    /// Whether a request may carry its own fault in a <c>Sandbox-Fault: action[;value][;name=value]</c> header (e.g.
    /// <c>status;503</c>). False (the default) ignores the header.
    /// </summary>
    public bool AllowFaultHeader { get; set; }

    /// <summary>How many of the latest <c>/v1</c> requests <see cref="StripeSandboxServer.Requests"/> keeps (0 to 1,000,000; 0 records none). Default 10,000.</summary>
    public int RecordedRequestLimit { get; set; } = 10_000;

    /// <summary>
    /// How long a Bacs Direct Debit setup stays <c>processing</c> (its mandate <c>pending</c>) before the SetupIntent
    /// succeeds and the mandate becomes <c>active</c> (Stripe: a few business days). 0 (the default) completes it at the
    /// first retrieve after the confirmation, so tests see both states without waiting. 0 to 30 days.
    /// </summary>
    public TimeSpan BacsMandateActivationDelay { get; set; } = TimeSpan.Zero;

    /// <summary>
    /// How long an off-session bank debit PaymentIntent stays <c>processing</c> before it <c>succeeded</c> (or fails for
    /// the failing test accounts). 0 (the default) settles it at the first retrieve after the confirmation. 0 to 30 days.
    /// </summary>
    public TimeSpan DebitProcessingDelay { get; set; } = TimeSpan.Zero;

    /// <summary>
    /// Webhook endpoints the sandbox delivers its events to from the start (as if registered in Stripe's Dashboard): each a
    /// loopback <c>http://</c> or <c>https://</c> URL, a <c>whsec_</c> signing secret and the event types it receives.
    /// More can be added with Stripe's <c>POST /v1/webhook_endpoints</c> or <see cref="StripeSandboxServer.Webhooks"/>.
    /// Bound as <c>WebhookEndpoints:0:Url</c>, <c>WebhookEndpoints:0:Secret</c> (pass secrets through the environment,
    /// <c>STRIPE_SANDBOX_WebhookEndpoints__0__Secret</c>, not the command line), <c>WebhookEndpoints:0:EnabledEvents:0</c>.
    /// </summary>
    public IList<SandboxWebhookEndpoint> WebhookEndpoints { get; set; } = [];

    /// <summary>
    /// A PEM file of the CA certificate(s) the sandbox trusts, instead of the system's roots, for <c>https://</c> webhook
    /// deliveries (the Tokenizer's development CA). Null (the default): the system trust store. The host name is checked either way.
    /// </summary>
    public string? WebhookTrustedCaPath { get; set; }

    /// <summary>
    /// Delivery attempts per event and endpoint, the first included (1 to 10). Default 4: Stripe's test mode retries three
    /// times (live mode for up to three days).
    /// </summary>
    public int WebhookMaxAttempts { get; set; } = 4;

    /// <summary>
    /// The wait before the first retry of a failed delivery; each further retry waits twice as long as the one before
    /// (1 ms to 1 day; default 1 minute, so retries come 1, 2 and 4 minutes after the failures). Tests make it short.
    /// </summary>
    public TimeSpan WebhookRetryBaseDelay { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How long one delivery attempt may take before it counts as failed (100 ms to 5 minutes; default 10 s).</summary>
    public TimeSpan WebhookTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Kestrel listen URLs, separated by ';'. Loopback hosts only (127.0.0.1, [::1], localhost); port 0 picks a free port.</summary>
    public string Urls { get; set; } = "http://127.0.0.1:0";

    /// <summary>
    /// Replaces the sandbox's console logging (simple, one line per entry) when set; the embedded sandbox passes the
    /// host's own logging setup so one sink, with its redaction and scrubbing, covers the whole process.
    /// Not bound from configuration.
    /// </summary>
    public Action<ILoggingBuilder>? ConfigureLogging { get; set; }

    /// <summary>
    /// True when another host in this process owns its lifetime (the Tokenizer server's embedded sandbox): the sandbox
    /// does not react to Ctrl+C or SIGTERM itself (which would end its held requests and latency faults while the
    /// owner is still draining calls) and stops only when disposed. False (standalone) stops on those signals.
    /// Not bound from configuration.
    /// </summary>
    public bool HostedInProcess { get; set; }

    /// <summary>The clock for <c>created</c> timestamps, expiry checks and idempotency retention (tests substitute it).</summary>
    internal TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>
    /// Test hook: awaited after an idempotent request has been registered as in flight and before it executes,
    /// so a test can hold one request open while it sends another with the same key.
    /// </summary>
    internal Func<CancellationToken, Task>? BeforeExecuteAsync { get; set; }
}
