using Tokenizer.Ledger.Audit;

namespace Tokenizer.Ledger.Tests.Audit;

public sealed class AuditTextTests
{
    [Theory]
    [InlineData(null, null)]
    [InlineData("", null)]
    [InlineData(" \r\n\t ", null)]
    [InlineData("plain", "plain")]
    [InlineData("line1\nline2\r\n", "line1line2")]
    [InlineData("evil\u202Etxt.exe", "eviltxt.exe")]
    [InlineData("a\u2028b\u0085c", "abc")]
    [InlineData("pair\uD83D\uDE00ok", "pair\uD83D\uDE00ok")]
    [InlineData("4242424242424242", AuditText.Redacted)]
    [InlineData("card 4000056655665556 here", AuditText.Redacted)]
    [InlineData("1234567890123", "1234567890123")] // 13 digits failing Luhn: not a card number
    public void Clean_Value_Expected(string? value, string? expected) =>
        Assert.Equal(expected, AuditText.Clean(value));

    [Fact]
    public void Clean_UnpairedSurrogates_ReplacedSoTheStoredUtf8IsWhatWasSigned()
    {
        // Built at run time: attribute arguments cannot carry a lone surrogate through metadata.
        var value = "lone" + '\uDC00' + "low, lone" + '\uD800';
        Assert.Equal("lone\uFFFDlow, lone\uFFFD", AuditText.Clean(value));
    }

    [Fact]
    public void Clean_LongerThan200_CappedAt200()
    {
        var cleaned = AuditText.Clean(new string('a', 1000));
        Assert.Equal(AuditText.MaxLength, cleaned!.Length);
    }

    [Fact]
    public void Clean_CapWouldSplitASurrogatePair_DropsThePair()
    {
        // Arrange: 199 characters then a pair that would end at 201.
        var value = new string('a', 199) + "\uD83D\uDE00";

        // Act
        var cleaned = AuditText.Clean(value)!;

        // Assert
        Assert.Equal(new string('a', 199), cleaned);
    }

    [Fact]
    public void Clean_CapLeavesACardNumber_Redacted()
    {
        // Arrange: the cap at 200 keeps the first 14 digits of a 21-digit run, a Luhn-valid 14-digit number (the
        // Diners test card); the detector finds it inside the longer run too.
        var value = new string('x', 186) + "36227206271667" + "1111111";

        // Act
        var cleaned = AuditText.Clean(value);

        // Assert
        Assert.Equal(AuditText.Redacted, cleaned);
    }
}
