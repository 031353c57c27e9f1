using Tokenizer.Core.Validation;

namespace Tokenizer.Core.Tests.Validation;

public class LuhnTests
{
    [Theory]
    [InlineData("4242424242424242")]
    [InlineData("378282246310005")]
    [InlineData("41111")]
    [InlineData("0")]
    public void IsValid_LuhnValidDigits_ReturnsTrue(string digits)
    {
        // Act
        var valid = Luhn.IsValid(digits);

        // Assert
        Assert.True(valid);
    }

    [Theory]
    [InlineData("4242424242424241")]
    [InlineData("")]
    [InlineData("4242 4242 4242 4242")]
    [InlineData("42424242424242a2")]
    [InlineData("٤٢٤٢٤٢٤٢٤٢٤٢٤٢٤٢")] // Arabic-Indic digits are not ASCII digits.
    public void IsValid_InvalidOrNonDigitInput_ReturnsFalse(string digits)
    {
        // Act
        var valid = Luhn.IsValid(digits);

        // Assert
        Assert.False(valid);
    }

    [Theory]
    [InlineData("424242424242424", '2')]
    [InlineData("37828224631000", '5')]
    [InlineData("7992739871", '3')]
    public void ComputeCheckDigit_Payload_ReturnsDigitThatCompletesTheNumber(string payload, char expected)
    {
        // Act
        var digit = Luhn.ComputeCheckDigit(payload);

        // Assert
        Assert.Equal(expected, digit);
        Assert.True(Luhn.IsValid(payload + digit));
    }

    [Fact]
    public void ComputeCheckDigit_NonDigitPayload_ThrowsWithoutEchoingIt()
    {
        // Act
        var exception = Assert.Throws<ArgumentException>(() => Luhn.ComputeCheckDigit("4242x4242"));

        // Assert
        Assert.DoesNotContain("4242", exception.Message, StringComparison.Ordinal);
    }
}
