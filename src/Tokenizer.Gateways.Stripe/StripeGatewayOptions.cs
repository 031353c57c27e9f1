namespace Tokenizer.Gateways.Stripe;

/// <summary>
/// Settings of the Stripe client (configuration section bound by the host). Read once by
/// <see cref="StripeClientFactory.Create"/>; changing them afterwards has no effect.
/// </summary>
public sealed class StripeGatewayOptions
{
    /// <summary>
    /// The client's default secret API key (<c>sk_live_...</c>, <c>sk_test_...</c>). Required. Secret: never logged.
    /// <see cref="StripeTokenGateway"/> overrides it on every request with <see cref="IStripeApiKeyProvider"/>.
    /// </summary>
    public string? ApiKey { get; set; }

    /// <summary>
    /// Absolute http(s) base URL of a Stripe-compatible API (the sandbox), e.g. <c>http://127.0.0.1:12111</c>;
    /// null or empty means the real Stripe API (<c>https://api.stripe.com</c>).
    /// </summary>
    public string? ApiBase { get; set; }

    /// <summary>
    /// Timeout of one HTTP attempt (sets <see cref="HttpClient.Timeout"/>). With retries, one call can take up to
    /// (<see cref="MaxNetworkRetries"/> + 1) times this, plus Stripe.net's back-off (0.5 s doubling, at most 5 s).
    /// </summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Stripe.net's own retries (connection errors, timeouts, 409, 5xx, <c>Stripe-Should-Retry: true</c>; not a
    /// plain 429). They reuse the request's Idempotency-Key. This is the only retry layer: 0 to 10.
    /// </summary>
    public int MaxNetworkRetries { get; set; } = 2;
}
