using System.Buffers.Text;
using CsCheck;
using Tokenizer.Core.Errors;
using Tokenizer.Core.Ports;
using Tokenizer.Ledger.Schema;

namespace Tokenizer.Ledger.Tests;

public sealed class PageTokenPropertyTests
{
    private const string TokenIdChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_";

    [Fact]
    public void PageTokenDecode_AnyBytes_IsMalformedOrTheCanonicalEncodingOfAPosition()
    {
        // Act + Assert
        Gen.Byte.Array[0, 300].Sample(bytes =>
        {
            var text = Base64Url.EncodeToString(bytes);
            AssertMalformedOrCanonical(text);
        });
    }

    [Fact]
    public void PageTokenDecode_AnyString_IsMalformedOrTheCanonicalEncodingOfAPosition()
    {
        // Act + Assert
        Gen.String.Sample(AssertMalformedOrCanonical);
    }

    [Fact]
    public void PageTokenDecode_AnyEncodedPosition_RoundTrips()
    {
        // Act + Assert
        Gen.Select(Gen.Long, Gen.Char[TokenIdChars].Array[1, 255]).Sample((createdAt, id) =>
        {
            var position = new PagePosition(createdAt, new string(id));
            Assert.Equal(position, PageToken.Decode(PageToken.Encode(position)));
        });
    }

    private static void AssertMalformedOrCanonical(string text)
    {
        PagePosition position;
        try
        {
            position = PageToken.Decode(text);
        }
        catch (TokenizerException e)
        {
            Assert.Equal([new FieldViolation("page_token", "malformed")], e.Violations);
            return;
        }

        Assert.Equal(text, PageToken.Encode(position));
    }
}
