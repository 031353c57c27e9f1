using Microsoft.Extensions.Options;
using Tokenizer.Core.Tokenization;
using Tokenizer.Gateways.Stripe;

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

    /// <summary>
    /// Earlier request HMAC secrets (base64, at least 32 bytes each), kept after a rotation so a retry within the
    /// idempotency retention still finds its first answer: its stored key id and request HMAC are looked up under the
    /// current secret, then under each of these, and its gateway Idempotency-Keys are derived with the secret that made
    /// the claim. Setting <c>Tokenizer:RequestHmacPreviousSecrets:0</c>, <c>:1</c>, ...
    /// </summary>
    public List<string> RequestHmacPreviousSecrets { get; set; } = [];

    /// <summary>
    /// Earlier audit HMAC secrets (base64, at least 32 bytes each): they only verify the records they signed (each record
    /// names its key by key id); new records are signed with <see cref="AuditHmacSecret"/>. Setting
    /// <c>Tokenizer:AuditHmacPreviousSecrets:0</c>, <c>:1</c>, ...
    /// </summary>
    public List<string> AuditHmacPreviousSecrets { get; set; } = [];

    /// <summary>
    /// Minutes an audit key may still sign after a newer one (the current key) signed its first record: a rolling rotation
    /// across replicas must finish within it, and a record a replaced key signs later is reported as signed by a retired
    /// key (start-up refuses; <c>audit verify</c> lists it). 1 to 10080 (7 days); default 15. Setting
    /// <c>Tokenizer:AuditKeyRotationGraceMinutes</c>; the offline <c>audit verify</c> reads the same variable.
    /// </summary>
    public int AuditKeyRotationGraceMinutes { get; set; } = 15;

    /// <summary>Section <c>Tokenizer:AuditAnchor</c>: where and how often the audit trail's head is kept outside the database.</summary>
    public AuditAnchorOptions AuditAnchor { get; set; } = new();

    /// <summary>Section <c>Tokenizer:DataProtection</c>: the certificate that encrypts Data Protection keys at rest.</summary>
    public Secrets.DataProtectionCertificateOptions DataProtection { get; set; } = new();

    /// <summary>How long a duplicate request waits for the first one before ABORTED, in seconds.</summary>
    public int DuplicateWaitSeconds { get; set; } = 10;

    /// <summary>
    /// How long a pending idempotency claim blocks its key before a retry may take it over, in seconds: the bound on how
    /// long a request whose process died stays ABORTED. Longer than the per-call cap.
    /// </summary>
    public int PendingLeaseSeconds { get; set; } = 120;

    /// <summary>
    /// Development only: a crash-test fail point, <c>kill-after-gateway-success</c>, <c>kill-after-setup-intent</c> (the
    /// SetupIntent answered, the mandate not read, the ledger not written) or (privacy)
    /// <c>kill-erasure-after-first-detach</c>; refused elsewhere.
    /// </summary>
    public string? FailPoint { get; set; }

    /// <summary>
    /// How long a ledger statement waits for another connection's lock before its transaction is retried (4 attempts);
    /// then the call fails with UNAVAILABLE LEDGER_UNAVAILABLE, before any gateway call. Milliseconds, 10 to 60000.
    /// </summary>
    public int LedgerBusyTimeoutMilliseconds { get; set; } = 5000;

    /// <summary>
    /// One-shot recovery: when a secret's stored check value is missing (deleted from <c>key_checks</c>) although the
    /// ledger holds data keyed by it, store the configured secret's check value instead of refusing to start (Warning,
    /// event 2159, and the audit record <c>configuration/key_check_adopted</c>). Only for an operator who knows the
    /// configured secret is the one the ledger was used with; remove the setting afterwards. Default false.
    /// </summary>
    public bool AdoptKeyChecks { get; set; }

    /// <summary>
    /// Development only: also serve plaintext HTTP/2 on loopback addresses, where callers are the one
    /// <c>insecure-loopback</c> caller with <see cref="InsecureLoopbackRoles"/>. Refused outside Development and on any
    /// non-loopback address.
    /// </summary>
    public bool AllowInsecureLoopback { get; set; }

    /// <summary>The roles of the plaintext loopback caller (Development only).</summary>
    public List<string> InsecureLoopbackRoles { get; set; } = [];

    /// <summary>Server certificate and trusted client CA.</summary>
    public TlsSettings Tls { get; set; } = new();

    /// <summary>Callers by id: which client certificate (subject or SHA-256 thumbprint) is which caller, with which roles.</summary>
    public Dictionary<string, CallerSettings> Callers { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Message size, deadline and rate limits.</summary>
    public LimitSettings Limits { get; set; } = new();

    /// <summary>
    /// How long a stopping host (SIGTERM) lets in-flight calls finish, in seconds, after it has stopped accepting new
    /// ones and reported NOT_SERVING; calls still running then are aborted. Default 30.
    /// </summary>
    public int ShutdownTimeoutSeconds { get; set; } = 30;

    /// <summary>Section <c>Tokenizer:Metrics</c>: the Prometheus scraping endpoint.</summary>
    public Telemetry.MetricsSettings Metrics { get; set; } = new();

    /// <summary>Section <c>Tokenizer:Recovery</c>: the recovery worker and orphan sweep.</summary>
    public RecoveryOptions Recovery { get; set; } = new();
}

/// <summary>
/// Configuration section <c>Tokenizer:Recovery</c>: the background worker that resolves requests cut off between the
/// gateway and the ledger (crash recovery) and detaches PaymentMethods left attached by failed requests (orphan sweep).
/// Every replica runs it; the idempotency claim makes each intent one replica's work.
/// </summary>
public sealed class RecoveryOptions
{
    /// <summary>Run the worker (default true). Off only for tests that need intents left alone.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Seconds between passes (the first runs at start-up), 1 to 86400. Default 60.</summary>
    public int IntervalSeconds { get; set; } = 60;

    /// <summary>
    /// Seconds an intent stays untouched before the worker acts on it, at least <see cref="TokenizerOptions.PendingLeaseSeconds"/>
    /// and at most 86400. Default 600. Keep it well under a day: Stripe keeps idempotency keys for 24 hours, and a retry
    /// inside that window replays the original PaymentMethod.
    /// </summary>
    public int GracePeriodSeconds { get; set; } = 600;

    /// <summary>How many pending and how many failed intents one pass handles, each, 1 to 1000. Default 100.</summary>
    public int BatchSize { get; set; } = 100;
}

/// <summary>Configuration section <c>Tokenizer:Tls</c>. Empty in Development: the development PKI is used.</summary>
public sealed class TlsSettings
{
    /// <summary>PEM server certificate (chain) path.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>PEM private key path of the server certificate.</summary>
    public string? KeyPath { get; set; }

    /// <summary>PEM certificate of the CA that client certificates must chain to.</summary>
    public string? ClientCaPath { get; set; }
}

/// <summary>One caller: a client certificate matched by exact subject or SHA-256 thumbprint, and its roles.</summary>
public sealed class CallerSettings
{
    /// <summary>The certificate subject, e.g. <c>CN=billing</c> (exact match; the chain to the configured CA is checked first).</summary>
    public string? Subject { get; set; }

    /// <summary>The certificate's SHA-256 thumbprint in hex (case-insensitive).</summary>
    public string? Thumbprint { get; set; }

    /// <summary>Roles: tokenize, finance, admin.</summary>
    public List<string> Roles { get; set; } = [];
}

/// <summary>Configuration section <c>Tokenizer:Limits</c>.</summary>
public sealed class LimitSettings
{
    /// <summary>Largest request message in bytes; larger ones get RESOURCE_EXHAUSTED.</summary>
    public int MaxReceiveMessageBytes { get; set; } = 16 * 1024;

    /// <summary>Largest response message in bytes.</summary>
    public int MaxSendMessageBytes { get; set; } = 1024 * 1024;

    /// <summary>Server-side cap on one call's work, in seconds (DEADLINE_EXCEEDED past it), whatever the caller's deadline.</summary>
    public int CallTimeoutSeconds { get; set; } = 30;

    /// <summary>Sustained calls per second per caller (token bucket).</summary>
    public int PermitsPerSecond { get; set; } = 100;

    /// <summary>Burst size per caller.</summary>
    public int Burst { get; set; } = 200;

    /// <summary>HTTP/2 streams per connection.</summary>
    public int MaxStreamsPerConnection { get; set; } = 100;

    /// <summary>Concurrent connections.</summary>
    public int MaxConnections { get; set; } = 1000;
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

    /// <summary>
    /// Section <c>Stripe:Resilience</c>: the one retry layer (attempt and total timeouts, retries with back-off and
    /// jitter, circuit breaker). Stripe.net's own retries are off; every attempt reuses the Idempotency-Key.
    /// </summary>
    public StripeResilienceOptions Resilience { get; set; } = new();

    /// <summary>Embedded sandbox only: answer card creates as an account without raw card data APIs would.</summary>
    public bool SandboxRawCardDataEnabled { get; set; } = true;

    /// <summary>
    /// Development and embedded sandbox only: delay every sandbox request by this many milliseconds (a standing latency
    /// fault), so tests and demos can keep calls in flight. 0 (default) is off.
    /// </summary>
    public int SandboxLatencyMs { get; set; }
}

/// <summary>Validates <see cref="TokenizerOptions"/> at start-up; messages name the setting, never its value.</summary>
internal sealed class TokenizerOptionsValidator(Microsoft.Extensions.Hosting.IHostEnvironment environment) : IValidateOptions<TokenizerOptions>
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

        foreach (var (setting, list) in new[] { ("Tokenizer:RequestHmacPreviousSecrets", options.RequestHmacPreviousSecrets), ("Tokenizer:AuditHmacPreviousSecrets", options.AuditHmacPreviousSecrets) })
        {
            for (var i = 0; i < list.Count; i++)
            {
                if (!SecretFiles.TryDecodeSecret(list[i] ?? string.Empty, out _))
                {
                    failures.Add($"{setting}:{i} must be base64 of at least 32 bytes.");
                }
            }
        }

        if (options.AuditKeyRotationGraceMinutes is < 1 or > 10080)
        {
            failures.Add("Tokenizer:AuditKeyRotationGraceMinutes must be between 1 and 10080.");
        }

        if (options.AuditAnchor.IntervalSeconds is < 1 or > 3600)
        {
            failures.Add("Tokenizer:AuditAnchor:IntervalSeconds must be between 1 and 3600.");
        }

        if (options.DuplicateWaitSeconds is < 0 or > 60)
        {
            failures.Add("Tokenizer:DuplicateWaitSeconds must be between 0 and 60.");
        }

        if (options.LedgerBusyTimeoutMilliseconds is < 10 or > 60000)
        {
            failures.Add("Tokenizer:LedgerBusyTimeoutMilliseconds must be between 10 and 60000.");
        }

        if (options.PendingLeaseSeconds is < 1 or > 3600)
        {
            failures.Add("Tokenizer:PendingLeaseSeconds must be between 1 and 3600.");
        }

        if (!string.IsNullOrEmpty(options.FailPoint)
            && (!environment.IsDevelopment()
                || options.FailPoint is not ("kill-after-gateway-success" or "kill-after-setup-intent" or Privacy.PrivacyServiceCollectionExtensions.KillErasureAfterFirstDetach)))
        {
            failures.Add("Tokenizer:FailPoint is a Development-only crash-test hook: kill-after-gateway-success, kill-after-setup-intent or kill-erasure-after-first-detach.");
        }

        if (options.AllowInsecureLoopback && !environment.IsDevelopment())
        {
            failures.Add("Tokenizer:AllowInsecureLoopback is refused outside Development.");
        }

        if (!environment.IsDevelopment() && (string.IsNullOrEmpty(options.Tls.CertificatePath) || string.IsNullOrEmpty(options.Tls.KeyPath) || string.IsNullOrEmpty(options.Tls.ClientCaPath)))
        {
            failures.Add("Tokenizer:Tls:CertificatePath, KeyPath and ClientCaPath are required outside Development.");
        }

        if (!environment.IsDevelopment() && UsesDevelopmentCa(options))
        {
            // Its private key sits in the data directory (pki/ca.key): whoever reads that folder could mint callers.
            failures.Add("Tokenizer:Tls:ClientCaPath and CertificatePath must not be the development CA or issued by it outside Development; use your own CA.");
        }

        foreach (var (id, caller) in options.Callers)
        {
            if (string.IsNullOrWhiteSpace(caller.Subject) == string.IsNullOrWhiteSpace(caller.Thumbprint))
            {
                failures.Add($"Tokenizer:Callers:{id} must set exactly one of Subject or Thumbprint.");
            }

            if (caller.Roles.Any(r => r is not (CallerRoles.Tokenize or CallerRoles.Finance or CallerRoles.Admin)))
            {
                failures.Add($"Tokenizer:Callers:{id}:Roles may hold only tokenize, finance, admin.");
            }
        }

        if (!environment.IsDevelopment() && options.PendingLeaseSeconds < options.Limits.CallTimeoutSeconds)
        {
            // A live request must never lose its claim: the lease outlasts the longest call. (Development may shorten it
            // so crash tests finish quickly.)
            failures.Add("Tokenizer:PendingLeaseSeconds must be at least Tokenizer:Limits:CallTimeoutSeconds outside Development.");
        }

        if (options.Recovery.IntervalSeconds is < 1 or > 86400)
        {
            failures.Add("Tokenizer:Recovery:IntervalSeconds must be between 1 and 86400.");
        }

        if (options.Recovery.GracePeriodSeconds < options.PendingLeaseSeconds || options.Recovery.GracePeriodSeconds > 86400)
        {
            failures.Add("Tokenizer:Recovery:GracePeriodSeconds must be at least Tokenizer:PendingLeaseSeconds and at most 86400.");
        }

        if (options.Recovery.BatchSize is < 1 or > 1000)
        {
            failures.Add("Tokenizer:Recovery:BatchSize must be between 1 and 1000.");
        }

        if (options.ShutdownTimeoutSeconds is < 1 or > 300)
        {
            failures.Add("Tokenizer:ShutdownTimeoutSeconds must be between 1 and 300.");
        }

        try
        {
            Telemetry.MetricsSettings.Parse(options.Metrics.Urls);
        }
        catch (FormatException error)
        {
            failures.Add($"Tokenizer:Metrics:Urls: {error.Message}.");
        }

        var limits = options.Limits;
        if (limits.MaxReceiveMessageBytes is < 1024 or > 4 * 1024 * 1024 || limits.MaxSendMessageBytes is < 1024 or > 16 * 1024 * 1024)
        {
            failures.Add("Tokenizer:Limits message sizes must be between 1 KiB and 4 MiB (receive) / 16 MiB (send).");
        }

        if (limits.CallTimeoutSeconds is < 1 or > 300 || limits.PermitsPerSecond < 1 || limits.Burst < 1
            || limits.MaxStreamsPerConnection < 1 || limits.MaxConnections < 1)
        {
            failures.Add("Tokenizer:Limits values must be positive (CallTimeoutSeconds at most 300).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>
    /// True when the configured client CA or server certificate is the development CA or issued by it (see
    /// <see cref="Security.DevelopmentPki.IsDevelopmentCa"/>). A file that cannot be read is left to TLS loading, which names it.
    /// </summary>
    private static bool UsesDevelopmentCa(TokenizerOptions options)
    {
        var developmentPki = Path.Combine(Path.GetFullPath(string.IsNullOrWhiteSpace(options.DataDirectory) ? "." : options.DataDirectory), "pki");
        foreach (var path in (string?[])[options.Tls.ClientCaPath, options.Tls.CertificatePath])
        {
            if (string.IsNullOrEmpty(path) || !File.Exists(path))
            {
                continue;
            }

            try
            {
                using var certificate = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificateFromFile(path);
                if (Security.DevelopmentPki.IsDevelopmentCa(certificate, developmentPki))
                {
                    return true;
                }
            }
            catch (System.Security.Cryptography.CryptographicException)
            {
                // Not a certificate: TlsMaterial reports it when it loads the file.
            }
        }

        return false;
    }
}

/// <summary>Validates <see cref="StripeSettings"/> at start-up; messages name the setting, never its value.</summary>
/// <remarks>
/// Whether a Stripe key is required (Production, where the embedded sandbox refuses to run) is decided by the secrets
/// layer, since Key Vault may supply it: see <c>ITokenizerSecrets.UsesEmbeddedSandbox</c>.
/// </remarks>
internal sealed class StripeSettingsValidator(Microsoft.Extensions.Hosting.IHostEnvironment environment, IOptions<TokenizerOptions> tokenizer)
    : IValidateOptions<StripeSettings>
{
    public ValidateOptionsResult Validate(string? name, StripeSettings options)
    {
        var failures = new List<string>();
        if (!string.IsNullOrWhiteSpace(options.ApiKey) && !(options.ApiKey.StartsWith("sk_", StringComparison.Ordinal) || options.ApiKey.StartsWith("rk_", StringComparison.Ordinal)))
        {
            failures.Add("Stripe:ApiKey must be a secret (sk_) or restricted (rk_) key.");
        }

        if (!string.IsNullOrEmpty(options.ApiBase))
        {
            if (!Uri.TryCreate(options.ApiBase, UriKind.Absolute, out var apiBase))
            {
                failures.Add("Stripe:ApiBase must be an absolute URL.");
            }
            else if (apiBase.Scheme != Uri.UriSchemeHttps && !(environment.IsDevelopment() && apiBase.IsLoopback))
            {
                // The API key and every PAN travel on this connection.
                failures.Add("Stripe:ApiBase must be https (plain http only to a loopback sandbox in Development).");
            }
        }

        var resilience = options.Resilience ?? new StripeResilienceOptions();
        failures.AddRange(resilience.Validate("Stripe:Resilience:"));

        // The gateway's budget lives inside the server's cap on a call, so a slow gateway ends as UNAVAILABLE (retry
        // with the same key) rather than being cut off by the cap as DEADLINE_EXCEEDED.
        if (resilience.TotalTimeout >= TimeSpan.FromSeconds(tokenizer.Value.Limits.CallTimeoutSeconds))
        {
            failures.Add("Stripe:Resilience:TotalTimeout must be shorter than Tokenizer:Limits:CallTimeoutSeconds.");
        }

        if (options.SandboxLatencyMs is < 0 or > 60_000)
        {
            failures.Add("Stripe:SandboxLatencyMs must be between 0 and 60000.");
        }
        else if (options.SandboxLatencyMs > 0 && !environment.IsDevelopment())
        {
            failures.Add("Stripe:SandboxLatencyMs is allowed only in Development.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>
/// Section <c>Tokenizer:AuditAnchor</c>. The audit trail's head (sequence and MAC, sealed with the audit key) is written
/// outside the ledger database every <see cref="IntervalSeconds"/> and at shutdown; start-up and <c>audit verify</c>
/// compare the chain with it, so deleting the newest records is caught.
/// </summary>
public sealed class AuditAnchorOptions
{
    /// <summary>
    /// <c>File</c>: <c>{DataDirectory}/anchor/audit-anchor.json</c>, owner-only, replaced atomically.
    /// <c>KeyVault</c>: the Key Vault secret <c>KeyVault:AuditAnchorSecretName</c> (needs <c>KeyVault:Uri</c>).
    /// Empty (default): <c>KeyVault</c> when <c>KeyVault:Uri</c> is set, else <c>File</c>.
    /// </summary>
    public string? Store { get; set; }

    /// <summary>How often the head is anchored, in seconds (1 to 3600). Default 5.</summary>
    public int IntervalSeconds { get; set; } = 5;
}
