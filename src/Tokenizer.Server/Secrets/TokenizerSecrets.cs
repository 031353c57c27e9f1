using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Tokenizer.Gateways.Stripe;
using Tokenizer.Server.Hosting;

namespace Tokenizer.Server.Secrets;

/// <summary>
/// The secret store behind <see cref="ITokenizerSecrets"/> and the gateway's <see cref="IStripeApiKeyProvider"/>.
/// Loads once (the first member read, or <see cref="EnsureLoaded"/> from <see cref="SecretsRefreshService"/> at
/// start-up); a failed load is kept and rethrown, so the service cannot run half-configured.
/// <see cref="RefreshAsync"/> swaps in a rotated Stripe key; on failure the last good key stays.
/// </summary>
internal sealed class TokenizerSecrets : ITokenizerSecrets, IStripeApiKeyProvider, IDisposable
{
    private readonly ISecretSource source;
    private readonly ILogger logger;
    private readonly string stripeSecretName;
    private readonly Lazy<SecretSnapshot> snapshot;
    private X509Certificate2[] decryptionCertificates = [];
    private volatile string? stripeApiKey;

    public TokenizerSecrets(ISecretSource source, ILogger<TokenizerSecrets> logger, string stripeSecretName = "Stripe:ApiKey")
    {
        this.source = source ?? throw new ArgumentNullException(nameof(source));
        this.logger = logger ?? throw new ArgumentNullException(nameof(logger));
        this.stripeSecretName = stripeSecretName;
        snapshot = new Lazy<SecretSnapshot>(LoadOnce, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>True when the source can see rotated secrets (Key Vault).</summary>
    public bool CanRefresh => source.CanRefresh;

    public string? StripeApiKey
    {
        get
        {
            EnsureLoaded();
            return stripeApiKey;
        }
    }

    public bool UsesEmbeddedSandbox => StripeApiKey is null;

    /// <summary>
    /// The key the embedded sandbox accepts: <c>sk_test_</c> and 32 random letters and digits, new for every instance
    /// (every start), held only in memory and handed to the sandbox and the Stripe client in this process; never logged
    /// or written. Another local process cannot call the sandbox with it.
    /// </summary>
    public string EmbeddedSandboxApiKey { get; } = "sk_test_" + System.Security.Cryptography.RandomNumberGenerator.GetString("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 32);

    /// <inheritdoc />
    /// <value>The current Stripe key, or <see cref="EmbeddedSandboxApiKey"/> when none is configured.</value>
    public string CurrentApiKey => StripeApiKey ?? EmbeddedSandboxApiKey;

    public ReadOnlyMemory<byte> RequestHmacSecret => snapshot.Value.RequestHmacSecret;

    public ReadOnlyMemory<byte> AuditHmacSecret => snapshot.Value.AuditHmacSecret;

    public IReadOnlyList<ReadOnlyMemory<byte>> PreviousRequestHmacSecrets =>
        snapshot.Value.PreviousRequestHmacSecrets.Select(s => (ReadOnlyMemory<byte>)s).ToList();

    public IReadOnlyList<ReadOnlyMemory<byte>> PreviousAuditHmacSecrets =>
        snapshot.Value.PreviousAuditHmacSecrets.Select(s => (ReadOnlyMemory<byte>)s).ToList();

    public (string Current, string Previous) RequestHmacSecretSettings => source.CanRefresh
        ? ("KeyVault:RequestHmacSecretName", "KeyVault:RequestHmacPreviousSecretNames")
        : ("Tokenizer:RequestHmacSecret", "Tokenizer:RequestHmacPreviousSecrets");

    public (string Current, string Previous) AuditHmacSecretSettings => source.CanRefresh
        ? ("KeyVault:AuditHmacSecretName", "KeyVault:AuditHmacPreviousSecretNames")
        : ("Tokenizer:AuditHmacSecret", "Tokenizer:AuditHmacPreviousSecrets");

    public X509Certificate2 DataProtectionCertificate => snapshot.Value.Certificate;

    public IReadOnlyList<X509Certificate2> DataProtectionDecryptionCertificates
    {
        get
        {
            EnsureLoaded();
            return decryptionCertificates;
        }
    }

    /// <summary>Loads every secret now, if not yet loaded.</summary>
    /// <exception cref="InvalidOperationException">A secret is missing, malformed or unreachable (the same exception on every call).</exception>
    public void EnsureLoaded() => _ = snapshot.Value;

    /// <summary>
    /// Re-reads the Stripe API key from a refreshable source; a changed key is used from the next Stripe request on.
    /// Never throws for a source failure: it logs a warning (no value) and keeps the last good key.
    /// </summary>
    /// <returns>True when the source answered with a valid key (changed or not); false when it failed or cannot refresh.</returns>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public async Task<bool> RefreshAsync(CancellationToken cancellationToken)
    {
        EnsureLoaded();
        if (!source.CanRefresh)
        {
            return false;
        }

        try
        {
            var (apiKey, version) = await source.ReloadStripeApiKeyAsync(cancellationToken).ConfigureAwait(false);
            if (!string.Equals(apiKey, stripeApiKey, StringComparison.Ordinal))
            {
                stripeApiKey = apiKey;
                Log.StripeApiKeyRotated(logger, stripeSecretName, version ?? "-");
            }

            return true;
        }
        catch (Exception e) when (!(e is OperationCanceledException && cancellationToken.IsCancellationRequested))
        {
            Log.RefreshFailed(logger, SecretRules.Describe(e));
            return false;
        }
    }

    public void Dispose()
    {
        if (snapshot.IsValueCreated)
        {
            foreach (var certificate in decryptionCertificates)
            {
                certificate.Dispose();
            }
        }
    }

    private SecretSnapshot LoadOnce()
    {
        var loaded = source.Load();
        stripeApiKey = loaded.StripeApiKey;
        decryptionCertificates = [loaded.Certificate, .. loaded.PreviousCertificates];
        var certificate = loaded.Certificate;
        var expires = certificate.NotAfter.ToUniversalTime();
        Log.SecretsLoaded(logger, loaded.Description, certificate.Thumbprint, expires, loaded.PreviousCertificates.Count);
        return loaded;
    }
}
