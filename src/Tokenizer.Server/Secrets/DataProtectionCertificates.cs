using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Tokenizer.Server.Secrets;

/// <summary>Reads, checks and creates the certificate that encrypts Data Protection keys at rest.</summary>
internal static class DataProtectionCertificates
{
    /// <summary>The smallest RSA key accepted.</summary>
    public const int MinimumRsaBits = 2048;

    /// <summary>The size of locally generated keys.</summary>
    public const int LocalRsaBits = 3072;

    private const string PemMarker = "-----BEGIN";

    /// <summary>Loads a PKCS#12 (DER bytes) certificate with its private key and checks it.</summary>
    /// <param name="pkcs12">The PFX bytes.</param>
    /// <param name="password">Its password, or null.</param>
    /// <param name="source">The setting or secret it came from, for messages.</param>
    /// <exception cref="InvalidOperationException">Unreadable, wrong password, or not usable (see <see cref="Check"/>).</exception>
    public static X509Certificate2 FromPkcs12(byte[] pkcs12, string? password, string source)
    {
        X509Certificate2 certificate;
        try
        {
            certificate = X509CertificateLoader.LoadPkcs12(pkcs12, password, KeyStorageFlags);
        }
        catch (CryptographicException e)
        {
            throw new InvalidOperationException($"{source} could not be read as a PKCS#12 certificate (wrong format or password).", e);
        }

        return Check(certificate, source);
    }

    /// <summary>Loads a PEM certificate and its private key (the same text may hold both) and checks it.</summary>
    /// <exception cref="InvalidOperationException">Unreadable, wrong password, no key, or not usable.</exception>
    public static X509Certificate2 FromPem(string certificatePem, string keyPem, string? password, string source)
    {
        X509Certificate2 certificate;
        try
        {
            certificate = string.IsNullOrEmpty(password)
                ? X509Certificate2.CreateFromPem(certificatePem, keyPem)
                : X509Certificate2.CreateFromEncryptedPem(certificatePem, keyPem, password);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            throw new InvalidOperationException($"{source} could not be read as a PEM certificate with its private key (wrong format or password).", e);
        }

        return Check(certificate, source);
    }

    /// <summary>Loads a PKCS#12 or PEM file (told apart by content); a PEM key may sit in <paramref name="keyPath"/>.</summary>
    /// <exception cref="InvalidOperationException">A file is missing or unreadable, or the certificate is not usable.</exception>
    public static X509Certificate2 FromFile(string path, string? password, string? keyPath, string source)
    {
        byte[] content;
        string? key;
        try
        {
            content = File.ReadAllBytes(path);
            key = string.IsNullOrWhiteSpace(keyPath) ? null : File.ReadAllText(keyPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"{source} names a file that cannot be read ({e.GetType().Name}).", e);
        }

        var text = System.Text.Encoding.UTF8.GetString(content);
        return text.TrimStart().StartsWith(PemMarker, StringComparison.Ordinal)
            ? FromPem(text, key ?? text, password, source)
            : FromPkcs12(content, password, source);
    }

    /// <summary>
    /// Creates a self-signed RSA 3072 certificate for local Data Protection (Development and embedded mode), as one PEM
    /// text holding the certificate and its unencrypted PKCS#8 private key: the file that holds it is owner-only (0600).
    /// </summary>
    public static string CreateLocalPem(DateTimeOffset now)
    {
        using var rsa = RSA.Create(LocalRsaBits);
        var request = new CertificateRequest("CN=Tokenizer Data Protection (local)", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyEncipherment | X509KeyUsageFlags.DataEncipherment, critical: true));
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        using var certificate = request.CreateSelfSigned(now.AddDays(-1), now.AddYears(10));
        return certificate.ExportCertificatePem() + "\n" + rsa.ExportPkcs8PrivateKeyPem() + "\n";
    }

    /// <summary>Checks the certificate can encrypt Data Protection keys: RSA of at least 2048 bits, private key present.</summary>
    /// <exception cref="InvalidOperationException">It cannot; the certificate is disposed.</exception>
    public static X509Certificate2 Check(X509Certificate2 certificate, string source)
    {
        using var rsa = certificate.GetRSAPublicKey();
        if (rsa is null || rsa.KeySize < MinimumRsaBits || !certificate.HasPrivateKey)
        {
            certificate.Dispose();
            throw new InvalidOperationException(
                $"{source} must hold an X.509 certificate with an RSA key of at least {MinimumRsaBits} bits and its private key: Data Protection encrypts its keys with RSA.");
        }

        return certificate;
    }

    // Keys live in process memory only (macOS has no ephemeral key sets): nothing is written to a user key store.
    private static X509KeyStorageFlags KeyStorageFlags =>
        OperatingSystem.IsMacOS() ? X509KeyStorageFlags.DefaultKeySet : X509KeyStorageFlags.EphemeralKeySet;
}
