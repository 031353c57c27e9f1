using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Tokenizer.Core.Audit;

namespace Tokenizer.Ledger.Audit;

/// <summary>
/// The audit keys the service knows: the current one, which signs new records, and earlier ones, which only verify the
/// records they signed. Each key is named by its key id, a check value derived from the key (never the key itself), so
/// records and anchors can say which key signed them without revealing it. Immutable; thread-safe.
/// </summary>
public sealed class AuditKeyRing
{
    /// <summary>The rotation grace when none is configured: 15 minutes, room for a rolling restart of a few replicas.</summary>
    public static readonly TimeSpan DefaultRotationGrace = TimeSpan.FromMinutes(15);

    /// <summary>The shortest rotation grace accepted.</summary>
    public static readonly TimeSpan MinRotationGrace = TimeSpan.FromMinutes(1);

    /// <summary>The longest rotation grace accepted: a leaked key signs undetected for as long as the grace after a rotation.</summary>
    public static readonly TimeSpan MaxRotationGrace = TimeSpan.FromDays(7);

    private static readonly byte[] KeyIdLabel = "tokenizer.audit.key-id.v1"u8.ToArray();
    private static readonly byte[] AnchorLabel = "tokenizer.audit.anchor.v1"u8.ToArray();

    private readonly Dictionary<string, byte[]> keys = new(StringComparer.Ordinal);
    private readonly List<byte[]> all = [];

    /// <param name="current">The key that signs new records: at least 32 bytes; copied.</param>
    /// <param name="previous">Earlier keys that still verify older records, each at least 32 bytes; copied. May be empty.</param>
    /// <param name="rotationGrace">
    /// How long after a newer key signs its first record an older key may still sign (replicas of one chain change keys
    /// one by one); <see cref="DefaultRotationGrace"/> when null. Between 1 minute and 7 days.
    /// </param>
    /// <exception cref="ArgumentException">A key is shorter than 32 bytes.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The grace is outside 1 minute to 7 days.</exception>
    public AuditKeyRing(byte[] current, IEnumerable<byte[]>? previous = null, TimeSpan? rotationGrace = null)
    {
        RotationGrace = rotationGrace ?? DefaultRotationGrace;
        ArgumentOutOfRangeException.ThrowIfLessThan(RotationGrace, MinRotationGrace, nameof(rotationGrace));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(RotationGrace, MaxRotationGrace, nameof(rotationGrace));
        Current = Check(current);
        CurrentKeyId = KeyIdOf(Current);
        Add(Current);
        foreach (var key in previous ?? [])
        {
            Add(Check(key));
        }
    }

    /// <summary>
    /// How long after a newer key signs its first record an older key may still sign one (see
    /// <see cref="AuditProblems.RetiredKey"/>): a rolling rotation across replicas must finish within it.
    /// </summary>
    public TimeSpan RotationGrace { get; }

    /// <summary>The current key's id: 16 letters a-p (8 bytes of a keyed check value; no digit, so no card-number-like run).</summary>
    public string CurrentKeyId { get; }

    /// <summary>How many distinct keys the ring holds (the current one included).</summary>
    public int Count => all.Count;

    /// <summary>The key that signs new records (the ring's own copy: do not modify).</summary>
    internal byte[] Current { get; }

    /// <summary>
    /// The id of <paramref name="key"/>: the first 8 bytes of HMAC-SHA256(key, "tokenizer.audit.key-id.v1"), each hex
    /// digit written as a letter a-p. Reveals nothing usable about the key; the same key always has the same id.
    /// </summary>
    public static string KeyIdOf(ReadOnlySpan<byte> key)
    {
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(key, KeyIdLabel, mac);
        return Letters(mac[..8]);
    }

    /// <summary>
    /// The anchor as text to keep outside the database: JSON with the sequence, the record's MAC and a seal (an HMAC under
    /// the current key over both), so whoever can edit the copy cannot forge a shorter or other head without the key.
    /// MACs are base64 (a hex MAC could hold a run of digits a card-number scan would report).
    /// </summary>
    /// <exception cref="ArgumentException">The sequence is below 1 or the MAC is not 32 bytes.</exception>
    public string Seal(AuditAnchor anchor)
    {
        ArgumentNullException.ThrowIfNull(anchor);
        CheckAnchor(anchor);
        var seal = AnchorSeal(Current, anchor);
        return JsonSerializer.Serialize(new SealedAnchor(1, anchor.Sequence, Convert.ToBase64String(anchor.Mac), CurrentKeyId, Convert.ToBase64String(seal)));
    }

    /// <summary>
    /// Reads an anchor written by <see cref="Seal"/> under any key of this ring; null when the text is not a well-formed
    /// anchor or its seal does not verify under the key it names (edited, forged, or sealed under a key not configured).
    /// </summary>
    public AuditAnchor? Open(string sealedAnchor)
    {
        ArgumentNullException.ThrowIfNull(sealedAnchor);
        SealedAnchor? value;
        try
        {
            value = JsonSerializer.Deserialize<SealedAnchor>(sealedAnchor);
        }
        catch (JsonException)
        {
            return null;
        }

        if (value is not { Version: 1, Sequence: >= 1, Mac: not null, KeyId: not null, Seal: not null }
            || !keys.TryGetValue(value.KeyId, out var key))
        {
            return null;
        }

        var mac = new byte[AuditChain.MacLength];
        var seal = new byte[HMACSHA256.HashSizeInBytes];
        if (!Convert.TryFromBase64String(value.Mac, mac, out var macLength) || macLength != mac.Length
            || !Convert.TryFromBase64String(value.Seal, seal, out var sealLength) || sealLength != seal.Length)
        {
            return null;
        }

        var anchor = new AuditAnchor(value.Sequence, mac);
        return CryptographicOperations.FixedTimeEquals(AnchorSeal(key, anchor), seal) ? anchor : null;
    }

    /// <summary>
    /// True when <paramref name="row"/>'s MAC verifies under the key its key id names, or, for a record written before
    /// key ids (none stored), under any key of the ring.
    /// </summary>
    internal bool Verifies(AuditRow row)
    {
        if (row.KeyId is { } keyId)
        {
            return keys.TryGetValue(keyId, out var key) && AuditChain.HasValidMac(key, row);
        }

        foreach (var key in all)
        {
            if (AuditChain.HasValidMac(key, row))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>True when the ring holds a key with this id (a record naming another key cannot be verified here).</summary>
    public bool Knows(string keyId) => keys.ContainsKey(keyId);

    private static void CheckAnchor(AuditAnchor anchor)
    {
        if (anchor.Sequence < 1 || anchor.Mac is not { Length: AuditChain.MacLength })
        {
            throw new ArgumentException("an audit anchor needs a sequence of at least 1 and a 32-byte MAC", nameof(anchor));
        }
    }

    private static byte[] AnchorSeal(byte[] key, AuditAnchor anchor)
    {
        var input = new byte[AnchorLabel.Length + sizeof(long) + AuditChain.MacLength];
        AnchorLabel.CopyTo(input, 0);
        BinaryPrimitives.WriteInt64BigEndian(input.AsSpan(AnchorLabel.Length), anchor.Sequence);
        anchor.Mac.CopyTo(input, AnchorLabel.Length + sizeof(long));
        return HMACSHA256.HashData(key, input);
    }

    private static byte[] Check(byte[] key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return key.Length >= AuditChain.MinKeyLength
            ? key.ToArray()
            : throw new ArgumentException("an audit key must be at least 32 bytes", nameof(key));
    }

    private static string Letters(ReadOnlySpan<byte> bytes)
    {
        var text = new StringBuilder(bytes.Length * 2);
        foreach (var b in bytes)
        {
            text.Append((char)('a' + (b >> 4))).Append((char)('a' + (b & 0xF)));
        }

        return text.ToString();
    }

    private void Add(byte[] key)
    {
        if (keys.TryAdd(KeyIdOf(key), key))
        {
            all.Add(key);
        }
    }

    private sealed record SealedAnchor(
        [property: System.Text.Json.Serialization.JsonPropertyName("v")] int Version,
        [property: System.Text.Json.Serialization.JsonPropertyName("sequence")] long Sequence,
        [property: System.Text.Json.Serialization.JsonPropertyName("mac")] string? Mac,
        [property: System.Text.Json.Serialization.JsonPropertyName("key_id")] string? KeyId,
        [property: System.Text.Json.Serialization.JsonPropertyName("seal")] string? Seal);
}
