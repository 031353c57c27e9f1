using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Tokenizer.Server.Hosting;

namespace Tokenizer.Server.Secrets;

/// <summary>
/// Reads the secrets from configuration (<c>Stripe:ApiKey</c>, <c>Tokenizer:RequestHmacSecret</c>,
/// <c>Tokenizer:AuditHmacSecret</c>, <c>Tokenizer:DataProtection:*</c>). A missing HMAC secret or certificate is
/// generated once under <c>{DataDirectory}/secrets/</c> (files 0600, directory 0700) when
/// <paramref name="allowLocalGeneration"/> (Development, or embedded mode outside Production); otherwise start-up stops
/// with a message naming the setting. Production also requires a Stripe key: the embedded sandbox refuses to run there.
/// </summary>
internal sealed class ConfigurationSecretSource(
    TokenizerOptions tokenizer,
    StripeSettings stripe,
    DataDirectory dataDirectory,
    bool allowLocalGeneration,
    bool isProduction,
    TimeProvider timeProvider,
    ILogger logger) : ISecretSource
{
    internal const string RequestHmacFile = "request-hmac.key";
    internal const string AuditHmacFile = "audit-hmac.key";
    internal const string CertificateFile = "dataprotection-cert.pem";

    private const string Requirement = "outside Development and embedded-sandbox mode (or set KeyVault:Uri)";

    public bool CanRefresh => false;

    public SecretSnapshot Load()
    {
        var origins = new List<string>();
        var stripeKey = string.IsNullOrWhiteSpace(stripe.ApiKey) ? null : stripe.ApiKey.Trim();
        if (stripeKey is null && isProduction)
        {
            throw new InvalidOperationException(
                "Stripe:ApiKey (or KeyVault:Uri with the Stripe key in the vault) is required in Production: the embedded Stripe sandbox refuses to run there.");
        }

        if (stripeKey is not null && !SecretRules.IsStripeApiKey(stripeKey))
        {
            throw new InvalidOperationException("Stripe:ApiKey must be a secret (sk_) or restricted (rk_) key.");
        }

        origins.Add(stripeKey is null ? "no Stripe key (embedded sandbox)" : "Stripe:ApiKey");
        var request = HmacSecret(tokenizer.RequestHmacSecret, "Tokenizer:RequestHmacSecret", RequestHmacFile, origins);
        var audit = HmacSecret(tokenizer.AuditHmacSecret, "Tokenizer:AuditHmacSecret", AuditHmacFile, origins);
        if (request.AsSpan().SequenceEqual(audit))
        {
            throw new InvalidOperationException("Tokenizer:AuditHmacSecret must differ from Tokenizer:RequestHmacSecret.");
        }

        var previousRequest = Previous(tokenizer.RequestHmacPreviousSecrets, "Tokenizer:RequestHmacPreviousSecrets", origins);
        var previousAudit = Previous(tokenizer.AuditHmacPreviousSecrets, "Tokenizer:AuditHmacPreviousSecrets", origins);
        var certificate = Certificate(origins);
        return new SecretSnapshot(stripeKey, request, audit, certificate, [], "configuration (" + string.Join(", ", origins) + ")")
        {
            PreviousRequestHmacSecrets = previousRequest,
            PreviousAuditHmacSecrets = previousAudit,
        };
    }

    private static List<byte[]> Previous(List<string> configured, string setting, List<string> origins)
    {
        var secrets = new List<byte[]>();
        for (var i = 0; i < configured.Count; i++)
        {
            secrets.Add(SecretFiles.TryDecodeSecret((configured[i] ?? string.Empty).Trim(), out var secret)
                ? secret
                : throw new InvalidOperationException($"{setting}:{i} must be base64 of at least {SecretRules.MinimumSecretBytes} bytes."));
        }

        if (secrets.Count > 0)
        {
            origins.Add($"{setting} ({secrets.Count})");
        }

        return secrets;
    }

    public Task<(string ApiKey, string? Version)> ReloadStripeApiKeyAsync(CancellationToken cancellationToken) =>
        throw new NotSupportedException("configuration secrets are read once, at start-up");

    private byte[] HmacSecret(string? configured, string setting, string fileName, List<string> origins)
    {
        if (!string.IsNullOrWhiteSpace(configured))
        {
            origins.Add(setting);
            return SecretFiles.TryDecodeSecret(configured.Trim(), out var secret)
                ? secret
                : throw new InvalidOperationException($"{setting} must be base64 of at least {SecretRules.MinimumSecretBytes} bytes.");
        }

        var path = LocalPath(setting, fileName, $"base64 of at least {SecretRules.MinimumSecretBytes} bytes");
        var existed = File.Exists(path);
        var bytes = SecretFiles.LoadOrCreate(path);
        Generated(existed, fileName, path, origins);
        return bytes;
    }

    private X509Certificate2 Certificate(List<string> origins)
    {
        const string setting = "Tokenizer:DataProtection:CertificatePath";
        var options = tokenizer.DataProtection;
        if (!string.IsNullOrWhiteSpace(options.CertificatePath))
        {
            origins.Add(setting);
            return DataProtectionCertificates.FromFile(options.CertificatePath, options.CertificatePassword, options.CertificateKeyPath, setting);
        }

        var path = LocalPath(setting, CertificateFile, "a PKCS#12 or PEM file with an RSA certificate and its private key");
        var existed = File.Exists(path);
        var pem = LocalCertificateFile.LoadOrCreate(path, () => DataProtectionCertificates.CreateLocalPem(timeProvider.GetUtcNow()));
        Generated(existed, CertificateFile, path, origins);
        return DataProtectionCertificates.FromPem(pem, pem, password: null, $"{setting} (local file {CertificateFile})");
    }

    private string LocalPath(string setting, string fileName, string shape) => allowLocalGeneration
        ? Path.Combine(dataDirectory.Root, "secrets", fileName)
        : throw new InvalidOperationException($"{setting} is required {Requirement}: {shape}.");

    private void Generated(bool existed, string fileName, string path, List<string> origins)
    {
        origins.Add($"local {fileName}");
        if (!existed)
        {
            Log.LocalSecretGenerated(logger, fileName, path);
        }
    }
}
