using Tokenizer.Core.Domain;
using Tokenizer.Core.Validation;

namespace Tokenizer.Core.Tests.Validation;

public class CardBrandDetectorTests
{
    [Theory]
    [InlineData("4111111111111111", CardBrand.Visa)]
    [InlineData("5100000000000000", CardBrand.Mastercard)]
    [InlineData("5500000000000000", CardBrand.Mastercard)]
    [InlineData("2221000000000000", CardBrand.Mastercard)]
    [InlineData("2720990000000000", CardBrand.Mastercard)]
    [InlineData("2220990000000000", CardBrand.Unknown)]
    [InlineData("2721000000000000", CardBrand.Unknown)]
    [InlineData("3400000000000000", CardBrand.Amex)]
    [InlineData("3700000000000000", CardBrand.Amex)]
    [InlineData("6011000000000000", CardBrand.Discover)]
    [InlineData("6440000000000000", CardBrand.Discover)]
    [InlineData("6490000000000000", CardBrand.Discover)]
    [InlineData("6500000000000000", CardBrand.Discover)]
    [InlineData("6221260000000000", CardBrand.Discover)]
    [InlineData("6229250000000000", CardBrand.Discover)]
    [InlineData("6221250000000000", CardBrand.UnionPay)]
    [InlineData("6229260000000000", CardBrand.UnionPay)]
    [InlineData("3528000000000000", CardBrand.Jcb)]
    [InlineData("3589000000000000", CardBrand.Jcb)]
    [InlineData("3527000000000000", CardBrand.Unknown)]
    [InlineData("3000000000000000", CardBrand.Diners)]
    [InlineData("3050000000000000", CardBrand.Diners)]
    [InlineData("3095000000000000", CardBrand.Diners)]
    [InlineData("3600000000000000", CardBrand.Diners)]
    [InlineData("3800000000000000", CardBrand.Diners)]
    [InlineData("3900000000000000", CardBrand.Diners)]
    [InlineData("6200000000000000", CardBrand.UnionPay)]
    [InlineData("5000000000000000", CardBrand.Maestro)]
    [InlineData("5600000000000000", CardBrand.Maestro)]
    [InlineData("6900000000000000", CardBrand.Maestro)]
    [InlineData("6010000000000000", CardBrand.Maestro)]
    [InlineData("2200000000000000", CardBrand.Mir)]
    [InlineData("2204000000000000", CardBrand.Mir)]
    [InlineData("2205000000000000", CardBrand.Unknown)]
    [InlineData("1000000000000000", CardBrand.Unknown)]
    [InlineData("7000000000000000", CardBrand.Unknown)]
    public void Detect_IinPrefix_ReturnsBrandOfLongestMatchingPrefix(string pan, CardBrand expected)
    {
        // Act
        var brand = CardBrandDetector.Detect(pan);

        // Assert
        Assert.Equal(expected, brand);
    }

    [Theory]
    [InlineData("")]
    [InlineData("x242424242424242")]
    [InlineData("2")]
    public void Detect_EmptyOrNonDigitPrefix_ReturnsUnknown(string pan)
    {
        // Act
        var brand = CardBrandDetector.Detect(pan);

        // Assert
        Assert.Equal(CardBrand.Unknown, brand);
    }
}
