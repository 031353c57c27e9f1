using System.Security.Claims;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using NSubstitute;
using Tokenizer.Server.Hosting;
using Tokenizer.Server.Security;

namespace Tokenizer.Server.Tests.Security;

public sealed class CertificateValidationResultCacheTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);

    private readonly FakeTimeProvider time = new(Start);
    private readonly IOptionsMonitor<TokenizerOptions> callers = Substitute.For<IOptionsMonitor<TokenizerOptions>>();
    private readonly X509Certificate2 billing = Certificate("CN=billing", Start.AddYears(1));
    private Action<TokenizerOptions, string?>? changed;

    public CertificateValidationResultCacheTests()
    {
        callers.OnChange(Arg.Do<Action<TokenizerOptions, string?>>(listener => changed = listener)).Returns(Substitute.For<IDisposable>());
    }

    [Fact]
    public void Get_WithinLifetime_ReturnsACopyOfTheStoredResult()
    {
        // Arrange
        using var cache = new CertificateValidationResultCache(callers, time);
        var stored = Success("billing");
        Store(cache, billing, stored);
        time.Advance(CertificateValidationResultCache.Lifetime - TimeSpan.FromSeconds(1));

        // Act
        var result = cache.Get(new DefaultHttpContext(), billing);

        // Assert
        Assert.NotNull(result);
        Assert.NotSame(stored, result);
        Assert.Equal("billing", result.Principal!.FindFirstValue(ClaimTypes.NameIdentifier));
    }

    [Fact]
    public void Get_AfterLifetime_ReturnsNullSoTheChainIsCheckedAgain()
    {
        // Arrange
        using var cache = new CertificateValidationResultCache(callers, time);
        Store(cache, billing, Success("billing"));

        // Act: the lifetime is absolute; a hit in between does not extend it.
        time.Advance(TimeSpan.FromSeconds(20));
        Assert.NotNull(cache.Get(new DefaultHttpContext(), billing));
        time.Advance(CertificateValidationResultCache.Lifetime - TimeSpan.FromSeconds(20));
        var result = cache.Get(new DefaultHttpContext(), billing);

        // Assert
        Assert.Null(result);
    }

    [Fact]
    public void Get_AfterCallersConfigurationChanged_ReturnsNull()
    {
        // Arrange: a caller removed from Tokenizer:Callers must not keep access through the cache.
        using var cache = new CertificateValidationResultCache(callers, time);
        Store(cache, billing, Success("billing"));
        Assert.NotNull(changed);

        // Act
        changed!(new TokenizerOptions(), null);
        var result = cache.Get(new DefaultHttpContext(), billing);

        // Assert
        Assert.Null(result);
    }

    [Fact]
    public void Get_CertificateExpiringBeforeLifetime_ReturnsNullFromNotAfter()
    {
        // Arrange
        using var expiring = Certificate("CN=expiring", Start.AddSeconds(10));
        using var cache = new CertificateValidationResultCache(callers, time);
        Store(cache, expiring, Success("expiring"));

        // Act
        time.Advance(TimeSpan.FromSeconds(11));
        var result = cache.Get(new DefaultHttpContext(), expiring);

        // Assert
        Assert.Null(result);
    }

    [Fact]
    public void Get_OtherCertificateWithSameSubject_ReturnsNull()
    {
        // Arrange: keyed by the certificate's bytes, not its subject.
        using var impostor = Certificate("CN=billing", Start.AddYears(1));
        using var cache = new CertificateValidationResultCache(callers, time);
        Store(cache, billing, Success("billing"));

        // Act
        var result = cache.Get(new DefaultHttpContext(), impostor);

        // Assert
        Assert.Null(result);
    }

    [Fact]
    public void Put_CallersChangedWhileTheResultWasComputed_IsNotStored()
    {
        // Arrange: the handler missed (Get), then the configuration changed before it stored what it found.
        using var cache = new CertificateValidationResultCache(callers, time);
        var context = new DefaultHttpContext();
        Assert.Null(cache.Get(context, billing));
        changed!(new TokenizerOptions(), null);

        // Act
        cache.Put(context, billing, Success("billing"));

        // Assert
        Assert.Null(cache.Get(new DefaultHttpContext(), billing));
    }

    [Fact]
    public void Put_WithoutAGetFirst_IsNotStored()
    {
        // Arrange
        using var cache = new CertificateValidationResultCache(callers, time);

        // Act
        cache.Put(new DefaultHttpContext(), billing, Success("billing"));

        // Assert
        Assert.Null(cache.Get(new DefaultHttpContext(), billing));
    }

    public void Dispose() => billing.Dispose();

    /// <summary>What the handler does on a miss: Get, check, then Put on the same request.</summary>
    private static void Store(CertificateValidationResultCache cache, X509Certificate2 certificate, AuthenticateResult result)
    {
        var context = new DefaultHttpContext();
        Assert.Null(cache.Get(context, certificate));
        cache.Put(context, certificate, result);
    }

    private static AuthenticateResult Success(string callerId) => AuthenticateResult.Success(
        new AuthenticationTicket(CallerDirectory.Principal(callerId, ["tokenize"], "Certificate"), "Certificate"));

    private static X509Certificate2 Certificate(string subject, DateTimeOffset notAfter)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        return request.CreateSelfSigned(Start.AddDays(-1), notAfter);
    }
}
