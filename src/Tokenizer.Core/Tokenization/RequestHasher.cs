using System.Security.Cryptography;
using System.Text;

namespace Tokenizer.Core.Tokenization;

/// <summary>
/// Keyed HMAC-SHA256 over canonical requests and derived gateway idempotency keys. The key is a secret of
/// at least 32 bytes; without it the HMACs cannot be computed or compared, so a stolen ledger gives no
/// dictionary attack on the PANs inside the hashed requests (PCI DSS 3.5.1: keyed hashes only).
/// </summary>
public sealed class RequestHasher
{
    private readonly byte[] requestKey;
    private readonly byte[] gatewayKey;
    private readonly byte[] keyIdKey;

    /// <param name="secret">The master secret, at least 32 bytes.</param>
    public RequestHasher(ReadOnlySpan<byte> secret)
        : this(secret, [])
    {
    }

    /// <param name="secret">The current secret, at least 32 bytes: new claims are keyed with it.</param>
    /// <param name="previousSecrets">
    /// Earlier secrets after a rotation, each at least 32 bytes: a retry whose claim was made under one of them is
    /// recognised and answered with the hasher of that secret (see <see cref="Previous"/>).
    /// </param>
    /// <exception cref="ArgumentException">A secret is shorter than 32 bytes.</exception>
    public RequestHasher(ReadOnlySpan<byte> secret, IEnumerable<ReadOnlyMemory<byte>> previousSecrets)
    {
        ArgumentNullException.ThrowIfNull(previousSecrets);
        if (secret.Length < 32)
        {
            throw new ArgumentException("the request HMAC secret must be at least 32 bytes", nameof(secret));
        }

        // Separate subkeys per purpose so one output can never be replayed as the other.
        requestKey = HMACSHA256.HashData(secret, "tokenizer/request-hmac/v1"u8);
        gatewayKey = HMACSHA256.HashData(secret, "tokenizer/gateway-idempotency/v1"u8);
        keyIdKey = HMACSHA256.HashData(secret, "tokenizer/idempotency-key-id/v1"u8);
        Previous = previousSecrets.Select(p => new RequestHasher(p.Span)).ToList();
    }

    /// <summary>
    /// Hashers of the earlier secrets, in configured order; empty when none. A claim found under one of their key ids
    /// is continued with that hasher, so its request HMAC compares and its gateway Idempotency-Keys stay the ones first
    /// sent.
    /// </summary>
    public IReadOnlyList<RequestHasher> Previous { get; } = [];

    /// <summary>
    /// The key check value of a request HMAC secret: the first 16 bytes of HMAC-SHA256(secret, a fixed label). Stored in
    /// the ledger so a start with another secret is noticed; reveals nothing usable about the secret.
    /// </summary>
    public static byte[] CheckValue(ReadOnlySpan<byte> secret) =>
        HMACSHA256.HashData(secret, "tokenizer/request-hmac/check-value/v1"u8)[..16];

    /// <summary>HMAC-SHA256 (32 bytes) of the operation and its fields, each length-prefixed so no two field lists collide.</summary>
    public byte[] HashRequest(string operation, params ReadOnlySpan<string?> fields)
    {
        using var buffer = new MemoryStream();
        Append(buffer, operation);
        foreach (var field in fields)
        {
            Append(buffer, field);
        }

        var bytes = buffer.GetBuffer();
        try
        {
            return HMACSHA256.HashData(requestKey, bytes.AsSpan(0, (int)buffer.Length));
        }
        finally
        {
            // The canonical form holds the PAN: clear it rather than leave it to the GC.
            CryptographicOperations.ZeroMemory(bytes);
        }
    }

    /// <summary>
    /// The gateway Idempotency-Key for one step of one caller's request: <c>tkz_{40 hex}_{step}</c>, the same on every
    /// attempt, derived from the caller and the caller's key only (never from card data).
    /// </summary>
    public string GatewayKey(string callerId, string idempotencyKey, string step) =>
        $"tkz_{Derive("req", callerId, idempotencyKey)}_{step}";

    /// <summary>
    /// The gateway Idempotency-Key for the SetupIntent of one caller's request under one gateway Customer:
    /// <c>tkz_{40 hex}_seti_{16 hex}</c>. Per Customer, because the gateway keeps the first answer for a key: a request
    /// whose Customer turned out deleted (404 kept for the key) sets up again under the new Customer with a key of its
    /// own, and a retry of that request, which finds the new Customer mapped, replays that second SetupIntent.
    /// </summary>
    public string SetupIntentKey(string callerId, string idempotencyKey, string customerId) =>
        GatewayKey(callerId, idempotencyKey, "seti_" + Derive("seti", customerId, string.Empty)[..16]);

    /// <summary>
    /// The id under which the ledger keeps a caller's idempotency key: a keyed HMAC-SHA256 of it, 64 letters (each hex
    /// digit of the HMAC written as <c>a</c>-<c>p</c>), so the caller's key (free text that could hold anything) is never
    /// stored in clear, and the id never holds a digit: stored next to other columns in database pages, a hex id could
    /// show a run of digits that a card-number scan of the data directory rightly reports.
    /// </summary>
    public string IdempotencyKeyId(string idempotencyKey)
    {
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(keyIdKey, Encoding.UTF8.GetBytes(idempotencyKey), mac);
        return string.Create(mac.Length * 2, mac.ToArray(), static (chars, bytes) =>
        {
            for (var i = 0; i < bytes.Length; i++)
            {
                chars[2 * i] = (char)('a' + (bytes[i] >> 4));
                chars[(2 * i) + 1] = (char)('a' + (bytes[i] & 0xF));
            }
        });
    }

    /// <summary>The gateway Idempotency-Key for creating the Customer of a customer reference.</summary>
    public string CustomerKey(string gateway, string customerReference) =>
        $"tkz_{Derive("cus", gateway, customerReference)}_customer";

    /// <summary>
    /// The gateway Idempotency-Key for creating the Customer that replaces <paramref name="deletedCustomerId"/>, a deleted
    /// Customer of the reference: <c>tkz_{40 hex}_customer</c>, derived from the gateway, the reference and the deleted
    /// Customer's id only. Every request that replaces the same deleted Customer (concurrent ones, retries, other callers)
    /// sends the same key with the same parameters, so the gateway creates one Customer and replays it to the others.
    /// </summary>
    public string ReplacementCustomerKey(string gateway, string customerReference, string deletedCustomerId) =>
        $"tkz_{Derive("cus_after", gateway, $"{customerReference.Length}:{customerReference}\0{deletedCustomerId}")}_customer";

    private string Derive(string purpose, string a, string b)
    {
        var input = Encoding.UTF8.GetBytes($"{purpose}\0{a.Length}:{a}\0{b.Length}:{b}");
        return Convert.ToHexStringLower(HMACSHA256.HashData(gatewayKey, input))[..40];
    }

    private static void Append(MemoryStream buffer, string? value)
    {
        if (value is null)
        {
            buffer.WriteByte(0);
            return;
        }

        var bytes = Encoding.UTF8.GetBytes(value);
        buffer.WriteByte(1);
        Span<byte> length = stackalloc byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(length, bytes.Length);
        buffer.Write(length);
        buffer.Write(bytes);
        CryptographicOperations.ZeroMemory(bytes);
    }
}
