using Microsoft.Extensions.Options;

namespace Tokenizer.Server.Webhooks;

/// <summary>
/// Configuration section <c>Tokenizer:Webhooks</c>: the Stripe webhook listener (<c>POST /stripe/webhook</c> on a
/// listener of its own), its inbox worker and the catch-up from Stripe's event list.
/// </summary>
public sealed class WebhookOptions
{
    /// <summary>The configuration section name.</summary>
    public const string Section = "Tokenizer:Webhooks";

    /// <summary>The largest body accepted, in bytes (64 KiB); larger ones get 400 unread.</summary>
    public const int MaxBodyBytes = 64 * 1024;

    /// <summary>
    /// <c>;</c>-separated <c>https://</c> addresses of the listener (port 0 for an ephemeral one), e.g.
    /// <c>https://0.0.0.0:8443</c>. Empty (default): no listener, inbox worker or catch-up.
    /// </summary>
    public string? Urls { get; set; }

    /// <summary>
    /// The endpoint's signing secrets (<c>whsec_...</c>): the current one and, during a rotation, the previous one. Secret:
    /// from a configuration file, the environment or Key Vault (<c>KeyVault:StripeWebhookSecretNames</c>), never the
    /// command line. Empty in Development and embedded-sandbox mode: one is generated into
    /// <c>{DataDirectory}/secrets/stripe-webhook.secret</c>.
    /// </summary>
    public List<string> Secrets { get; set; } = [];

    /// <summary>
    /// Sustained requests per second the listener accepts from one peer (its IPv4 address or IPv6 /64), and signed
    /// deliveries per second from all peers together (two token buckets, see WebhookRateLimits). Default 50.
    /// </summary>
    public int PermitsPerSecond { get; set; } = 50;

    /// <summary>Burst size of each of the listener's token buckets (per peer; signed deliveries together). Default 200.</summary>
    public int Burst { get; set; } = 200;

    /// <summary>How often the inbox worker looks for pending events when nothing wakes it, in milliseconds (50 to 60000). Default 1000.</summary>
    public int PollMilliseconds { get; set; } = 1000;

    /// <summary>How long a worker's claim on an inbox row lasts before another replica may take it, in seconds (5 to 3600). Default 60.</summary>
    public int LeaseSeconds { get; set; } = 60;

    /// <summary>
    /// How many inbox events are processed at once (1 to 64). Default 4. Events on the same object or token still run
    /// one after the other; each has a sixth of <see cref="LeaseSeconds"/> to start and half of it to finish.
    /// </summary>
    public int Concurrency { get; set; } = 4;

    /// <summary>
    /// Longest wait before a failed event is tried again, in seconds (the wait doubles per attempt from
    /// <see cref="LeaseSeconds"/>; 5 to 86400). Default 3600: an event that always fails is tried about once an hour,
    /// never given up, so it goes through by itself once the cause is fixed.
    /// </summary>
    public int MaxRetryDelaySeconds { get; set; } = 3600;

    /// <summary>
    /// From this many failed attempts on, each failure of an event is logged at Error and the event counts in the
    /// <c>tokenizer.webhook.inbox.failing</c> gauge (1 to 1000). Default 5.
    /// </summary>
    public int AlertAfterAttempts { get; set; } = 5;

    /// <summary>
    /// How often the catch-up lists Stripe's events (GET /v1/events), in seconds (0 turns it off, else 5 to 86400).
    /// Default 300.
    /// </summary>
    public int CatchUpIntervalSeconds { get; set; } = 300;

    /// <summary>
    /// How far before the newest event already seen the catch-up listing starts, in seconds (0 to 86400): events are not
    /// created in delivery order. Default 300. Already-known ids are skipped.
    /// </summary>
    public int CatchUpOverlapSeconds { get; set; } = 300;

    /// <summary>
    /// Refused deliveries (bad signature, stale, oversize, malformed, rate limited) are audited in aggregate: one record
    /// per reason and peer address per window of this many seconds (1 to 86400), written at the window's end and at
    /// shutdown. Default 60.
    /// </summary>
    public int RefusalAuditSeconds { get; set; } = 60;

    /// <summary>True when <see cref="Urls"/> names at least one address.</summary>
    public bool Enabled => !string.IsNullOrWhiteSpace(Urls);

    /// <summary>The listener's addresses; throws <see cref="FormatException"/> naming the rule broken.</summary>
    internal static IReadOnlyList<Uri> ParseUrls(string? urls)
    {
        var addresses = new List<Uri>();
        foreach (var url in (urls ?? string.Empty).Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Uri.TryCreate(url.Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal), UriKind.Absolute, out var uri)
                || uri.Scheme != Uri.UriSchemeHttps || uri.AbsolutePath != "/" || !string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.UserInfo))
            {
                throw new FormatException("every address must be https://host:port with no path (Stripe delivers over HTTPS only)");
            }

            addresses.Add(uri);
        }

        return addresses;
    }
}

/// <summary>Validates <see cref="WebhookOptions"/> at start-up; messages name the setting, never its value.</summary>
internal sealed class WebhookOptionsValidator : IValidateOptions<WebhookOptions>
{
    public ValidateOptionsResult Validate(string? name, WebhookOptions options)
    {
        var failures = new List<string>();
        try
        {
            WebhookOptions.ParseUrls(options.Urls);
        }
        catch (FormatException error)
        {
            failures.Add($"Tokenizer:Webhooks:Urls: {error.Message}.");
        }

        for (var i = 0; i < options.Secrets.Count; i++)
        {
            if (!WebhookSecrets.IsSigningSecret(options.Secrets[i]))
            {
                failures.Add($"Tokenizer:Webhooks:Secrets:{i} must be a Stripe endpoint signing secret (whsec_ followed by letters and digits).");
            }
        }

        if (options.PermitsPerSecond is < 1 or > 10_000 || options.Burst is < 1 or > 100_000)
        {
            failures.Add("Tokenizer:Webhooks:PermitsPerSecond must be between 1 and 10000 and Burst between 1 and 100000.");
        }

        if (options.PollMilliseconds is < 50 or > 60_000)
        {
            failures.Add("Tokenizer:Webhooks:PollMilliseconds must be between 50 and 60000.");
        }

        if (options.LeaseSeconds is < 5 or > 3600)
        {
            failures.Add("Tokenizer:Webhooks:LeaseSeconds must be between 5 and 3600.");
        }

        if (options.Concurrency is < 1 or > 64)
        {
            failures.Add("Tokenizer:Webhooks:Concurrency must be between 1 and 64.");
        }

        if (options.MaxRetryDelaySeconds is < 5 or > 86400)
        {
            failures.Add("Tokenizer:Webhooks:MaxRetryDelaySeconds must be between 5 and 86400.");
        }

        if (options.AlertAfterAttempts is < 1 or > 1000)
        {
            failures.Add("Tokenizer:Webhooks:AlertAfterAttempts must be between 1 and 1000.");
        }

        if (options.CatchUpIntervalSeconds != 0 && options.CatchUpIntervalSeconds is < 5 or > 86400)
        {
            failures.Add("Tokenizer:Webhooks:CatchUpIntervalSeconds must be 0 (off) or between 5 and 86400.");
        }

        if (options.CatchUpOverlapSeconds is < 0 or > 86400)
        {
            failures.Add("Tokenizer:Webhooks:CatchUpOverlapSeconds must be between 0 and 86400.");
        }

        if (options.RefusalAuditSeconds is < 1 or > 86400)
        {
            failures.Add("Tokenizer:Webhooks:RefusalAuditSeconds must be between 1 and 86400.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
