using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Tokenizer.Server.Security;

namespace Tokenizer.Server.Tests.Security;

/// <summary>
/// The development CA's private key sits in the data directory, so Production must refuse that key however the
/// certificate around it is named: the CA re-issued under another name, and a certificate signed with its key.
/// </summary>
public sealed class DevelopmentCaRecognitionTests : IDisposable
{
    private readonly string pki = Directory.CreateTempSubdirectory("tokenizer-devca-").FullName;

    public DevelopmentCaRecognitionTests() => DevelopmentPki.EnsureCreated(pki, TimeProvider.System, "CN=Renamed Test CA");

    public void Dispose() => Directory.Delete(pki, recursive: true);

    [Fact]
    public void IsDevelopmentCa_CaReissuedFromTheDevelopmentKeyUnderAnotherName_TrueAndSoIsWhatItSigns()
    {
        // Arrange: what `openssl req -x509 -new -key data/pki/ca.key -subj "/CN=Acme Payments Root CA"` makes.
        using var developmentKey = ECDsa.Create();
        developmentKey.ImportFromPem(File.ReadAllText(Path.Combine(pki, "ca.key")));
        using var reissued = SelfSignedCa("CN=Acme Payments Root CA", developmentKey);
        using var leaf = SignedBy(reissued, "CN=admin");

        // Control: a CA with its own key, and what it signs.
        using var ownKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var own = SelfSignedCa("CN=Acme Payments Root CA", ownKey);
        using var ownLeaf = SignedBy(own, "CN=admin");

        // Act and assert
        Assert.True(DevelopmentPki.IsDevelopmentCa(reissued, pki));
        Assert.True(DevelopmentPki.IsDevelopmentCa(leaf, pki));
        Assert.False(DevelopmentPki.IsDevelopmentCa(own, pki));
        Assert.False(DevelopmentPki.IsDevelopmentCa(ownLeaf, pki));
    }

    private static X509Certificate2 SelfSignedCa(string subject, ECDsa key)
    {
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var now = DateTimeOffset.UtcNow;
        return request.CreateSelfSigned(now.AddMinutes(-1), now.AddDays(1));
    }

    private static X509Certificate2 SignedBy(X509Certificate2 ca, string subject)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, true, false));
        var now = DateTimeOffset.UtcNow;
        // CreateSelfSigned already attached the key to the CA certificate.
        Assert.True(ca.HasPrivateKey);
        return request.Create(ca, now.AddMinutes(-1), now.AddHours(1), [1, 2, 3, 4]);
    }
}
