using System.Buffers;
using System.Security.Cryptography;
using System.Text;

namespace Tokenizer.StripeSandbox.State;

/// <summary>
/// The sandbox's 32-byte secret and the keyed hashes derived from it: PaymentMethod fingerprints and idempotency
/// comparisons. Random per start, or kept in <c>&lt;DataDirectory&gt;/fingerprint.key</c> so fingerprints survive a restart.
/// One subkey per purpose so a fingerprint can never be matched against a request hash. Thread-safe (one-shot HMACs).
/// </summary>
internal sealed class SandboxSecret
{
    public const int KeyLength = 32;
    public const string FileName = "fingerprint.key";

    private readonly byte[] fingerprintKey;
    private readonly byte[] requestKey;
    private readonly byte[] idempotencyKey;

    public SandboxSecret(ReadOnlySpan<byte> secret)
    {
        if (secret.Length != KeyLength)
        {
            throw new ArgumentException("the sandbox secret must be 32 bytes", nameof(secret));
        }

        fingerprintKey = HMACSHA256.HashData(secret, "stripe-sandbox/fingerprint/v1"u8);
        requestKey = HMACSHA256.HashData(secret, "stripe-sandbox/idempotent-request/v1"u8);
        idempotencyKey = HMACSHA256.HashData(secret, "stripe-sandbox/idempotency-key/v1"u8);
    }

    /// <summary>A fresh random secret (in-memory sandbox).</summary>
    public static SandboxSecret CreateRandom()
    {
        Span<byte> secret = stackalloc byte[KeyLength];
        RandomNumberGenerator.Fill(secret);
        try
        {
            return new SandboxSecret(secret);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
        }
    }

    /// <summary>Reads <c>fingerprint.key</c> from the directory, creating it (owner read/write only) on first use.</summary>
    public static SandboxSecret LoadOrCreate(string directory)
    {
        var path = Path.Combine(directory, FileName);
        if (!File.Exists(path))
        {
            var fresh = RandomNumberGenerator.GetBytes(KeyLength);
            try
            {
                var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
                if (!OperatingSystem.IsWindows())
                {
                    options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
                }

                using var stream = new FileStream(path, options);
                stream.Write(fresh);
                stream.Flush(flushToDisk: true);
            }
            catch (IOException) when (File.Exists(path))
            {
                // Created concurrently: read the winner's key below.
            }
            finally
            {
                CryptographicOperations.ZeroMemory(fresh);
            }
        }

        var bytes = File.ReadAllBytes(path);
        try
        {
            if (bytes.Length != KeyLength)
            {
                throw new InvalidOperationException($"{FileName} in the sandbox DataDirectory is not a 32-byte key.");
            }

            return new SandboxSecret(bytes);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }

    /// <summary>
    /// Stripe-style fingerprint of an account: HMAC-SHA256 over the kind and the identifying values, base64url, first 16
    /// characters. The same values give the same fingerprint under the same secret.
    /// </summary>
    public string Fingerprint(string kind, params ReadOnlySpan<string> values)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, fingerprintKey);
        AppendField(hmac, kind);
        foreach (var value in values)
        {
            AppendField(hmac, value);
        }

        Span<byte> mac = stackalloc byte[32];
        hmac.GetHashAndReset(mac);
        return Convert.ToBase64String(mac).TrimEnd('=').Replace('+', '-').Replace('/', '_')[..16];
    }

    /// <summary>
    /// HMAC of an idempotent request (method, path, and the form parameters sorted by name then value) so a retry can be
    /// compared with the first request without keeping its body. Lowercase hex. <c>card[cvc]</c> is left out: a keyed hash
    /// of 3-4 digits gives them back to whoever holds the key and the PAN, so no form of the CVC is kept; a retry that
    /// differs only in it replays.
    /// </summary>
    public string RequestHash(string method, string path, IEnumerable<KeyValuePair<string, string>> parameters)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, requestKey);
        AppendField(hmac, method);
        AppendField(hmac, path);
        foreach (var (name, value) in parameters
            .Where(p => !string.Equals(p.Key, "card[cvc]", StringComparison.Ordinal))
            .OrderBy(p => p.Key, StringComparer.Ordinal)
            .ThenBy(p => p.Value, StringComparer.Ordinal))
        {
            AppendField(hmac, name);
            AppendField(hmac, value);
        }

        return Convert.ToHexStringLower(hmac.GetHashAndReset());
    }

    /// <summary>The record id of an Idempotency-Key within one API key's scope (neither is kept in clear). Lowercase hex.</summary>
    public string IdempotencyRecordId(string apiKey, string key)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, idempotencyKey);
        AppendField(hmac, apiKey);
        AppendField(hmac, key);
        return Convert.ToHexStringLower(hmac.GetHashAndReset());
    }

    // Length-prefixed UTF-8 so that no two field lists give the same byte stream; the buffer (it may hold a PAN) is cleared.
    private static void AppendField(IncrementalHash hmac, string value)
    {
        Span<byte> length = stackalloc byte[4];
        var byteCount = Encoding.UTF8.GetByteCount(value);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(length, byteCount);
        hmac.AppendData(length);

        var buffer = ArrayPool<byte>.Shared.Rent(byteCount);
        try
        {
            var written = Encoding.UTF8.GetBytes(value, buffer);
            hmac.AppendData(buffer, 0, written);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(buffer.AsSpan(0, byteCount));
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
