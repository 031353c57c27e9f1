using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Stripe;
using Tokenizer.StripeSandbox.Webhooks;

namespace Tokenizer.StripeSandbox.Tests;

/// <summary>
/// The control endpoints a test uses to make Stripe act behind the merchant's back (card account updater, mandate
/// cancelled at the bank, a detach or a Customer deleted in the Dashboard) and to drop, hold and reorder webhook
/// deliveries.
/// </summary>
public sealed class WebhookControlTests
{
    private const string Secret = "whsec_sandbox_control_tests_0123456789";
    private static readonly string Token = RandomNumberGenerator.GetHexString(64, lowercase: true);

    [Fact]
    public async Task AutomaticUpdate_ChangesExpiryAndLast4KeepsFingerprintAndDeliversTheEvent()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var server = await StartAsync(receiver);
        var client = SandboxHarness.Client(server);
        var (_, card, _) = await SetupHarness.SetUpAsync(client, SandboxHarness.Card("4242424242424242", expMonth: 1));
        await SandboxHarness.WaitUntilAsync(() => receiver.Received.Count == 4);
        using var control = Control(server);
        using var noToken = Control(server, "wrong-token-wrong-token-wrong-token-00");

        using var refused = await noToken.PostAsync(Path($"_sandbox/payment_methods/{card.Id}/automatic_update"), Json("""{"exp_month":9,"exp_year":2040,"last4":"1881"}"""));
        using var answer = await control.PostAsync(Path($"_sandbox/payment_methods/{card.Id}/automatic_update"), Json("""{"exp_month":9,"exp_year":2040,"last4":"1881"}"""));
        using var same = await control.PostAsync(Path($"_sandbox/payment_methods/{card.Id}/automatic_update"), Json("""{"exp_month":9,"exp_year":2040}"""));
        using var badMonth = await control.PostAsync(Path($"_sandbox/payment_methods/{card.Id}/automatic_update"), Json("""{"exp_month":13,"exp_year":2040}"""));
        using var unknownMember = await control.PostAsync(Path($"_sandbox/payment_methods/{card.Id}/automatic_update"), Json("""{"exp_month":9,"exp_year":2040,"number":"x"}"""));
        using var missing = await control.PostAsync(Path("_sandbox/payment_methods/pm_missing/automatic_update"), Json("""{"exp_month":9,"exp_year":2040}"""));
        await SandboxHarness.WaitUntilAsync(() => receiver.Received.Count == 5);
        var after = await client.V1.PaymentMethods.GetAsync(card.Id);
        var delivered = receiver.Received.OrderBy(r => r.Number).Last();
        var stripeEvent = EventUtility.ConstructEvent(delivered.Body, delivered.Signature, Secret);

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal(HttpStatusCode.OK, same.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, badMonth.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, unknownMember.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal((9, 2040, "1881"), (after.Card.ExpMonth, after.Card.ExpYear, after.Card.Last4));
        Assert.Equal(card.Card.Fingerprint, after.Card.Fingerprint);
        Assert.Equal("payment_method.automatically_updated", stripeEvent.Type);
        Assert.Null(stripeEvent.Request.Id);
        Assert.Equal("1881", ((PaymentMethod)stripeEvent.Data.Object).Card.Last4);

        // One event only: the refused call, the unchanged repeat and the bad ones fired nothing.
        Assert.Single((await client.V1.Events.ListAsync(new EventListOptions { Type = "payment_method.automatically_updated" })).Data);
    }

    [Fact]
    public async Task DeactivateMandate_FiresMandateUpdatedAndChargesAreRefused()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var server = await StartAsync(receiver);
        var client = SandboxHarness.Client(server);
        var (customer, sepa, intent) = await SetupHarness.SetUpAsync(client, SandboxHarness.Sepa());
        using var control = Control(server);

        using var answer = await control.PostAsync(Path($"_sandbox/mandates/{intent.MandateId}/deactivate"), null);
        using var again = await control.PostAsync(Path($"_sandbox/mandates/{intent.MandateId}/deactivate"), null);
        using var missing = await control.PostAsync(Path("_sandbox/mandates/mandate_missing/deactivate"), null);
        var mandate = await client.V1.Mandates.GetAsync(intent.MandateId);
        var charge = await Assert.ThrowsAsync<StripeException>(() => client.V1.PaymentIntents.CreateAsync(new PaymentIntentCreateOptions
        {
            Amount = 1000, Currency = "eur", Customer = customer.Id, PaymentMethod = sepa.Id, OffSession = true, Confirm = true,
        }));
        await SandboxHarness.WaitUntilAsync(() => receiver.Received.Any(r => r.Body.Contains("\"mandate.updated\"", StringComparison.Ordinal)));
        var updated = EventUtility.ConstructEvent(receiver.Received.Single(r => r.Body.Contains("\"mandate.updated\"", StringComparison.Ordinal)).Body, receiver.Received.Single(r => r.Body.Contains("\"mandate.updated\"", StringComparison.Ordinal)).Signature, Secret);

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("inactive", mandate.Status);
        Assert.Equal("payment_intent_mandate_invalid", charge.StripeError.Code);
        Assert.Equal("inactive", ((Mandate)updated.Data.Object).Status);
        Assert.Equal("active", EventTests.PreviousAttributes(updated).GetProperty("status").GetString());
        Assert.Single((await client.V1.Events.ListAsync(new EventListOptions { Type = "mandate.updated" })).Data);
    }

    [Fact]
    public async Task HoldThenReleaseReverse_DeliversTheInactiveMandateBeforeTheSetupSucceeded()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var server = await StartAsync(receiver);
        var client = SandboxHarness.Client(server);
        using var control = Control(server);

        using var hold = await control.PostAsync(Path("_sandbox/webhooks/mode"), Json("""{"mode":"hold"}"""));
        var (_, _, intent) = await SetupHarness.SetUpAsync(client, SandboxHarness.UsBank());
        await client.V1.SetupIntents.VerifyMicrodepositsAsync(intent.Id, new SetupIntentVerifyMicrodepositsOptions { Amounts = [32, 45] });
        server.DeactivateMandate(intent.MandateId);
        using var whileHeld = await control.GetAsync(Path("_sandbox/webhooks/deliveries"));
        var heldState = JsonDocument.Parse(await whileHeld.Content.ReadAsStringAsync()).RootElement;
        using var release = await control.PostAsync(Path("_sandbox/webhooks/release"), Json("""{"order":"reverse"}"""));
        var released = JsonDocument.Parse(await release.Content.ReadAsStringAsync()).RootElement;
        await SandboxHarness.WaitUntilAsync(() => receiver.Received.Count == 7);
        var types = receiver.Received.OrderBy(r => r.Number).Select(r => EventUtility.ConstructEvent(r.Body, r.Signature, Secret)).Select(e => e.Type + (e.Data.Object is Mandate m ? ":" + m.Status : string.Empty)).ToList();
        var next = await client.V1.Customers.CreateAsync(new CustomerCreateOptions());
        await SandboxHarness.WaitUntilAsync(() => receiver.Received.Count == 8);

        Assert.Equal(HttpStatusCode.OK, hold.StatusCode);
        Assert.Equal("hold", heldState.GetProperty("mode").GetString());
        Assert.Equal(7, heldState.GetProperty("held").GetInt32());
        Assert.Equal(0, heldState.GetProperty("data").GetArrayLength());
        Assert.Equal(7, released.GetProperty("released").GetInt32());
        Assert.Equal("deliver", released.GetProperty("mode").GetString());
        Assert.Equal(
            [
                "mandate.updated:inactive", "setup_intent.succeeded", "mandate.updated:active", "payment_method.attached",
                "setup_intent.requires_action", "setup_intent.created", "customer.created",
            ],
            types);
        Assert.Contains(next.Id, receiver.Received.OrderBy(r => r.Number).Last().Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Drop_NeverDeliversButListsTheEventAsPending_ThenDeliverResumes()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var server = await StartAsync(receiver);
        var client = SandboxHarness.Client(server);
        using var control = Control(server);

        using var drop = await control.PostAsync(Path("_sandbox/webhooks/mode"), Json("""{"mode":"drop"}"""));
        var lost = await client.V1.Customers.CreateAsync(new CustomerCreateOptions());
        using var deliver = await control.PostAsync(Path("_sandbox/webhooks/mode"), Json("""{"mode":"deliver"}"""));
        var seen = await client.V1.Customers.CreateAsync(new CustomerCreateOptions());
        await SandboxHarness.WaitUntilAsync(() => server.Webhooks.Deliveries().Any(d => d.Outcome == "succeeded"));
        var pending = await client.V1.Events.ListAsync(new EventListOptions { DeliverySuccess = false });
        using var listing = await control.GetAsync(Path("_sandbox/webhooks/deliveries"));
        var deliveries = JsonDocument.Parse(await listing.Content.ReadAsStringAsync()).RootElement.GetProperty("data");
        using var badMode = await control.PostAsync(Path("_sandbox/webhooks/mode"), Json("""{"mode":"sometimes"}"""));

        var only = Assert.Single(receiver.Received);
        Assert.Contains(seen.Id, only.Body, StringComparison.Ordinal);
        Assert.Equal(lost.Id, ((Customer)Assert.Single(pending.Data).Data.Object).Id);
        Assert.Equal(2, deliveries.GetArrayLength());
        Assert.Equal(("dropped", 0), (deliveries[0].GetProperty("outcome").GetString(), deliveries[0].GetProperty("attempt").GetInt32()));
        Assert.Equal(JsonValueKind.Null, deliveries[0].GetProperty("status").ValueKind);
        Assert.Equal(("succeeded", 200, "customer.created"), (deliveries[1].GetProperty("outcome").GetString(), deliveries[1].GetProperty("status").GetInt32(), deliveries[1].GetProperty("type").GetString()));
        Assert.Equal(pending.Data[0].Id, deliveries[0].GetProperty("event_id").GetString());
        Assert.Equal(receiver.Url.ToString(), deliveries[1].GetProperty("url").GetString());
        Assert.StartsWith("we_", deliveries[1].GetProperty("endpoint_id").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, badMode.StatusCode);
    }

    [Fact]
    public async Task DetachAndCustomerDeleteThroughTheApi_AreDeliveredAsWebhooks()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var server = await StartAsync(receiver);
        var client = SandboxHarness.Client(server);
        var (_, card, _) = await SetupHarness.SetUpAsync(client, SandboxHarness.Card("4242424242424242"));
        var (other, _, _) = await SetupHarness.SetUpAsync(client, SandboxHarness.Card("5555555555554444"));

        await client.V1.PaymentMethods.DetachAsync(card.Id);
        await client.V1.Customers.DeleteAsync(other.Id);
        await SandboxHarness.WaitUntilAsync(() => receiver.Received.Count == 10);
        var last = receiver.Received.OrderBy(r => r.Number).TakeLast(2).Select(r => EventUtility.ConstructEvent(r.Body, r.Signature, Secret)).ToList();

        Assert.Equal(["payment_method.detached", "customer.deleted"], last.Select(e => e.Type));
        Assert.Equal(card.Id, ((PaymentMethod)last[0].Data.Object).Id);
        Assert.Equal(other.Id, ((Customer)last[1].Data.Object).Id);
    }

    [Fact]
    public async Task DetachBehindOurBack_AsStripesDetach_DeliversPaymentMethodDetached()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var server = await StartAsync(receiver);
        var client = SandboxHarness.Client(server);
        var (_, card, _) = await SetupHarness.SetUpAsync(client, SandboxHarness.Card("4242424242424242"));
        await SandboxHarness.WaitUntilAsync(() => receiver.Received.Count == 4);
        using var control = Control(server);
        using var wrong = Control(server, "wrong-token-wrong-token-wrong-token-00");

        using var refused = await wrong.PostAsync(Path($"_sandbox/payment_methods/{card.Id}/detach"), null);
        var attachedAfterRefusal = (await client.V1.PaymentMethods.GetAsync(card.Id)).CustomerId;
        using var answer = await control.PostAsync(Path($"_sandbox/payment_methods/{card.Id}/detach"), null);
        using var again = await control.PostAsync(Path($"_sandbox/payment_methods/{card.Id}/detach"), null);
        using var missing = await control.PostAsync(Path("_sandbox/payment_methods/pm_missing/detach"), null);
        await SandboxHarness.WaitUntilAsync(() => receiver.Received.Count == 5);
        var delivered = receiver.Received.OrderBy(r => r.Number).Last();
        var stripeEvent = EventUtility.ConstructEvent(delivered.Body, delivered.Signature, Secret);

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.NotNull(attachedAfterRefusal);
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, again.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Null((await client.V1.PaymentMethods.GetAsync(card.Id)).CustomerId);
        Assert.Equal("payment_method.detached", stripeEvent.Type);
        Assert.Equal(card.Id, ((PaymentMethod)stripeEvent.Data.Object).Id);
        Assert.Single((await client.V1.Events.ListAsync(new EventListOptions { Type = "payment_method.detached" })).Data);
    }

    [Fact]
    public async Task DeleteCustomerBehindOurBack_ByReferenceOrId_AsStripesDelete_DeliversCustomerDeleted()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var server = await StartAsync(receiver);
        var client = SandboxHarness.Client(server);
        var reference = new Dictionary<string, string> { ["tokenizer_customer_reference"] = "cust-gone" };
        var first = await client.V1.Customers.CreateAsync(new CustomerCreateOptions { Metadata = reference });
        var second = await client.V1.Customers.CreateAsync(new CustomerCreateOptions { Metadata = reference });
        var kept = await client.V1.Customers.CreateAsync(new CustomerCreateOptions { Metadata = new Dictionary<string, string> { ["tokenizer_customer_reference"] = "cust-kept" } });
        var byId = await client.V1.Customers.CreateAsync(new CustomerCreateOptions());
        using var control = Control(server);
        using var wrong = Control(server, "wrong-token-wrong-token-wrong-token-00");

        using var refused = await wrong.PostAsync(Path("_sandbox/customers/delete"), Json("""{"customer_reference":"cust-gone"}"""));
        using var both = await control.PostAsync(Path("_sandbox/customers/delete"), Json("{\"customer\":\"" + byId.Id + "\",\"customer_reference\":\"cust-gone\"}"));
        using var neither = await control.PostAsync(Path("_sandbox/customers/delete"), Json("{}"));
        var stillThere = await ExistingAsync(client, first.Id, second.Id, kept.Id, byId.Id);
        using var byReference = await control.PostAsync(Path("_sandbox/customers/delete"), Json("""{"customer_reference":"cust-gone"}"""));
        using var byItsId = await control.PostAsync(Path("_sandbox/customers/delete"), Json("{\"customer\":\"" + byId.Id + "\"}"));
        using var again = await control.PostAsync(Path("_sandbox/customers/delete"), Json("""{"customer_reference":"cust-gone"}"""));
        var deleted = await client.V1.Events.ListAsync(new EventListOptions { Type = "customer.deleted" });

        Assert.Equal((HttpStatusCode.Unauthorized, HttpStatusCode.BadRequest, HttpStatusCode.BadRequest), (refused.StatusCode, both.StatusCode, neither.StatusCode));
        Assert.Equal(4, stillThere.Count);
        Assert.Equal(HttpStatusCode.OK, byReference.StatusCode);
        Assert.Equal(
            new[] { first.Id, second.Id }.Order(StringComparer.Ordinal),
            JsonDocument.Parse(await byReference.Content.ReadAsStringAsync()).RootElement.GetProperty("deleted").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.NotFound), (byItsId.StatusCode, again.StatusCode));
        Assert.Equal([kept.Id], await ExistingAsync(client, first.Id, second.Id, kept.Id, byId.Id));
        Assert.Equal(new[] { first.Id, second.Id, byId.Id }.Order(StringComparer.Ordinal), deleted.Data.Select(e => ((Customer)e.Data.Object).Id).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task WebhookControlEndpoints_WithoutControlToken_DoNotExist()
    {
        await using var server = await SandboxHarness.StartAsync();
        using var http = Control(server);

        using var mode = await http.PostAsync(Path("_sandbox/webhooks/mode"), Json("""{"mode":"hold"}"""));
        using var deliveries = await http.GetAsync(Path("_sandbox/webhooks/deliveries"));

        Assert.Equal(HttpStatusCode.NotFound, mode.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, deliveries.StatusCode);
        Assert.Equal(SandboxWebhookMode.Deliver, server.Webhooks.Mode);
    }

    private static async Task<List<string>> ExistingAsync(StripeClient client, params string[] ids)
    {
        var existing = new List<string>();
        foreach (var id in ids)
        {
            // Stripe still reads a deleted Customer back, as deleted: true.
            var customer = await client.V1.Customers.GetAsync(id);
            if (customer.Deleted != true)
            {
                existing.Add(customer.Id);
            }
        }

        return existing;
    }

    private static Task<StripeSandboxServer> StartAsync(WebhookReceiver receiver) =>
        SandboxHarness.StartAsync(o =>
        {
            o.ControlToken = Token;
            o.WebhookEndpoints = [new SandboxWebhookEndpoint { Url = receiver.Url.ToString(), Secret = Secret }];
        });

    private static HttpClient Control(StripeSandboxServer server, string? token = null)
    {
        var http = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Add("Sandbox-Control-Token", token ?? Token);
        return http;
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static Uri Path(string path) => new(path, UriKind.Relative);
}
