using System.Net;
using Stripe;

namespace Tokenizer.StripeSandbox.Tests;

public sealed class BankPaymentMethodTests(SandboxFixture fixture) : IClassFixture<SandboxFixture>
{
    private readonly PaymentMethodService paymentMethods = fixture.Client.V1.PaymentMethods;

    [Fact]
    public async Task Create_AuBecsDebit_ReturnsBsbLast4Fingerprint()
    {
        var created = await paymentMethods.CreateAsync(SandboxHarness.AuBecs("000-000", "000123456"));

        Assert.Equal("au_becs_debit", created.Type);
        Assert.Equal("000000", created.AuBecsDebit.BsbNumber);
        Assert.Equal("3456", created.AuBecsDebit.Last4);
        Assert.Equal(16, created.AuBecsDebit.Fingerprint.Length);
        Assert.Null(created.Card);
        Assert.DoesNotContain("000123456", created.StripeResponse.Content, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("AT611904300234573201", "AT", "19043", "", "3201")]
    [InlineData("DE89 3704 0044 0532 0130 00", "DE", "37040044", "", "3000")]
    [InlineData("FR1420041010050500013M02606", "FR", "20041", "01005", "2606")]
    public async Task Create_SepaDebit_ReturnsBankCodeCountryLast4(string iban, string country, string bankCode, string branchCode, string last4)
    {
        var created = await paymentMethods.CreateAsync(SandboxHarness.Sepa(iban));

        Assert.Equal("sepa_debit", created.Type);
        Assert.Equal(country, created.SepaDebit.Country);
        Assert.Equal(bankCode, created.SepaDebit.BankCode);
        Assert.Equal(branchCode, created.SepaDebit.BranchCode);
        Assert.Equal(last4, created.SepaDebit.Last4);
        Assert.Equal(16, created.SepaDebit.Fingerprint.Length);
        Assert.DoesNotContain(iban.Replace(" ", string.Empty, StringComparison.Ordinal), created.StripeResponse.Content, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_BacsDebit_ReturnsSortCodeLast4()
    {
        var created = await paymentMethods.CreateAsync(SandboxHarness.Bacs("10-88-00", "00012345"));

        Assert.Equal("bacs_debit", created.Type);
        Assert.Equal("108800", created.BacsDebit.SortCode);
        Assert.Equal("2345", created.BacsDebit.Last4);
        Assert.Equal(16, created.BacsDebit.Fingerprint.Length);
        Assert.Equal("London", created.BillingDetails.Address.City);
    }

    [Theory]
    [InlineData("1234", "**34")]
    [InlineData("123456", "*456")]
    [InlineData("123456789", "6789")]
    public async Task Create_ShortUsBankAccount_Last4NeverShowsMoreThanHalf(string account, string expected)
    {
        var created = await paymentMethods.CreateAsync(SandboxHarness.UsBank(account: account));

        Assert.Equal(expected, created.UsBankAccount.Last4);
    }

    [Fact]
    public async Task Create_UsBankAccount_ReturnsRoutingLast4AndTestBank()
    {
        var created = await paymentMethods.CreateAsync(SandboxHarness.UsBank());

        Assert.Equal("us_bank_account", created.Type);
        Assert.Equal("110000000", created.UsBankAccount.RoutingNumber);
        Assert.Equal("6789", created.UsBankAccount.Last4);
        Assert.Equal("STRIPE TEST BANK", created.UsBankAccount.BankName);
        Assert.Equal("individual", created.UsBankAccount.AccountHolderType);
        Assert.Equal("checking", created.UsBankAccount.AccountType);
        Assert.Equal(16, created.UsBankAccount.Fingerprint.Length);
        Assert.DoesNotContain("000123456789", created.StripeResponse.Content, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_SameAccountTwice_GivesSameFingerprint()
    {
        var first = await paymentMethods.CreateAsync(SandboxHarness.UsBank());
        var second = await paymentMethods.CreateAsync(SandboxHarness.UsBank());
        var other = await paymentMethods.CreateAsync(SandboxHarness.UsBank(account: "000111111113"));

        Assert.Equal(first.UsBankAccount.Fingerprint, second.UsBankAccount.Fingerprint);
        Assert.NotEqual(first.UsBankAccount.Fingerprint, other.UsBankAccount.Fingerprint);
    }

    public static TheoryData<string, string> MissingBillingCases => new()
    {
        { "au_becs_debit:name", "billing_details[name]" },
        { "au_becs_debit:email", "billing_details[email]" },
        { "sepa_debit:name", "billing_details[name]" },
        { "sepa_debit:email", "billing_details[email]" },
        { "bacs_debit:email", "billing_details[email]" },
        { "bacs_debit:address", "billing_details[address][line1]" },
        { "us_bank_account:name", "billing_details[name]" },
    };

    [Theory]
    [MemberData(nameof(MissingBillingCases))]
    public async Task Create_BankWithoutRequiredBillingDetails_Returns400ParameterMissing(string scenario, string param)
    {
        var (type, field) = (scenario.Split(':')[0], scenario.Split(':')[1]);
        var options = type switch
        {
            "au_becs_debit" => SandboxHarness.AuBecs(),
            "sepa_debit" => SandboxHarness.Sepa(),
            "bacs_debit" => SandboxHarness.Bacs(),
            _ => SandboxHarness.UsBank(),
        };
        switch (field)
        {
            case "name": options.BillingDetails.Name = null; break;
            case "email": options.BillingDetails.Email = null; break;
            default: options.BillingDetails.Address = null; break;
        }

        var error = await Assert.ThrowsAsync<StripeException>(() => paymentMethods.CreateAsync(options));

        Assert.Equal(HttpStatusCode.BadRequest, error.HttpStatusCode);
        Assert.Equal("invalid_request_error", error.StripeError.Type);
        Assert.Equal("parameter_missing", error.StripeError.Code);
        Assert.Equal(param, error.StripeError.Param);
    }

    [Fact]
    public async Task Create_SepaOutsideEea_RequiresBillingAddress()
    {
        var options = SandboxHarness.Sepa("GB33BUKB20201555555555");

        var error = await Assert.ThrowsAsync<StripeException>(() => paymentMethods.CreateAsync(options));
        options.BillingDetails = SandboxHarness.FullBilling();
        var created = await paymentMethods.CreateAsync(options);

        Assert.Equal("billing_details[address][line1]", error.StripeError.Param);
        Assert.Equal("GB", created.SepaDebit.Country);
        Assert.Equal("BUKB", created.SepaDebit.BankCode);
        Assert.Equal("202015", created.SepaDebit.BranchCode);
    }

    public static TheoryData<string, string, string> MalformedAccountCases => new()
    {
        { "sepa_debit", "AT611904300234573202", "sepa_debit[iban]" },
        { "au_becs_debit", "12345", "au_becs_debit[bsb_number]" },
        { "bacs_debit", "1234567", "bacs_debit[account_number]" },
        { "us_bank_account", "110000001", "us_bank_account[routing_number]" },
        { "us_bank_account", "12a", "us_bank_account[account_number]" },
    };

    [Theory]
    [MemberData(nameof(MalformedAccountCases))]
    public async Task Create_MalformedBankAccount_Returns400WithoutTheValue(string type, string value, string param)
    {
        var options = type switch
        {
            "sepa_debit" => SandboxHarness.Sepa(value),
            "au_becs_debit" => SandboxHarness.AuBecs(bsb: value),
            "bacs_debit" => SandboxHarness.Bacs(account: value),
            _ when param.EndsWith("[routing_number]", StringComparison.Ordinal) => SandboxHarness.UsBank(routing: value),
            _ => SandboxHarness.UsBank(account: value),
        };

        var error = await Assert.ThrowsAsync<StripeException>(() => paymentMethods.CreateAsync(options));

        Assert.Equal(HttpStatusCode.BadRequest, error.HttpStatusCode);
        Assert.Equal("invalid_request_error", error.StripeError.Type);
        Assert.Equal(param, error.StripeError.Param);
        SandboxHarness.AssertNoDigits(error.StripeError.Message);
        Assert.DoesNotContain(value, error.StripeResponse.Content, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_ParametersOfAnotherType_AreRejected()
    {
        var options = SandboxHarness.Sepa();
        options.Card = new PaymentMethodCardOptions { Number = "4242424242424242", ExpMonth = 12, ExpYear = SandboxHarness.FutureYear };

        var error = await Assert.ThrowsAsync<StripeException>(() => paymentMethods.CreateAsync(options));

        Assert.Equal("parameter_unknown", error.StripeError.Code);
    }
}
