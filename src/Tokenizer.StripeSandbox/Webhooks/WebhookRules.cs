using System.Net;

namespace Tokenizer.StripeSandbox.Webhooks;

/// <summary>The checks a webhook endpoint passes, at start and at <c>POST /v1/webhook_endpoints</c>.</summary>
internal static class WebhookRules
{
    public const string SecretPrefix = "whsec_";

    /// <summary>
    /// An absolute http(s) URL on a loopback host, at most 2048 characters, without user information. The sandbox listens on
    /// loopback only, and so it only delivers there: an API caller cannot make it POST into the network.
    /// </summary>
    public static bool IsUrlAllowed(string? url)
    {
        if (url is null || url.Length > 2048 || !Uri.TryCreate(url, UriKind.Absolute, out var uri)
            || uri.Scheme is not ("http" or "https") || uri.UserInfo.Length > 0)
        {
            return false;
        }

        return string.Equals(uri.Host, "localhost", StringComparison.OrdinalIgnoreCase)
            || (IPAddress.TryParse(uri.Host, out var address) && IPAddress.IsLoopback(address));
    }

    public static bool IsSecretAllowed(string? secret) =>
        secret is not null && secret.StartsWith(SecretPrefix, StringComparison.Ordinal)
        && secret.Length is >= 22 and <= 256 && secret.All(c => c is > ' ' and <= '~');

    /// <summary>
    /// <c>*</c>, or names shaped like Stripe event types (<c>setup_intent.succeeded</c>; at most 100): types the sandbox
    /// never creates (<c>invoice.paid</c>) are accepted, as Stripe accepts them, and simply never delivered.
    /// </summary>
    public static bool AreEventsAllowed(IReadOnlyCollection<string>? events) =>
        events is { Count: > 0 and <= 100 } && events.All(e => e == "*" || IsTypeName(e));

    private static bool IsTypeName(string name) =>
        name.Length is > 2 and <= 100 && name.Contains('.', StringComparison.Ordinal) && name[0] != '.' && name[^1] != '.'
        && name.All(c => c is (>= 'a' and <= 'z') or '_' or '.');

    public static bool Receives(IReadOnlyCollection<string> enabledEvents, string type) =>
        enabledEvents.Contains("*") || enabledEvents.Contains(type);
}
