using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Tokenizer.Server.Tests.Secrets;

/// <summary>Self-signed test certificates, made once per run.</summary>
internal static class TestCertificates
{
    private static readonly Lazy<X509Certificate2> Rsa3072Lazy = new(() => CreateRsa("CN=Tokenizer test DP", 3072));
    private static readonly Lazy<X509Certificate2> Rsa2048Lazy = new(() => CreateRsa("CN=Tokenizer test DP next", 2048));
    private static readonly Lazy<string> Pkcs12Cache = new(() => Convert.ToBase64String(Rsa3072Lazy.Value.Export(X509ContentType.Pkcs12)));

    public static X509Certificate2 Rsa3072 => Rsa3072Lazy.Value;

    public static X509Certificate2 Rsa2048 => Rsa2048Lazy.Value;

    public static X509Certificate2 CreateRsa(string subject, int bits)
    {
        using var rsa = RSA.Create(bits);
        var request = new CertificateRequest(subject, rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
    }

    public static X509Certificate2 CreateEcdsa()
    {
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return new CertificateRequest("CN=Tokenizer test ECDSA", ecdsa, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
    }

    public static string Pkcs12Base64(X509Certificate2 certificate) =>
        ReferenceEquals(certificate, Rsa3072Lazy.Value) ? Pkcs12Cache.Value : Convert.ToBase64String(certificate.Export(X509ContentType.Pkcs12));

    public static string Pem(X509Certificate2 certificate)
    {
        using var key = certificate.GetRSAPrivateKey();
        return certificate.ExportCertificatePem() + "\n" + key!.ExportPkcs8PrivateKeyPem() + "\n";
    }
}
