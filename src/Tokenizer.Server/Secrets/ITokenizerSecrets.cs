using System.Security.Cryptography.X509Certificates;

namespace Tokenizer.Server.Secrets;

/// <summary>
/// The service's secrets, loaded once at start-up from Azure Key Vault (when <c>KeyVault:Uri</c> is set) or from
/// configuration, with random local ones under <c>{DataDirectory}/secrets/</c> in Development and in embedded-sandbox
/// mode. Reading any member before the start-up load loads them synchronously; a failed load throws
/// <see cref="InvalidOperationException"/> (naming the setting or Key Vault secret, never a value) from every member.
/// </summary>
/// <remarks>
/// Only the Stripe API key changes while the service runs (Key Vault refresh every <c>KeyVault:RefreshSeconds</c>);
/// the HMAC secrets and the Data Protection certificate stay as loaded until the next restart.
/// </remarks>
public interface ITokenizerSecrets
{
    /// <summary>
    /// The current Stripe secret (<c>sk_...</c>) or restricted (<c>rk_...</c>) key, or null when none is configured
    /// anywhere (no <c>Stripe:ApiKey</c>, no Key Vault): the embedded sandbox is then the gateway. With Key Vault it
    /// changes when the secret is rotated there. Secret: never logged.
    /// </summary>
    string? StripeApiKey { get; }

    /// <summary>True when <see cref="StripeApiKey"/> is null and the embedded Stripe sandbox serves as the gateway.</summary>
    bool UsesEmbeddedSandbox { get; }

    /// <summary>
    /// The request HMAC secret, at least 32 bytes: keys the request HMACs kept in idempotency records and the derived
    /// gateway Idempotency-Keys. Loaded once. Rotating it makes every stored request HMAC unverifiable (a retry of an
    /// earlier request is then refused as a reused key) and changes the gateway keys of in-flight retries, so it is
    /// rotated only with an empty idempotency window, by restart.
    /// </summary>
    ReadOnlyMemory<byte> RequestHmacSecret { get; }

    /// <summary>
    /// The audit HMAC secret, at least 32 bytes, never equal to <see cref="RequestHmacSecret"/>: keys the audit trail's
    /// hash chain. Loaded once (rotating it starts a new chain). Callers that need a <c>byte[]</c> take
    /// <c>AuditHmacSecret.ToArray()</c>.
    /// </summary>
    ReadOnlyMemory<byte> AuditHmacSecret { get; }

    /// <summary>
    /// Earlier request HMAC secrets after a rotation (<c>Tokenizer:RequestHmacPreviousSecrets</c>, or the Key Vault
    /// secrets named by <c>KeyVault:RequestHmacPreviousSecretNames</c>); empty when none. Loaded once.
    /// </summary>
    IReadOnlyList<ReadOnlyMemory<byte>> PreviousRequestHmacSecrets { get; }

    /// <summary>
    /// Earlier audit HMAC secrets (<c>Tokenizer:AuditHmacPreviousSecrets</c>, or <c>KeyVault:AuditHmacPreviousSecretNames</c>):
    /// they verify the records they signed; empty when none. Loaded once.
    /// </summary>
    IReadOnlyList<ReadOnlyMemory<byte>> PreviousAuditHmacSecrets { get; }

    /// <summary>The settings (configuration or Key Vault) that hold the current and the previous request HMAC secrets, for messages.</summary>
    (string Current, string Previous) RequestHmacSecretSettings { get; }

    /// <summary>The settings (configuration or Key Vault) that hold the current and the previous audit HMAC secrets, for messages.</summary>
    (string Current, string Previous) AuditHmacSecretSettings { get; }

    /// <summary>
    /// The certificate that encrypts Data Protection keys at rest: RSA of at least 2048 bits, with its private key.
    /// Owned by the store: do not dispose.
    /// </summary>
    X509Certificate2 DataProtectionCertificate { get; }

    /// <summary>
    /// Every certificate that may decrypt existing Data Protection keys: <see cref="DataProtectionCertificate"/> first,
    /// then earlier enabled versions of the Key Vault certificate secret (none from configuration). Owned by the store.
    /// </summary>
    IReadOnlyList<X509Certificate2> DataProtectionDecryptionCertificates { get; }
}
