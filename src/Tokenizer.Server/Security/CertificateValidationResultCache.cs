using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Certificate;
using Microsoft.Extensions.Options;
using Tokenizer.Server.Hosting;

namespace Tokenizer.Server.Security;

/// <summary>
/// Remembers the certificate handler's result for a client certificate (chain check plus caller mapping) for at most
/// <see cref="Lifetime"/>, so a connection's calls do not each build the X.509 chain again.
/// </summary>
/// <remarks>
/// Plugged into ASP.NET Core's certificate authentication through its <see cref="ICertificateValidationCache"/> seam.
/// Not the library's own <c>AddCertificateCache</c>: that one slides its expiry on every hit, so a caller removed from
/// Tokenizer:Callers would keep access for as long as it keeps calling. Here an entry lives 30 seconds from the check
/// (never past the certificate's NotAfter), and every change of the callers' configuration drops all entries at once
/// (a result computed across a change is not stored).
/// Keyed by the certificate's SHA-256 over its DER bytes. Measured: the chain build was about 5% of the server's CPU per
/// tokenisation (README "Performance").
/// </remarks>
internal sealed class CertificateValidationResultCache : ICertificateValidationCache, IDisposable
{
    /// <summary>How long a result is reused: the longest a removed caller can still be let in with a cached result.</summary>
    internal static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(30);

    private const int MaxEntries = 1024;

    // Keyed by this object: the generation a request saw when it missed, so its result is not stored after a change.
    private readonly object generationSeen = new();
    private readonly ConcurrentDictionary<string, (AuthenticateResult Result, DateTimeOffset Expires)> entries = new(StringComparer.Ordinal);
    private readonly TimeProvider time;
    private readonly IDisposable? subscription;
    private long generation;

    public CertificateValidationResultCache(IOptionsMonitor<TokenizerOptions> callers, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(callers);
        this.time = time;
        subscription = callers.OnChange(_ =>
        {
            // Generation first: a check that read the old callers and finishes after this clear must not be stored.
            Interlocked.Increment(ref generation);
            entries.Clear();
        });
    }

    /// <inheritdoc />
    public AuthenticateResult? Get(HttpContext context, X509Certificate2 clientCertificate)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(clientCertificate);

        // Read before the handler checks the chain and maps the caller (the handler calls Get, then Put on a miss).
        context.Items[generationSeen] = Interlocked.Read(ref generation);
        var key = Key(clientCertificate);
        if (entries.TryGetValue(key, out var entry))
        {
            if (entry.Expires > time.GetUtcNow())
            {
                // A copy, as the library's own cache hands out: the request may change its ticket's properties.
                return entry.Result.Clone();
            }

            entries.TryRemove(KeyValuePair.Create(key, entry));
        }

        return null;
    }

    /// <inheritdoc />
    public void Put(HttpContext context, X509Certificate2 clientCertificate, AuthenticateResult result)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(clientCertificate);
        ArgumentNullException.ThrowIfNull(result);
        if (context.Items[generationSeen] is not long seen || seen != Interlocked.Read(ref generation))
        {
            // The callers changed while this result was being computed (or Get was not asked first): not stored.
            return;
        }

        var now = time.GetUtcNow();
        var notAfter = new DateTimeOffset(clientCertificate.NotAfter.ToUniversalTime(), TimeSpan.Zero);
        var expires = now + Lifetime < notAfter ? now + Lifetime : notAfter;
        if (expires <= now)
        {
            return;
        }

        if (entries.Count >= MaxEntries)
        {
            // Many distinct certificates (a probe, or a misconfigured fleet): start again rather than grow.
            entries.Clear();
        }

        entries[Key(clientCertificate)] = (result.Clone(), expires);
    }

    public void Dispose() => subscription?.Dispose();

    private static string Key(X509Certificate2 certificate) => Convert.ToHexString(SHA256.HashData(certificate.RawDataMemory.Span));
}
