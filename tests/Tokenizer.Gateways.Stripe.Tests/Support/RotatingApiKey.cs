namespace Tokenizer.Gateways.Stripe.Tests.Support;

/// <summary>An API key provider whose key a test rotates between calls.</summary>
internal sealed class RotatingApiKey(string initial) : IStripeApiKeyProvider
{
    private volatile string current = initial;

    public string CurrentApiKey => current;

    public void Rotate(string next) => current = next;
}
