using System.Net;
using Microsoft.Extensions.Logging;
using Tokenizer.Core.Domain;
using Tokenizer.Core.Errors;
using Tokenizer.Core.Ports;
using Tokenizer.Gateways.Stripe.Tests.Support;
using Address = Tokenizer.Core.Domain.Address;
using BillingDetails = Tokenizer.Core.Domain.BillingDetails;

namespace Tokenizer.Gateways.Stripe.Tests;

/// <summary>
/// A real Stripe.net client (built by <see cref="StripeClientFactory"/>) over a stub HTTP handler: the exact form body
/// and headers on the wire, real Stripe.net JSON parsing and exceptions, retries and timeouts.
/// </summary>
public sealed class StripeWireTests : IDisposable
{
    private const string ApiKey = "sk_test_wire";

    /// <summary>The client's own default key: never on the wire, since the gateway sets the provider's key on each call.</summary>
    private const string ClientDefaultKey = "sk_test_client_default";
    private readonly RotatingApiKey apiKeys = new(ApiKey);
    private readonly StubStripeHandler handler = new();
    private readonly HttpClient httpClient;
    private readonly CapturingLogger<StripeTokenGateway> logger = new();

    public StripeWireTests()
    {
        httpClient = new HttpClient(handler);
    }

    public void Dispose() => httpClient.Dispose();

    [Fact]
    public async Task CreatePaymentMethodAsync_Card_SendsExactFormBodyAndHeaders()
    {
        handler.Respond(HttpStatusCode.OK, Samples.CardJson);
        var billing = new BillingDetails("Jenny Rosen", "", null, new Address(null, null, null, null, "", "US"));

        await Gateway().CreatePaymentMethodAsync(Samples.CardRequest(billing), Samples.Key, CancellationToken.None);

        var request = Assert.Single(handler.Requests);
        Assert.Equal(HttpMethod.Post, request.Method);
        Assert.Equal("/v1/payment_methods", request.PathAndQuery);
        Assert.Equal(Samples.Key, request.Header("Idempotency-Key"));
        Assert.Equal("Bearer " + ApiKey, request.Header("Authorization"));
        Assert.False(string.IsNullOrEmpty(request.Header("Stripe-Version")));
        Assert.Equal(
            new Dictionary<string, string>
            {
                ["type"] = "card",
                ["card[number]"] = Samples.Pan,
                ["card[exp_month]"] = "12",
                ["card[exp_year]"] = "2034",
                ["card[cvc]"] = "123",
                ["billing_details[name]"] = "Jenny Rosen",
                ["billing_details[address][country]"] = "US",
                ["metadata[tokenizer_intent]"] = "tkz_intent_1",
            },
            request.Form.ToDictionary(p => p.Key, p => p.Value));
    }

    [Fact]
    public async Task UpdateBillingDetailsAsync_NullUnchangedEmptyUnset_SendsOnlyThoseFieldsWithTheKey()
    {
        handler.Respond(HttpStatusCode.OK, Samples.CardJson);
        var billing = new BillingDetails(null, "new@example.org", "", new Address(null, null, "Newtown", null, null, null));

        await Gateway().UpdateBillingDetailsAsync("pm_1", billing, Samples.Key, CancellationToken.None);

        var request = Assert.Single(handler.Requests);
        Assert.Equal(HttpMethod.Post, request.Method);
        Assert.Equal("/v1/payment_methods/pm_1", request.PathAndQuery);
        Assert.Equal(Samples.Key, request.Header("Idempotency-Key"));
        Assert.Equal(
            new Dictionary<string, string>
            {
                ["billing_details[email]"] = "new@example.org",
                ["billing_details[phone]"] = "",
                ["billing_details[address][city]"] = "Newtown",
            },
            request.Form.ToDictionary(p => p.Key, p => p.Value));
    }

    [Fact]
    public async Task DeleteCustomerAsync_AlreadyDeleted404_SucceedsWithoutAnIdempotencyKey()
    {
        handler.Respond(
            HttpStatusCode.NotFound,
            """{"error":{"type":"invalid_request_error","code":"resource_missing","param":"customer","message":"No such customer."}}""");

        await Gateway().DeleteCustomerAsync("cus_gone", CancellationToken.None);

        var request = Assert.Single(handler.Requests);
        Assert.Equal(HttpMethod.Delete, request.Method);
        Assert.Equal("/v1/customers/cus_gone", request.PathAndQuery);
        Assert.Null(request.Header("Idempotency-Key"));
    }

    [Fact]
    public async Task AnyCall_KeyRotatedBetweenCalls_NextRequestCarriesTheNewKeyOnTheWire()
    {
        handler.Respond(HttpStatusCode.OK, Samples.CustomerJson).Respond(HttpStatusCode.OK, Samples.CustomerJson);
        var gateway = Gateway();

        await gateway.CreateCustomerAsync("ref-1", "tkz_a_customer", CancellationToken.None);
        apiKeys.Rotate("rk_test_rotated");
        await gateway.CreateCustomerAsync("ref-2", "tkz_b_customer", CancellationToken.None);

        Assert.Equal(["Bearer " + ApiKey, "Bearer rk_test_rotated"], handler.Requests.Select(r => r.Header("Authorization")));
        Assert.DoesNotContain(handler.Requests, r => r.Header("Authorization")!.Contains(ClientDefaultKey, StringComparison.Ordinal));
    }

    [Fact]
    public async Task AnyCall_KeyRotatedBetweenRetries_RetriesKeepTheKeyTheCallStartedWith()
    {
        // One call is one set of RequestOptions: Stripe.net's retries resend it unchanged (same key, same Idempotency-Key).
        handler
            .Respond((_, _) =>
            {
                apiKeys.Rotate("rk_test_rotated");
                return Task.FromResult(StubStripeHandler.Json(HttpStatusCode.InternalServerError, Samples.ErrorJson("api_error")));
            })
            .Respond(HttpStatusCode.OK, Samples.CustomerJson);

        await Gateway(retries: 1).CreateCustomerAsync("ref", "tkz_a_customer", CancellationToken.None);

        Assert.All(handler.Requests, r => Assert.Equal("Bearer " + ApiKey, r.Header("Authorization")));
    }

    [Fact]
    public async Task CreatePaymentMethodAsync_EmptyBilling_SendsNoBillingDetailsAndNoEmptyValue()
    {
        handler.Respond(HttpStatusCode.OK, Samples.CardJson);

        await Gateway().CreatePaymentMethodAsync(Samples.CardRequest(), Samples.Key, CancellationToken.None);

        var request = Assert.Single(handler.Requests);
        Assert.DoesNotContain(request.Form, p => p.Key.StartsWith("billing_details", StringComparison.Ordinal));
        Assert.DoesNotContain(request.Form, p => p.Value.Length == 0);
    }

    public static TheoryData<string, string, string[], TokenType, BankAccountMetadata> BankCases() => new()
    {
        {
            "au_becs_debit", Samples.AuBecsJson,
            ["au_becs_debit[bsb_number]=000000", "au_becs_debit[account_number]=000123456"],
            TokenType.AuBecsDebit, new BankAccountMetadata("3456", "000000", "AU", "fpAu")
        },
        {
            "sepa_debit", Samples.SepaJson,
            ["sepa_debit[iban]=AT611904300234573201"],
            TokenType.SepaDebit, new BankAccountMetadata("3201", "19043", "AT", "fpSepa")
        },
        {
            "bacs_debit", Samples.BacsJson,
            ["bacs_debit[sort_code]=108800", "bacs_debit[account_number]=00012345"],
            TokenType.BacsDebit, new BankAccountMetadata("2345", "108800", "GB", "fpBacs")
        },
        {
            "us_bank_account", Samples.UsJson,
            ["us_bank_account[routing_number]=110000000", "us_bank_account[account_number]=000123456789", "us_bank_account[account_holder_type]=company", "us_bank_account[account_type]=savings"],
            TokenType.UsBankAccount, new BankAccountMetadata("6789", "110000000", "US", "fpUs")
        },
    };

    [Theory]
    [MemberData(nameof(BankCases))]
    public async Task CreatePaymentMethodAsync_BankAccount_SendsTypeFieldsAndMapsMaskedMetadata(
        string type, string responseJson, string[] expectedFields, TokenType expectedType, BankAccountMetadata expected)
    {
        handler.Respond(HttpStatusCode.OK, responseJson);
        BankAccountDetails account = type switch
        {
            "au_becs_debit" => Samples.AuBecs,
            "sepa_debit" => Samples.Sepa,
            "bacs_debit" => Samples.Bacs,
            _ => Samples.Us,
        };

        var result = await Gateway().CreatePaymentMethodAsync(Samples.BankRequest(account), Samples.Key, CancellationToken.None);

        var request = Assert.Single(handler.Requests);
        var form = request.Form.Select(p => p.Key + "=" + p.Value).ToList();
        Assert.Equal(
            new[] { "type=" + type }
                .Concat(expectedFields)
                .Concat(["billing_details[email]=jenny@example.com", "billing_details[name]=Jenny Rosen", "metadata[tokenizer_intent]=tkz_intent_1"])
                .Order(StringComparer.Ordinal),
            form.Order(StringComparer.Ordinal));
        Assert.Equal(expectedType, result.Type);
        Assert.Null(result.Card);
        Assert.Equal(expected, result.BankAccount);
    }

    [Fact]
    public async Task CreatePaymentMethodAsync_CardResponse_MapsMaskedMetadata()
    {
        handler.Respond(HttpStatusCode.OK, Samples.CardJson);

        var result = await Gateway().CreatePaymentMethodAsync(Samples.CardRequest(), Samples.Key, CancellationToken.None);

        Assert.Equal(new GatewayPaymentMethod("pm_card_1", TokenType.Card, new CardMetadata("visa", "4242", 12, 2034, "credit", "US", "fpCard"), null), result);
    }

    [Fact]
    public async Task CreateCustomerAsync_Always_SendsReferenceMetadataAndKey()
    {
        handler.Respond(HttpStatusCode.OK, Samples.CustomerJson);

        var id = await Gateway().CreateCustomerAsync("ref-1", "tkz_abc_customer", CancellationToken.None);

        Assert.Equal("cus_1", id);
        var request = Assert.Single(handler.Requests);
        Assert.Equal("/v1/customers", request.PathAndQuery);
        Assert.Equal("tkz_abc_customer", request.Header("Idempotency-Key"));
        Assert.Equal(["metadata[tokenizer_customer_reference]=ref-1"], request.Form.Select(p => p.Key + "=" + p.Value));
    }

    [Fact]
    public async Task AttachAsync_Always_SendsCustomerAndKey()
    {
        handler.Respond(HttpStatusCode.OK, Samples.CardJson);

        await Gateway().AttachAsync("pm_card_1", "cus_1", "tkz_abc_attach", CancellationToken.None);

        var request = Assert.Single(handler.Requests);
        Assert.Equal("/v1/payment_methods/pm_card_1/attach", request.PathAndQuery);
        Assert.Equal("tkz_abc_attach", request.Header("Idempotency-Key"));
        Assert.Equal(["customer=cus_1"], request.Form.Select(p => p.Key + "=" + p.Value));
    }

    [Fact]
    public async Task DetachAsync_UnexpectedState400_Succeeds()
    {
        handler.Respond(
            HttpStatusCode.BadRequest,
            Samples.ErrorJson("invalid_request_error", "payment_method_unexpected_state", "The payment method you provided is not attached to a customer so detachment is impossible."));

        await Gateway().DetachAsync("pm_card_1", "tkz_abc_detach", CancellationToken.None);

        var request = Assert.Single(handler.Requests);
        Assert.Equal("/v1/payment_methods/pm_card_1/detach", request.PathAndQuery);
        Assert.Equal("tkz_abc_detach", request.Header("Idempotency-Key"));
    }

    [Fact]
    public async Task AttachAsync_Declined402_ThrowsCardDeclined()
    {
        handler.Respond(
            HttpStatusCode.PaymentRequired,
            Samples.ErrorJson("card_error", "card_declined", "Your card has insufficient funds.", declineCode: "insufficient_funds"));

        var e = await Assert.ThrowsAsync<TokenizerException>(() => Gateway().AttachAsync("pm_1", "cus_1", "k", CancellationToken.None));

        Assert.Equal(ErrorKind.FailedPrecondition, e.Kind);
        Assert.Equal(ErrorReasons.CardDeclined, e.Reason);
        Assert.Equal("insufficient_funds", e.ErrorMetadata["decline_code"]);
        Assert.Equal("card declined", e.Message);
    }

    [Fact]
    public async Task CreatePaymentMethodAsync_RawCardDataRefused_ThrowsRawCardDataNotEnabledAndLogsForOperator()
    {
        handler.Respond(
            HttpStatusCode.PaymentRequired,
            Samples.ErrorJson("invalid_request_error", message: "Sending credit card numbers directly to the Stripe API is generally unsafe. We suggest you use test tokens that map to the test card you are using, see https://stripe.com/docs/testing."));

        var e = await Assert.ThrowsAsync<TokenizerException>(
            () => Gateway().CreatePaymentMethodAsync(Samples.CardRequest(), Samples.Key, CancellationToken.None));

        Assert.Equal(ErrorKind.FailedPrecondition, e.Kind);
        Assert.Equal(ErrorReasons.RawCardDataNotEnabled, e.Reason);
        var line = Assert.Single(logger.Lines);
        Assert.Equal(LogLevel.Error, line.Level);
        Assert.Equal("StripeRawCardDataNotEnabled", line.EventId.Name);
        Assert.Contains("raw card data APIs must be enabled on the Stripe account", line.Text, StringComparison.Ordinal);
        Assert.Single(handler.Requests);
    }

    [Fact]
    public async Task AnyCall_Unauthorized401_ThrowsAuthenticationFailedWithCriticalLog()
    {
        handler.Respond(HttpStatusCode.Unauthorized, Samples.ErrorJson("invalid_request_error", message: "Invalid API Key provided: sk_test_****wire"));

        var e = await Assert.ThrowsAsync<TokenizerException>(() => Gateway().CreateCustomerAsync("ref", "k", CancellationToken.None));

        Assert.Equal(ErrorKind.Internal, e.Kind);
        Assert.Equal(ErrorReasons.GatewayAuthenticationFailed, e.Reason);
        Assert.Equal(LogLevel.Critical, Assert.Single(logger.Lines).Level);
    }

    [Fact]
    public async Task AnyCall_NonJsonBadGateway_ThrowsGatewayUnavailable()
    {
        handler.Respond(HttpStatusCode.BadGateway, "<html>502 Bad Gateway</html>");

        var e = await Assert.ThrowsAsync<TokenizerException>(() => Gateway().CreateCustomerAsync("ref", "k", CancellationToken.None));

        Assert.Equal(ErrorKind.Unavailable, e.Kind);
        Assert.Equal(ErrorReasons.GatewayUnavailable, e.Reason);
    }

    [Fact]
    public async Task AnyCall_IdempotencyKeyInUse409_ThrowsAborted()
    {
        handler.Respond(HttpStatusCode.Conflict, Samples.ErrorJson("invalid_request_error", "idempotency_key_in_use", "There is currently another in-progress request using this Idempotent Key."));

        var e = await Assert.ThrowsAsync<TokenizerException>(() => Gateway().CreateCustomerAsync("ref", "k", CancellationToken.None));

        Assert.Equal(ErrorKind.Aborted, e.Kind);
        Assert.Equal(ErrorReasons.IdempotencyKeyInFlight, e.Reason);
    }

    [Fact]
    public async Task AnyCall_RateLimited429_ThrowsUnavailableWithoutStripeNetRetry()
    {
        handler.Respond(HttpStatusCode.TooManyRequests, Samples.ErrorJson("invalid_request_error", "rate_limit", "Too many requests"));

        var e = await Assert.ThrowsAsync<TokenizerException>(() => Gateway(retries: 2).CreateCustomerAsync("ref", "k", CancellationToken.None));

        Assert.Equal(ErrorKind.Unavailable, e.Kind);
        Assert.Single(handler.Requests);
    }

    [Fact]
    public async Task AnyCall_ServerErrorThenSuccess_RetriesWithTheSameIdempotencyKey()
    {
        handler
            .Respond(HttpStatusCode.InternalServerError, Samples.ErrorJson("api_error", message: "An unknown error occurred"))
            .Respond(HttpStatusCode.OK, Samples.CardJson);

        await Gateway(retries: 1).CreatePaymentMethodAsync(Samples.CardRequest(), Samples.Key, CancellationToken.None);

        Assert.Equal(2, handler.Requests.Count);
        Assert.All(handler.Requests, r => Assert.Equal(Samples.Key, r.Header("Idempotency-Key")));
        Assert.Equal(handler.Requests[0].Body, handler.Requests[1].Body);
    }

    [Fact]
    public async Task AnyCall_NetworkFailure_ThrowsGatewayUnavailable()
    {
        handler.Respond((_, _) => throw new HttpRequestException("Connection refused"));

        var e = await Assert.ThrowsAsync<TokenizerException>(() => Gateway().CreateCustomerAsync("ref", "k", CancellationToken.None));

        Assert.Equal(ErrorKind.Unavailable, e.Kind);
        Assert.Equal("StripeTransportFailed", Assert.Single(logger.Lines).EventId.Name);
    }

    [Fact]
    public async Task AnyCall_HttpClientTimeout_ThrowsGatewayUnavailable()
    {
        handler.Respond(async (_, ct) =>
        {
            await Task.Delay(TimeSpan.FromSeconds(30), ct);
            return StubStripeHandler.Json(HttpStatusCode.OK, Samples.CustomerJson);
        });

        var e = await Assert.ThrowsAsync<TokenizerException>(
            () => Gateway(timeout: TimeSpan.FromMilliseconds(200)).CreateCustomerAsync("ref", "k", CancellationToken.None));

        Assert.Equal(ErrorKind.Unavailable, e.Kind);
        Assert.Equal("StripeTimedOut", Assert.Single(logger.Lines).EventId.Name);
    }

    [Fact]
    public async Task ListCustomerPaymentMethodsAsync_Page_SendsLimitAndCursorAndMapsMetadataCustomerAndCreated()
    {
        handler.Respond(HttpStatusCode.OK, """
            {"object":"list","url":"/v1/customers/cus_1/payment_methods","has_more":true,"data":[
              {"id":"pm_card_2","object":"payment_method","type":"card","customer":"cus_1","created":1796083200,
               "card":{"brand":"visa","last4":"4242","exp_month":12,"exp_year":2034,"funding":"credit","country":"US","fingerprint":"fpCard"},
               "metadata":{"tokenizer_intent":"tkz_intent_2"}},
              {"id":"pm_link_1","object":"payment_method","type":"link","customer":"cus_1","created":1796083100,"metadata":{}}
            ]}
            """);

        var page = await Gateway().ListCustomerPaymentMethodsAsync("cus_1", "pm_card_9", 2, CancellationToken.None);

        var request = Assert.Single(handler.Requests);
        Assert.Equal(HttpMethod.Get, request.Method);
        Assert.Equal("/v1/customers/cus_1/payment_methods?limit=2&starting_after=pm_card_9", request.PathAndQuery);
        Assert.Null(request.Header("Idempotency-Key"));
        Assert.Equal("Bearer " + ApiKey, request.Header("Authorization"));
        var listed = Assert.Single(page.PaymentMethods);
        Assert.Equal("pm_card_2", listed.Id);
        Assert.Equal("cus_1", listed.CustomerId);
        Assert.Equal("tkz_intent_2", listed.Metadata["tokenizer_intent"]);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1796083200), listed.CreatedAt);
        Assert.Equal("4242", listed.Card!.Last4);
        // The cursor is the last id Stripe sent, even one of a type we do not issue.
        Assert.Equal("pm_link_1", page.NextStartingAfter);
    }

    [Fact]
    public async Task ListCustomerPaymentMethodsAsync_LastPage_HasNoCursor()
    {
        handler.Respond(HttpStatusCode.OK, """{"object":"list","url":"/v1/customers/cus_1/payment_methods","has_more":false,"data":[]}""");

        var page = await Gateway().ListCustomerPaymentMethodsAsync("cus_1", null, 100, CancellationToken.None);

        Assert.Equal("/v1/customers/cus_1/payment_methods?limit=100", Assert.Single(handler.Requests).PathAndQuery);
        Assert.Empty(page.PaymentMethods);
        Assert.Null(page.NextStartingAfter);
        Assert.False(page.CustomerMissing);
    }

    [Fact]
    public async Task ListCustomerPaymentMethodsAsync_CustomerDeletedAtStripe_AnEmptyLastPageSayingNoSuchCustomerNotAnError()
    {
        // Bug fix (review of #5): one Customer deleted at Stripe (an erasure, the Dashboard) failed every reconciliation.
        // It is said as "no such Customer", not as an empty list, so reconciliation need not guess (an empty list of a
        // live Customer is the control: ListCustomerPaymentMethodsAsync_LastPage_HasNoCursor).
        handler.Respond(HttpStatusCode.NotFound, Samples.ErrorJson("invalid_request_error", "resource_missing", "No such customer: 'cus_gone'", "customer"));

        var page = await Gateway().ListCustomerPaymentMethodsAsync("cus_gone", null, 100, CancellationToken.None);

        Assert.Empty(page.PaymentMethods);
        Assert.Null(page.NextStartingAfter);
        Assert.True(page.CustomerMissing);
        Assert.Equal("StripeCustomerMissing", Assert.Single(logger.Lines).EventId.Name);
        Assert.DoesNotContain(logger.Lines, l => l.Text.Contains("cus_gone", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(101)]
    public async Task ListCustomerPaymentMethodsAsync_LimitOutOfRange_ThrowsBeforeSending(int limit)
    {
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(
            () => Gateway().ListCustomerPaymentMethodsAsync("cus_1", null, limit, CancellationToken.None));

        Assert.Empty(handler.Requests);
    }

    [Fact]
    public async Task AnyCall_CallerCancelsInFlight_ThrowsOperationCanceledException()
    {
        using var cts = new CancellationTokenSource();
        handler.Respond(async (_, ct) =>
        {
            await cts.CancelAsync();
            await Task.Delay(TimeSpan.FromSeconds(30), ct);
            return StubStripeHandler.Json(HttpStatusCode.OK, Samples.CustomerJson);
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => Gateway(retries: 2).CreateCustomerAsync("ref", "k", cts.Token));

        Assert.Single(handler.Requests);
        Assert.Empty(logger.Lines);
    }

    private StripeTokenGateway Gateway(int retries = 0, TimeSpan? timeout = null)
    {
        var client = StripeClientFactory.Create(
            new StripeGatewayOptions
            {
                ApiKey = ClientDefaultKey,
                ApiBase = "http://stripe.test",
                MaxNetworkRetries = retries,
                RequestTimeout = timeout ?? TimeSpan.FromSeconds(10),
            },
            httpClient);
        return new StripeTokenGateway(client, apiKeys, logger);
    }
}
