using System.Buffers;
using System.Buffers.Binary;
using System.Buffers.Text;
using System.Text;
using Tokenizer.Core.Errors;
using Tokenizer.Core.Validation;

namespace Tokenizer.Ledger.Schema;

/// <summary>Where the next page of a listing starts: strictly after this (created_at, token) in listing order.</summary>
/// <param name="CreatedAtMicros">The last returned token's created_at, unix microseconds.</param>
/// <param name="Token">The last returned token's id.</param>
internal readonly record struct PagePosition(long CreatedAtMicros, string Token);

/// <summary>
/// The page token: unpadded base64url of <c>[version = 1][created_at: int64 big-endian][token id: ASCII]</c>.
/// It only positions: filters always come from the query, so editing a token cannot widen a listing.
/// Only the canonical encoding of a well-formed payload is accepted.
/// </summary>
internal static class PageToken
{
    private const byte Version = 1;
    private const int HeaderLength = 1 + sizeof(long);
    private const int MaxTokenIdLength = 255;

    /// <summary>Longer input is malformed without being decoded.</summary>
    private const int MaxEncodedLength = 512;

    /// <summary>The page token for <paramref name="position"/>.</summary>
    public static string Encode(PagePosition position)
    {
        var payload = new byte[HeaderLength + Encoding.ASCII.GetByteCount(position.Token)];
        payload[0] = Version;
        BinaryPrimitives.WriteInt64BigEndian(payload.AsSpan(1), position.CreatedAtMicros);
        Encoding.ASCII.GetBytes(position.Token, payload.AsSpan(HeaderLength));
        return Base64Url.EncodeToString(payload);
    }

    /// <summary>The position in <paramref name="pageToken"/>.</summary>
    /// <exception cref="TokenizerException">INVALID_ARGUMENT, field <c>page_token</c>, rule <c>malformed</c>.</exception>
    public static PagePosition Decode(string pageToken)
    {
        ArgumentNullException.ThrowIfNull(pageToken);
        if (pageToken.Length is 0 or > MaxEncodedLength)
        {
            throw Malformed();
        }

        Span<byte> payload = stackalloc byte[Base64Url.GetMaxDecodedLength(MaxEncodedLength)];
        var status = Base64Url.DecodeFromChars(pageToken, payload, out var consumed, out var length);
        if (status != OperationStatus.Done || consumed != pageToken.Length)
        {
            throw Malformed();
        }

        payload = payload[..length];
        if (length <= HeaderLength || length > HeaderLength + MaxTokenIdLength || payload[0] != Version)
        {
            throw Malformed();
        }

        // Bytes outside ASCII decode to '?', which no token id contains.
        var position = new PagePosition(
            BinaryPrimitives.ReadInt64BigEndian(payload[1..]),
            Encoding.ASCII.GetString(payload[HeaderLength..]));

        // One position, one spelling: reject padding, whitespace and non-zero trailing bits the decoder tolerates.
        if (!InputRules.IsTokenIdShaped(position.Token) || !string.Equals(Encode(position), pageToken, StringComparison.Ordinal))
        {
            throw Malformed();
        }

        return position;
    }

    private static TokenizerException Malformed() =>
        TokenizerException.Invalid([new FieldViolation("page_token", "malformed")]);
}
