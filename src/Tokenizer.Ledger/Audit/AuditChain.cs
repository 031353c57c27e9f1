using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Tokenizer.Ledger.Audit;

/// <summary>
/// The MAC of one audit record: HMAC-SHA256(audit key, canonical(row)). The canonical form is unambiguous, so no two
/// different rows encode to the same bytes:
/// <code>
/// str("tokenizer.audit.v1") i64(sequence) i64(time_micros) str(caller_id) str(source_address) str(action)
/// str(resource) str(outcome) str(reason) str(correlation_id) bytes(prev_mac)
/// </code>
/// where <c>i64</c> is 8 bytes big-endian, <c>str</c> is a 4-byte big-endian length and the UTF-8 bytes (length
/// 0xFFFFFFFF for NULL, so NULL and empty differ) and <c>bytes</c> is a 4-byte length and the bytes. A record with a
/// recorded time (every record written since it exists) is signed in the second format, which also binds the key id and
/// the recorded time, so neither can be changed without the key:
/// <code>
/// str("tokenizer.audit.v2") ...the fields above... bytes(prev_mac) str(key_id) i64(recorded_at_micros)
/// </code>
/// </summary>
internal static class AuditChain
{
    /// <summary>Bytes in a MAC (HMAC-SHA256).</summary>
    public const int MacLength = 32;

    /// <summary>The shortest audit key accepted: 256 bits, the HMAC-SHA256 block security level.</summary>
    public const int MinKeyLength = 32;

    private const int NullLength = -1;

    private static readonly byte[] FormatTag = "tokenizer.audit.v1"u8.ToArray();
    private static readonly byte[] RecordedFormatTag = "tokenizer.audit.v2"u8.ToArray();

    /// <summary>The <c>prev_mac</c> of record 1: 32 zero bytes.</summary>
    public static byte[] Genesis() => new byte[MacLength];

    /// <summary>The MAC of <paramref name="row"/> (its own <see cref="AuditRow.Mac"/> is not an input).</summary>
    public static byte[] ComputeMac(ReadOnlySpan<byte> key, AuditRow row)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        WriteBytes(buffer, row.RecordedAtMicros is null ? FormatTag : RecordedFormatTag);
        WriteInt64(buffer, row.Sequence);
        WriteInt64(buffer, row.TimeMicros);
        WriteString(buffer, row.CallerId);
        WriteString(buffer, row.SourceAddress);
        WriteString(buffer, row.Action);
        WriteString(buffer, row.Resource);
        WriteString(buffer, row.Outcome);
        WriteString(buffer, row.Reason);
        WriteString(buffer, row.CorrelationId);
        WriteBytes(buffer, row.PrevMac);
        if (row.RecordedAtMicros is { } recordedAt)
        {
            WriteString(buffer, row.KeyId);
            WriteInt64(buffer, recordedAt);
        }

        return HMACSHA256.HashData(key, buffer.WrittenSpan);
    }

    /// <summary>True when <paramref name="row"/>'s stored MAC is its MAC under <paramref name="key"/> (constant time).</summary>
    public static bool HasValidMac(ReadOnlySpan<byte> key, AuditRow row) =>
        row.Mac.Length == MacLength && CryptographicOperations.FixedTimeEquals(ComputeMac(key, row), row.Mac);

    private static void WriteInt64(ArrayBufferWriter<byte> buffer, long value)
    {
        BinaryPrimitives.WriteInt64BigEndian(buffer.GetSpan(sizeof(long)), value);
        buffer.Advance(sizeof(long));
    }

    private static void WriteLength(ArrayBufferWriter<byte> buffer, int length)
    {
        BinaryPrimitives.WriteInt32BigEndian(buffer.GetSpan(sizeof(int)), length);
        buffer.Advance(sizeof(int));
    }

    private static void WriteBytes(ArrayBufferWriter<byte> buffer, ReadOnlySpan<byte> value)
    {
        WriteLength(buffer, value.Length);
        buffer.Write(value);
    }

    private static void WriteString(ArrayBufferWriter<byte> buffer, string? value)
    {
        if (value is null)
        {
            WriteLength(buffer, NullLength);
            return;
        }

        var length = Encoding.UTF8.GetByteCount(value);
        WriteLength(buffer, length);
        Encoding.UTF8.GetBytes(value, buffer.GetSpan(length));
        buffer.Advance(length);
    }
}
