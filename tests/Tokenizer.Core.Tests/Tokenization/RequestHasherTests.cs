using CsCheck;
using System.Text;
using Tokenizer.Core.Tokenization;

namespace Tokenizer.Core.Tests.Tokenization;

public sealed class RequestHasherTests
{
    private static readonly byte[] Secret = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();

    [Fact]
    public void HashRequest_SameFields_SameHmac()
    {
        var hasher = new RequestHasher(Secret);

        Assert.Equal(hasher.HashRequest("op", "a", "b"), hasher.HashRequest("op", "a", "b"));
        Assert.Equal(32, hasher.HashRequest("op", "a").Length);
    }

    [Theory]
    [InlineData("ab", "c", "a", "bc")]
    [InlineData("", "x", null, "x")]
    public void HashRequest_FieldBoundariesDiffer_HmacsDiffer(string? a1, string? b1, string? a2, string? b2)
    {
        var hasher = new RequestHasher(Secret);

        Assert.NotEqual(hasher.HashRequest("op", a1, b1), hasher.HashRequest("op", a2, b2));
    }

    [Fact]
    public void HashRequest_OtherSecret_OtherHmac()
    {
        var other = Secret.Select(b => (byte)(b ^ 0xFF)).ToArray();

        Assert.NotEqual(new RequestHasher(Secret).HashRequest("op", "4242424242424242"), new RequestHasher(other).HashRequest("op", "4242424242424242"));
    }

    [Fact]
    public void Constructor_ShortSecret_Throws()
    {
        Assert.Throws<ArgumentException>(() => new RequestHasher(new byte[31]));
    }

    [Fact]
    public void GatewayKey_SameInputs_StableAndStepScoped()
    {
        var hasher = new RequestHasher(Secret);

        var pm = hasher.GatewayKey("caller", "key-1", "pm");

        Assert.Equal(pm, new RequestHasher(Secret).GatewayKey("caller", "key-1", "pm"));
        Assert.NotEqual(pm, hasher.GatewayKey("caller", "key-1", "attach"));
        Assert.NotEqual(pm, hasher.GatewayKey("other", "key-1", "pm"));
        Assert.Matches("^tkz_[0-9a-f]{40}_pm$", pm);
        Assert.True(pm.Length <= 255);
    }

    [Fact]
    public void GatewayKey_NeverContainsCallerKey()
    {
        var hasher = new RequestHasher(Secret);

        var key = hasher.GatewayKey("caller", "order-4242424242424242", "pm");

        Assert.DoesNotContain("4242", key, StringComparison.Ordinal);
        Assert.DoesNotContain("order", key, StringComparison.Ordinal);
    }

    [Fact]
    public void IdempotencyKeyId_KeyedLettersNeverTheKey()
    {
        var hasher = new RequestHasher(Secret);

        var id = hasher.IdempotencyKeyId("order-4242424242424242");

        Assert.Matches("^[a-p]{64}$", id);
        Assert.Equal(id, new RequestHasher(Secret).IdempotencyKeyId("order-4242424242424242"));
        Assert.NotEqual(id, new RequestHasher(Secret.Select(b => (byte)(b + 1)).ToArray()).IdempotencyKeyId("order-4242424242424242"));
    }

    [Fact]
    public void IdempotencyKeyId_AnyKey_SixtyFourLettersAndNoDigitForTheDataDirectoryScanToMistake()
    {
        // Bug fix: as 64 hex the id held digit runs that, stored next to other columns in database pages, the card-number
        // scan of the data directory sometimes reported (a 1-in-many run flake of the security check).
        var hasher = new RequestHasher(Secret);
        Gen.String[0, 300].Sample(key =>
        {
            var id = hasher.IdempotencyKeyId(key);
            return id.Length == 64 && id.All(c => c is >= 'a' and <= 'p');
        }, iter: 2000);
    }

    [Fact]
    public void CustomerKey_SameReference_SameKey()
    {
        var hasher = new RequestHasher(Secret);

        Assert.Equal(hasher.CustomerKey("stripe", "cust-1"), hasher.CustomerKey("stripe", "cust-1"));
        Assert.NotEqual(hasher.CustomerKey("stripe", "cust-1"), hasher.CustomerKey("stripe", "cust-2"));
        Assert.False(Encoding.UTF8.GetString(Secret).Length == 0);
    }
}
