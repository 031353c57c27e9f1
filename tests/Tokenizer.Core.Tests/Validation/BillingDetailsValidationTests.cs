using Tokenizer.Core.Domain;
using Tokenizer.Core.Tokenization;
using Tokenizer.Core.Validation;
using static Tokenizer.Core.Tests.Validation.ValidationFixture;

namespace Tokenizer.Core.Tests.Validation;

public class BillingDetailsValidationTests
{
    private static readonly SepaDebitInput GermanIban = new("DE89370400440532013000");
    private static readonly SepaDebitInput BritishIban = new("GB82WEST12345698765432");
    private static readonly AuBecsDebitInput Becs = new("000-000", "000123456");
    private static readonly BacsDebitInput Bacs = new("108800", "00012345");
    private static readonly UsBankAccountInput Ach = new("110000000", "000123456789", AccountHolderType.Individual, BankAccountKind.Checking);

    private static BillingDetails CardBilling(BillingDetails billing) =>
        Validator().ValidateCard(CardCommand(billing: billing)).BillingDetails;

    [Fact]
    public void ValidateCard_Padding_TrimmedAndCountryUpperCased()
    {
        // Arrange
        var billing = new BillingDetails(
            " Jane Doe ",
            "jane@example.com ",
            " +1 (555) 010-0000",
            new Address("1 Main St ", "  ", "Springfield", "IL", "62701", "us"));

        // Act
        var cleaned = CardBilling(billing);

        // Assert
        Assert.Equal("Jane Doe", cleaned.Name);
        Assert.Equal("jane@example.com", cleaned.Email);
        Assert.Equal("+1 (555) 010-0000", cleaned.Phone);
        Assert.Equal(new Address("1 Main St", null, "Springfield", "IL", "62701", "US"), cleaned.Address);
    }

    [Fact]
    public void ValidateCard_ControlCharacters_RefusedPerFieldNotStripped()
    {
        // Arrange
        var billing = new BillingDetails(
            " Jane\r\nDoe ",
            "jane@example.com\n",
            "\t+1 (555) 010-0000",
            new Address("1 Main St\u001b", null, "Spring\u202Efield", null, null, null));

        // Act
        var violations = CardViolations(CardCommand(billing: billing));

        // Assert
        Assert.Equal(
            ["billing_details.name", "billing_details.email", "billing_details.phone", "billing_details.address.line1", "billing_details.address.city"],
            violations.Select(v => v.Field));
        Assert.All(violations, v => Assert.Equal(FreeTextRule.ControlCharacters, v.Rule));
    }

    [Fact]
    public void ValidateCard_AllAddressFieldsEmpty_AddressNullAndEmptyStringsNull()
    {
        // Arrange
        var billing = new BillingDetails("", " ", null, new Address("", "  ", null, "", " ", ""));

        // Act
        var cleaned = CardBilling(billing);

        // Assert
        Assert.Equal(new BillingDetails(null, null, null, null), cleaned);
    }

    [Theory]
    [InlineData("378282246310005")]      // American Express, 15 digits (the review's finding)
    [InlineData("3782 822463 10005")]    // the same, grouped as printed
    [InlineData("+371449635398431")]     // Amex with a leading +
    [InlineData("30569309025904")]       // Diners Club, 14 digits
    [InlineData("6759649826438453")]     // Maestro, 16 digits: over E.164's 15 as well
    public void ValidateCard_PhoneHoldingACardNumber_Refused(string phone)
    {
        var violations = CardViolations(CardCommand(billing: new BillingDetails(null, null, phone, null)));

        Assert.Contains(violations, v => v.Field == "billing_details.phone");
        Assert.DoesNotContain(violations, v => v.Rule.Contains(phone, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("+44 20 7946 0958")]     // UK landline
    [InlineData("+61 412 345 678")]      // AU mobile
    [InlineData("+49 1512 3456789")]     // DE mobile, 13 digits starting with 4
    [InlineData("+1 (415) 555-0100")]    // US
    public void ValidateCard_OrdinaryPhones_Accepted(string phone)
    {
        var billing = Validator().ValidateCard(CardCommand(billing: new BillingDetails(null, null, phone, null))).BillingDetails;

        Assert.Equal(phone, billing.Phone);
    }

    [Theory]
    [InlineData("jane@example.com")]
    [InlineData("j.doe+tag@mail.example.co.uk")]
    public void ValidateCard_EmailShaped_Kept(string email)
    {
        // Act
        var cleaned = CardBilling(new BillingDetails(null, email, null, null));

        // Assert
        Assert.Equal(email, cleaned.Email);
    }

    [Theory]
    [InlineData("jane.example.com")]
    [InlineData("@example.com")]
    [InlineData("jane@")]
    [InlineData("jane@example")]
    [InlineData("jane@@example.com")]
    [InlineData("ja@ne@example.com")]
    [InlineData("jane doe@example.com")]
    [InlineData("jane@.com")]
    [InlineData("jane@example.")]
    public void ValidateCard_EmailNotShaped_Violation(string email)
    {
        // Act
        var violations = CardViolations(CardCommand(billing: new BillingDetails(null, email, null, null)));

        // Assert
        AssertSingle(violations, "billing_details.email", "must be an email address with one @, a local part and a domain with a dot, without spaces");
    }

    [Theory]
    [InlineData("+44 20 7946 0958x")]
    [InlineData("call me")]
    [InlineData("+1.555.0100")]
    public void ValidateCard_PhoneWithOtherCharacters_Violation(string phone)
    {
        // Act
        var violations = CardViolations(CardCommand(billing: new BillingDetails(null, null, phone, null)));

        // Assert
        AssertSingle(violations, "billing_details.phone", "must contain only digits, spaces and + - ( )");
    }

    [Theory]
    [InlineData("gbr")]
    [InlineData("G")]
    [InlineData("G1")]
    [InlineData("ÜK")]
    public void ValidateCard_CountryNotTwoAsciiLetters_Violation(string country)
    {
        // Act
        var violations = CardViolations(CardCommand(billing: new BillingDetails(null, null, null, new Address(null, null, null, null, null, country))));

        // Assert
        AssertSingle(violations, "billing_details.address.country", "must be a 2-letter ISO 3166-1 country code");
    }

    public static TheoryData<BillingDetails, string, int> TooLong() => new()
    {
        { new BillingDetails(new string('n', 201), null, null, null), "billing_details.name", 200 },
        { new BillingDetails(null, new string('e', 250) + "@x.io", null, null), "billing_details.email", 254 },
        { new BillingDetails(null, null, new string('1', 33), null), "billing_details.phone", 32 },
        { new BillingDetails(null, null, null, new Address(new string('l', 201), null, null, null, null, null)), "billing_details.address.line1", 200 },
        { new BillingDetails(null, null, null, new Address(null, new string('l', 201), null, null, null, null)), "billing_details.address.line2", 200 },
        { new BillingDetails(null, null, null, new Address(null, null, new string('c', 101), null, null, null)), "billing_details.address.city", 100 },
        { new BillingDetails(null, null, null, new Address(null, null, null, new string('s', 101), null, null)), "billing_details.address.state", 100 },
        { new BillingDetails(null, null, null, new Address(null, null, null, null, new string('p', 21), null)), "billing_details.address.postal_code", 20 },
    };

    [Theory]
    [MemberData(nameof(TooLong))]
    public void ValidateCard_FieldOverItsLimit_Violation(BillingDetails billing, string field, int limit)
    {
        // Act
        var violations = CardViolations(CardCommand(billing: billing));

        // Assert
        AssertSingle(violations, field, $"must be at most {limit} characters");
    }

    [Fact]
    public void ValidateCard_FieldsAtTheirLimits_Valid()
    {
        // Arrange
        var billing = new BillingDetails(
            new string('n', 200),
            new string('e', 249) + "@x.io",
            "+(" + string.Join(' ', Enumerable.Repeat('1', 15)) + ")",
            new Address(new string('l', 200), new string('l', 200), new string('c', 100), new string('s', 100), new string('p', 20), "NZ"));

        // Act
        var cleaned = CardBilling(billing);

        // Assert
        Assert.Equal(billing, cleaned);
    }

    public static TheoryData<BankAccountInput, string[]> RequiredFields() => new()
    {
        { Becs, ["billing_details.name", "billing_details.email"] },
        { GermanIban, ["billing_details.name", "billing_details.email"] },
        {
            BritishIban,
            ["billing_details.name", "billing_details.email", "billing_details.address.line1", "billing_details.address.city",
                "billing_details.address.postal_code", "billing_details.address.country"]
        },
        {
            new SepaDebitInput("CH9300762011623852957"),
            ["billing_details.name", "billing_details.email", "billing_details.address.line1", "billing_details.address.city",
                "billing_details.address.postal_code", "billing_details.address.country"]
        },
        {
            Bacs,
            ["billing_details.name", "billing_details.email", "billing_details.address.line1", "billing_details.address.city",
                "billing_details.address.postal_code", "billing_details.address.country"]
        },
        { Ach, ["billing_details.name"] },
    };

    [Theory]
    [MemberData(nameof(RequiredFields))]
    public void ValidateBankAccount_NoBillingDetails_EveryRequiredFieldReported(BankAccountInput account, string[] fields)
    {
        // Act
        var violations = BankViolations(BankCommand(account) with { BillingDetails = null });

        // Assert
        Assert.Equal(fields, violations.Select(v => v.Field));
        Assert.All(violations, v => Assert.Equal("is required", v.Rule));
    }

    [Fact]
    public void ValidateCard_NoBillingDetails_NothingRequired()
    {
        // Act
        var request = Validator().ValidateCard(CardCommand() with { BillingDetails = null });

        // Assert
        Assert.Equal(BillingDetails.Empty, request.BillingDetails);
    }

    [Fact]
    public void ValidateBankAccount_EeaIbanWithNameAndEmailOnly_Valid()
    {
        // Arrange
        var billing = new BillingDetails("Max Mustermann", "max@example.de", null, null);

        // Act
        var request = Validator().ValidateBankAccount(BankCommand(GermanIban, billing));

        // Assert
        Assert.Equal(billing, request.BillingDetails);
    }

    [Fact]
    public void ValidateBankAccount_NonEeaIbanWithFullAddress_Valid()
    {
        // Act
        var request = Validator().ValidateBankAccount(BankCommand(BritishIban, FullBilling()));

        // Assert
        Assert.Equal("GB", request.BillingDetails.Address?.Country);
    }

    [Fact]
    public void ValidateBankAccount_InvalidButPresentEmail_NotAlsoReportedAsRequired()
    {
        // Arrange
        var billing = new BillingDetails("Max", "not-an-email", null, null);

        // Act
        var violations = BankViolations(GermanIban, billing);

        // Assert
        AssertSingle(violations, "billing_details.email", "must be an email address with one @, a local part and a domain with a dot, without spaces");
    }

    [Fact]
    public void ValidateBankAccount_BadIbanAndMissingBilling_ReportedTogether()
    {
        // Act
        var violations = BankViolations(BankCommand(new SepaDebitInput("GB82WEST12345698765433")) with { BillingDetails = null });

        // Assert: the IBAN fails its checksum, yet its readable country still asks for the address.
        Assert.Equal(7, violations.Count);
        Assert.Equal("sepa_debit.iban", violations[0].Field);
    }
}
