using System.Net;
using Microsoft.Extensions.Time.Testing;
using Stripe;

namespace Tokenizer.StripeSandbox.Tests;

public sealed class CardPaymentMethodTests(SandboxFixture fixture) : IClassFixture<SandboxFixture>
{
    private readonly PaymentMethodService paymentMethods = fixture.Client.V1.PaymentMethods;

    [Theory]
    [InlineData("4242424242424242", "visa", "4242", "credit", "US")]
    [InlineData("4000056655665556", "visa", "5556", "debit", "US")]
    [InlineData("5555555555554444", "mastercard", "4444", "credit", "US")]
    [InlineData("2223003122003222", "mastercard", "3222", "credit", "US")]
    [InlineData("378282246310005", "amex", "0005", "credit", "US")]
    [InlineData("371449635398431", "amex", "8431", "credit", "US")]
    [InlineData("6011111111111117", "discover", "1117", "credit", "US")]
    [InlineData("3056930009020004", "diners", "0004", "credit", "US")]
    [InlineData("36227206271667", "diners", "1667", "credit", "US")]
    [InlineData("3566002020360505", "jcb", "0505", "credit", "JP")]
    [InlineData("6200000000000005", "unionpay", "0005", "credit", "CN")]
    [InlineData("4000000000000002", "visa", "0002", "credit", "US")]
    [InlineData("4111111111111111", "visa", "1111", "credit", "US")]
    [InlineData("5105105105105100", "mastercard", "5100", "prepaid", "US")]
    [InlineData("9999999999999995", "unknown", "9995", "credit", "US")]
    public async Task Create_TestCard_ReturnsStripeCardShape(string number, string brand, string last4, string funding, string country)
    {
        var created = await paymentMethods.CreateAsync(SandboxHarness.Card(number, expMonth: 7));

        Assert.StartsWith("pm_", created.Id, StringComparison.Ordinal);
        Assert.Equal("payment_method", created.Object);
        Assert.Equal("card", created.Type);
        Assert.False(created.Livemode);
        Assert.Null(created.CustomerId);
        Assert.Equal(brand, created.Card.Brand);
        Assert.Equal(last4, created.Card.Last4);
        Assert.Equal(funding, created.Card.Funding);
        Assert.Equal(country, created.Card.Country);
        Assert.Equal(7, created.Card.ExpMonth);
        Assert.Equal(SandboxHarness.FutureYear, created.Card.ExpYear);
        Assert.Equal(16, created.Card.Fingerprint.Length);
        Assert.Equal("unchecked", created.Card.Checks.CvcCheck);
        Assert.Contains(brand, created.Card.Networks.Available);
        Assert.InRange(created.Created, DateTime.UtcNow.AddMinutes(-5), DateTime.UtcNow.AddMinutes(5));
        Assert.DoesNotContain(number, created.StripeResponse.Content, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_BillingDetailsAndMetadata_AreReturnedAndRetrievable()
    {
        var options = SandboxHarness.Card("4242424242424242");
        options.BillingDetails = SandboxHarness.FullBilling();
        options.BillingDetails.Phone = "+44 20 7946 0000";
        options.Metadata = new Dictionary<string, string> { ["order"] = "A-1", ["team"] = "billing" };

        var created = await paymentMethods.CreateAsync(options);
        var fetched = await paymentMethods.GetAsync(created.Id);

        Assert.Equal(created.Id, fetched.Id);
        Assert.Equal("Jenny Rosen", fetched.BillingDetails.Name);
        Assert.Equal("jenny@example.com", fetched.BillingDetails.Email);
        Assert.Equal("+44 20 7946 0000", fetched.BillingDetails.Phone);
        Assert.Equal("1 Test Street", fetched.BillingDetails.Address.Line1);
        Assert.Equal("EC1A 1BB", fetched.BillingDetails.Address.PostalCode);
        Assert.Equal("GB", fetched.BillingDetails.Address.Country);
        Assert.Equal("A-1", fetched.Metadata["order"]);
        Assert.Equal("billing", fetched.Metadata["team"]);
    }

    [Fact]
    public async Task Create_SameNumberTwice_GivesSameFingerprintAndOtherNumberDiffers()
    {
        var first = await paymentMethods.CreateAsync(SandboxHarness.Card("4242424242424242", expMonth: 1));
        var second = await paymentMethods.CreateAsync(SandboxHarness.Card("4242424242424242", expMonth: 2, cvc: null));
        var other = await paymentMethods.CreateAsync(SandboxHarness.Card("5555555555554444"));

        Assert.NotEqual(first.Id, second.Id);
        Assert.Equal(first.Card.Fingerprint, second.Card.Fingerprint);
        Assert.NotEqual(first.Card.Fingerprint, other.Card.Fingerprint);
        Assert.Null(second.Card.Checks.CvcCheck);
    }

    [Theory]
    [InlineData("4242424242424241", 12, "123", "incorrect_number", "card[number]")]
    [InlineData("4242", 12, "123", "invalid_number", "card[number]")]
    [InlineData("4242424242424242", 13, "123", "invalid_expiry_month", "card[exp_month]")]
    [InlineData("4242424242424242", 0, "123", "invalid_expiry_month", "card[exp_month]")]
    [InlineData("4242424242424242", 12, "99", "invalid_cvc", "card[cvc]")]
    [InlineData("4242424242424242", 12, "12a", "invalid_cvc", "card[cvc]")]
    [InlineData("4242424242424242", 12, "12345", "invalid_cvc", "card[cvc]")]
    public async Task Create_InvalidCard_Returns402CardErrorWithoutInputDigits(string number, long month, string cvc, string code, string param)
    {
        var error = await Assert.ThrowsAsync<StripeException>(() => paymentMethods.CreateAsync(SandboxHarness.Card(number, month, cvc: cvc)));

        Assert.Equal(HttpStatusCode.PaymentRequired, error.HttpStatusCode);
        Assert.Equal("card_error", error.StripeError.Type);
        Assert.Equal(code, error.StripeError.Code);
        Assert.Equal(param, error.StripeError.Param);
        SandboxHarness.AssertNoDigits(error.StripeError.Message);
        Assert.DoesNotContain(number, error.StripeResponse.Content, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_PastExpiryYear_ReturnsInvalidExpiryYear()
    {
        var error = await Assert.ThrowsAsync<StripeException>(
            () => paymentMethods.CreateAsync(SandboxHarness.Card("4242424242424242", 12, DateTime.UtcNow.Year - 1)));

        Assert.Equal(HttpStatusCode.PaymentRequired, error.HttpStatusCode);
        Assert.Equal("invalid_expiry_year", error.StripeError.Code);
        Assert.Equal("card[exp_year]", error.StripeError.Param);
        SandboxHarness.AssertNoDigits(error.StripeError.Message);
    }

    [Fact]
    public async Task Create_ExpiryMonthBoundary_ValidThroughLastDayOfMonth()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2030, 12, 31, 23, 59, 0, TimeSpan.Zero));
        await using var server = await SandboxHarness.StartAsync(o => o.TimeProvider = clock);
        var service = SandboxHarness.Client(server).V1.PaymentMethods;

        var lastDay = await service.CreateAsync(SandboxHarness.Card("4242424242424242", 12, 2030));
        var twoDigitYear = await service.CreateAsync(SandboxHarness.Card("4242424242424242", 12, 30));
        var lastMonth = await Assert.ThrowsAsync<StripeException>(() => service.CreateAsync(SandboxHarness.Card("4242424242424242", 11, 2030)));
        clock.Advance(TimeSpan.FromMinutes(1));
        var nextMonth = await Assert.ThrowsAsync<StripeException>(() => service.CreateAsync(SandboxHarness.Card("4242424242424242", 12, 2030)));

        Assert.Equal(2030, lastDay.Card.ExpYear);
        Assert.Equal(2030, twoDigitYear.Card.ExpYear);
        Assert.Equal(new DateTimeOffset(2030, 12, 31, 23, 59, 0, TimeSpan.Zero).ToUnixTimeSeconds(), new DateTimeOffset(lastDay.Created).ToUnixTimeSeconds());
        Assert.Equal("invalid_expiry_year", lastMonth.StripeError.Code);
        Assert.Equal("invalid_expiry_year", nextMonth.StripeError.Code);
    }

    [Theory]
    [InlineData(null, 12L, "card[number]")]
    [InlineData("4242424242424242", null, "card[exp_month]")]
    public async Task Create_MissingCardParameter_Returns400ParameterMissing(string? number, long? month, string param)
    {
        var options = SandboxHarness.Card(number!, month);

        var error = await Assert.ThrowsAsync<StripeException>(() => paymentMethods.CreateAsync(options));

        Assert.Equal(HttpStatusCode.BadRequest, error.HttpStatusCode);
        Assert.Equal("invalid_request_error", error.StripeError.Type);
        Assert.Equal("parameter_missing", error.StripeError.Code);
        Assert.Equal(param, error.StripeError.Param);
    }

    [Fact]
    public async Task Create_MissingType_Returns400ParameterMissingType()
    {
        var options = SandboxHarness.Card("4242424242424242");
        options.Type = null;

        var error = await Assert.ThrowsAsync<StripeException>(() => paymentMethods.CreateAsync(options));

        Assert.Equal("parameter_missing", error.StripeError.Code);
        Assert.Equal("type", error.StripeError.Param);
    }

    [Fact]
    public async Task Create_NonIntegerExpiryMonth_Returns400WithoutTheValue()
    {
        var options = SandboxHarness.Card("4242424242424242", expMonth: null);
        options.AddExtraParam("card[exp_month]", "4242x");

        var error = await Assert.ThrowsAsync<StripeException>(() => paymentMethods.CreateAsync(options));

        Assert.Equal(HttpStatusCode.BadRequest, error.HttpStatusCode);
        Assert.Equal("parameter_invalid_integer", error.StripeError.Code);
        Assert.DoesNotContain("4242", error.StripeResponse.Content, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_UnknownParameterNamedWithDigits_IsRejectedWithoutEchoingIt()
    {
        var options = SandboxHarness.Card("4242424242424242");
        options.AddExtraParam("card[4242424242424242]", "x");

        var error = await Assert.ThrowsAsync<StripeException>(() => paymentMethods.CreateAsync(options));

        Assert.Equal("parameter_unknown", error.StripeError.Code);
        Assert.Null(error.StripeError.Param);
        Assert.DoesNotContain("4242", error.StripeResponse.Content, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_UnknownPlainParameter_NamesIt()
    {
        var options = SandboxHarness.Card("4242424242424242");
        options.AddExtraParam("card[numbr]", "4242424242424242");

        var error = await Assert.ThrowsAsync<StripeException>(() => paymentMethods.CreateAsync(options));

        Assert.Equal("parameter_unknown", error.StripeError.Code);
        Assert.Equal("card[numbr]", error.StripeError.Param);
        Assert.DoesNotContain("4242", error.StripeResponse.Content, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_UnknownId_Returns404ResourceMissingWithoutEchoingTheId()
    {
        var error = await Assert.ThrowsAsync<StripeException>(() => paymentMethods.GetAsync("pm_4242424242424242"));

        Assert.Equal(HttpStatusCode.NotFound, error.HttpStatusCode);
        Assert.Equal("invalid_request_error", error.StripeError.Type);
        Assert.Equal("resource_missing", error.StripeError.Code);
        Assert.DoesNotContain("4242", error.StripeResponse.Content, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_AnyResponse_CarriesRequestId()
    {
        var created = await paymentMethods.CreateAsync(SandboxHarness.Card("4242424242424242"));
        var error = await Assert.ThrowsAsync<StripeException>(() => paymentMethods.GetAsync("pm_missing"));

        Assert.StartsWith("req_", created.StripeResponse.RequestId, StringComparison.Ordinal);
        Assert.StartsWith("req_", error.StripeResponse.RequestId, StringComparison.Ordinal);
        Assert.NotEqual(created.StripeResponse.RequestId, error.StripeResponse.RequestId);
    }
}
