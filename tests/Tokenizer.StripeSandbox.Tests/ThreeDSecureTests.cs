using System.Net;
using Stripe;

namespace Tokenizer.StripeSandbox.Tests;

/// <summary>
/// Stripe's authentication test cards (docs.stripe.com/testing, "Authentication and setup", "3D Secure") through
/// SetupIntents, the hosted 3-D Secure page (plain HTTP form posts here; in Chromium in <c>ThreeDSecureBrowserTests</c>)
/// and off-session PaymentIntents. Each card's control is the same card or charge without the step that makes the difference.
/// </summary>
public sealed class ThreeDSecureTests(SandboxFixture fixture) : IClassFixture<SandboxFixture>
{
    private const string ReturnUrl = "https://merchant.example/3ds/back?order=7";
    private readonly StripeClient client = fixture.Client;

    [Fact]
    public async Task Card3155_SetUpWithAuthentication_ThenChargesOffSession_AttachedOnlyIsRefused()
    {
        var (customer, card, intent) = await SetupHarness.SetUpAsync(client, SandboxHarness.Card("4000002500003155"), ReturnUrl);
        var pageUrl = fixture.Server.BaseAddress + "_sandbox/authenticate/" + intent.Id;
        var beforeAuthentication = await client.V1.PaymentMethods.GetAsync(card.Id);

        var redirect = await PostOutcomeAsync(intent.NextAction.RedirectToUrl.Url, "complete");
        var completed = await client.V1.SetupIntents.GetAsync(intent.Id);
        var charge = await client.V1.PaymentIntents.CreateAsync(Charge(customer.Id, card.Id));

        // Control: the same card attached the old way (create + attach, no SetupIntent) is refused off-session.
        var (oldCustomer, oldCard) = await AttachOnlyAsync("4000002500003155");
        var refused = await Assert.ThrowsAsync<StripeException>(() => client.V1.PaymentIntents.CreateAsync(Charge(oldCustomer.Id, oldCard.Id)));

        Assert.Equal("requires_action", intent.Status);
        Assert.Equal("redirect_to_url", intent.NextAction.Type);
        Assert.Equal(pageUrl, intent.NextAction.RedirectToUrl.Url);
        Assert.Equal(ReturnUrl, intent.NextAction.RedirectToUrl.ReturnUrl);
        Assert.Null(beforeAuthentication.CustomerId);
        Assert.Equal(HttpStatusCode.SeeOther, redirect.StatusCode);
        Assert.Equal(
            $"https://merchant.example/3ds/back?order=7&setup_intent={intent.Id}&setup_intent_client_secret={intent.ClientSecret}&redirect_status=succeeded",
            redirect.Headers.Location!.AbsoluteUri);
        Assert.Equal("succeeded", completed.Status);
        Assert.Null(completed.NextAction);
        Assert.Equal(customer.Id, (await client.V1.PaymentMethods.GetAsync(card.Id)).CustomerId);
        Assert.Equal("succeeded", charge.Status);
        Assert.Equal(1999, charge.AmountReceived);
        Assert.StartsWith("ch_", charge.LatestChargeId, StringComparison.Ordinal);
        AssertAuthenticationRequired(refused, oldCard.Id);
    }

    [Fact]
    public async Task Card3155_CustomerDeletedBeforeAuthentication_NothingAttachedAndTheSetupFails()
    {
        // Stripe: a deleted Customer takes no further operations. Completing 3-D Secure afterwards attaches nothing
        // (the first test of this class is the control: the same completion with the Customer kept attaches the card).
        var (customer, card, intent) = await SetupHarness.SetUpAsync(client, SandboxHarness.Card("4000002500003155"), ReturnUrl);
        await client.V1.Customers.DeleteAsync(customer.Id);

        var redirect = await PostOutcomeAsync(intent.NextAction.RedirectToUrl.Url, "complete");
        var after = await client.V1.SetupIntents.GetAsync(intent.Id);

        Assert.Equal(HttpStatusCode.SeeOther, redirect.StatusCode);
        Assert.EndsWith("&redirect_status=failed", redirect.Headers.Location!.AbsoluteUri, StringComparison.Ordinal);
        Assert.Equal(("requires_payment_method", "resource_missing"), (after.Status, after.LastSetupError.Code));
        Assert.Null(after.PaymentMethodId);
        Assert.Null((await client.V1.PaymentMethods.GetAsync(card.Id)).CustomerId);
    }

    [Fact]
    public async Task Card3184_AuthenticatedAtSetup_StillFailsEveryOffSessionCharge()
    {
        var (customer, card, intent) = await SetupHarness.SetUpAsync(client, SandboxHarness.Card("4000002760003184"), ReturnUrl);
        await PostOutcomeAsync(intent.NextAction.RedirectToUrl.Url, "complete");

        var first = await Assert.ThrowsAsync<StripeException>(() => client.V1.PaymentIntents.CreateAsync(Charge(customer.Id, card.Id)));
        var second = await Assert.ThrowsAsync<StripeException>(() => client.V1.PaymentIntents.CreateAsync(Charge(customer.Id, card.Id)));

        Assert.Equal("requires_action", intent.Status);
        Assert.Equal("succeeded", (await client.V1.SetupIntents.GetAsync(intent.Id)).Status);
        AssertAuthenticationRequired(first, card.Id);
        AssertAuthenticationRequired(second, card.Id);
    }

    [Fact]
    public async Task Card8178_AuthenticatedAtSetup_ChargeDeclinesInsufficientFunds()
    {
        var (customer, card, intent) = await SetupHarness.SetUpAsync(client, SandboxHarness.Card("4000008260003178"), ReturnUrl);
        await PostOutcomeAsync(intent.NextAction.RedirectToUrl.Url, "complete");

        var declined = await Assert.ThrowsAsync<StripeException>(() => client.V1.PaymentIntents.CreateAsync(Charge(customer.Id, card.Id)));
        var fetched = await client.V1.PaymentIntents.GetAsync(declined.StripeError.PaymentIntent.Id);

        Assert.Equal("requires_action", intent.Status);
        Assert.Equal(HttpStatusCode.PaymentRequired, declined.HttpStatusCode);
        Assert.Equal("card_error", declined.StripeError.Type);
        Assert.Equal("card_declined", declined.StripeError.Code);
        Assert.Equal("insufficient_funds", declined.StripeError.DeclineCode);
        Assert.Equal("requires_payment_method", fetched.Status);
        Assert.Equal("insufficient_funds", fetched.LastPaymentError.DeclineCode);
    }

    [Fact]
    public async Task Card3220_Always3ds2_RequiresActionAtSetupAndAuthenticationOffSession()
    {
        var (customer, card, intent) = await SetupHarness.SetUpAsync(client, SandboxHarness.Card("4000000000003220"), ReturnUrl);
        await PostOutcomeAsync(intent.NextAction.RedirectToUrl.Url, "complete");

        var refused = await Assert.ThrowsAsync<StripeException>(() => client.V1.PaymentIntents.CreateAsync(Charge(customer.Id, card.Id)));

        Assert.Equal("requires_action", intent.Status);
        AssertAuthenticationRequired(refused, card.Id);
    }

    [Fact]
    public async Task Card4242_AttachedTheOldWay_ChargesOffSession()
    {
        var (customer, card) = await AttachOnlyAsync("4242424242424242");
        var (_, setUpCard, intent) = await SetupHarness.SetUpAsync(client, SandboxHarness.Card("4242424242424242"), ReturnUrl);

        var charge = await client.V1.PaymentIntents.CreateAsync(Charge(customer.Id, card.Id));
        var fetched = await client.V1.PaymentIntents.GetAsync(charge.Id);

        Assert.Equal("succeeded", charge.Status);
        Assert.Equal("payment_intent", fetched.Object);
        Assert.Equal(card.Id, fetched.PaymentMethodId);
        Assert.Equal(customer.Id, fetched.CustomerId);
        Assert.Equal("eur", fetched.Currency);
        Assert.Equal("succeeded", intent.Status);
        Assert.Null(intent.NextAction);
        Assert.NotNull(setUpCard.Id);
    }

    [Fact]
    public async Task Authentication_Failed_RedirectsFailedAndLeavesSetupIntentRequiringPaymentMethod()
    {
        var (customer, card, intent) = await SetupHarness.SetUpAsync(client, SandboxHarness.Card("4000002500003155"), ReturnUrl);

        var redirect = await PostOutcomeAsync(intent.NextAction.RedirectToUrl.Url, "fail");
        var failed = await client.V1.SetupIntents.GetAsync(intent.Id);
        var again = await PostOutcomeAsync(intent.NextAction.RedirectToUrl.Url, "complete");
        var page = await Http().GetAsync(new Uri(intent.NextAction.RedirectToUrl.Url));

        Assert.Contains("redirect_status=failed", redirect.Headers.Location!.Query, StringComparison.Ordinal);
        Assert.Equal("requires_payment_method", failed.Status);
        Assert.Equal("setup_intent_authentication_failure", failed.LastSetupError.Code);
        Assert.Equal(card.Id, failed.LastSetupError.PaymentMethod.Id);
        Assert.Null(failed.PaymentMethodId);
        Assert.Null(failed.NextAction);
        Assert.Null((await client.V1.PaymentMethods.GetAsync(card.Id)).CustomerId);
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, page.StatusCode);
        Assert.NotNull(customer.Id);
    }

    [Fact]
    public async Task NoReturnUrl_UseStripeSdkWithTheSandboxPage_CompletesWithoutRedirect()
    {
        var (customer, card, intent) = await SetupHarness.SetUpAsync(client, SandboxHarness.Card("4000002500003155"));
        var pageUrl = fixture.Server.BaseAddress + "_sandbox/authenticate/" + intent.Id;

        var page = await Http().GetStringAsync(new Uri(pageUrl));
        var done = await PostOutcomeAsync(pageUrl, "complete");
        var completed = await client.V1.SetupIntents.GetAsync(intent.Id);

        Assert.Equal("requires_action", intent.Status);
        Assert.Equal("use_stripe_sdk", intent.NextAction.Type);
        Assert.Null(intent.NextAction.RedirectToUrl);
        Assert.Equal(pageUrl, intent.NextAction.UseStripeSdk["stripe_js"]?.ToString());
        Assert.Contains("id=\"complete\"", page, StringComparison.Ordinal);
        Assert.Contains("id=\"fail\"", page, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", page, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(HttpStatusCode.OK, done.StatusCode);
        Assert.Contains("succeeded", await done.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("succeeded", completed.Status);
        Assert.Equal(customer.Id, (await client.V1.PaymentMethods.GetAsync(card.Id)).CustomerId);
    }

    [Fact]
    public async Task HostedPage_Headers_ForbidScriptsFramingAndCaching()
    {
        var (_, _, intent) = await SetupHarness.SetUpAsync(client, SandboxHarness.Card("4000002500003155"), ReturnUrl);

        using var page = await Http().GetAsync(new Uri(intent.NextAction.RedirectToUrl.Url));
        var unknown = await Http().GetAsync(new Uri(fixture.Server.BaseAddress, "_sandbox/authenticate/seti_missing"));
        var badOutcome = await PostOutcomeAsync(intent.NextAction.RedirectToUrl.Url, "maybe");

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Contains("default-src 'none'", page.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", page.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        Assert.Equal("no-store", page.Headers.CacheControl?.ToString());
        Assert.Equal("no-referrer", page.Headers.GetValues("Referrer-Policy").Single());
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, badOutcome.StatusCode);
        Assert.Equal("requires_action", (await client.V1.SetupIntents.GetAsync(intent.Id)).Status);
    }

    [Fact]
    public async Task NextActionUrl_ForgedHostHeader_StillTheSandboxsOwnAddress()
    {
        var customer = await client.V1.Customers.CreateAsync(new CustomerCreateOptions());
        var card = await client.V1.PaymentMethods.CreateAsync(SandboxHarness.Card("4000002500003155"));
        using var http = SandboxHarness.Http(fixture.Server);
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("v1/setup_intents", UriKind.Relative))
        {
            Content = new FormUrlEncodedContent(
            [
                new("customer", customer.Id), new("payment_method", card.Id), new("confirm", "true"), new("return_url", ReturnUrl),
            ]),
        };
        request.Headers.Host = "evil.example";

        using var response = await http.SendAsync(request);
        using var body = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var id = body.RootElement.GetProperty("id").GetString();
        var url = body.RootElement.GetProperty("next_action").GetProperty("redirect_to_url").GetProperty("url").GetString();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(fixture.Server.BaseAddress + "_sandbox/authenticate/" + id, url);
    }

    internal static PaymentIntentCreateOptions Charge(string customer, string paymentMethod, string currency = "eur") => new()
    {
        Amount = 1999,
        Currency = currency,
        Customer = customer,
        PaymentMethod = paymentMethod,
        OffSession = true,
        Confirm = true,
    };

    private static void AssertAuthenticationRequired(StripeException error, string paymentMethod)
    {
        Assert.Equal(HttpStatusCode.PaymentRequired, error.HttpStatusCode);
        Assert.Equal("card_error", error.StripeError.Type);
        Assert.Equal("authentication_required", error.StripeError.Code);
        Assert.Equal("authentication_required", error.StripeError.DeclineCode);
        Assert.Equal(paymentMethod, error.StripeError.PaymentMethod.Id);
        Assert.Equal("requires_payment_method", error.StripeError.PaymentIntent.Status);
        Assert.Equal(paymentMethod, error.StripeError.PaymentIntent.LastPaymentError.PaymentMethod.Id);
    }

    private async Task<(Customer Customer, PaymentMethod Card)> AttachOnlyAsync(string number)
    {
        var customer = await client.V1.Customers.CreateAsync(new CustomerCreateOptions());
        var card = await client.V1.PaymentMethods.CreateAsync(SandboxHarness.Card(number));
        await client.V1.PaymentMethods.AttachAsync(card.Id, new PaymentMethodAttachOptions { Customer = customer.Id });
        return (customer, card);
    }

    private static HttpClient Http() =>
        new(new HttpClientHandler { AllowAutoRedirect = false, CheckCertificateRevocationList = true }) { Timeout = TimeSpan.FromSeconds(30) };

    private static async Task<HttpResponseMessage> PostOutcomeAsync(string pageUrl, string outcome)
    {
        using var http = Http();
        using var form = new FormUrlEncodedContent([new KeyValuePair<string, string>("outcome", outcome)]);
        return await http.PostAsync(new Uri(pageUrl), form);
    }
}
