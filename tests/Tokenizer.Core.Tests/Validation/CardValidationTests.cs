using Tokenizer.Core.Domain;
using Tokenizer.Core.Errors;
using Tokenizer.Core.Tokenization;
using Tokenizer.Core.Validation;
using static Tokenizer.Core.Tests.Validation.ValidationFixture;

namespace Tokenizer.Core.Tests.Validation;

public class CardValidationTests
{
    private const string AmexPan = "378282246310005";

    /// <summary>Every single-digit change at every position of the 15-digit Amex test card.</summary>
    public static TheoryData<string> AmexSingleDigitChanges()
    {
        var data = new TheoryData<string>();
        for (var position = 0; position < AmexPan.Length; position++)
        {
            for (var digit = '0'; digit <= '9'; digit++)
            {
                if (digit != AmexPan[position])
                {
                    data.Add(string.Concat(AmexPan.AsSpan(0, position), digit.ToString(), AmexPan.AsSpan(position + 1)));
                }
            }
        }

        return data;
    }

    [Theory]
    [InlineData("4242424242424242", CardBrand.Visa)]
    [InlineData("4000056655665556", CardBrand.Visa)]
    [InlineData("5555555555554444", CardBrand.Mastercard)]
    [InlineData("2223003122003222", CardBrand.Mastercard)]
    [InlineData("378282246310005", CardBrand.Amex)]
    [InlineData("371449635398431", CardBrand.Amex)]
    [InlineData("6011111111111117", CardBrand.Discover)]
    [InlineData("3056930009020004", CardBrand.Diners)]
    [InlineData("36227206271667", CardBrand.Diners)]
    [InlineData("3566002020360505", CardBrand.Jcb)]
    [InlineData("6200000000000005", CardBrand.UnionPay)]
    [InlineData("4000000000000002", CardBrand.Visa)]
    [InlineData("4000000000009995", CardBrand.Visa)]
    [InlineData("4000000000009987", CardBrand.Visa)]
    [InlineData("4000000000009979", CardBrand.Visa)]
    [InlineData("4000000000000069", CardBrand.Visa)]
    [InlineData("4000000000000127", CardBrand.Visa)]
    [InlineData("4000000000000119", CardBrand.Visa)]
    [InlineData("4000000000000341", CardBrand.Visa)]
    public void ValidateCard_StripeTestCard_ValidWithBrand(string pan, CardBrand brand)
    {
        // Arrange
        var cvc = brand == CardBrand.Amex ? "1234" : "123";

        // Act
        var request = ValidCard(Card(pan, cvc: cvc));

        // Assert
        Assert.Equal(pan, request.Card.Pan);
        Assert.Equal(brand, request.Card.Brand);
    }

    [Fact]
    public void ValidateCard_AmexTestCard_ValidWithBrandAmex()
    {
        // Act
        var request = ValidCard(Card(AmexPan, cvc: "1234"));

        // Assert
        Assert.Equal(CardBrand.Amex, request.Card.Brand);
        Assert.Equal("0005", request.Card.Last4);
    }

    [Theory]
    [MemberData(nameof(AmexSingleDigitChanges))]
    public void ValidateCard_AmexWithOneDigitChanged_FailsChecksum(string pan)
    {
        // Act
        var violations = CardViolations(Card(pan, cvc: "1234"));

        // Assert: a changed first digit can move the number to a brand that issues no 15-digit PAN (Visa, JCB), which
        // is checked before Luhn.
        var violation = Assert.Single(violations);
        Assert.Equal("card.number", violation.Field);
        Assert.Contains(violation.Rule, (string[])["failed checksum", "length does not match the card brand of its prefix"]);
    }

    [Fact]
    public void ValidateCard_LuhnValidButFiveDigits_TooShort()
    {
        // Act
        var violations = CardViolations(Card("41111"));

        // Assert
        AssertSingle(violations, "card.number", "must be 12-19 digits");
    }

    [Fact]
    public void ValidateCard_MastercardWrittenTwice_TooLong()
    {
        // Act
        var violations = CardViolations(Card("55555555555544445555555555554444"));

        // Assert
        AssertSingle(violations, "card.number", "must be 12-19 digits");
    }

    [Fact]
    public void ValidateCard_Prefix639LuhnValid_ValidAsUnknownOrMaestro()
    {
        // Act
        var request = ValidCard(Card("6396827370876380"));

        // Assert
        Assert.Contains(request.Card.Brand, new[] { CardBrand.Unknown, CardBrand.Maestro });
    }

    [Fact]
    public void ValidateCard_MirRange_ValidAsMirNotMastercard()
    {
        // Act
        var request = ValidCard(Card("2200123456789019"));

        // Assert
        Assert.Equal(CardBrand.Mir, request.Card.Brand);
    }

    [Fact]
    public void ValidateCard_Prefix2723OutsideMastercardRange_ValidButNotMastercard()
    {
        // Act
        var request = ValidCard(Card("2723000048400016"));

        // Assert
        Assert.NotEqual(CardBrand.Mastercard, request.Card.Brand);
    }

    [Theory]
    [InlineData("4242 4242 4242 4242")]
    [InlineData("4242-4242-4242-4242")]
    [InlineData(" 4242-4242 4242--4242 ")]
    [InlineData("4242424242424242")]
    public void ValidateCard_SpacesOrDashes_SamePanAsDigitsOnly(string number)
    {
        // Act
        var request = ValidCard(Card(number));

        // Assert
        Assert.Equal("4242424242424242", request.Card.Pan);
    }

    [Theory]
    [InlineData("4242.4242.4242.4242")]
    [InlineData("4242/4242/4242/4242")]
    [InlineData("4242\t4242424242424")]
    [InlineData("4242424242424242x")]
    [InlineData("٤٢٤٢٤٢٤٢٤٢٤٢٤٢٤٢")]
    public void ValidateCard_OtherSeparatorsOrNonAsciiDigits_OnlyDigitsSpacesOrDashes(string number)
    {
        // Act
        var violations = CardViolations(Card(number));

        // Assert
        AssertSingle(violations, "card.number", "must contain only digits, spaces or dashes");
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void ValidateCard_NumberMissing_Required(string? number)
    {
        // Act
        var violations = CardViolations(Card(number));

        // Assert
        AssertSingle(violations, "card.number", "is required");
    }

    [Fact]
    public void ValidateCard_LuhnInvalid_FailedChecksum()
    {
        // Act
        var violations = CardViolations(Card("4242424242424241"));

        // Assert
        AssertSingle(violations, "card.number", "failed checksum");
    }

    [Fact]
    public void ValidateCard_CardMissing_ViolationOnCard()
    {
        // Act
        var violations = CardViolations(CardCommand() with { Card = null });

        // Assert
        AssertSingle(violations, "card", "is required");
    }

    [Theory]
    [InlineData("4242424242424242", "012")]
    [InlineData("4242424242424242", "000")]
    [InlineData("378282246310005", "1234")]
    [InlineData("378282246310005", "0123")]
    public void ValidateCard_CvcOfRightLength_KeptAsGiven(string pan, string cvc)
    {
        // Act
        var request = ValidCard(Card(pan, cvc: cvc));

        // Assert
        Assert.Equal(cvc, request.Card.Cvc);
    }

    [Theory]
    [InlineData("4242424242424242", "1234", "must be 3 digits")]
    [InlineData("4242424242424242", "99", "must be 3 digits")]
    [InlineData("4242424242424242", "12a", "must be 3 digits")]
    [InlineData("4242424242424242", " 123", "must be 3 digits")]
    [InlineData("378282246310005", "123", "must be 4 digits for American Express")]
    [InlineData("378282246310005", "12345", "must be 4 digits for American Express")]
    [InlineData("4242424242424242", null, "is required")]
    [InlineData("4242424242424242", "", "is required")]
    public void ValidateCard_WrongCvc_ViolationOnCvc(string pan, string? cvc, string rule)
    {
        // Act
        var violations = CardViolations(Card(pan, cvc: cvc));

        // Assert
        AssertSingle(violations, "card.cvc", rule);
    }

    [Fact]
    public void ValidateCard_UnreadableNumber_CvcOfThreeOrFourDigitsNotAlsoReported()
    {
        // Act
        var violations = CardViolations(Card("4242x", cvc: "1234"));

        // Assert
        AssertSingle(violations, "card.number", "must contain only digits, spaces or dashes");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(13)]
    [InlineData(-1)]
    public void ValidateCard_MonthOutOfRange_ViolationOnExpMonth(int month)
    {
        // Act
        var violations = CardViolations(Card(month: month));

        // Assert
        AssertSingle(violations, "card.exp_month", "must be 1-12");
    }

    [Theory]
    [InlineData(30)]
    [InlineData(999)]
    [InlineData(10000)]
    [InlineData(0)]
    public void ValidateCard_YearNotFourDigits_ViolationOnExpYear(int year)
    {
        // Act
        var violations = CardViolations(Card(year: year));

        // Assert
        AssertSingle(violations, "card.exp_year", "must be a 4-digit year");
    }

    [Fact]
    public void ValidateCard_ExpiresThisMonth_Valid()
    {
        // Act
        var request = ValidCard(Card(month: 11, year: 2026));

        // Assert
        Assert.Equal(11, request.Card.ExpMonth);
        Assert.Equal(2026, request.Card.ExpYear);
    }

    [Fact]
    public void ValidateCard_ExpiredLastMonth_ViolationOnExpMonth()
    {
        // Act
        var violations = CardViolations(Card(month: 10, year: 2026));

        // Assert
        AssertSingle(violations, "card.exp_month", "card has expired");
    }

    [Fact]
    public void ValidateCard_ExpiredLastYear_ViolationOnExpYear()
    {
        // Act
        var violations = CardViolations(Card(month: 12, year: 2025));

        // Assert
        AssertSingle(violations, "card.exp_year", "card has expired");
    }

    [Fact]
    public void ValidateCard_LastInstantOfExpiryMonth_Valid()
    {
        // Arrange
        var lastInstant = new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero).AddTicks(-1);

        // Act
        var request = ValidCard(Card(month: 11, year: 2026), lastInstant);

        // Assert
        Assert.Equal(11, request.Card.ExpMonth);
    }

    [Fact]
    public void ValidateCard_FirstInstantOfNextMonth_Expired()
    {
        // Arrange
        var firstInstant = new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);

        // Act
        var violations = CardViolations(Card(month: 11, year: 2026), firstInstant);

        // Assert
        AssertSingle(violations, "card.exp_month", "card has expired");
    }

    [Fact]
    public void ValidateCard_FirstInstantOfNextYear_ExpiredOnYear()
    {
        // Arrange
        var firstInstant = new DateTimeOffset(2027, 1, 1, 0, 0, 0, TimeSpan.Zero);

        // Act
        var violations = CardViolations(Card(month: 12, year: 2026), firstInstant);

        // Assert
        AssertSingle(violations, "card.exp_year", "card has expired");
    }

    [Fact]
    public void ValidateCard_ClockWithOffsetStillInUtcExpiryMonth_Valid()
    {
        // Arrange: 00:30 on 1 December at UTC+1 is still 30 November in UTC.
        var now = new DateTimeOffset(2026, 12, 1, 0, 30, 0, TimeSpan.FromHours(1));

        // Act
        var request = ValidCard(Card(month: 11, year: 2026), now);

        // Assert
        Assert.Equal(2026, request.Card.ExpYear);
    }

    [Fact]
    public void ValidateCard_TwentyYearsAhead_Valid()
    {
        // Act
        var request = ValidCard(Card(month: 12, year: 2046));

        // Assert
        Assert.Equal(2046, request.Card.ExpYear);
    }

    [Fact]
    public void ValidateCard_MoreThanTwentyYearsAhead_ViolationOnExpYear()
    {
        // Act
        var violations = CardViolations(Card(month: 1, year: 2047));

        // Assert
        AssertSingle(violations, "card.exp_year", "must be at most 20 years ahead");
    }

    [Fact]
    public void ValidateCard_ManyBadFields_ReportsEveryViolationTogether()
    {
        // Arrange
        var command = new TokenizeCardCommand(
            "key with space",
            null,
            Card("4242424242424241", month: 13, year: 2025, cvc: "12"),
            new BillingDetails(null, "not-an-email", "phone?", new Address(null, null, null, null, null, "GBR")));

        // Act
        var exception = Assert.Throws<TokenizerException>(() => Validator().ValidateCard(command));

        // Assert
        Assert.Equal(ErrorKind.InvalidArgument, exception.Kind);
        Assert.Equal(ErrorReasons.ValidationFailed, exception.Reason);
        Assert.Equal(
            new[]
            {
                "idempotency_key", "customer_reference", "card.number", "card.exp_month", "card.exp_year", "card.cvc",
                "billing_details.email", "billing_details.phone", "billing_details.address.country",
            },
            exception.Violations.Select(v => v.Field));
    }

    [Fact]
    public void ValidateCard_ValidRequest_ReturnsKeyReferenceAndEmptyBilling()
    {
        // Act
        var request = Validator().ValidateCard(CardCommand());

        // Assert
        Assert.Equal(Key, request.IdempotencyKey);
        Assert.Equal(Reference, request.CustomerReference);
        Assert.Equal(BillingDetails.Empty, request.BillingDetails);
        Assert.Equal(CardBrand.Visa, request.Card.Brand);
    }

    [Theory]
    [InlineData(null, "customer_reference")]
    [InlineData("", "customer_reference")]
    [InlineData("has space", "customer_reference")]
    public void ValidateCard_BadCustomerReference_ViolationWithRuleText(string? reference, string field)
    {
        // Arrange
        var command = CardCommand() with { CustomerReference = reference };

        // Act
        var violations = CardViolations(command);

        // Assert
        AssertSingle(violations, field, InputRules.ReferenceRule);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("key\nwith-newline")]
    public void ValidateCard_BadIdempotencyKey_ViolationWithRuleText(string? key)
    {
        // Arrange
        var command = CardCommand() with { IdempotencyKey = key };

        // Act
        var violations = CardViolations(command);

        // Assert
        AssertSingle(violations, "idempotency_key", InputRules.IdempotencyKeyRule);
    }

    [Fact]
    public void ValidateCard_IdempotencyKeyOf256Chars_Violation()
    {
        // Arrange
        var command = CardCommand() with { IdempotencyKey = new string('k', 256) };

        // Act
        var violations = CardViolations(command);

        // Assert
        AssertSingle(violations, "idempotency_key", InputRules.IdempotencyKeyRule);
    }
}
