using Tokenizer.Ledger.Audit;

namespace Tokenizer.Ledger.Tests.Audit;

public sealed class AuditChainTests
{
    private static readonly byte[] Key = new byte[32];

    private static AuditRow Row => new(
        7, 1_000_000, "caller", "10.0.0.1", "svc/Method", "pm_1", "success", null, "trace", new byte[32], []);

    [Fact]
    public void ComputeMac_SameRow_SameMac() =>
        Assert.Equal(AuditChain.ComputeMac(Key, Row), AuditChain.ComputeMac(Key, Row with { }));

    [Fact]
    public void ComputeMac_TextMovedAcrossAFieldBoundary_DifferentMac()
    {
        // Arrange: the same concatenated text, split differently between two adjacent fields.
        var a = Row with { CallerId = "ab", SourceAddress = "c" };
        var b = Row with { CallerId = "a", SourceAddress = "bc" };

        // Act and assert
        Assert.NotEqual(AuditChain.ComputeMac(Key, a), AuditChain.ComputeMac(Key, b));
    }

    [Fact]
    public void ComputeMac_NullAndEmpty_DifferentMac() =>
        Assert.NotEqual(AuditChain.ComputeMac(Key, Row with { Reason = null }), AuditChain.ComputeMac(Key, Row with { Reason = "" }));

    [Fact]
    public void ComputeMac_OtherSequenceTimeOrLink_DifferentMac()
    {
        var mac = AuditChain.ComputeMac(Key, Row);
        Assert.NotEqual(mac, AuditChain.ComputeMac(Key, Row with { Sequence = 8 }));
        Assert.NotEqual(mac, AuditChain.ComputeMac(Key, Row with { TimeMicros = 1_000_001 }));
        Assert.NotEqual(mac, AuditChain.ComputeMac(Key, Row with { PrevMac = Enumerable.Repeat((byte)1, 32).ToArray() }));
    }

    [Fact]
    public void ComputeMac_OtherKey_DifferentMac()
    {
        var otherKey = new byte[32];
        otherKey[31] = 1;
        Assert.NotEqual(AuditChain.ComputeMac(Key, Row), AuditChain.ComputeMac(otherKey, Row));
    }

    [Fact]
    public void ComputeMac_IgnoresTheStoredMac() =>
        Assert.Equal(AuditChain.ComputeMac(Key, Row), AuditChain.ComputeMac(Key, Row with { Mac = new byte[32] }));

    [Fact]
    public void HasValidMac_WrongLengthMac_False() =>
        Assert.False(AuditChain.HasValidMac(Key, Row with { Mac = AuditChain.ComputeMac(Key, Row)[..31] }));
}
