using Tokenizer.Core.Domain;
using Tokenizer.Core.Tokenization;
using Tokenizer.Core.Validation;
using static Tokenizer.Core.Tests.Validation.ValidationFixture;

namespace Tokenizer.Core.Tests.Validation;

public class IbanValidationTests
{
    private static SepaDebitDetails ValidSepa(string iban, string country = "DE") =>
        Assert.IsType<SepaDebitDetails>(Validator().ValidateBankAccount(BankCommand(new SepaDebitInput(iban), FullBilling(country))).Account);

    [Theory]
    [InlineData("gb82west12345698765432")]
    [InlineData("GB82 WEST 1234 5698 7654 32")]
    [InlineData("GB82WEST12345698765432")]
    [InlineData(" gb82 West 1234 5698 7654 32 ")]
    public void ValidateBankAccount_IbanWithSpacesOrLowerCase_NormalisedToElectronicForm(string iban)
    {
        // Act
        var sepa = ValidSepa(iban, "GB");

        // Assert
        Assert.Equal("GB82WEST12345698765432", sepa.Iban);
        Assert.Equal("GB", sepa.Country);
    }

    [Theory]
    [InlineData("ES4901825500610201630983")]
    [InlineData("FR1420041010050500013M02606")]
    [InlineData("AT611904300234573201")]
    [InlineData("AT861904300235473202")] // Stripe's "fails later" IBAN: well-formed, so it passes here.
    [InlineData("DE89370400440532013000")]
    public void ValidateBankAccount_KnownValidIban_Valid(string iban)
    {
        // Act
        var sepa = ValidSepa(iban);

        // Assert
        Assert.Equal(iban, sepa.Iban);
    }

    [Theory]
    [InlineData("GB00HLFX11016111455365")]
    [InlineData("EE012200221111099080")]
    [InlineData("DE99370400440532013000")]
    public void ValidateBankAccount_CheckDigits00Or01Or99_InvalidCheckDigits(string iban)
    {
        // Act
        var violations = BankViolations(new SepaDebitInput(iban));

        // Assert
        AssertSingle(violations, "sepa_debit.iban", "invalid check digits");
    }

    [Fact]
    public void Mod97_CheckDigits00And01_PassTheChecksumWhichIsWhyTheyAreRefusedSeparately()
    {
        // Act
        var gb = IbanValidation.Mod97("GB00HLFX11016111455365");
        var ee = IbanValidation.Mod97("EE012200221111099080");

        // Assert
        Assert.Equal(1, gb);
        Assert.Equal(1, ee);
    }

    [Theory]
    [InlineData("GB82WEST12345698765433", "failed checksum")]
    [InlineData("DE89370400440532013001", "failed checksum")]
    [InlineData("XX82WEST12345698765432", "unknown IBAN country")]
    [InlineData("US82WEST12345698765432", "unknown IBAN country")]
    [InlineData("GB82WEST1234569876543", "wrong length for its country")]
    [InlineData("GB82WEST123456987654321", "wrong length for its country")]
    [InlineData("GB821EST12345698765432", "BBAN does not match its country's format")]
    [InlineData("DE8937040044053201300A", "BBAN does not match its country's format")]
    [InlineData("GB82-WEST-1234-5698-7654-32", "must contain only letters, digits and spaces")]
    [InlineData("GB82WEST1234569876543ß", "must contain only letters, digits and spaces")]
    [InlineData("82GBWEST12345698765432", "must start with a 2-letter country code and 2 check digits")]
    [InlineData("GB", "must start with a 2-letter country code and 2 check digits")]
    [InlineData("GBAB", "must start with a 2-letter country code and 2 check digits")]
    [InlineData("", "is required")]
    [InlineData("   ", "is required")]
    [InlineData(null, "is required")]
    public void ValidateBankAccount_BadIban_ViolationNamesTheRule(string? iban, string rule)
    {
        // Act
        var violations = BankViolations(new SepaDebitInput(iban), FullBilling());

        // Assert
        AssertSingle(violations, "sepa_debit.iban", rule);
    }

    [Fact]
    public void Registry_EmbeddedCsv_LoadsEveryCountryConsistently()
    {
        // Act
        var countries = IbanRegistry.Countries;

        // Assert: every line parsed (ParseLine also checks that the BBAN format adds up to the length).
        Assert.Equal(89, countries.Count);
        Assert.Equal(22, countries["GB"].Length);
        Assert.Equal(27, countries["FR"].Length);
        Assert.Equal(15, countries["NO"].Length);
        Assert.All(countries.Values, c => Assert.Equal(c.Length, c.Bban.Sum(s => s.Count) + 4));
    }

    [Theory]
    [InlineData("FR1420041010050Q00013M02606")]
    [InlineData("FR1420041010050500013MZ2606")]
    public void ValidateBankAccount_DigitSwappedForLetterInAlphanumericBban_CanPassMod97(string iban)
    {
        // ISO 7064 MOD 97-10 catches every same-class single substitution, but a letter expands to two digits,
        // so a digit<->letter swap in a 'c' segment slips through about 1 time in 97. These are such swaps of
        // FR1420041010050500013M02606; only the French national RIB key (not checked here) would catch them.

        // Act
        var sepa = ValidSepa(iban);

        // Assert
        Assert.Equal(iban, sepa.Iban);
    }
}
