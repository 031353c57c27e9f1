using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Stripe;

namespace Tokenizer.StripeSandbox.Tests;

/// <summary>Stripe Events on every documented state change, and GET /v1/events with Stripe's list semantics, through Stripe.net's EventService.</summary>
public sealed class EventTests
{
    private const string ReturnUrl = "https://merchant.example/3ds/back";

    [Fact]
    public async Task CardSetup_CreatesCustomerSetupAndAttachEvents_OldestLast()
    {
        await using var server = await SandboxHarness.StartAsync();
        var client = SandboxHarness.Client(server);
        var loneCard = await client.V1.PaymentMethods.CreateAsync(SandboxHarness.Card("4242424242424242"));
        var afterCreate = await client.V1.Events.ListAsync();

        var (customer, card, intent) = await SetupHarness.SetUpAsync(client, SandboxHarness.Card("4242424242424242"));
        var events = await client.V1.Events.ListAsync(new EventListOptions { Limit = 100 });

        // Control: creating a PaymentMethod makes no event (Stripe has no payment_method.created).
        Assert.NotNull(loneCard.Id);
        Assert.Empty(afterCreate.Data);
        Assert.Equal(
            ["setup_intent.succeeded", "payment_method.attached", "setup_intent.created", "customer.created"],
            events.Select(e => e.Type));
        Assert.False(events.HasMore);
        Assert.All(events, e =>
        {
            Assert.StartsWith("evt_", e.Id, StringComparison.Ordinal);
            Assert.Equal("event", e.Object);
            Assert.Equal(StripeConfiguration.ApiVersion, e.ApiVersion);
            Assert.False(e.Livemode);
            Assert.Equal(0, e.PendingWebhooks);
            Assert.StartsWith("req_", e.Request.Id, StringComparison.Ordinal);
            Assert.False(string.IsNullOrEmpty(e.Request.IdempotencyKey));
        });
        var created = Assert.IsType<SetupIntent>(events.Data[2].Data.Object);
        var succeeded = Assert.IsType<SetupIntent>(events.Data[0].Data.Object);
        Assert.Equal(intent.Id, created.Id);
        Assert.Equal("requires_confirmation", created.Status);
        Assert.Equal("succeeded", succeeded.Status);
        Assert.Equal(customer.Id, Assert.IsType<PaymentMethod>(events.Data[1].Data.Object).CustomerId);
        Assert.Equal(card.Id, ((PaymentMethod)events.Data[1].Data.Object).Id);
        Assert.Equal(customer.Id, ((Customer)events.Data[3].Data.Object).Id);
        Assert.Equal(events.Data[0].Request.Id, events.Data[2].Request.Id);
        Assert.NotEqual(events.Data[0].Request.Id, events.Data[3].Request.Id);
    }

    [Fact]
    public async Task IdempotentReplay_CreatesNoSecondEvent()
    {
        await using var server = await SandboxHarness.StartAsync();
        var client = SandboxHarness.Client(server);
        var options = new RequestOptions { IdempotencyKey = "same-key" };

        var first = await client.V1.Customers.CreateAsync(new CustomerCreateOptions(), options);
        var replay = await client.V1.Customers.CreateAsync(new CustomerCreateOptions(), options);
        var other = await client.V1.Customers.CreateAsync(new CustomerCreateOptions());
        var events = await client.V1.Events.ListAsync();

        Assert.Equal(first.Id, replay.Id);
        Assert.Equal([other.Id, first.Id], events.Select(e => ((Customer)e.Data.Object).Id));
        Assert.Equal("same-key", events.Data[1].Request.IdempotencyKey);
    }

    [Fact]
    public async Task ThreeDSecure_RequiresActionThenPageOutcomes_AreAutomaticEvents()
    {
        await using var server = await SandboxHarness.StartAsync();
        var client = SandboxHarness.Client(server);
        var (_, _, completedIntent) = await SetupHarness.SetUpAsync(client, SandboxHarness.Card("4000002500003155"), ReturnUrl);
        await PostOutcomeAsync(completedIntent.NextAction.RedirectToUrl.Url, "complete");
        var (_, _, failedIntent) = await SetupHarness.SetUpAsync(client, SandboxHarness.Card("4000002500003155"), ReturnUrl);
        await PostOutcomeAsync(failedIntent.NextAction.RedirectToUrl.Url, "fail");

        var forCompleted = await SetupEventsAsync(client, completedIntent.Id);
        var forFailed = await SetupEventsAsync(client, failedIntent.Id);

        Assert.Equal(["setup_intent.succeeded", "setup_intent.requires_action", "setup_intent.created"], forCompleted.Select(e => e.Type));
        Assert.Equal(["setup_intent.setup_failed", "setup_intent.requires_action", "setup_intent.created"], forFailed.Select(e => e.Type));
        Assert.Null(forCompleted[0].Request.Id);
        Assert.NotNull(forCompleted[1].Request.Id);
        Assert.Equal("setup_intent_authentication_failure", ((SetupIntent)forFailed[0].Data.Object).LastSetupError.Code);
    }

    [Fact]
    public async Task DeclinedSetupAndCancel_FireSetupFailedAndCanceled()
    {
        await using var server = await SandboxHarness.StartAsync();
        var client = SandboxHarness.Client(server);
        var customer = await client.V1.Customers.CreateAsync(new CustomerCreateOptions());
        var declined = await client.V1.PaymentMethods.CreateAsync(SandboxHarness.Card("4000000000000002"));
        var error = await Assert.ThrowsAsync<StripeException>(() => client.V1.SetupIntents.CreateAsync(SetupHarness.Setup(customer.Id, declined)));
        var card = await client.V1.PaymentMethods.CreateAsync(SandboxHarness.Card("4242424242424242"));
        var unconfirmed = SetupHarness.Setup(customer.Id, card);
        unconfirmed.Confirm = false;
        var pending = await client.V1.SetupIntents.CreateAsync(unconfirmed);
        await client.V1.SetupIntents.CancelAsync(pending.Id);

        var forDeclined = await SetupEventsAsync(client, error.StripeError.SetupIntent.Id);
        var forCanceled = await SetupEventsAsync(client, pending.Id);

        Assert.Equal(["setup_intent.setup_failed", "setup_intent.created"], forDeclined.Select(e => e.Type));
        Assert.Equal("card_declined", ((SetupIntent)forDeclined[0].Data.Object).LastSetupError.Code);
        Assert.Equal(["setup_intent.canceled", "setup_intent.created"], forCanceled.Select(e => e.Type));
    }

    [Fact]
    public async Task DebitMandates_BacsActivationAndAchFailure_FireMandateUpdatedWithPreviousStatus()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await SandboxHarness.StartAsync(o =>
        {
            o.TimeProvider = clock;
            o.BacsMandateActivationDelay = TimeSpan.FromDays(3);
        });
        var client = SandboxHarness.Client(server);
        var (_, _, sepa) = await SetupHarness.SetUpAsync(client, SandboxHarness.Sepa());
        var (_, _, bacs) = await SetupHarness.SetUpAsync(client, SandboxHarness.Bacs());
        var beforeActivation = await client.V1.Events.ListAsync(new EventListOptions { Type = "mandate.updated" });
        clock.Advance(TimeSpan.FromDays(3));
        await client.V1.SetupIntents.GetAsync(bacs.Id);
        var (_, _, ach) = await SetupHarness.SetUpAsync(client, SandboxHarness.UsBank());
        for (var i = 0; i < 3; i++)
        {
            await Assert.ThrowsAsync<StripeException>(() => client.V1.SetupIntents.VerifyMicrodepositsAsync(
                ach.Id, new SetupIntentVerifyMicrodepositsOptions { Amounts = [10, 11] }));
        }

        var mandates = await client.V1.Events.ListAsync(new EventListOptions { Type = "mandate.updated" });

        // SEPA sets up at once: its mandate was never seen pending, so no mandate.updated for it.
        Assert.Equal("succeeded", sepa.Status);
        Assert.Empty(beforeActivation.Data);
        Assert.Equal([ach.MandateId, bacs.MandateId], mandates.Select(e => ((Mandate)e.Data.Object).Id));
        Assert.Equal(["inactive", "active"], mandates.Select(e => ((Mandate)e.Data.Object).Status));
        Assert.All(mandates, e => Assert.Equal("pending", PreviousAttributes(e).GetProperty("status").GetString()));
        Assert.Null(mandates.Data[1].Request.Id);
        Assert.Equal(
            "pending",
            PreviousAttributes(mandates.Data[1]).GetProperty("payment_method_details").GetProperty("bacs_debit").GetProperty("network_status").GetString());
        Assert.Equal(["setup_intent.setup_failed", "setup_intent.requires_action", "setup_intent.created"], (await SetupEventsAsync(client, ach.Id)).Select(e => e.Type));
    }

    [Fact]
    public async Task UpdateDetachAndCustomerDelete_FireTheirEvents()
    {
        await using var server = await SandboxHarness.StartAsync();
        var client = SandboxHarness.Client(server);
        var (customer, card, _) = await SetupHarness.SetUpAsync(client, SandboxHarness.Card("4242424242424242", expMonth: 3));
        var (other, otherCard, _) = await SetupHarness.SetUpAsync(client, SandboxHarness.Card("5555555555554444"));
        var metadataOnly = await client.V1.PaymentMethods.UpdateAsync(card.Id, new PaymentMethodUpdateOptions());

        await client.V1.PaymentMethods.UpdateAsync(card.Id, new PaymentMethodUpdateOptions { Card = new PaymentMethodCardOptions { ExpMonth = 11 } });
        await client.V1.PaymentMethods.DetachAsync(card.Id);
        await client.V1.Customers.DeleteAsync(other.Id);
        var events = await client.V1.Events.ListAsync(new EventListOptions { Limit = 3 });

        Assert.Equal(customer.Id, metadataOnly.CustomerId);
        Assert.Single((await client.V1.Events.ListAsync(new EventListOptions { Type = "payment_method.updated" })).Data);
        Assert.Equal(["customer.deleted", "payment_method.detached", "payment_method.updated"], events.Select(e => e.Type));
        Assert.Equal(other.Id, ((Customer)events.Data[0].Data.Object).Id);
        Assert.Null(((PaymentMethod)events.Data[1].Data.Object).CustomerId);
        var updated = (PaymentMethod)events.Data[2].Data.Object;
        Assert.Equal(11, updated.Card.ExpMonth);
        Assert.Equal(card.Card.Fingerprint, updated.Card.Fingerprint);
        var previous = PreviousAttributes(events.Data[2]);
        Assert.Equal(3, previous.GetProperty("card").GetProperty("exp_month").GetInt32());
        Assert.Single(previous.EnumerateObject());
        Assert.Single(previous.GetProperty("card").EnumerateObject());

        // The deleted customer's card is detached with it, without a payment_method.detached of its own.
        Assert.Null((await client.V1.PaymentMethods.GetAsync(otherCard.Id)).CustomerId);
        Assert.Single((await client.V1.Events.ListAsync(new EventListOptions { Type = "payment_method.detached" })).Data);
    }

    [Fact]
    public async Task List_PagesNewestFirstWithCursorsAndFilters()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2031, 1, 1, 0, 0, 0, TimeSpan.Zero));
        await using var server = await SandboxHarness.StartAsync(o => o.TimeProvider = clock);
        var client = SandboxHarness.Client(server);
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add((await client.V1.Customers.CreateAsync(new CustomerCreateOptions())).Id);
            clock.Advance(TimeSpan.FromSeconds(10));
        }

        var (_, card, _) = await SetupHarness.SetUpAsync(client, SandboxHarness.Card("4242424242424242", expYear: 2040));
        var all = await client.V1.Events.ListAsync(new EventListOptions { Limit = 100 });
        var first = await client.V1.Events.ListAsync(new EventListOptions { Limit = 4 });
        var second = await client.V1.Events.ListAsync(new EventListOptions { Limit = 4, StartingAfter = first.Data[^1].Id });
        var third = await client.V1.Events.ListAsync(new EventListOptions { Limit = 4, StartingAfter = second.Data[^1].Id });
        var back = await client.V1.Events.ListAsync(new EventListOptions { Limit = 2, EndingBefore = second.Data[0].Id });
        var paged = new List<string>();
        await foreach (var item in client.V1.Events.ListAutoPagingAsync(new EventListOptions { Limit = 3 }))
        {
            paged.Add(item.Id);
        }

        var wildcard = await client.V1.Events.ListAsync(new EventListOptions { Type = "setup_intent.*" });
        var types = await client.V1.Events.ListAsync(new EventListOptions { Types = ["payment_method.attached", "setup_intent.created"] });
        var start = new DateTime(2031, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        var window = await client.V1.Events.ListAsync(new EventListOptions
        {
            Created = new DateRangeOptions { GreaterThanOrEqual = start.AddSeconds(10), LessThan = start.AddSeconds(30) },
        });
        var one = await client.V1.Events.GetAsync(all.Data[3].Id);
        var delivered = await client.V1.Events.ListAsync(new EventListOptions { DeliverySuccess = false });

        Assert.Equal(9, all.Data.Count);
        Assert.Equal(ids.AsEnumerable().Reverse(), all.Data.Skip(4).Select(e => ((Customer)e.Data.Object).Id));
        Assert.True(first.HasMore);
        Assert.True(second.HasMore);
        Assert.False(third.HasMore);
        Assert.Equal(all.Select(e => e.Id), first.Concat(second).Concat(third).Select(e => e.Id));
        Assert.Equal(first.Data.Skip(2).Select(e => e.Id), back.Select(e => e.Id));
        Assert.True(back.HasMore);
        Assert.Equal(all.Select(e => e.Id), paged);
        Assert.Equal(["setup_intent.succeeded", "setup_intent.created"], wildcard.Select(e => e.Type));
        Assert.Equal(["payment_method.attached", "setup_intent.created"], types.Select(e => e.Type));
        Assert.Equal([ids[2], ids[1]], window.Select(e => ((Customer)e.Data.Object).Id));
        Assert.Equal(all.Data[3].Id, one.Id);
        Assert.Equal(card.Id, ((PaymentMethod)all.Data[1].Data.Object).Id);
        Assert.Empty(delivered.Data);
    }

    [Fact]
    public async Task List_BadParametersAndUnknownIds_AnswerStripeErrors()
    {
        await using var server = await SandboxHarness.StartAsync();
        var client = SandboxHarness.Client(server);
        await client.V1.Customers.CreateAsync(new CustomerCreateOptions());

        var both = await Assert.ThrowsAsync<StripeException>(() => client.V1.Events.ListAsync(new EventListOptions { Type = "customer.created", Types = ["customer.created"] }));
        var limit = await Assert.ThrowsAsync<StripeException>(() => client.V1.Events.ListAsync(new EventListOptions { Limit = 101 }));
        var cursor = await Assert.ThrowsAsync<StripeException>(() => client.V1.Events.ListAsync(new EventListOptions { StartingAfter = "evt_missing" }));
        var missing = await Assert.ThrowsAsync<StripeException>(() => client.V1.Events.GetAsync("evt_missing"));
        var ok = await client.V1.Events.ListAsync(new EventListOptions { Type = "customer.created" });

        Assert.Equal(HttpStatusCode.BadRequest, both.HttpStatusCode);
        Assert.Equal("parameters_exclusive", both.StripeError.Code);
        Assert.Equal("limit", limit.StripeError.Param);
        Assert.Equal(HttpStatusCode.NotFound, cursor.HttpStatusCode);
        Assert.Equal("starting_after", cursor.StripeError.Param);
        Assert.Equal(HttpStatusCode.NotFound, missing.HttpStatusCode);
        Assert.Equal("resource_missing", missing.StripeError.Code);
        Assert.Single(ok.Data);
    }

    [Fact]
    public async Task Events_SurviveRestartWithDataDirectory()
    {
        var directory = Directory.CreateTempSubdirectory("sandbox-events-").FullName;
        try
        {
            string id;
            await using (var first = await SandboxHarness.StartAsync(o => o.DataDirectory = directory))
            {
                await SandboxHarness.Client(first).V1.Customers.CreateAsync(new CustomerCreateOptions());
                id = (await SandboxHarness.Client(first).V1.Events.ListAsync()).Single().Id;
            }

            await using var second = await SandboxHarness.StartAsync(o => o.DataDirectory = directory);
            var again = await SandboxHarness.Client(second).V1.Events.GetAsync(id);

            Assert.Equal("customer.created", again.Type);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Theory]
    [InlineData("setup_intent.*", "setup_intent.succeeded", true)]
    [InlineData("*", "customer.created", true)]
    [InlineData("*.created", "customer.created", true)]
    [InlineData("payment_method.*updated", "payment_method.automatically_updated", true)]
    [InlineData("setup_intent.*", "customer.created", false)]
    [InlineData("customer.created", "customer.created", true)]
    [InlineData("customer.create", "customer.created", false)]
    [InlineData("*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false)]
    public void Matches_StripeTypeWildcard(string pattern, string type, bool expected) =>
        Assert.Equal(expected, Events.EventsApi.Matches(pattern, type));

    internal static JsonElement PreviousAttributes(Event stripeEvent) =>
        JsonDocument.Parse(((object)stripeEvent.Data.PreviousAttributes).ToString()!).RootElement;

    private static async Task<List<Event>> SetupEventsAsync(StripeClient client, string setupIntentId)
    {
        var list = await client.V1.Events.ListAsync(new EventListOptions { Type = "setup_intent.*", Limit = 100 });
        return [.. list.Where(e => ((SetupIntent)e.Data.Object).Id == setupIntentId)];
    }

    private static async Task PostOutcomeAsync(string pageUrl, string outcome)
    {
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, CheckCertificateRevocationList = true });
        using var form = new FormUrlEncodedContent([new KeyValuePair<string, string>("outcome", outcome)]);
        using var response = await http.PostAsync(new Uri(pageUrl), form);
        Assert.Equal(HttpStatusCode.SeeOther, response.StatusCode);
    }
}
