using Microsoft.Extensions.Time.Testing;
using Tokenizer.Core.Domain;
using Tokenizer.Core.Errors;
using Tokenizer.Core.Tokenization;
using Tokenizer.Core.Validation;

namespace Tokenizer.Core.Tests.Validation;

/// <summary>Bank details outside the scheme, and card numbers or phone lengths in billing fields, each with a value that once got through.</summary>
public sealed class BankAndFreeTextValidationTests
{
    private readonly RequestValidator validator = new(new FakeTimeProvider(new DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.Zero)));

    private static readonly BillingDetails FullBilling = new("Jenny Rosen", "jenny@example.com", null, new Address("1 Test St", null, "London", null, "EC1A 1BB", "GB"));

    [Theory]
    [InlineData("BR1800360305000010009795493C1")]
    [InlineData("SA0380000000608010167519")]
    public void ValidateBankAccount_ValidIbanOutsideSepa_Refused(string iban)
    {
        var error = Assert.Throws<TokenizerException>(() => validator.ValidateBankAccount(
            new TokenizeBankAccountCommand("k", "c", new SepaDebitInput(iban), FullBilling, ValidationFixture.OnlineMandate())));

        Assert.Contains(error.Violations, v => v.Field == "sepa_debit.iban" && v.Rule == "country is not in the SEPA schemes");
    }

    [Theory]
    [InlineData("GB82WEST12345698765432")]
    [InlineData("CH9300762011623852957")]
    [InlineData("AT611904300234573201")]
    public void ValidateBankAccount_SepaCountries_Accepted(string iban)
    {
        var result = validator.ValidateBankAccount(new TokenizeBankAccountCommand("k", "c", new SepaDebitInput(iban), FullBilling, ValidationFixture.OnlineMandate()));

        Assert.IsType<SepaDebitDetails>(result.Account);
    }

    [Theory]
    [InlineData("Jenny 4716-9139-0996-0305")]
    [InlineData("4242424242424242")]
    public void ValidateCard_CardNumberInName_Refused(string name)
    {
        var error = Assert.Throws<TokenizerException>(() => validator.ValidateCard(new TokenizeCardCommand(
            "k", "c", new CardInput("4242424242424242", 12, 2030, "123"), new BillingDetails(name, null, null, null))));

        Assert.Contains(error.Violations, v => v.Field == "billing_details.name" && v.Rule == "must not contain a card or bank account number");
        Assert.DoesNotContain(error.Violations, v => v.Rule.Contains("4242", StringComparison.Ordinal));
    }

    [Fact]
    public void ValidateCard_PhoneWithSixteenDigits_Refused()
    {
        var error = Assert.Throws<TokenizerException>(() => validator.ValidateCard(new TokenizeCardCommand(
            "k", "c", new CardInput("4242424242424242", 12, 2030, "123"), new BillingDetails(null, null, "4716 9139 0996 0305", null))));

        Assert.Contains(error.Violations, v => v.Field == "billing_details.phone");
    }

    [Fact]
    public void ValidateCard_FifteenDigitPhone_Accepted()
    {
        var result = validator.ValidateCard(new TokenizeCardCommand(
            "k", "c", new CardInput("4242424242424242", 12, 2030, "123"), new BillingDetails(null, null, "+44 20 7946 0958 123", null)));

        Assert.Equal("+44 20 7946 0958 123", result.BillingDetails.Phone);
    }

    [Theory]
    [InlineData("4716-9139-0996-0305")]
    [InlineData("4716.9139.0996.0305")]
    public void ValidateCard_CardNumberAsCustomerReference_Refused(string reference)
    {
        var error = Assert.Throws<TokenizerException>(() => validator.ValidateCard(new TokenizeCardCommand(
            "k", reference, new CardInput("4242424242424242", 12, 2030, "123"), null)));

        Assert.Contains(error.Violations, v => v.Field == "customer_reference");
    }
}
