using Microsoft.Extensions.Logging;
using NSubstitute;
using NSubstitute.ExceptionExtensions;
using Stripe;
using Tokenizer.Core.Domain;
using Tokenizer.Core.Errors;
using Tokenizer.Gateways.Stripe.Tests.Support;
using Address = Tokenizer.Core.Domain.Address;
using BillingDetails = Tokenizer.Core.Domain.BillingDetails;

namespace Tokenizer.Gateways.Stripe.Tests;

/// <summary>The gateway over a substituted IStripeClient: what it asks Stripe.net to send, and what it makes of the answer.</summary>
public sealed class StripeTokenGatewayTests
{
    private readonly IStripeClient client = Substitute.For<IStripeClient>();
    private readonly CapturingLogger<StripeTokenGateway> logger = new();
    private readonly RotatingApiKey apiKeys = new("sk_test_first");
    private readonly StripeTokenGateway gateway;

    private HttpMethod? sentMethod;
    private string? sentPath;
    private BaseOptions? sentOptions;
    private RequestOptions? sentRequestOptions;
    private CancellationToken sentToken;

    public StripeTokenGatewayTests()
    {
        gateway = new StripeTokenGateway(client, apiKeys, logger);
    }

    [Fact]
    public void Name_Always_IsStripe()
    {
        Assert.Equal("stripe", gateway.Name);
    }

    [Fact]
    public async Task CreateCustomerAsync_Always_PostsCustomerWithReferenceMetadataKeyAndToken()
    {
        Returns(new Customer { Id = "cus_123" });
        using var cts = new CancellationTokenSource();

        var id = await gateway.CreateCustomerAsync("ref-42", "tkz_key_customer", cts.Token);

        Assert.Equal("cus_123", id);
        Assert.Equal(HttpMethod.Post, sentMethod);
        Assert.Equal("/v1/customers", sentPath);
        var options = Assert.IsType<CustomerCreateOptions>(sentOptions);
        Assert.Equal(new Dictionary<string, string> { ["tokenizer_customer_reference"] = "ref-42" }, options.Metadata);
        Assert.Null(options.Email);
        Assert.Null(options.Name);
        Assert.Equal("tkz_key_customer", sentRequestOptions?.IdempotencyKey);
        Assert.Equal(cts.Token, sentToken);
    }

    [Fact]
    public async Task CreatePaymentMethodAsync_Card_SendsCardFieldsKeyMetadataAndToken()
    {
        Returns(CardPaymentMethod());
        using var cts = new CancellationTokenSource();

        await gateway.CreatePaymentMethodAsync(Samples.CardRequest(), Samples.Key, cts.Token);

        Assert.Equal(HttpMethod.Post, sentMethod);
        Assert.Equal("/v1/payment_methods", sentPath);
        var options = Assert.IsType<PaymentMethodCreateOptions>(sentOptions);
        Assert.Equal("card", options.Type);
        Assert.Equal(Samples.Pan, options.Card.Number);
        Assert.Equal(12, options.Card.ExpMonth);
        Assert.Equal(2034, options.Card.ExpYear);
        Assert.Equal("123", options.Card.Cvc);
        Assert.Null(options.BillingDetails);
        Assert.Null(options.SepaDebit);
        Assert.Equal(Samples.Intent, options.Metadata);
        Assert.Equal(Samples.Key, sentRequestOptions?.IdempotencyKey);
        Assert.Equal(cts.Token, sentToken);
    }

    [Fact]
    public async Task CreatePaymentMethodAsync_PartialBilling_AssignsOnlyNonEmptyFields()
    {
        Returns(CardPaymentMethod());
        var billing = new BillingDetails("Jenny Rosen", "", null, new Address(null, " ", "Sydney", null, "", "AU"));

        await gateway.CreatePaymentMethodAsync(Samples.CardRequest(billing), Samples.Key, CancellationToken.None);

        var details = Assert.IsType<PaymentMethodCreateOptions>(sentOptions).BillingDetails;
        Assert.Equal("Jenny Rosen", details.Name);
        Assert.Null(details.Email);
        Assert.Null(details.Phone);
        Assert.Equal("Sydney", details.Address.City);
        Assert.Equal("AU", details.Address.Country);
        Assert.Null(details.Address.Line1);
        Assert.Null(details.Address.Line2);
        Assert.Null(details.Address.PostalCode);
    }

    [Fact]
    public async Task CreatePaymentMethodAsync_AddressAllEmpty_LeavesAddressNull()
    {
        Returns(CardPaymentMethod());
        var billing = new BillingDetails(null, "jenny@example.com", null, new Address("", null, " ", null, null, ""));

        await gateway.CreatePaymentMethodAsync(Samples.CardRequest(billing), Samples.Key, CancellationToken.None);

        var details = Assert.IsType<PaymentMethodCreateOptions>(sentOptions).BillingDetails;
        Assert.Equal("jenny@example.com", details.Email);
        Assert.Null(details.Address);
    }

    [Fact]
    public async Task CreatePaymentMethodAsync_Card_MapsMaskedMetadata()
    {
        Returns(CardPaymentMethod());

        var result = await gateway.CreatePaymentMethodAsync(Samples.CardRequest(), Samples.Key, CancellationToken.None);

        Assert.Equal("pm_card", result.Id);
        Assert.Equal(TokenType.Card, result.Type);
        Assert.Equal(new CardMetadata("visa", "4242", 12, 2034, "credit", "US", "fp1"), result.Card);
        Assert.Null(result.BankAccount);
    }

    [Fact]
    public async Task CreatePaymentMethodAsync_UsBankAccount_SendsAllFourFields()
    {
        Returns(new PaymentMethod
        {
            Id = "pm_us",
            Type = "us_bank_account",
            UsBankAccount = new PaymentMethodUsBankAccount { Last4 = "6789", RoutingNumber = "110000000", Fingerprint = "fpUs" },
        });

        var result = await gateway.CreatePaymentMethodAsync(Samples.BankRequest(Samples.Us), Samples.Key, CancellationToken.None);

        var options = Assert.IsType<PaymentMethodCreateOptions>(sentOptions);
        Assert.Equal("us_bank_account", options.Type);
        Assert.Equal("110000000", options.UsBankAccount.RoutingNumber);
        Assert.Equal("000123456789", options.UsBankAccount.AccountNumber);
        Assert.Equal("company", options.UsBankAccount.AccountHolderType);
        Assert.Equal("savings", options.UsBankAccount.AccountType);
        Assert.Null(options.Card);
        Assert.Equal(new BankAccountMetadata("6789", "110000000", "US", "fpUs"), result.BankAccount);
    }

    [Theory]
    [InlineData("1234", "**34")]
    [InlineData("12345", "**45")]
    [InlineData("1234567", "*567")]
    [InlineData("12345678", "5678")]
    public async Task CreatePaymentMethodAsync_ShortAchAccount_Last4ShowsAtMostHalfOfTheNumberSent(string account, string expected)
    {
        // Arrange: Stripe reports the last four digits, all of a 4-digit account.
        Returns(new PaymentMethod
        {
            Id = "pm_us",
            Type = "us_bank_account",
            UsBankAccount = new PaymentMethodUsBankAccount { Last4 = account[^4..], RoutingNumber = "110000000", Fingerprint = "fpUs" },
        });
        var request = Samples.BankRequest(new UsBankAccountDetails("110000000", account, AccountHolderType.Individual, BankAccountKind.Checking));

        // Act
        var result = await gateway.CreatePaymentMethodAsync(request, Samples.Key, CancellationToken.None);

        // Assert
        Assert.Equal(expected, result.BankAccount!.Last4);
    }

    [Theory]
    [InlineData("us_bank_account", "**34")]
    [InlineData("au_becs_debit", "**34")]
    [InlineData("bacs_debit", "1234")]
    [InlineData("sepa_debit", "1234")]
    public void ToListedPaymentMethod_LengthUnknown_Last4MaskedForTheSchemesShortestNumber(string type, string expected)
    {
        // Arrange: a listed PaymentMethod says nothing of the account's length.
        var listed = new PaymentMethod
        {
            Id = "pm_l",
            Type = type,
            UsBankAccount = new PaymentMethodUsBankAccount { Last4 = "1234" },
            AuBecsDebit = new PaymentMethodAuBecsDebit { Last4 = "1234" },
            BacsDebit = new PaymentMethodBacsDebit { Last4 = "1234" },
            SepaDebit = new PaymentMethodSepaDebit { Last4 = "1234" },
        };

        // Act
        var result = StripePaymentMethodMapper.ToListedPaymentMethod(listed);

        // Assert
        Assert.Equal(expected, result!.BankAccount!.Last4);
    }

    [Fact]
    public async Task CreatePaymentMethodAsync_ResponseOfAnotherType_ThrowsInternal()
    {
        Returns(new PaymentMethod { Id = "pm_x", Type = "sepa_debit", SepaDebit = new PaymentMethodSepaDebit { Last4 = "3201" } });

        var e = await Assert.ThrowsAsync<TokenizerException>(
            () => gateway.CreatePaymentMethodAsync(Samples.CardRequest(), Samples.Key, CancellationToken.None));

        Assert.Equal(ErrorKind.Internal, e.Kind);
        Assert.Equal(ErrorReasons.InternalError, e.Reason);
        Assert.Contains(logger.Lines, l => l.EventId.Name == "StripeInvalidResponse");
    }

    [Fact]
    public async Task CreatePaymentMethodAsync_Last4NotFourCharacters_ThrowsInternalAndKeepsNothing()
    {
        var pm = CardPaymentMethod();
        pm.Card.Last4 = Samples.Pan;
        Returns(pm);

        var e = await Assert.ThrowsAsync<TokenizerException>(
            () => gateway.CreatePaymentMethodAsync(Samples.CardRequest(), Samples.Key, CancellationToken.None));

        Assert.Equal(ErrorKind.Internal, e.Kind);
        Assert.DoesNotContain(Samples.Pan, logger.AllText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreatePaymentMethodAsync_NeitherCardNorBank_ThrowsArgumentExceptionAndSendsNothing()
    {
        var request = new Core.Ports.PaymentMethodRequest(null, null, BillingDetails.Empty, Samples.Intent);

        await Assert.ThrowsAsync<ArgumentException>(() => gateway.CreatePaymentMethodAsync(request, Samples.Key, CancellationToken.None));

        Assert.Empty(client.ReceivedCalls());
    }

    [Fact]
    public async Task AttachAsync_Always_PostsAttachWithCustomerKeyAndToken()
    {
        Returns(new PaymentMethod { Id = "pm_1" });
        using var cts = new CancellationTokenSource();

        await gateway.AttachAsync("pm_1", "cus_1", "tkz_key_attach", cts.Token);

        Assert.Equal(HttpMethod.Post, sentMethod);
        Assert.Equal("/v1/payment_methods/pm_1/attach", sentPath);
        Assert.Equal("cus_1", Assert.IsType<PaymentMethodAttachOptions>(sentOptions).Customer);
        Assert.Equal("tkz_key_attach", sentRequestOptions?.IdempotencyKey);
        Assert.Equal(cts.Token, sentToken);
    }

    [Fact]
    public async Task AttachAsync_CardDeclined_ThrowsCardDeclinedWithDeclineCode()
    {
        Throws(Samples.StripeError(402, "card_error", "card_declined", "Your card was declined.", declineCode: "generic_decline"));

        var e = await Assert.ThrowsAsync<TokenizerException>(() => gateway.AttachAsync("pm_1", "cus_1", "k", CancellationToken.None));

        Assert.Equal(ErrorKind.FailedPrecondition, e.Kind);
        Assert.Equal(ErrorReasons.CardDeclined, e.Reason);
        Assert.Equal("generic_decline", e.ErrorMetadata["decline_code"]);
    }

    [Fact]
    public async Task DetachAsync_Always_PostsDetachWithKeyAndToken()
    {
        Returns(new PaymentMethod { Id = "pm_1" });
        using var cts = new CancellationTokenSource();

        await gateway.DetachAsync("pm_1", "tkz_key_detach", cts.Token);

        Assert.Equal(HttpMethod.Post, sentMethod);
        Assert.Equal("/v1/payment_methods/pm_1/detach", sentPath);
        Assert.Equal("tkz_key_detach", sentRequestOptions?.IdempotencyKey);
        Assert.Equal(cts.Token, sentToken);
    }

    [Fact]
    public async Task DetachAsync_UnexpectedState_Succeeds()
    {
        Throws(Samples.StripeError(400, "invalid_request_error", "payment_method_unexpected_state", "The payment method you provided is not attached to a customer so detachment is impossible."));

        await gateway.DetachAsync("pm_1", "k", CancellationToken.None);

        Assert.Contains(logger.Lines, l => l.EventId.Name == "StripeAlreadyDetached" && l.Level == LogLevel.Information);
    }

    [Fact]
    public async Task DetachAsync_ResourceMissing_ThrowsGatewayRejectedRequest()
    {
        Throws(Samples.StripeError(404, "invalid_request_error", "resource_missing", "No such PaymentMethod: 'pm_1'", param: "payment_method"));

        var e = await Assert.ThrowsAsync<TokenizerException>(() => gateway.DetachAsync("pm_1", "k", CancellationToken.None));

        Assert.Equal(ErrorKind.Internal, e.Kind);
        Assert.Equal(ErrorReasons.GatewayRejectedRequest, e.Reason);
    }

    [Fact]
    public async Task AnyCall_CallerCancels_ThrowsOperationCanceledException()
    {
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        Throws(new TaskCanceledException("canceled", null, cts.Token));

        var e = await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => gateway.CreatePaymentMethodAsync(Samples.CardRequest(), Samples.Key, cts.Token));

        Assert.Equal(cts.Token, e.CancellationToken);
        Assert.Empty(logger.Lines);
    }

    [Theory]
    [InlineData("timeout")]
    [InlineData("http")]
    [InlineData("io")]
    public async Task AnyCall_TransportFailure_ThrowsGatewayUnavailable(string failure)
    {
        Exception exception = failure switch
        {
            "timeout" => new TaskCanceledException("The request was canceled due to the configured HttpClient.Timeout", new TimeoutException()),
            "http" => new HttpRequestException("Connection refused (api.stripe.com:443)"),
            _ => new IOException("Unable to read data from the transport connection"),
        };
        Throws(exception);

        var e = await Assert.ThrowsAsync<TokenizerException>(() => gateway.CreateCustomerAsync("ref", "k", CancellationToken.None));

        Assert.Equal(ErrorKind.Unavailable, e.Kind);
        Assert.Equal(ErrorReasons.GatewayUnavailable, e.Reason);
        Assert.Equal("gateway unavailable", e.Message);
        Assert.Null(e.InnerException);
        var line = Assert.Single(logger.Lines);
        Assert.Equal(LogLevel.Warning, line.Level);
    }

    [Fact]
    public async Task AnyCall_UnrelatedException_PropagatesUnchanged()
    {
        Throws(new InvalidOperationException("bug"));

        await Assert.ThrowsAsync<InvalidOperationException>(() => gateway.CreateCustomerAsync("ref", "k", CancellationToken.None));
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    public async Task AnyCall_EmptyIdempotencyKey_ThrowsArgumentExceptionAndSendsNothing(string key)
    {
        await Assert.ThrowsAnyAsync<ArgumentException>(() => gateway.CreateCustomerAsync("ref", key, CancellationToken.None));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => gateway.CreatePaymentMethodAsync(Samples.CardRequest(), key, CancellationToken.None));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => gateway.AttachAsync("pm_1", "cus_1", key, CancellationToken.None));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => gateway.DetachAsync("pm_1", key, CancellationToken.None));

        Assert.Empty(client.ReceivedCalls());
    }

    [Fact]
    public async Task AnyCall_IdempotencyKeyLongerThan255_ThrowsArgumentException()
    {
        Returns(new PaymentMethod { Id = "pm_1" });

        await gateway.DetachAsync("pm_1", new string('k', 255), CancellationToken.None);
        await Assert.ThrowsAsync<ArgumentException>(() => gateway.DetachAsync("pm_1", new string('k', 256), CancellationToken.None));

        Assert.Single(client.ReceivedCalls());
    }

    [Fact]
    public async Task AnyCall_Always_SendsTheProvidersCurrentApiKey()
    {
        Returns(new Customer { Id = "cus_1" });

        await gateway.CreateCustomerAsync("ref", "k", CancellationToken.None);

        Assert.Equal("sk_test_first", sentRequestOptions?.ApiKey);
    }

    [Fact]
    public async Task AnyCall_KeyRotatedBetweenCalls_NextCallSendsTheNewKey()
    {
        Returns(new PaymentMethod { Id = "pm_1" });
        await gateway.AttachAsync("pm_1", "cus_1", "k1", CancellationToken.None);
        Assert.Equal("sk_test_first", sentRequestOptions?.ApiKey);

        apiKeys.Rotate("rk_test_second");
        await gateway.DetachAsync("pm_1", "k2", CancellationToken.None);

        Assert.Equal("rk_test_second", sentRequestOptions?.ApiKey);
        Assert.Equal("k2", sentRequestOptions?.IdempotencyKey);
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    public async Task AnyCall_ProviderReturnsNoKey_ThrowsInvalidOperationAndSendsNothing(string key)
    {
        apiKeys.Rotate(key);

        await Assert.ThrowsAsync<InvalidOperationException>(() => gateway.CreateCustomerAsync("ref", "k", CancellationToken.None));

        Assert.Empty(client.ReceivedCalls());
    }

    [Fact]
    public void FixedStripeApiKey_EmptyOrWhitespace_ThrowsWithoutQuotingIt()
    {
        Assert.Equal("sk_test_x", new FixedStripeApiKey("sk_test_x").CurrentApiKey);
        Assert.Throws<ArgumentException>(() => new FixedStripeApiKey(""));
        var e = Assert.Throws<ArgumentException>(() => new FixedStripeApiKey("sk_test_secret value"));
        Assert.DoesNotContain("secret", e.Message, StringComparison.Ordinal);
    }

    private static PaymentMethod CardPaymentMethod() => new()
    {
        Id = "pm_card",
        Type = "card",
        Card = new PaymentMethodCard
        {
            Brand = "visa",
            Last4 = "4242",
            ExpMonth = 12,
            ExpYear = 2034,
            Funding = "credit",
            Country = "US",
            Fingerprint = "fp1",
        },
    };

    private void Returns<T>(T entity)
        where T : IStripeEntity
    {
        client.RequestAsync<T>(default!, default!, default!, default!, default)
            .ReturnsForAnyArgs(call =>
            {
                Capture(call.Args());
                return Task.FromResult(entity);
            });
    }

    private void Throws(Exception exception)
    {
        client.RequestAsync<Customer>(default!, default!, default!, default!, default).ThrowsAsyncForAnyArgs(exception);
        client.RequestAsync<PaymentMethod>(default!, default!, default!, default!, default).ThrowsAsyncForAnyArgs(exception);
    }

    private void Capture(object?[] args)
    {
        sentMethod = (HttpMethod?)args[0];
        sentPath = (string?)args[1];
        sentOptions = (BaseOptions?)args[2];
        sentRequestOptions = (RequestOptions?)args[3];
        sentToken = (CancellationToken)args[4]!;
    }
}
