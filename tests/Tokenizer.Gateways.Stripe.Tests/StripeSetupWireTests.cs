using System.Net;
using Tokenizer.Core.Domain;
using Tokenizer.Core.Errors;
using Tokenizer.Core.Ports;
using Tokenizer.Gateways.Stripe.Tests.Support;

namespace Tokenizer.Gateways.Stripe.Tests;

/// <summary>
/// The SetupIntent and Mandate calls through a real Stripe.net client over a stub HTTP handler: the exact
/// form body, query and headers on the wire and the mapping of Stripe's answers.
/// </summary>
public sealed class StripeSetupWireTests : IDisposable
{
    private const string Key = "tkz_0123456789abcdef0123456789abcdef01234567_seti";
    private static readonly DateTimeOffset AcceptedAt = new(2026, 11, 29, 11, 0, 0, TimeSpan.Zero);
    private static readonly Dictionary<string, string> Metadata = new(StringComparer.Ordinal) { ["tokenizer_intent"] = "tkz_intent_1" };
    private readonly StubStripeHandler handler = new();
    private readonly HttpClient httpClient;
    private readonly CapturingLogger<StripeTokenGateway> logger = new();

    public StripeSetupWireTests()
    {
        httpClient = new HttpClient(handler);
    }

    public void Dispose() => httpClient.Dispose();

    private static string SetupIntentJson(string status, string extra = "") =>
        $$"""{"id":"seti_1","object":"setup_intent","status":"{{status}}","customer":"cus_1","payment_method":"pm_1","usage":"off_session"{{extra}}}""";

    [Fact]
    public async Task CreateSetupIntentAsync_CardWithReturnUrl_SendsExactFormBodyAndKey()
    {
        handler.Respond(HttpStatusCode.OK, SetupIntentJson("succeeded"));

        var setup = await Gateway().CreateSetupIntentAsync(
            new SetupIntentRequest("cus_1", "pm_1", TokenType.Card, Metadata, "https://billing.example.com/done", null), Key, CancellationToken.None);

        var request = Assert.Single(handler.Requests);
        Assert.Equal(HttpMethod.Post, request.Method);
        Assert.Equal("/v1/setup_intents", request.PathAndQuery);
        Assert.Equal(Key, request.Header("Idempotency-Key"));
        Assert.Equal(
            new Dictionary<string, string>
            {
                ["allowed_payment_method_types[0]"] = "card",
                ["confirm"] = "true",
                ["customer"] = "cus_1",
                ["metadata[tokenizer_intent]"] = "tkz_intent_1",
                ["payment_method"] = "pm_1",
                ["return_url"] = "https://billing.example.com/done",
                ["usage"] = "off_session",
            },
            request.Form.ToDictionary(p => p.Key, p => p.Value));
        Assert.Equal(new GatewaySetup("seti_1", SetupStatus.Ready, null, null, null, "pm_1"), setup);
    }

    [Fact]
    public async Task CreateSetupIntentAsync_CardWithoutReturnUrl_SendsNoReturnUrl()
    {
        handler.Respond(HttpStatusCode.OK, SetupIntentJson("succeeded"));

        await Gateway().CreateSetupIntentAsync(new SetupIntentRequest("cus_1", "pm_1", TokenType.Card, Metadata, null, null), Key, CancellationToken.None);

        var request = Assert.Single(handler.Requests);
        Assert.DoesNotContain(request.Form, p => p.Key == "return_url" || p.Key.StartsWith("mandate_data", StringComparison.Ordinal));
    }

    [Fact]
    public async Task CreateSetupIntentAsync_DebitOnline_SendsMandateDataWithUnixSeconds()
    {
        handler.Respond(HttpStatusCode.OK, SetupIntentJson("succeeded", ""","mandate":"mandate_1" """));
        var acceptance = new MandateAcceptance(AcceptedAt, new OnlineAcceptance("203.0.113.7", "Mozilla/5.0"));

        var setup = await Gateway().CreateSetupIntentAsync(
            new SetupIntentRequest("cus_1", "pm_1", TokenType.SepaDebit, Metadata, null, acceptance), Key, CancellationToken.None);

        var form = Assert.Single(handler.Requests).Form.ToDictionary(p => p.Key, p => p.Value);
        Assert.Equal("sepa_debit", form["allowed_payment_method_types[0]"]);
        Assert.Equal("online", form["mandate_data[customer_acceptance][type]"]);
        Assert.Equal(AcceptedAt.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture), form["mandate_data[customer_acceptance][accepted_at]"]);
        Assert.Equal("203.0.113.7", form["mandate_data[customer_acceptance][online][ip_address]"]);
        Assert.Equal("Mozilla/5.0", form["mandate_data[customer_acceptance][online][user_agent]"]);
        Assert.False(form.ContainsKey("return_url"));
        Assert.Equal("mandate_1", setup.MandateId);
    }

    [Fact]
    public async Task CreateSetupIntentAsync_DebitOffline_SendsTypeOfflineAndNoOnlineFields()
    {
        handler.Respond(HttpStatusCode.OK, SetupIntentJson("processing"));

        var setup = await Gateway().CreateSetupIntentAsync(
            new SetupIntentRequest("cus_1", "pm_1", TokenType.BacsDebit, Metadata, null, new MandateAcceptance(AcceptedAt, null)), Key, CancellationToken.None);

        var form = Assert.Single(handler.Requests).Form.ToDictionary(p => p.Key, p => p.Value);
        Assert.Equal("offline", form["mandate_data[customer_acceptance][type]"]);
        // Stripe.net flattens the empty offline hash to nothing; Stripe documents its contents as optional.
        Assert.DoesNotContain(form.Keys, k => k.Contains("[online]", StringComparison.Ordinal) || k.Contains("[offline]", StringComparison.Ordinal));
        Assert.Equal(SetupStatus.Processing, setup.Status);
    }

    [Fact]
    public async Task CreateSetupIntentAsync_DebitWithoutMandate_ArgumentExceptionNothingSent()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => Gateway().CreateSetupIntentAsync(
            new SetupIntentRequest("cus_1", "pm_1", TokenType.SepaDebit, Metadata, null, null), Key, CancellationToken.None));

        Assert.Empty(handler.Requests);
    }

    [Fact]
    public async Task CreateSetupIntentAsync_RequiresActionRedirect_NextActionCarriesTheUrl()
    {
        handler.Respond(
            HttpStatusCode.OK,
            SetupIntentJson("requires_action", ""","next_action":{"type":"redirect_to_url","redirect_to_url":{"url":"https://hooks.stripe.com/3d_secure_2/seti_1","return_url":"https://billing.example.com/done"}}"""));

        var setup = await Gateway().CreateSetupIntentAsync(
            new SetupIntentRequest("cus_1", "pm_1", TokenType.Card, Metadata, "https://billing.example.com/done", null), Key, CancellationToken.None);

        Assert.Equal(SetupStatus.RequiresAction, setup.Status);
        Assert.Equal(new NextAction(NextActionKind.RedirectToUrl, "https://hooks.stripe.com/3d_secure_2/seti_1", null), setup.NextAction);
    }

    [Fact]
    public async Task GetSetupIntentAsync_Microdeposits_NextActionIsTheHostedVerificationUrlNoKey()
    {
        handler.Respond(
            HttpStatusCode.OK,
            SetupIntentJson("requires_action", ""","next_action":{"type":"verify_with_microdeposits","verify_with_microdeposits":{"arrival_date":1764460800,"hosted_verification_url":"https://payments.stripe.com/microdeposit/sacs_1","microdeposit_type":"descriptor_code"}}"""));

        var setup = await Gateway().GetSetupIntentAsync("seti_1", CancellationToken.None);

        var request = Assert.Single(handler.Requests);
        Assert.Equal(HttpMethod.Get, request.Method);
        Assert.Equal("/v1/setup_intents/seti_1", request.PathAndQuery);
        Assert.Null(request.Header("Idempotency-Key"));
        Assert.Equal(new NextAction(NextActionKind.VerifyWithMicrodeposits, "https://payments.stripe.com/microdeposit/sacs_1", null), setup.NextAction);
    }

    [Fact]
    public async Task GetSetupIntentAsync_RequiresPaymentMethod_FailedWithTheDeclineCode()
    {
        handler.Respond(
            HttpStatusCode.OK,
            SetupIntentJson("requires_payment_method", ""","last_setup_error":{"type":"card_error","code":"card_declined","decline_code":"insufficient_funds","message":"Your card has insufficient funds."}"""));

        var setup = await Gateway().GetSetupIntentAsync("seti_1", CancellationToken.None);

        Assert.Equal(SetupStatus.Failed, setup.Status);
        Assert.Equal("insufficient_funds", setup.FailureCode);
    }

    [Fact]
    public async Task CreateSetupIntentAsync_AnsweredRequiresPaymentMethod_FailedPreconditionSetupFailed()
    {
        handler.Respond(
            HttpStatusCode.OK,
            SetupIntentJson("requires_payment_method", ""","last_setup_error":{"type":"card_error","code":"setup_intent_authentication_failure"}"""));

        var error = await Assert.ThrowsAsync<TokenizerException>(() => Gateway().CreateSetupIntentAsync(
            new SetupIntentRequest("cus_1", "pm_1", TokenType.Card, Metadata, null, null), Key, CancellationToken.None));

        Assert.Equal(ErrorKind.FailedPrecondition, error.Kind);
        Assert.Equal(ErrorReasons.SetupFailed, error.Reason);
        Assert.Equal("setup_intent_authentication_failure", error.ErrorMetadata["decline_code"]);
    }

    [Fact]
    public async Task CreateSetupIntentAsync_CardDeclined402_CardDeclinedAsAtAttach()
    {
        handler.Respond(
            HttpStatusCode.PaymentRequired,
            """{"error":{"type":"card_error","code":"card_declined","decline_code":"generic_decline","message":"Your card was declined."}}""");

        var error = await Assert.ThrowsAsync<TokenizerException>(() => Gateway().CreateSetupIntentAsync(
            new SetupIntentRequest("cus_1", "pm_1", TokenType.Card, Metadata, null, null), Key, CancellationToken.None));

        Assert.Equal(ErrorReasons.CardDeclined, error.Reason);
        Assert.Equal("generic_decline", error.ErrorMetadata["decline_code"]);
    }

    [Fact]
    public async Task CancelSetupIntentAsync_SendsTheReasonAndKey_NoLongerCancelableCountsAsDone()
    {
        handler.Respond(HttpStatusCode.OK, SetupIntentJson("canceled"))
            .Respond(
                HttpStatusCode.BadRequest,
                """{"error":{"type":"invalid_request_error","code":"setup_intent_unexpected_state","message":"You cannot cancel this SetupIntent because it has a status of succeeded."}}""")
            .Respond(HttpStatusCode.BadRequest, """{"error":{"type":"invalid_request_error","code":"resource_missing","param":"intent"}}""");
        var gateway = Gateway();

        await gateway.CancelSetupIntentAsync("seti_1", Key, CancellationToken.None);
        await gateway.CancelSetupIntentAsync("seti_1", Key, CancellationToken.None);
        var other = await Assert.ThrowsAsync<TokenizerException>(() => gateway.CancelSetupIntentAsync("seti_x", Key, CancellationToken.None));

        var request = handler.Requests[0];
        Assert.Equal("/v1/setup_intents/seti_1/cancel", request.PathAndQuery);
        Assert.Equal(Key, request.Header("Idempotency-Key"));
        Assert.Equal("abandoned", request.FormValue("cancellation_reason"));
        Assert.Equal(ErrorKind.Internal, other.Kind);
    }

    [Fact]
    public async Task GetMandateAsync_Active_MapsWithoutPersonalData()
    {
        handler.Respond(
            HttpStatusCode.OK,
            """{"id":"mandate_1","object":"mandate","status":"active","type":"multi_use","payment_method":"pm_1","customer_acceptance":{"type":"online","accepted_at":1764414000,"online":{"ip_address":"203.0.113.7","user_agent":"Mozilla/5.0"}}}""");

        var mandate = await Gateway().GetMandateAsync("mandate_1", CancellationToken.None);

        var request = Assert.Single(handler.Requests);
        Assert.Equal("/v1/mandates/mandate_1", request.PathAndQuery);
        Assert.Equal(new Mandate("mandate_1", MandateStatus.Active, MandateType.Online, DateTimeOffset.FromUnixTimeSeconds(1764414000)), mandate);
    }

    [Fact]
    public async Task FindSetupIntentAsync_FiltersByCustomerAndPaymentMethod()
    {
        handler.Respond(HttpStatusCode.OK, $$"""{"object":"list","url":"/v1/setup_intents","has_more":false,"data":[{{SetupIntentJson("succeeded")}}]}""")
            .Respond(HttpStatusCode.OK, """{"object":"list","url":"/v1/setup_intents","has_more":false,"data":[]}""");

        var gateway = Gateway();

        var found = await gateway.FindSetupIntentAsync("cus_1", "pm_1", CancellationToken.None);
        var none = await gateway.FindSetupIntentAsync("cus_1", "pm_2", CancellationToken.None);

        var request = handler.Requests[0];
        Assert.Equal(HttpMethod.Get, request.Method);
        Assert.StartsWith("/v1/setup_intents?", request.PathAndQuery, StringComparison.Ordinal);
        Assert.Contains("customer=cus_1", request.PathAndQuery, StringComparison.Ordinal);
        Assert.Contains("payment_method=pm_1", request.PathAndQuery, StringComparison.Ordinal);
        Assert.Contains("limit=1", request.PathAndQuery, StringComparison.Ordinal);
        Assert.Equal(SetupStatus.Ready, found!.Status);
        Assert.Null(none);
    }

    private StripeTokenGateway Gateway()
    {
        var client = StripeClientFactory.Create(
            new StripeGatewayOptions { ApiKey = "sk_test_setup", ApiBase = "http://stripe.test", MaxNetworkRetries = 0, RequestTimeout = TimeSpan.FromSeconds(10) },
            httpClient);
        return new StripeTokenGateway(client, new RotatingApiKey("sk_test_setup"), logger);
    }
}
