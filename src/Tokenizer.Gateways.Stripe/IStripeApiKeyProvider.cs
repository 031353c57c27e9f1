namespace Tokenizer.Gateways.Stripe;

/// <summary>
/// The Stripe API key to send on the next request. <see cref="StripeTokenGateway"/> asks for it on every call and sets
/// it as Stripe.net's per-request <c>RequestOptions.ApiKey</c>, so a rotated key is used from the next call on without
/// rebuilding the <c>IStripeClient</c> (the client's own key is then never used).
/// </summary>
/// <remarks>Implementations must be thread-safe and cheap: the value is read once per Stripe request.</remarks>
public interface IStripeApiKeyProvider
{
    /// <summary>The current secret (<c>sk_...</c>) or restricted (<c>rk_...</c>) key: non-empty, no whitespace. Secret: never logged.</summary>
    string CurrentApiKey { get; }
}

/// <summary>An <see cref="IStripeApiKeyProvider"/> that never rotates: tests and the embedded sandbox.</summary>
/// <param name="apiKey">The key; non-empty, no whitespace.</param>
/// <exception cref="ArgumentException">The key is empty or contains whitespace (the message never quotes it).</exception>
public sealed class FixedStripeApiKey(string apiKey) : IStripeApiKeyProvider
{
    /// <inheritdoc />
    public string CurrentApiKey { get; } = string.IsNullOrWhiteSpace(apiKey) || apiKey.Any(char.IsWhiteSpace)
        ? throw new ArgumentException("the Stripe API key is required and must not contain whitespace", nameof(apiKey))
        : apiKey;
}
