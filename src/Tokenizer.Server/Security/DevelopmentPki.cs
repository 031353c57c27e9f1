using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Tokenizer.Server.Security;

/// <summary>
/// The development PKI under <c>{DataDirectory}/pki/</c>, in PEM: <c>ca.crt</c>/<c>ca.key</c>, <c>server.crt</c>/<c>server.key</c>
/// (localhost, 127.0.0.1, ::1) and the client pairs <c>billing</c> (role tokenize), <c>finance</c> and <c>admin</c>.
/// ECDSA P-256, valid for two years. Development only: production takes its certificates from configuration or Key Vault.
/// Private keys are written owner-only (0600) in an owner-only directory.
/// </summary>
public static class DevelopmentPki
{
    /// <summary>The client certificates made for development, by file stem; each one's subject is <c>CN={stem}</c>.</summary>
    public static readonly IReadOnlyList<string> ClientNames = ["billing", "finance", "admin"];

    /// <summary>The development CA's subject: its marker. Outside Development a CA with this subject is refused.</summary>
    public const string CaSubject = "CN=Tokenizer Development CA";

    /// <summary>
    /// Creates the PKI unless <c>ca.crt</c> already exists. Returns true when it created it. <paramref name="caSubject"/>
    /// names the CA (default <see cref="CaSubject"/>); tests that stand in for a production CA pass another name.
    /// </summary>
    public static bool EnsureCreated(string directory, TimeProvider timeProvider, string caSubject = CaSubject)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        if (File.Exists(Path.Combine(directory, "ca.crt")))
        {
            return false;
        }

        Directory.CreateDirectory(directory);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        var now = timeProvider.GetUtcNow();
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest(caSubject, caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        using var ca = caRequest.CreateSelfSigned(now.AddMinutes(-5), now.AddYears(2));
        Write(directory, "ca", ca, caKey);

        var serverNames = new SubjectAlternativeNameBuilder();
        serverNames.AddDnsName("localhost");
        serverNames.AddIpAddress(System.Net.IPAddress.Loopback);
        serverNames.AddIpAddress(System.Net.IPAddress.IPv6Loopback);
        Issue(directory, "server", "CN=localhost", ca, now, serverAuth: true, serverNames.Build());
        foreach (var client in ClientNames)
        {
            Issue(directory, client, $"CN={client}", ca, now, serverAuth: false, null);
        }

        return true;
    }

    /// <summary>
    /// True when <paramref name="certificate"/> is a development CA, or issued by one: its subject or issuer is
    /// <see cref="CaSubject"/>, or it is the CA certificate of the development PKI in <paramref name="developmentPkiDirectory"/>
    /// (whose private key sits beside it, readable by anyone who can read the data directory), or it holds that CA's
    /// public key under another name, or names that key as its issuer's (authority key identifier).
    /// </summary>
    public static bool IsDevelopmentCa(X509Certificate2 certificate, string developmentPkiDirectory)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        if (certificate.SubjectName.Name == CaSubject || certificate.IssuerName.Name == CaSubject)
        {
            return true;
        }

        var developmentCa = Path.Combine(developmentPkiDirectory, "ca.crt");
        if (!File.Exists(developmentCa))
        {
            return false;
        }

        using var local = X509CertificateLoader.LoadCertificateFromFile(developmentCa);
        return local.RawDataMemory.Span.SequenceEqual(certificate.RawDataMemory.Span)
            || local.SubjectName.RawData.AsSpan().SequenceEqual(certificate.IssuerName.RawData)
            || SameKey(local, certificate)
            || IssuedWithKeyOf(local, certificate);
    }

    // The private key is what matters, not the name: a certificate re-issued under another name from the development
    // CA's key (which sits in the data directory) is that CA all the same.
    private static bool SameKey(X509Certificate2 a, X509Certificate2 b) =>
        a.PublicKey.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(b.PublicKey.ExportSubjectPublicKeyInfo());

    // A certificate signed with the development CA's key names that key in its authority key identifier.
    private static bool IssuedWithKeyOf(X509Certificate2 ca, X509Certificate2 certificate) =>
        ca.Extensions.OfType<X509SubjectKeyIdentifierExtension>().FirstOrDefault()?.SubjectKeyIdentifierBytes is { Length: > 0 } caKey
        && certificate.Extensions.OfType<X509AuthorityKeyIdentifierExtension>().FirstOrDefault()?.KeyIdentifier is { Length: > 0 } issuerKey
        && caKey.Span.SequenceEqual(issuerKey.Span);

    /// <summary>Issues one more client certificate from the CA in <paramref name="directory"/> (tests use it for strangers).</summary>
    public static void IssueClient(string directory, string name, string subject, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        using var ca = X509Certificate2.CreateFromPemFile(Path.Combine(directory, "ca.crt"), Path.Combine(directory, "ca.key"));
        Issue(directory, name, subject, ca, timeProvider.GetUtcNow(), serverAuth: false, null);
    }

    private static void Issue(
        string directory,
        string name,
        string subject,
        X509Certificate2 ca,
        DateTimeOffset now,
        bool serverAuth,
        X509Extension? alternativeNames)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [serverAuth ? new Oid("1.3.6.1.5.5.7.3.1") : new Oid("1.3.6.1.5.5.7.3.2")],
            false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, true, false));
        if (alternativeNames is not null)
        {
            request.CertificateExtensions.Add(alternativeNames);
        }

        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        using var certificate = request.Create(ca, now.AddMinutes(-5), now.AddYears(2).AddDays(-1), serial);
        Write(directory, name, certificate, key);
    }

    private static void Write(string directory, string name, X509Certificate2 certificate, ECDsa key)
    {
        File.WriteAllText(Path.Combine(directory, name + ".crt"), certificate.ExportCertificatePem());
        var keyPath = Path.Combine(directory, name + ".key");
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using var stream = new StreamWriter(new FileStream(keyPath, options));
        stream.Write(key.ExportPkcs8PrivateKeyPem());
    }
}
