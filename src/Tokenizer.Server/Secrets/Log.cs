using Microsoft.Extensions.Logging;

namespace Tokenizer.Server.Secrets;

/// <summary>
/// Every log line of the secrets layer. Parameters are setting and secret names, Key Vault versions, file paths,
/// certificate thumbprints and our own failure descriptions (exception types, HTTP status, Key Vault error codes):
/// never a secret value.
/// </summary>
internal static partial class Log
{
    [LoggerMessage(
        EventId = 5100,
        EventName = "SecretsLoaded",
        Level = LogLevel.Information,
        Message = "Secrets loaded from {Source}; Data Protection certificate {Thumbprint} (expires {NotAfter:O}), {PreviousCertificateCount} earlier certificate(s) kept for decryption")]
    public static partial void SecretsLoaded(ILogger logger, string source, string thumbprint, DateTime notAfter, int previousCertificateCount);

    [LoggerMessage(
        EventId = 5101,
        EventName = "LocalSecretGenerated",
        Level = LogLevel.Information,
        Message = "Generated a local {SecretFile} at {Path} (owner-only): for development and the embedded sandbox; production passes secrets through Key Vault or configuration")]
    public static partial void LocalSecretGenerated(ILogger logger, string secretFile, string path);

    [LoggerMessage(
        EventId = 5102,
        EventName = "StripeApiKeyRotated",
        Level = LogLevel.Information,
        Message = "Stripe API key rotated: {SecretName} version {Version} is sent from the next Stripe request on")]
    public static partial void StripeApiKeyRotated(ILogger logger, string secretName, string version);

    [LoggerMessage(
        EventId = 5103,
        EventName = "SecretsRefreshFailed",
        Level = LogLevel.Warning,
        Message = "Refreshing the Stripe API key from Key Vault failed ({Reason}); the last good key stays in use")]
    public static partial void RefreshFailed(ILogger logger, string reason);

    [LoggerMessage(
        EventId = 5104,
        EventName = "PreviousCertificatesUnavailable",
        Level = LogLevel.Warning,
        Message = "Could not list earlier versions of Key Vault secret {SecretName} ({Reason}): Data Protection keys protected by an earlier certificate will not decrypt; grant the identity 'list' on secrets")]
    public static partial void PreviousCertificatesUnavailable(ILogger logger, string secretName, string reason);

    [LoggerMessage(
        EventId = 5105,
        EventName = "PreviousCertificateSkipped",
        Level = LogLevel.Warning,
        Message = "Skipped version {Version} of Key Vault secret {SecretName} for Data Protection decryption ({Reason})")]
    public static partial void PreviousCertificateSkipped(ILogger logger, string secretName, string version, string reason);
}
