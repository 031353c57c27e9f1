using System.Security.Cryptography;
using System.Text;

namespace Tokenizer.Core.Privacy;

/// <summary>
/// Keyed pseudonyms of data subjects (a <c>customer_reference</c>) and the gateway idempotency keys of privacy steps.
/// HMAC-SHA256 under subkeys derived from the request HMAC secret with purposes of their own, so a pseudonym is never
/// equal to a request HMAC, an idempotency key id or a gateway key, and cannot be computed or reversed without the secret.
/// </summary>
/// <remarks>
/// A pseudonym is <c>subj_</c> and 32 lower-case letters (128 bits of the HMAC, one letter per nibble, <c>a</c>-<c>p</c>):
/// no digits, so no audit text redaction or card-number scanner ever mistakes it for a number.
/// </remarks>
public sealed class SubjectPseudonyms
{
    /// <summary>The prefix of every pseudonym.</summary>
    public const string Prefix = "subj_";

    /// <summary>The prefix written in place of an erased subject's customer reference on the tokens kept for retention.</summary>
    public const string ErasedPrefix = "erased_";

    private readonly byte[] subjectKey;
    private readonly byte[] gatewayKey;
    private readonly byte[] claimKey;
    private readonly byte[] requestKey;

    /// <param name="secret">The request HMAC secret, at least 32 bytes.</param>
    public SubjectPseudonyms(ReadOnlySpan<byte> secret)
    {
        if (secret.Length < 32)
        {
            throw new ArgumentException("the request HMAC secret must be at least 32 bytes", nameof(secret));
        }

        subjectKey = HMACSHA256.HashData(secret, "tokenizer/privacy-subject/v1"u8);
        gatewayKey = HMACSHA256.HashData(secret, "tokenizer/privacy-gateway-idempotency/v1"u8);
        claimKey = HMACSHA256.HashData(secret, "tokenizer/privacy-claim/v1"u8);
        requestKey = HMACSHA256.HashData(secret, "tokenizer/privacy-request/v1"u8);
    }

    /// <summary>
    /// The ledger's id of an admin's idempotency key for one subject's privacy call: 64 letters (a keyed HMAC, each hex
    /// digit written a-p), so neither the key nor the reference is stored and the id never holds a digit run.
    /// </summary>
    public string ClaimKey(string subject, string operation, string idempotencyKey)
    {
        var mac = HMACSHA256.HashData(claimKey, Encoding.UTF8.GetBytes($"{subject.Length}:{subject}\0{operation}\0{idempotencyKey}"));
        return string.Create(64, mac, static (span, bytes) =>
        {
            for (var i = 0; i < 32; i++)
            {
                span[2 * i] = (char)('a' + (bytes[i] >> 4));
                span[(2 * i) + 1] = (char)('a' + (bytes[i] & 0xF));
            }
        });
    }

    /// <summary>A keyed HMAC-SHA256 (32 bytes) of a privacy request's canonical form: compares requests without keeping them.</summary>
    public byte[] RequestMac(string subject, string canonicalRequest) =>
        HMACSHA256.HashData(requestKey, Encoding.UTF8.GetBytes($"{subject.Length}:{subject}\0{canonicalRequest}"));

    /// <summary>The pseudonym of <paramref name="customerReference"/>: the same for the same reference, always.</summary>
    public string Of(string customerReference)
    {
        ArgumentNullException.ThrowIfNull(customerReference);
        var mac = HMACSHA256.HashData(subjectKey, Encoding.UTF8.GetBytes(customerReference));
        return string.Create(Prefix.Length + 32, mac, static (span, bytes) =>
        {
            Prefix.AsSpan().CopyTo(span);
            for (var i = 0; i < 16; i++)
            {
                span[Prefix.Length + (2 * i)] = (char)('a' + (bytes[i] >> 4));
                span[Prefix.Length + (2 * i) + 1] = (char)('a' + (bytes[i] & 0xF));
            }
        });
    }

    /// <summary>What an erased subject's tokens carry as customer reference for the rest of their retention.</summary>
    public static string ErasedReference(string pseudonym) => ErasedPrefix + pseudonym;

    /// <summary>
    /// The gateway Idempotency-Key of one privacy step on one item (<c>tkz_{40 hex}_{step}</c>): the same on every attempt
    /// and every resumption, so the gateway replays rather than repeats.
    /// </summary>
    public string GatewayKey(string subject, string item, string step, string? discriminator = null)
    {
        var input = Encoding.UTF8.GetBytes($"{subject.Length}:{subject}\0{item.Length}:{item}\0{step}\0{discriminator}");
        return $"tkz_{Convert.ToHexStringLower(HMACSHA256.HashData(gatewayKey, input))[..40]}_{step}";
    }
}
