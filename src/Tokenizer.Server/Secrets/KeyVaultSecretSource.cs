using System.Security.Cryptography.X509Certificates;
using Azure;
using Azure.Security.KeyVault.Secrets;
using Microsoft.Extensions.Logging;

namespace Tokenizer.Server.Secrets;

/// <summary>
/// Reads the secrets from Azure Key Vault through <see cref="SecretClient"/>. Every failure becomes an
/// <see cref="InvalidOperationException"/> that names <c>KeyVault:Uri</c> and the secret (with its setting), never a
/// value; the Azure exception stays as the inner exception for the operator.
/// </summary>
internal sealed class KeyVaultSecretSource(SecretClient client, KeyVaultOptions options, ILogger logger) : ISecretSource
{
    /// <summary>How many earlier certificate versions are kept for decrypting old Data Protection keys.</summary>
    internal const int MaxPreviousCertificates = 10;

    private const string PemContentType = "application/x-pem-file";

    public bool CanRefresh => true;

    public SecretSnapshot Load()
    {
        var stripe = Read(options.StripeApiKeySecretName, nameof(KeyVaultOptions.StripeApiKeySecretName));
        var stripeKey = StripeKeyOf(stripe);
        var request = Read(options.RequestHmacSecretName, nameof(KeyVaultOptions.RequestHmacSecretName));
        var requestSecret = HmacSecretOf(request, nameof(KeyVaultOptions.RequestHmacSecretName));
        var audit = Read(options.AuditHmacSecretName, nameof(KeyVaultOptions.AuditHmacSecretName));
        var auditSecret = HmacSecretOf(audit, nameof(KeyVaultOptions.AuditHmacSecretName));
        if (requestSecret.AsSpan().SequenceEqual(auditSecret))
        {
            throw new InvalidOperationException(
                $"Key Vault secrets '{options.RequestHmacSecretName}' and '{options.AuditHmacSecretName}' (KeyVault:RequestHmacSecretName, KeyVault:AuditHmacSecretName) must hold different secrets.");
        }

        var certificateSecret = Read(options.DataProtectionCertificateSecretName, nameof(KeyVaultOptions.DataProtectionCertificateSecretName));
        var certificate = CertificateOf(certificateSecret);
        var previous = PreviousCertificates(certificateSecret.Properties.Version);
        var previousRequest = options.RequestHmacPreviousSecretNames
            .Select((name, i) => HmacSecretOf(Read(name, $"{nameof(KeyVaultOptions.RequestHmacPreviousSecretNames)}:{i}"), $"{nameof(KeyVaultOptions.RequestHmacPreviousSecretNames)}:{i}"))
            .ToList();
        var previousAudit = options.AuditHmacPreviousSecretNames
            .Select((name, i) => HmacSecretOf(Read(name, $"{nameof(KeyVaultOptions.AuditHmacPreviousSecretNames)}:{i}"), $"{nameof(KeyVaultOptions.AuditHmacPreviousSecretNames)}:{i}"))
            .ToList();
        var description = $"Key Vault at KeyVault:Uri ({Versioned(stripe)}, {Versioned(request)}, {Versioned(audit)}, {Versioned(certificateSecret)}"
            + $", {previousRequest.Count} previous request and {previousAudit.Count} previous audit secrets)";
        return new SecretSnapshot(stripeKey, requestSecret, auditSecret, certificate, previous, description)
        {
            PreviousRequestHmacSecrets = previousRequest,
            PreviousAuditHmacSecrets = previousAudit,
        };
    }

    public async Task<(string ApiKey, string? Version)> ReloadStripeApiKeyAsync(CancellationToken cancellationToken)
    {
        const string setting = nameof(KeyVaultOptions.StripeApiKeySecretName);
        KeyVaultSecret secret;
        try
        {
            secret = (await client.GetSecretAsync(options.StripeApiKeySecretName, version: null, cancellationToken).ConfigureAwait(false)).Value;
        }
        catch (Exception e) when (!(e is OperationCanceledException && cancellationToken.IsCancellationRequested))
        {
            throw Unreadable(options.StripeApiKeySecretName, setting, e);
        }

        return (StripeKeyOf(secret), secret.Properties.Version);
    }

    private KeyVaultSecret Read(string name, string setting, string? version = null)
    {
        try
        {
            return client.GetSecret(name, version, CancellationToken.None).Value;
        }
        catch (Exception e)
        {
            throw Unreadable(name, setting, e);
        }
    }

    private static InvalidOperationException Unreadable(string name, string setting, Exception e) => e is RequestFailedException { Status: 404 }
        ? new InvalidOperationException(
            $"Key Vault secret '{name}' (KeyVault:{setting}) was not found in the vault at KeyVault:Uri; the service does not start without it.", e)
        : new InvalidOperationException(
            $"The vault at KeyVault:Uri could not be read for secret '{name}' (KeyVault:{setting}): {SecretRules.Describe(e)}. "
            + "Check KeyVault:Uri, the network path to the vault and that the service's identity may get secrets.", e);

    private string StripeKeyOf(KeyVaultSecret secret)
    {
        var value = secret.Value?.Trim();
        return SecretRules.IsStripeApiKey(value)
            ? value!
            : throw new InvalidOperationException(
                $"Key Vault secret '{options.StripeApiKeySecretName}' (KeyVault:StripeApiKeySecretName) must hold a Stripe secret (sk_) or restricted (rk_) key.");
    }

    private static byte[] HmacSecretOf(KeyVaultSecret secret, string setting)
    {
        var value = secret.Value?.Trim();
        return !string.IsNullOrEmpty(value) && Hosting.SecretFiles.TryDecodeSecret(value, out var bytes)
            ? bytes
            : throw new InvalidOperationException(
                $"Key Vault secret '{secret.Name}' (KeyVault:{setting}) must hold base64 of at least {SecretRules.MinimumSecretBytes} bytes.");
    }

    private static X509Certificate2 CertificateOf(KeyVaultSecret secret)
    {
        var source = $"Key Vault secret '{secret.Name}' (KeyVault:DataProtectionCertificateSecretName)";
        var value = secret.Value ?? string.Empty;
        if (string.Equals(secret.Properties.ContentType, PemContentType, StringComparison.OrdinalIgnoreCase))
        {
            return DataProtectionCertificates.FromPem(value, value, password: null, source);
        }

        var pkcs12 = new byte[value.Length];
        if (!Convert.TryFromBase64String(value.Trim(), pkcs12, out var written))
        {
            throw new InvalidOperationException($"{source} must hold a base64 PKCS#12 (PFX) certificate, or PEM with content type {PemContentType}.");
        }

        return DataProtectionCertificates.FromPkcs12(pkcs12[..written], password: null, source);
    }

    /// <summary>
    /// Earlier enabled versions of the certificate secret, newest first, so keys protected before a rotation still
    /// decrypt. Listing needs the 'list' permission: without it, or for a version that does not load, a warning is
    /// logged and start-up goes on with the current certificate.
    /// </summary>
    private List<X509Certificate2> PreviousCertificates(string? currentVersion)
    {
        var name = options.DataProtectionCertificateSecretName;
        List<SecretProperties> versions;
        try
        {
            versions = client.GetPropertiesOfSecretVersions(name, CancellationToken.None)
                .Where(p => p.Enabled == true && !string.Equals(p.Version, currentVersion, StringComparison.Ordinal))
                .OrderByDescending(p => p.CreatedOn)
                .Take(MaxPreviousCertificates)
                .ToList();
        }
        catch (Exception e)
        {
            Log.PreviousCertificatesUnavailable(logger, name, SecretRules.Describe(e));
            return [];
        }

        var certificates = new List<X509Certificate2>();
        foreach (var version in versions)
        {
            try
            {
                certificates.Add(CertificateOf(Read(name, nameof(KeyVaultOptions.DataProtectionCertificateSecretName), version.Version)));
            }
            catch (InvalidOperationException e)
            {
                Log.PreviousCertificateSkipped(logger, name, version.Version ?? "-", SecretRules.Describe(e.InnerException ?? e));
            }
        }

        return certificates;
    }

    private static string Versioned(KeyVaultSecret secret) => $"{secret.Name} version {secret.Properties.Version ?? "-"}";
}
