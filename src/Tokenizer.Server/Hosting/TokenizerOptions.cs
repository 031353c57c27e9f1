using Microsoft.Extensions.Options;

namespace Tokenizer.Server.Hosting;

/// <summary>Configuration section <c>Tokenizer</c>.</summary>
public sealed class TokenizerOptions
{
    /// <summary>The configuration section name.</summary>
    public const string Section = "Tokenizer";

    /// <summary>All state lives under this directory (ledger, embedded sandbox, generated secrets). Default <c>./data</c>.</summary>
    public string DataDirectory { get; set; } = "./data";

    /// <summary>
    /// Base64 secret (at least 32 bytes) for request HMACs and gateway idempotency keys. When empty: Key Vault
    /// (<c>KeyVault:Uri</c>), else in Development and embedded mode a random secret generated once into
    /// <c>{DataDirectory}/secrets/request-hmac.key</c> (mode 0600), else start-up stops. See <c>ITokenizerSecrets</c>.
    /// </summary>
    public string? RequestHmacSecret { get; set; }

    /// <summary>
    /// Base64 secret (at least 32 bytes, not the request one) keying the audit trail. When empty: as
    /// <see cref="RequestHmacSecret"/>, with <c>{DataDirectory}/secrets/audit-hmac.key</c>.
    /// </summary>
    public string? AuditHmacSecret { get; set; }

    /// <summary>Section <c>Tokenizer:DataProtection</c>: the certificate that encrypts Data Protection keys at rest.</summary>
    public Secrets.DataProtectionCertificateOptions DataProtection { get; set; } = new();

    /// <summary>How long a duplicate request waits for the first one before ABORTED, in seconds.</summary>
    public int DuplicateWaitSeconds { get; set; } = 10;
}

/// <summary>Configuration section <c>Stripe</c>. Without an ApiKey (here or in Key Vault) the embedded sandbox is the gateway.</summary>
public sealed class StripeSettings
{
    /// <summary>The configuration section name.</summary>
    public const string Section = "Stripe";

    /// <summary>Secret or restricted key (<c>sk_...</c> / <c>rk_...</c>). Empty: use the embedded sandbox.</summary>
    public string? ApiKey { get; set; }

    /// <summary>Optional API base, e.g. a standalone sandbox at <c>http://127.0.0.1:12111</c>. Empty: api.stripe.com.</summary>
    public string? ApiBase { get; set; }

    /// <summary>Per-request timeout in seconds.</summary>
    public int RequestTimeoutSeconds { get; set; } = 30;

    /// <summary>Stripe.net network retries (one retry layer; each reuses the Idempotency-Key).</summary>
    public int MaxNetworkRetries { get; set; } = 2;

    /// <summary>Embedded sandbox only: answer card creates as an account without raw card data APIs would.</summary>
    public bool SandboxRawCardDataEnabled { get; set; } = true;
}

/// <summary>Validates <see cref="TokenizerOptions"/> at start-up; messages name the setting, never its value.</summary>
internal sealed class TokenizerOptionsValidator : IValidateOptions<TokenizerOptions>
{
    public ValidateOptionsResult Validate(string? name, TokenizerOptions options)
    {
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.DataDirectory))
        {
            failures.Add("Tokenizer:DataDirectory must be set.");
        }

        if (!string.IsNullOrEmpty(options.RequestHmacSecret) && !SecretFiles.TryDecodeSecret(options.RequestHmacSecret, out _))
        {
            failures.Add("Tokenizer:RequestHmacSecret must be base64 of at least 32 bytes.");
        }

        if (!string.IsNullOrEmpty(options.AuditHmacSecret) && !SecretFiles.TryDecodeSecret(options.AuditHmacSecret, out _))
        {
            failures.Add("Tokenizer:AuditHmacSecret must be base64 of at least 32 bytes.");
        }

        if (options.DuplicateWaitSeconds is < 0 or > 60)
        {
            failures.Add("Tokenizer:DuplicateWaitSeconds must be between 0 and 60.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>Validates <see cref="StripeSettings"/> at start-up; messages name the setting, never its value.</summary>
/// <remarks>
/// Whether a Stripe key is required (Production, where the embedded sandbox refuses to run) is decided by the secrets
/// layer, since Key Vault may supply it: see <c>ITokenizerSecrets.UsesEmbeddedSandbox</c>.
/// </remarks>
internal sealed class StripeSettingsValidator : IValidateOptions<StripeSettings>
{
    public ValidateOptionsResult Validate(string? name, StripeSettings options)
    {
        var failures = new List<string>();
        if (!string.IsNullOrWhiteSpace(options.ApiKey) && !(options.ApiKey.StartsWith("sk_", StringComparison.Ordinal) || options.ApiKey.StartsWith("rk_", StringComparison.Ordinal)))
        {
            failures.Add("Stripe:ApiKey must be a secret (sk_) or restricted (rk_) key.");
        }

        if (!string.IsNullOrEmpty(options.ApiBase) && !Uri.TryCreate(options.ApiBase, UriKind.Absolute, out _))
        {
            failures.Add("Stripe:ApiBase must be an absolute URL.");
        }

        if (options.RequestTimeoutSeconds is < 1 or > 120)
        {
            failures.Add("Stripe:RequestTimeoutSeconds must be between 1 and 120.");
        }

        if (options.MaxNetworkRetries is < 0 or > 5)
        {
            failures.Add("Stripe:MaxNetworkRetries must be between 0 and 5.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
