using System.Security.Cryptography.X509Certificates;
using Azure;
using Azure.Identity;

namespace Tokenizer.Server.Secrets;

/// <summary>
/// What one load produced. A class, not a record: a record's generated <c>ToString</c> would print the Stripe key.
/// </summary>
internal sealed class SecretSnapshot(
    string? stripeApiKey,
    byte[] requestHmacSecret,
    byte[] auditHmacSecret,
    X509Certificate2 certificate,
    IReadOnlyList<X509Certificate2> previousCertificates,
    string description)
{
    /// <summary>Earlier request HMAC secrets (rotation), in configured order; empty when none.</summary>
    public IReadOnlyList<byte[]> PreviousRequestHmacSecrets { get; init; } = [];

    /// <summary>Earlier audit HMAC secrets (rotation), in configured order; empty when none.</summary>
    public IReadOnlyList<byte[]> PreviousAuditHmacSecrets { get; init; } = [];

    public string? StripeApiKey { get; } = stripeApiKey;

    public byte[] RequestHmacSecret { get; } = requestHmacSecret;

    public byte[] AuditHmacSecret { get; } = auditHmacSecret;

    public X509Certificate2 Certificate { get; } = certificate;

    /// <summary>Earlier certificates kept for decryption only, newest first.</summary>
    public IReadOnlyList<X509Certificate2> PreviousCertificates { get; } = previousCertificates;

    /// <summary>Where each secret came from (setting names, Key Vault secret names and versions, file names); no values.</summary>
    public string Description { get; } = description;
}

/// <summary>A source of the secrets: Key Vault, or configuration with local development files.</summary>
internal interface ISecretSource
{
    /// <summary>True when <see cref="ReloadStripeApiKeyAsync"/> can see a rotated key (Key Vault).</summary>
    bool CanRefresh { get; }

    /// <summary>Loads every secret, synchronously (start-up only).</summary>
    /// <exception cref="InvalidOperationException">A secret is missing, malformed or unreachable; the message names the setting or secret, never a value.</exception>
    SecretSnapshot Load();

    /// <summary>Re-reads the Stripe API key; the version identifies it in logs (null when unversioned).</summary>
    /// <exception cref="InvalidOperationException">As <see cref="Load"/>.</exception>
    Task<(string ApiKey, string? Version)> ReloadStripeApiKeyAsync(CancellationToken cancellationToken);
}

/// <summary>Shared rules and safe descriptions of failures.</summary>
internal static class SecretRules
{
    public const int MinimumSecretBytes = 32;

    /// <summary>A Stripe secret or restricted key with no whitespace.</summary>
    public static bool IsStripeApiKey(string? value) =>
        !string.IsNullOrEmpty(value)
        && (value.StartsWith("sk_", StringComparison.Ordinal) || value.StartsWith("rk_", StringComparison.Ordinal))
        && !value.Any(char.IsWhiteSpace);

    /// <summary>
    /// A description of a failure to read from the vault that is safe to log: the exception type, HTTP status and
    /// Key Vault error code (letters, digits, dots, dashes, underscores only), or our own message, which never holds a value.
    /// </summary>
    public static string Describe(Exception exception) => exception switch
    {
        InvalidOperationException => exception.Message,
        RequestFailedException failed => $"{nameof(RequestFailedException)}, status {failed.Status}, code {SafeCode(failed.ErrorCode)}",
        AuthenticationFailedException => $"{exception.GetType().Name}: the credential could not get a token",
        AggregateException aggregate => $"{nameof(AggregateException)} of {string.Join(", ", aggregate.InnerExceptions.Select(e => e.GetType().Name).Distinct())}",
        _ => exception.GetType().Name,
    };

    private static string SafeCode(string? code) =>
        string.IsNullOrEmpty(code) ? "-"
        : code.Length <= 64 && code.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_') ? code
        : "(invalid)";
}
