using System.Security.Cryptography;
using System.Text;
using Tokenizer.Core.Privacy;

namespace Tokenizer.Core.Tests.Privacy;

public sealed class SubjectCryptoTests
{
    private static readonly byte[] Secret = [.. Enumerable.Range(1, 32).Select(i => (byte)i)];

    [Fact]
    public void Encrypt_ThenDecryptWithTheSameKeySubjectAndRecord_RoundTrips()
    {
        var key = SubjectDataCipher.NewKey();
        var ciphertext = SubjectDataCipher.Encrypt(key, "subj_a", "pm_1", "Ada Lovelace"u8);

        Assert.Equal("Ada Lovelace", Encoding.UTF8.GetString(SubjectDataCipher.Decrypt(key, "subj_a", "pm_1", ciphertext)));
        Assert.True(ciphertext.AsSpan().IndexOf("Ada"u8) < 0);
    }

    [Fact]
    public void Decrypt_AnotherKeySubjectRecordOrAFlippedBit_OneCryptographicExceptionEach()
    {
        var key = SubjectDataCipher.NewKey();
        var ciphertext = SubjectDataCipher.Encrypt(key, "subj_a", "pm_1", "Ada Lovelace"u8);
        var flipped = ciphertext.ToArray();
        flipped[^1] ^= 1;

        Assert.ThrowsAny<CryptographicException>(() => SubjectDataCipher.Decrypt(SubjectDataCipher.NewKey(), "subj_a", "pm_1", ciphertext));
        Assert.ThrowsAny<CryptographicException>(() => SubjectDataCipher.Decrypt(key, "subj_b", "pm_1", ciphertext));
        Assert.ThrowsAny<CryptographicException>(() => SubjectDataCipher.Decrypt(key, "subj_a", "pm_2", ciphertext));
        Assert.ThrowsAny<CryptographicException>(() => SubjectDataCipher.Decrypt(key, "subj_a", "pm_1", flipped));
        Assert.ThrowsAny<CryptographicException>(() => SubjectDataCipher.Decrypt(key, "subj_a", "pm_1", ciphertext.AsSpan(0, 10)));
    }

    [Fact]
    public void Encrypt_SamePlaintextTwice_DifferentCiphertexts()
    {
        var key = SubjectDataCipher.NewKey();

        Assert.NotEqual(
            SubjectDataCipher.Encrypt(key, "subj_a", "pm_1", "same"u8),
            SubjectDataCipher.Encrypt(key, "subj_a", "pm_1", "same"u8));
    }

    [Fact]
    public void Of_SameReference_SamePseudonymLettersOnlyAndNotTheReference()
    {
        var pseudonyms = new SubjectPseudonyms(Secret);

        var first = pseudonyms.Of("cust-4242424242424242");
        var again = new SubjectPseudonyms(Secret).Of("cust-4242424242424242");

        Assert.Equal(first, again);
        Assert.Matches("^subj_[a-p]{32}$", first);
        Assert.NotEqual(first, pseudonyms.Of("cust-4242424242424243"));
        Assert.NotEqual(first, new SubjectPseudonyms([.. Secret.Reverse()]).Of("cust-4242424242424242"));
    }

    [Fact]
    public void GatewayKey_SameInputs_StableDistinctPerStepAndWithinStripesLength()
    {
        var pseudonyms = new SubjectPseudonyms(Secret);

        var key = pseudonyms.GatewayKey("subj_a", "pm_1", "erase_detach");

        Assert.Equal(key, pseudonyms.GatewayKey("subj_a", "pm_1", "erase_detach"));
        Assert.NotEqual(key, pseudonyms.GatewayKey("subj_a", "pm_1", "erase_clear"));
        Assert.NotEqual(key, pseudonyms.GatewayKey("subj_a", "pm_2", "erase_detach"));
        Assert.Matches("^tkz_[0-9a-f]{40}_erase_detach$", key);
    }

    [Fact]
    public void Constructor_ShortSecret_Throws() =>
        Assert.Throws<ArgumentException>(() => new SubjectPseudonyms(new byte[31]));
}
