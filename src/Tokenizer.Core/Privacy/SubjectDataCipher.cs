using System.Security.Cryptography;
using System.Text;

namespace Tokenizer.Core.Privacy;

/// <summary>
/// AES-256-GCM under a subject's own data key. A ciphertext is <c>version (1) | nonce (12) | tag (16) | data</c>; the
/// associated data binds it to its subject pseudonym and record id, so a ciphertext moved to another subject or record
/// does not decrypt. Every failure to decrypt is a <see cref="CryptographicException"/>.
/// </summary>
public static class SubjectDataCipher
{
    /// <summary>The length of a subject data key: 256 bits.</summary>
    public const int KeyLength = 32;

    private const byte Version = 1;
    private const int NonceLength = 12;
    private const int TagLength = 16;
    private const int HeaderLength = 1 + NonceLength + TagLength;

    /// <summary>A fresh random data key.</summary>
    public static byte[] NewKey() => RandomNumberGenerator.GetBytes(KeyLength);

    /// <summary>Encrypts <paramref name="plaintext"/> for <paramref name="subject"/>'s record <paramref name="recordId"/>.</summary>
    public static byte[] Encrypt(ReadOnlySpan<byte> key, string subject, string recordId, ReadOnlySpan<byte> plaintext)
    {
        var output = new byte[HeaderLength + plaintext.Length];
        output[0] = Version;
        var nonce = output.AsSpan(1, NonceLength);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(key, TagLength);
        aes.Encrypt(nonce, plaintext, output.AsSpan(HeaderLength), output.AsSpan(1 + NonceLength, TagLength), AssociatedData(subject, recordId));
        return output;
    }

    /// <summary>Decrypts what <see cref="Encrypt"/> produced for the same subject and record.</summary>
    /// <exception cref="CryptographicException">Wrong key, subject or record, a damaged or unknown format.</exception>
    public static byte[] Decrypt(ReadOnlySpan<byte> key, string subject, string recordId, ReadOnlySpan<byte> ciphertext)
    {
        if (ciphertext.Length < HeaderLength || ciphertext[0] != Version)
        {
            throw new CryptographicException("the personal data record cannot be decrypted");
        }

        var plaintext = new byte[ciphertext.Length - HeaderLength];
        using var aes = new AesGcm(key, TagLength);
        aes.Decrypt(
            ciphertext.Slice(1, NonceLength),
            ciphertext[HeaderLength..],
            ciphertext.Slice(1 + NonceLength, TagLength),
            plaintext,
            AssociatedData(subject, recordId));
        return plaintext;
    }

    private static byte[] AssociatedData(string subject, string recordId) =>
        Encoding.UTF8.GetBytes($"tokenizer/personal-data/v1\0{subject.Length}:{subject}\0{recordId.Length}:{recordId}");
}
