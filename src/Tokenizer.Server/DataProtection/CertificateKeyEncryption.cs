using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Security.Cryptography.Xml;
using System.Xml;
using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;
using Tokenizer.Server.Secrets;

namespace Tokenizer.Server.DataProtection;

/// <summary>
/// Encrypts each new Data Protection key with the current <see cref="ITokenizerSecrets.DataProtectionCertificate"/>
/// through the framework's <see cref="CertificateXmlEncryptor"/> (the key XML then holds an
/// <c>&lt;encryptedSecret&gt;</c>, never a clear <c>&lt;masterKey&gt;</c>), and names
/// <see cref="CertificateKeyDecryptor"/> as the type that decrypts it.
/// </summary>
internal sealed class CertificateKeyEncryptor(ITokenizerSecrets secrets, ILoggerFactory loggers) : IXmlEncryptor
{
    public EncryptedXmlInfo Encrypt(XElement plaintextElement)
    {
        var encrypted = new CertificateXmlEncryptor(secrets.DataProtectionCertificate, loggers).Encrypt(plaintextElement);
        return new EncryptedXmlInfo(encrypted.EncryptedElement, typeof(CertificateKeyDecryptor));
    }
}

/// <summary>
/// Decrypts Data Protection key XML (XML Encryption, as <see cref="CertificateXmlEncryptor"/> writes it) with the first
/// of <see cref="ITokenizerSecrets.DataProtectionDecryptionCertificates"/> whose thumbprint the key names; never with
/// a certificate from an X.509 store. Any failure is a <see cref="CryptographicException"/>.
/// </summary>
/// <remarks>
/// Data Protection writes this type's assembly-qualified name into every key file and creates it by that name with the
/// application's services: renaming or moving it makes the existing keys unreadable.
/// </remarks>
internal sealed class CertificateKeyDecryptor : IXmlDecryptor
{
    private readonly ITokenizerSecrets secrets;

    /// <summary>Created by Data Protection's activator with the application's services.</summary>
    public CertificateKeyDecryptor(IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(services);
        secrets = services.GetRequiredService<ITokenizerSecrets>();
    }

    public XElement Decrypt(XElement encryptedElement)
    {
        ArgumentNullException.ThrowIfNull(encryptedElement);

        // EncryptedXml works on an XmlDocument and replaces the <EncryptedData> element in place, which it cannot do for
        // the document element: wrap it, decrypt, unwrap.
        var document = new XmlDocument { XmlResolver = null };
        using (var reader = new XElement("wrapper", encryptedElement).CreateReader())
        {
            document.Load(reader);
        }

        new CertificateKeysEncryptedXml(document, secrets.DataProtectionDecryptionCertificates).DecryptDocument();
        using var plaintext = document.DocumentElement!.FirstChild!.CreateNavigator()!.ReadSubtree();
        return XElement.Load(plaintext);
    }

    /// <summary>Unwraps the content key with one of our certificates, chosen by the thumbprint the key names.</summary>
    private sealed class CertificateKeysEncryptedXml(XmlDocument document, IReadOnlyList<X509Certificate2> certificates) : EncryptedXml(document)
    {
        public override byte[]? DecryptEncryptedKey(EncryptedKey encryptedKey)
        {
            ArgumentNullException.ThrowIfNull(encryptedKey);
            var named = (encryptedKey.KeyInfo?.OfType<KeyInfoX509Data>() ?? [])
                .SelectMany(data => data.Certificates?.OfType<X509Certificate2>() ?? [])
                .Select(certificate => certificate.Thumbprint);
            foreach (var thumbprint in named)
            {
                var match = certificates.FirstOrDefault(c => c.HasPrivateKey && string.Equals(c.Thumbprint, thumbprint, StringComparison.OrdinalIgnoreCase));
                using var privateKey = match?.GetRSAPrivateKey();
                if (privateKey is not null && encryptedKey.CipherData.CipherValue is { } wrappedKey)
                {
                    var oaep = encryptedKey.EncryptionMethod?.KeyAlgorithm == XmlEncRSAOAEPUrl;
                    return DecryptKey(wrappedKey, privateKey, oaep);
                }
            }

            // No certificate of ours: EncryptedXml reports "unable to retrieve the decryption key" (CryptographicException).
            return null;
        }
    }
}
