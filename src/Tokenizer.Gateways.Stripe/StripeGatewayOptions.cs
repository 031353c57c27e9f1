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
    /// Sets <see cref="HttpClient.Timeout"/>. Behind <see cref="StripeResilience"/> (the server) it is only a backstop
    /// above the pipeline's total timeout (<see cref="StripeResilience.HttpClientTimeout"/>); without it, the timeout of
    /// one HTTP attempt.
    /// </summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Stripe.net's own retries (connection errors, timeouts, 409, 5xx, <c>Stripe-Should-Retry: true</c>; not a
    /// plain 429); they reuse the request's Idempotency-Key. 0 to 10; default 0: the server's one retry layer is
    /// <see cref="StripeResilience"/>, and two layers would multiply attempts and stretch the time budget.
    /// </summary>
    public int MaxNetworkRetries { get; set; }
}
