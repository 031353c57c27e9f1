using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using Tokenizer.Server.Hosting;

namespace Tokenizer.Server.Secrets;

/// <summary>
/// Configuration section <c>KeyVault</c>. When <see cref="Uri"/> is set, Azure Key Vault is the only source of the
/// four secrets (read with <c>DefaultAzureCredential</c>); the configuration keys for them must then be empty.
/// </summary>
public sealed class KeyVaultOptions
{
    /// <summary>The configuration section name.</summary>
    public const string Section = "KeyVault";

    /// <summary>The vault, e.g. <c>https://my-vault.vault.azure.net/</c>. Empty: no Key Vault.</summary>
#pragma warning disable CA1056 // bound from configuration as text; validated as an absolute https URI at start-up
    public string? Uri { get; set; }
#pragma warning restore CA1056

    /// <summary>How often the Stripe API key is re-read from the vault, in seconds (10 to 86400). Default 300.</summary>
    public int RefreshSeconds { get; set; } = 300;

    /// <summary>The secret holding the Stripe secret or restricted key. Default <c>stripe-api-key</c>.</summary>
    public string StripeApiKeySecretName { get; set; } = "stripe-api-key";

    /// <summary>The secret holding the request HMAC secret, base64 of at least 32 bytes. Default <c>request-hmac-secret</c>.</summary>
    public string RequestHmacSecretName { get; set; } = "request-hmac-secret";

    /// <summary>The secret holding the audit HMAC secret, base64 of at least 32 bytes. Default <c>audit-hmac-secret</c>.</summary>
    public string AuditHmacSecretName { get; set; } = "audit-hmac-secret";

    /// <summary>
    /// Secrets holding earlier request HMAC secrets (base64, at least 32 bytes each) after a rotation, so retries within
    /// the idempotency retention still replay. Setting <c>KeyVault:RequestHmacPreviousSecretNames:0</c>, ... Default none.
    /// </summary>
    public List<string> RequestHmacPreviousSecretNames { get; set; } = [];

    /// <summary>
    /// Secrets holding earlier audit HMAC secrets (base64, at least 32 bytes each): they verify the records they signed.
    /// Setting <c>KeyVault:AuditHmacPreviousSecretNames:0</c>, ... Default none.
    /// </summary>
    public List<string> AuditHmacPreviousSecretNames { get; set; } = [];

    /// <summary>
    /// The secret the audit anchor is written to when <c>Tokenizer:AuditAnchor:Store</c> is <c>KeyVault</c> (the service
    /// needs get and set permission on it). Default <c>audit-anchor</c>.
    /// </summary>
    public string AuditAnchorSecretName { get; set; } = "audit-anchor";

    /// <summary>
    /// The secret holding the Data Protection certificate: a Key Vault certificate's secret (base64 PFX, or PEM when its
    /// content type is <c>application/x-pem-file</c>), RSA with its private key. Default <c>dataprotection-certificate</c>.
    /// </summary>
    public string DataProtectionCertificateSecretName { get; set; } = "dataprotection-certificate";

    /// <summary>True when <see cref="Uri"/> is set.</summary>
    public bool IsConfigured => !string.IsNullOrWhiteSpace(Uri);
}

/// <summary>Configuration section <c>Tokenizer:DataProtection</c>: the key-encryption certificate without Key Vault.</summary>
public sealed class DataProtectionCertificateOptions
{
    /// <summary>
    /// A PKCS#12 (<c>.pfx</c>) or PEM file with an RSA certificate (at least 2048 bits) and, unless
    /// <see cref="CertificateKeyPath"/> is set, its private key. Empty: a local one in Development and embedded mode.
    /// </summary>
    public string? CertificatePath { get; set; }

    /// <summary>The PKCS#12 password, or the password of an encrypted PEM private key. Secret: pass by environment.</summary>
    public string? CertificatePassword { get; set; }

    /// <summary>A PEM private key file for a PEM <see cref="CertificatePath"/> that holds the certificate only.</summary>
    public string? CertificateKeyPath { get; set; }
}

/// <summary>
/// Validates <see cref="KeyVaultOptions"/> at start-up; messages name the setting, never its value. With Key Vault,
/// the same secrets must not also come from configuration: one source, so there is never doubt which is in force.
/// </summary>
internal sealed partial class KeyVaultOptionsValidator(IOptions<TokenizerOptions> tokenizer, IOptions<StripeSettings> stripe)
    : IValidateOptions<KeyVaultOptions>
{
    public ValidateOptionsResult Validate(string? name, KeyVaultOptions options)
    {
        if (!options.IsConfigured)
        {
            return ValidateOptionsResult.Success;
        }

        var failures = new List<string>();
        if (!System.Uri.TryCreate(options.Uri, UriKind.Absolute, out var uri) || uri.Scheme != System.Uri.UriSchemeHttps
            || !string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.UserInfo))
        {
            failures.Add("KeyVault:Uri must be an absolute https URL of a vault, such as https://my-vault.vault.azure.net/.");
        }

        if (options.RefreshSeconds is < 10 or > 86400)
        {
            failures.Add("KeyVault:RefreshSeconds must be between 10 and 86400.");
        }

        foreach (var (setting, secretName) in SecretNames(options))
        {
            if (secretName is null || !SecretName().IsMatch(secretName))
            {
                failures.Add($"KeyVault:{setting} must be a Key Vault secret name (1 to 127 letters, digits and dashes).");
            }
        }

        var local = tokenizer.Value;
        foreach (var (setting, value) in new[]
        {
            ("Stripe:ApiKey", stripe.Value.ApiKey),
            ("Tokenizer:RequestHmacSecret", local.RequestHmacSecret),
            ("Tokenizer:AuditHmacSecret", local.AuditHmacSecret),
            ("Tokenizer:DataProtection:CertificatePath", local.DataProtection.CertificatePath),
            ("Tokenizer:RequestHmacPreviousSecrets", local.RequestHmacPreviousSecrets.Count > 0 ? "set" : null),
            ("Tokenizer:AuditHmacPreviousSecrets", local.AuditHmacPreviousSecrets.Count > 0 ? "set" : null),
        })
        {
            if (!string.IsNullOrWhiteSpace(value))
            {
                failures.Add($"{setting} must be empty when KeyVault:Uri is set: Key Vault is then the only source of secrets.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static (string Setting, string? Name)[] SecretNames(KeyVaultOptions options) =>
    [
        (nameof(KeyVaultOptions.StripeApiKeySecretName), options.StripeApiKeySecretName),
        (nameof(KeyVaultOptions.RequestHmacSecretName), options.RequestHmacSecretName),
        (nameof(KeyVaultOptions.AuditHmacSecretName), options.AuditHmacSecretName),
        (nameof(KeyVaultOptions.DataProtectionCertificateSecretName), options.DataProtectionCertificateSecretName),
        (nameof(KeyVaultOptions.AuditAnchorSecretName), options.AuditAnchorSecretName),
        .. options.RequestHmacPreviousSecretNames.Select((n, i) => ($"{nameof(KeyVaultOptions.RequestHmacPreviousSecretNames)}:{i}", (string?)n)),
        .. options.AuditHmacPreviousSecretNames.Select((n, i) => ($"{nameof(KeyVaultOptions.AuditHmacPreviousSecretNames)}:{i}", (string?)n)),
    ];

    [GeneratedRegex("^[0-9A-Za-z-]{1,127}$", RegexOptions.CultureInvariant)]
    private static partial Regex SecretName();
}
