using System.Diagnostics;
using Stripe;

namespace Tokenizer.Gateways.Stripe;

/// <summary>Builds the <see cref="IStripeClient"/> that <see cref="StripeTokenGateway"/> talks through.</summary>
public static class StripeClientFactory
{
    private const int MaxRetriesLimit = 10;

    /// <summary>
    /// Creates a Stripe.net client: <see cref="StripeClient"/> over <see cref="SystemNetHttpClient"/> with
    /// <see cref="StripeGatewayOptions.MaxNetworkRetries"/> of Stripe.net's own retries (0 by default: the server passes
    /// the <see cref="StripeResilience"/> client, the one retry layer), no telemetry, no app info,
    /// and <c>Stripe-Notice</c> response headers dropped before Stripe.net would print them to stderr.
    /// Nothing here logs requests or bodies.
    /// </summary>
    /// <param name="options">API key (required), API base (null: real Stripe), per-attempt timeout, retries.</param>
    /// <param name="httpClient">
    /// The HTTP client to send through (tests pass one over a stub handler), or null for a new one with pooled
    /// connections recycled every 5 minutes. Its <see cref="HttpClient.Timeout"/> is set to
    /// <see cref="StripeGatewayOptions.RequestTimeout"/>, so it must not have sent a request yet.
    /// </param>
    /// <exception cref="ArgumentException">A setting is missing or out of range; the message names the setting, never its value.</exception>
    public static IStripeClient Create(StripeGatewayOptions options, HttpClient? httpClient = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.ApiKey) || options.ApiKey.Any(char.IsWhiteSpace))
        {
            throw new ArgumentException("StripeGatewayOptions.ApiKey is required and must not contain whitespace", nameof(options));
        }

        var apiBase = string.IsNullOrWhiteSpace(options.ApiBase) ? null : options.ApiBase.TrimEnd('/');
        if (apiBase is not null
            && (!Uri.TryCreate(apiBase, UriKind.Absolute, out var baseUri) || (baseUri.Scheme != Uri.UriSchemeHttps && baseUri.Scheme != Uri.UriSchemeHttp)))
        {
            throw new ArgumentException("StripeGatewayOptions.ApiBase must be an absolute http(s) URL", nameof(options));
        }

        if (options.RequestTimeout <= TimeSpan.Zero || options.RequestTimeout > TimeSpan.FromMinutes(5))
        {
            throw new ArgumentException("StripeGatewayOptions.RequestTimeout must be positive and at most 5 minutes", nameof(options));
        }

        if (options.MaxNetworkRetries is < 0 or > MaxRetriesLimit)
        {
            throw new ArgumentException("StripeGatewayOptions.MaxNetworkRetries must be between 0 and 10", nameof(options));
        }

        // Keeps the reflection data Stripe.net's form encoder walks on every request (see StripeOptionsReflection).
        _ = StripeOptionsReflection.Count;
        httpClient ??= new HttpClient(CreatePrimaryHandler());
        httpClient.Timeout = options.RequestTimeout;

        var transport = new SystemNetHttpClient(
            httpClient,
            maxNetworkRetries: options.MaxNetworkRetries,
            appInfo: null,
            enableTelemetry: false);

        return new StripeClient(new StripeClientOptions
        {
            ApiKey = options.ApiKey,
            ApiBase = apiBase,
            HttpClient = new NoticeSuppressingHttpClient(transport),
        });
    }

    /// <summary>
    /// The socket handler every Stripe request goes out on: pooled connections recycled every 5 minutes, and no trace
    /// context headers (<c>traceparent</c>, <c>tracestate</c>, <c>baggage</c>, <c>Request-Id</c>). The current trace
    /// is the billing service's, so propagating it would hand caller-chosen header text to Stripe; Stripe takes no part
    /// in our traces.
    /// </summary>
    internal static SocketsHttpHandler CreatePrimaryHandler() => new()
    {
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        ActivityHeadersPropagator = DistributedContextPropagator.CreateNoOutputPropagator(),
    };
}
