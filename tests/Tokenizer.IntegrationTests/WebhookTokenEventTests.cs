using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Tokenizer.Contracts.V1;
using Tokenizer.Core.Tokenization;
using Tokenizer.Ledger.Webhooks;

namespace Tokenizer.IntegrationTests;

/// <summary>Token events through real gRPC: what the billing service reads, one per change of ledger state.</summary>
internal static class TokenEventsOf
{
    /// <summary>Every event of <paramref name="token"/> that finance can read now, oldest first, as "kind" strings.</summary>
    public static async Task<List<TokenEvent>> ListAsync(TokenizerService.TokenizerServiceClient finance, string token)
    {
        var events = new List<TokenEvent>();
        var cursor = string.Empty;
        while (true)
        {
            var page = await finance.ListTokenEventsAsync(new ListTokenEventsRequest { After = cursor, PageSize = 500 });
            events.AddRange(page.Events.Where(e => e.Token == token));
            cursor = page.NextCursor;
            if (page.Events.Count < 500)
            {
                return events;
            }
        }
    }

    /// <summary>
    /// Waits (bounded: 90 s) until the sandbox has an event of <paramref name="type"/> about <paramref name="objectId"/>
    /// (Stripe API GET /v1/events on the sandbox) and the inbox holds it processed or ignored; returns its id, or null.
    /// </summary>
    public static async Task<string?> WaitForProcessedAsync(WebhookServer server, string type, string objectId)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        var service = new Stripe.EventService(server.SandboxClient());
        string? id = null;
        while (DateTime.UtcNow < deadline)
        {
            if (id is null)
            {
                var listed = await service.ListAsync(new Stripe.EventListOptions { Type = type, Limit = 100 });
                id = listed.Data.FirstOrDefault(e => (e.Data.Object as Stripe.IHasId)?.Id == objectId)?.Id;
            }

            if (id is not null && await server.Store.FindAsync(id, CancellationToken.None) is { State: not WebhookState.Pending })
            {
                return id;
            }

            await Task.Delay(100);
        }

        return null;
    }
}

/// <summary>
/// A Stripe event about a token's SetupIntent that is processed before the Tokenize call has committed the token: tried
/// again later, never ignored for good.
/// </summary>
public sealed class TokenizeWebhookRaceTests(WebhookServer server) : IClassFixture<WebhookServer>
{
    [Fact]
    public async Task Tokenize_BacsSetupSucceededProcessedBeforeTheTokenCommits_ReadyWithOneSetupSucceeded()
    {
        var events = new Stripe.EventService(server.SandboxClient());
        var seen = (await events.ListAsync(new Stripe.EventListOptions { Type = "setup_intent.succeeded", Limit = 100 })).Data.Select(e => e.Id).ToHashSet();
        var settings = server.Server.App.Services.GetRequiredService<TokenizationSettings>();
        string? processedBeforeCommit = null;

        // Holds the Tokenize call between Stripe's answer and its ledger commit until the sandbox's setup_intent.succeeded
        // was looked at by the inbox worker at least once.
        settings.FailPoint = name =>
        {
            if (name == FailPoints.AfterGatewaySuccess)
            {
                processedBeforeCommit = WaitForFirstAttemptAsync(events, seen).GetAwaiter().GetResult();
            }
        };
        Tokenizer.Contracts.V1.Token tokenized;
        try
        {
            tokenized = (await server.Server.Client.TokenizeBankAccountAsync(Requests.Bacs(Requests.NewKey(), customer: "cust-race-bacs"))).Token;
        }
        finally
        {
            settings.FailPoint = null;
        }

        // The ledger as the worker leaves it, read without GetToken (whose refresh would move the token itself).
        var deadline = DateTime.UtcNow.AddSeconds(60);
        var status = (await server.Ledger.Tokens.GetTokenAsync(tokenized.Token_, CancellationToken.None))!.Setup.Status;
        while (status != Core.Domain.SetupStatus.Ready && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
            status = (await server.Ledger.Tokens.GetTokenAsync(tokenized.Token_, CancellationToken.None))!.Setup.Status;
        }

        var kinds = (await TokenEventsOf.ListAsync(server.Server.Finance, tokenized.Token_)).Select(e => e.Kind);

        // The control: the event really was processed while the token was not yet committed, and the call answered
        // processing (so the event is what moved it).
        Assert.NotNull(processedBeforeCommit);
        Assert.Equal(SetupStatus.Processing, tokenized.Setup.Status);
        Assert.Equal(Core.Domain.SetupStatus.Ready, status);
        Assert.Equal([TokenEventKind.SetupSucceeded], kinds);
    }

    /// <summary>Waits (bounded: 60 s) for a new setup_intent.succeeded at the sandbox whose inbox row was claimed at least once.</summary>
    private async Task<string?> WaitForFirstAttemptAsync(Stripe.EventService events, HashSet<string> seen)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            var listed = await events.ListAsync(new Stripe.EventListOptions { Type = "setup_intent.succeeded", Limit = 100 });
            foreach (var id in listed.Data.Select(e => e.Id).Where(id => !seen.Contains(id)))
            {
                if (await server.Store.FindAsync(id, CancellationToken.None) is { Attempts: >= 1 })
                {
                    return id;
                }
            }

            await Task.Delay(100);
        }

        return null;
    }
}

/// <summary>
/// Our own revoke, with the sandbox delivering its webhooks as Stripe does: the revoke's own detach comes back as
/// <c>payment_method.detached</c>, and must read as that revoke (one <c>revoked</c>), never as a detach behind our back.
/// </summary>
public sealed class RevokeWebhookTests(WebhookServer server) : IClassFixture<WebhookServer>
{
    [Fact]
    public async Task Revoke_OwnDetachWebhookProcessedBeforeTheRevokeCommits_OneRevokedNoDetachedAtGateway()
    {
        var token = (await server.Server.Client.TokenizeCardAsync(Requests.Card("4242424242424242", Requests.NewKey(), "cust-revoke-race"))).Token.Token_;
        var settings = server.Server.App.Services.GetRequiredService<TokenizationSettings>();
        string? processedBeforeCommit = null;
        Core.Domain.TokenStatus? ledgerWhileHeld = null;

        // Holds the revoke between Stripe's detach and its ledger commit until the webhook of that detach went through.
        settings.FailPoint = name =>
        {
            if (name == FailPoints.AfterGatewaySuccess)
            {
                processedBeforeCommit = TokenEventsOf.WaitForProcessedAsync(server, "payment_method.detached", token).GetAwaiter().GetResult();
                ledgerWhileHeld = server.Ledger.Tokens.GetTokenAsync(token, CancellationToken.None).GetAwaiter().GetResult()?.Status;
            }
        };
        try
        {
            await server.Server.Admin.RevokeTokenAsync(new RevokeTokenRequest { Token = token, IdempotencyKey = Requests.NewKey() });
        }
        finally
        {
            settings.FailPoint = null;
        }

        var events = await TokenEventsOf.ListAsync(server.Server.Finance, token);

        // The control: the webhook really was processed while the revoke was held before its own commit.
        Assert.NotNull(processedBeforeCommit);
        Assert.Equal(Core.Domain.TokenStatus.Revoked, ledgerWhileHeld);
        Assert.Equal([TokenEventKind.Revoked], events.Select(e => e.Kind));
    }

    [Fact]
    public async Task Revoke_OwnDetachWebhookProcessedAfterTheRevoke_OneRevokedNoDetachedAtGateway()
    {
        var token = (await server.Server.Client.TokenizeCardAsync(Requests.Card("4242424242424242", Requests.NewKey(), "cust-revoke-after"))).Token.Token_;

        await server.Server.Admin.RevokeTokenAsync(new RevokeTokenRequest { Token = token, IdempotencyKey = Requests.NewKey() });
        var detachEvent = await TokenEventsOf.WaitForProcessedAsync(server, "payment_method.detached", token);
        var events = await TokenEventsOf.ListAsync(server.Server.Finance, token);

        Assert.NotNull(detachEvent);
        Assert.Equal([TokenEventKind.Revoked], events.Select(e => e.Kind));
    }

    [Fact]
    public async Task Revoke_AfterDetachBehindOurBack_NoChangeOnlyDetachedAtGateway()
    {
        // A token detached at Stripe is already revoked in the ledger: revoking it changes nothing, so no second final event.
        var token = (await server.Server.Client.TokenizeCardAsync(Requests.Card("4242424242424242", Requests.NewKey(), "cust-revoke-afterdetach"))).Token.Token_;
        await new Stripe.PaymentMethodService(server.SandboxClient()).DetachAsync(token);
        var detachEvent = await TokenEventsOf.WaitForProcessedAsync(server, "payment_method.detached", token);

        await server.Server.Admin.RevokeTokenAsync(new RevokeTokenRequest { Token = token, IdempotencyKey = Requests.NewKey() });
        var events = await TokenEventsOf.ListAsync(server.Server.Finance, token);
        var status = (await server.Ledger.Tokens.GetTokenAsync(token, CancellationToken.None))!.Status;

        Assert.NotNull(detachEvent);
        Assert.Equal(Core.Domain.TokenStatus.Revoked, status);
        Assert.Equal([TokenEventKind.DetachedAtGateway], events.Select(e => e.Kind));
    }

    [Fact]
    public async Task SetupIntentCanceledAtStripe_RequiresActionToken_OneSetupFailedCanceledWithoutGetToken()
    {
        // A billing team (or the Dashboard, or Stripe) cancels a 3-D Secure setup the customer never completed: Stripe
        // sends setup_intent.canceled, never setup_intent.setup_failed. Nothing here calls GetToken (whose refresh would
        // find the cancel by itself): the event alone must tell the billing service.
        var tokenized = await TokenizeThreeDSecureAsync("cust-seti-canceled");
        var canceled = await new Stripe.SetupIntentService(server.SandboxClient()).CancelAsync(tokenized.Setup.SetupIntent);

        var cancelEvent = await TokenEventsOf.WaitForProcessedAsync(server, "setup_intent.canceled", tokenized.Setup.SetupIntent);
        var events = await TokenEventsOf.ListAsync(server.Server.Finance, tokenized.Token_);
        var ledger = (await server.Ledger.Tokens.GetTokenAsync(tokenized.Token_, CancellationToken.None))!;

        // The control: the token really was waiting for the customer, and Stripe's SetupIntent really is canceled.
        Assert.Equal(SetupStatus.RequiresAction, tokenized.Setup.Status);
        Assert.Equal("canceled", canceled.Status);
        Assert.NotNull(cancelEvent);
        Assert.Equal([TokenEventKind.SetupFailed], events.Select(e => e.Kind));
        Assert.Equal((Core.Domain.SetupStatus.Failed, "canceled", Core.Domain.TokenStatus.Active), (ledger.Setup.Status, ledger.Setup.FailureCode, ledger.Status));
    }

    [Fact]
    public async Task Revoke_RequiresActionToken_OwnCancelWebhookProcessedBeforeTheRevokeCommits_OnlyRevoked()
    {
        // The revoke cancels the token's SetupIntent itself: the setup_intent.canceled that causes is the revoke's own,
        // so the token's one event is revoked (never a setup_failed before it), even when processed before the commit.
        var tokenized = await TokenizeThreeDSecureAsync("cust-revoke-3ds");
        var settings = server.Server.App.Services.GetRequiredService<TokenizationSettings>();
        string? processedBeforeCommit = null;
        Core.Domain.TokenStatus? ledgerWhileHeld = null;
        settings.FailPoint = name =>
        {
            if (name == FailPoints.AfterGatewaySuccess)
            {
                processedBeforeCommit = TokenEventsOf.WaitForProcessedAsync(server, "setup_intent.canceled", tokenized.Setup.SetupIntent).GetAwaiter().GetResult();
                ledgerWhileHeld = server.Ledger.Tokens.GetTokenAsync(tokenized.Token_, CancellationToken.None).GetAwaiter().GetResult()?.Status;
            }
        };
        try
        {
            await server.Server.Admin.RevokeTokenAsync(new RevokeTokenRequest { Token = tokenized.Token_, IdempotencyKey = Requests.NewKey() });
        }
        finally
        {
            settings.FailPoint = null;
        }

        var events = await TokenEventsOf.ListAsync(server.Server.Finance, tokenized.Token_);
        var ledger = (await server.Ledger.Tokens.GetTokenAsync(tokenized.Token_, CancellationToken.None))!;

        // The control: the cancel's webhook really was processed while the token was still active in the ledger.
        Assert.Equal(SetupStatus.RequiresAction, tokenized.Setup.Status);
        Assert.NotNull(processedBeforeCommit);
        Assert.Equal(Core.Domain.TokenStatus.Active, ledgerWhileHeld);
        Assert.Equal([TokenEventKind.Revoked], events.Select(e => e.Kind));
        Assert.Equal((Core.Domain.SetupStatus.Failed, "canceled", Core.Domain.TokenStatus.Revoked), (ledger.Setup.Status, ledger.Setup.FailureCode, ledger.Status));
    }

    [Fact]
    public async Task DetachBehindOurBack_DeliveredBySandbox_OneDetachedAtGateway()
    {
        // The control of the two above: a detach nobody here asked for is still reported as one.
        var token = (await server.Server.Client.TokenizeCardAsync(Requests.Card("4242424242424242", Requests.NewKey(), "cust-revoke-foreign"))).Token.Token_;

        await new Stripe.PaymentMethodService(server.SandboxClient()).DetachAsync(token);
        var detachEvent = await TokenEventsOf.WaitForProcessedAsync(server, "payment_method.detached", token);
        var events = await TokenEventsOf.ListAsync(server.Server.Finance, token);

        Assert.NotNull(detachEvent);
        Assert.Equal([TokenEventKind.DetachedAtGateway], events.Select(e => e.Kind));
    }

    /// <summary>A 3-D Secure card (4000 0025 0000 3155) with a return_url: issued REQUIRES_ACTION, not attached.</summary>
    private async Task<Token> TokenizeThreeDSecureAsync(string customer)
    {
        var request = Requests.Card("4000002500003155", Requests.NewKey(), customer);
        request.ReturnUrl = "https://billing.example.com/3ds/done";
        return (await server.Server.Client.TokenizeCardAsync(request)).Token;
    }
}

/// <summary>
/// Events delivered again, or reporting what the ledger already holds: one token event per change of ledger state, never
/// one per delivery. Signed events are posted here (the sandbox's own deliveries are dropped so they cannot interleave).
/// </summary>
public sealed class WebhookNoChangeTests : IClassFixture<WebhookServer>
{
    private readonly WebhookServer server;

    public WebhookNoChangeTests(WebhookServer server)
    {
        this.server = server;
        server.Server.Sandbox.Webhooks.SetMode(StripeSandbox.Webhooks.SandboxWebhookMode.Drop);
    }

    [Fact]
    public async Task CardUpdated_SameMaskedDetailsDeliveredAgain_OneEventUntilTheCardReallyChanges()
    {
        var token = (await server.Server.Client.TokenizeCardAsync(Requests.Card("4242424242424242", Requests.NewKey(), "cust-nochange-card"))).Token.Token_;
        var paymentMethods = new Stripe.PaymentMethodService(server.SandboxClient());
        await paymentMethods.UpdateAsync(token, new Stripe.PaymentMethodUpdateOptions { Card = new Stripe.PaymentMethodCardOptions { ExpMonth = 3, ExpYear = 2032 } });

        await PostAsync("payment_method.automatically_updated", token);
        await PostAsync("payment_method.updated", token);
        await PostAsync("payment_method.updated", token);
        var repeated = await TokenEventsOf.ListAsync(server.Server.Finance, token);
        // The control: a real change afterwards is an event again.
        await paymentMethods.UpdateAsync(token, new Stripe.PaymentMethodUpdateOptions { Card = new Stripe.PaymentMethodCardOptions { ExpMonth = 5, ExpYear = 2033 } });
        await PostAsync("payment_method.updated", token);
        var changed = await TokenEventsOf.ListAsync(server.Server.Finance, token);

        Assert.Equal([(TokenEventKind.CardUpdated, 3, 2032)], repeated.Select(e => (e.Kind, e.Card.ExpMonth, e.Card.ExpYear)));
        Assert.Equal([(TokenEventKind.CardUpdated, 3, 2032), (TokenEventKind.CardUpdated, 5, 2033)], changed.Select(e => (e.Kind, e.Card.ExpMonth, e.Card.ExpYear)));
    }

    [Fact]
    public async Task SetupIntentSucceeded_TokenReadyAtIssue_NoEvent()
    {
        var tokenized = (await server.Server.Client.TokenizeCardAsync(Requests.Card("4242424242424242", Requests.NewKey(), "cust-nochange-ready"))).Token;

        await PostAsync("setup_intent.succeeded", tokenized.Setup.SetupIntent);
        await PostAsync("setup_intent.setup_failed", tokenized.Setup.SetupIntent);
        var events = await TokenEventsOf.ListAsync(server.Server.Finance, tokenized.Token_);

        Assert.Equal(SetupStatus.Ready, tokenized.Setup.Status);
        Assert.Empty(events);
    }

    [Fact]
    public async Task SetupIntentSucceeded_VerifiedLaterThenDeliveredAgain_OneSetupSucceeded()
    {
        // The control of the test above: a setup that completes after issue is one event, however often it is reported.
        var tokenized = (await server.Server.Client.TokenizeBankAccountAsync(Requests.Ach(Requests.NewKey(), customer: "cust-nochange-ach"))).Token;
        using (var http = new HttpClient())
        using (var form = new FormUrlEncodedContent([new("amount1", "32"), new KeyValuePair<string, string>("amount2", "45")]))
        {
            using var verified = await http.PostAsync(new Uri(tokenized.Setup.NextAction.Url), form);
        }

        await PostAsync("setup_intent.succeeded", tokenized.Setup.SetupIntent);
        await PostAsync("setup_intent.succeeded", tokenized.Setup.SetupIntent);
        await PostAsync("setup_intent.setup_failed", tokenized.Setup.SetupIntent);
        var events = await TokenEventsOf.ListAsync(server.Server.Finance, tokenized.Token_);

        Assert.Equal(SetupStatus.RequiresAction, tokenized.Setup.Status);
        Assert.Equal([TokenEventKind.SetupSucceeded], events.Select(e => e.Kind));
    }

    [Fact]
    public async Task MandateUpdated_InactiveReportedAgain_OneMandateInactive()
    {
        var tokenized = (await server.Server.Client.TokenizeBankAccountAsync(Requests.Becs(Requests.NewKey(), customer: "cust-nochange-becs"))).Token;
        server.Server.Sandbox.DeactivateMandate(tokenized.Mandate.Id);

        await PostAsync("mandate.updated", tokenized.Mandate.Id);
        await PostAsync("mandate.updated", tokenized.Mandate.Id);
        var events = await TokenEventsOf.ListAsync(server.Server.Finance, tokenized.Token_);

        Assert.Equal([TokenEventKind.MandateInactive], events.Select(e => e.Kind));
    }

    [Fact]
    public async Task PaymentMethodDetached_AlreadyRevoked_OneDetachedAtGateway()
    {
        var token = (await server.Server.Client.TokenizeCardAsync(Requests.Card("4242424242424242", Requests.NewKey(), "cust-nochange-detach"))).Token.Token_;
        await new Stripe.PaymentMethodService(server.SandboxClient()).DetachAsync(token);

        await PostAsync("payment_method.detached", token);
        await PostAsync("payment_method.detached", token);
        await PostAsync("payment_method.updated", token);
        var events = await TokenEventsOf.ListAsync(server.Server.Finance, token);

        Assert.Equal([TokenEventKind.DetachedAtGateway], events.Select(e => e.Kind));
    }

    /// <summary>Posts a signed event of <paramref name="type"/> about <paramref name="objectId"/> and waits until it is processed.</summary>
    private async Task PostAsync(string type, string objectId)
    {
        var id = WebhookServer.NewEventId();
        var status = await server.PostSignedAsync(WebhookServer.Event(id, type, "{\"id\":\"" + objectId + "\"}"));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(WebhookState.Processed, await server.WaitProcessedAsync(id));
    }
}

/// <summary>
/// Each token gets exactly one final event: an event about a token processed after its final one (a card update or
/// a setup's completion delivered late, or retried after a failure, once the Customer was deleted) appends nothing and
/// leaves the revoked token as it was. Signed events are posted here in the late order (the sandbox's own deliveries
/// dropped); the sandbox holds the state each reads.
/// </summary>
public sealed class WebhookAfterFinalEventTests : IClassFixture<WebhookServer>
{
    private readonly WebhookServer server;

    public WebhookAfterFinalEventTests(WebhookServer server)
    {
        this.server = server;
        server.Server.Sandbox.Webhooks.SetMode(StripeSandbox.Webhooks.SandboxWebhookMode.Drop);
    }

    [Fact]
    public async Task CardUpdatedAfterCustomerDeleted_NoEventAfterTheFinalOneAndTheCardStaysAsItWas()
    {
        var token = (await server.Server.Client.TokenizeCardAsync(Requests.Card("4242424242424242", Requests.NewKey(), "cust-final-card"))).Token.Token_;
        var control = (await server.Server.Client.TokenizeCardAsync(Requests.Card("4242424242424242", Requests.NewKey(), "cust-final-card-control"))).Token.Token_;
        server.Server.Sandbox.UpdateCardAutomatically(token, expMonth: 9, expYear: 2031, last4: "1881");
        server.Server.Sandbox.UpdateCardAutomatically(control, expMonth: 9, expYear: 2031, last4: "1881");
        var customer = await DeleteCustomerAsync(token);

        await PostAsync("payment_method.automatically_updated", token);
        // The control: the same late delivery for an active token is its card_updated.
        await PostAsync("payment_method.automatically_updated", control);
        var events = await TokenEventsOf.ListAsync(server.Server.Finance, token);
        var controlEvents = await TokenEventsOf.ListAsync(server.Server.Finance, control);
        var stored = (await server.Ledger.Tokens.GetTokenAsync(token, CancellationToken.None))!;

        Assert.Equal([TokenEventKind.CustomerDeleted], events.Select(e => e.Kind));
        Assert.Equal([(TokenEventKind.CardUpdated, "1881")], controlEvents.Select(e => (e.Kind, e.Card.Last4)));
        Assert.Equal((Core.Domain.TokenStatus.Revoked, "4242", 12, 2030), (stored.Status, stored.Card!.Last4, stored.Card.ExpMonth, stored.Card.ExpYear));
        Assert.StartsWith("cus_", customer, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SetupSucceededAndMandateInactiveAfterCustomerDeleted_NoEventAfterTheFinalOne()
    {
        // An ACH token verified at Stripe while the setup's webhooks were still on their way, then its Customer deleted.
        var tokenized = (await server.Server.Client.TokenizeBankAccountAsync(Requests.Ach(Requests.NewKey(), customer: "cust-final-ach"))).Token;
        using (var http = new HttpClient())
        using (var form = new FormUrlEncodedContent([new("amount1", "32"), new KeyValuePair<string, string>("amount2", "45")]))
        {
            using var verified = await http.PostAsync(new Uri(tokenized.Setup.NextAction.Url), form);
        }

        var mandate = (await server.Ledger.Tokens.GetTokenAsync(tokenized.Token_, CancellationToken.None))!.Mandate!.Id;
        server.Server.Sandbox.DeactivateMandate(mandate);
        await DeleteCustomerAsync(tokenized.Token_);
        // The control: what the late events read at Stripe really differs from the ledger (so today's code records it).
        var setupAtStripe = await new Stripe.SetupIntentService(server.SandboxClient()).GetAsync(tokenized.Setup.SetupIntent);
        var mandateAtStripe = await new Stripe.MandateService(server.SandboxClient()).GetAsync(mandate);

        await PostAsync("setup_intent.succeeded", tokenized.Setup.SetupIntent);
        await PostAsync("mandate.updated", mandate);
        var events = await TokenEventsOf.ListAsync(server.Server.Finance, tokenized.Token_);
        var stored = (await server.Ledger.Tokens.GetTokenAsync(tokenized.Token_, CancellationToken.None))!;

        Assert.Equal(SetupStatus.RequiresAction, tokenized.Setup.Status);
        Assert.Equal(("succeeded", "inactive"), (setupAtStripe.Status, mandateAtStripe.Status));
        Assert.Equal([TokenEventKind.CustomerDeleted], events.Select(e => e.Kind));
        Assert.Equal(Core.Domain.TokenStatus.Revoked, stored.Status);
        Assert.Equal(Core.Domain.SetupStatus.RequiresAction, stored.Setup.Status);
    }

    /// <summary>Deletes the token's Stripe Customer at the sandbox and processes its customer.deleted; returns the cus_ id.</summary>
    private async Task<string> DeleteCustomerAsync(string token)
    {
        var customer = (await server.Ledger.Tokens.GetTokenAsync(token, CancellationToken.None))!.GatewayCustomerId!;
        await new Stripe.CustomerService(server.SandboxClient()).DeleteAsync(customer);
        var id = WebhookServer.NewEventId();
        Assert.Equal(HttpStatusCode.OK, await server.PostSignedAsync(WebhookServer.Event(id, "customer.deleted", "{\"id\":\"" + customer + "\",\"object\":\"customer\",\"deleted\":true}")));
        Assert.Equal(WebhookState.Processed, await server.WaitProcessedAsync(id));
        Assert.Equal([TokenEventKind.CustomerDeleted], (await TokenEventsOf.ListAsync(server.Server.Finance, token)).Select(e => e.Kind));
        return customer;
    }

    /// <summary>Posts a signed event of <paramref name="type"/> about <paramref name="objectId"/> and waits until it is processed.</summary>
    private async Task PostAsync(string type, string objectId)
    {
        var id = WebhookServer.NewEventId();
        Assert.Equal(HttpStatusCode.OK, await server.PostSignedAsync(WebhookServer.Event(id, type, "{\"id\":\"" + objectId + "\"}")));
        Assert.Equal(WebhookState.Processed, await server.WaitProcessedAsync(id));
    }
}

/// <summary>A signed event whose ids hold a card number: refused before anything of it is stored.</summary>
public sealed class WebhookCardDataInIdsTests(WebhookServer server) : IClassFixture<WebhookServer>
{
    [Fact]
    public async Task SignedEvent_PanInEventIdOrObjectId_400AndNoTraceInTheLedgerFiles()
    {
        server.Server.Sandbox.Webhooks.SetMode(StripeSandbox.Webhooks.SandboxWebhookMode.Drop);
        var token = (await server.Server.Client.TokenizeCardAsync(Requests.Card("4242424242424242", Requests.NewKey(), "cust-pan-ids"))).Token.Token_;

        var panInId = await server.PostSignedAsync(WebhookServer.Event("evt_4111111111111111", "payment_method.updated", "{\"id\":\"" + token + "\"}"));
        var panInObject = await server.PostSignedAsync(WebhookServer.Event(WebhookServer.NewEventId(), "payment_method.detached", "{\"id\":\"pm_5555555555554444\"}"));
        // The control: an ordinary event right after is stored, and the byte search finds its id in the same files.
        var control = WebhookServer.NewEventId();
        var controlStatus = await server.PostSignedAsync(WebhookServer.Event(control, "payment_method.updated", "{\"id\":\"" + token + "\"}"));
        await server.WaitProcessedAsync(control);
        var files = LedgerFiles();

        Assert.Equal((HttpStatusCode.BadRequest, HttpStatusCode.BadRequest, HttpStatusCode.OK), (panInId, panInObject, controlStatus));
        Assert.True(files.Any(f => Contains(f, control)), "the control event id is in no ledger file: the search looks in the wrong place");
        Assert.DoesNotContain(files, f => Contains(f, "4111111111111111"));
        Assert.DoesNotContain(files, f => Contains(f, "5555555555554444"));
    }

    private List<byte[]> LedgerFiles()
    {
        var ledger = Path.Combine(server.Server.DataDirectory, "ledger", "tokenizer.db");
        var files = new List<byte[]>();
        foreach (var path in new[] { ledger, ledger + "-wal" })
        {
            if (File.Exists(path))
            {
                using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                using var copy = new MemoryStream();
                stream.CopyTo(copy);
                files.Add(copy.ToArray());
            }
        }

        return files;
    }

    private static bool Contains(byte[] file, string text) => file.AsSpan().IndexOf(Encoding.ASCII.GetBytes(text)) >= 0;
}
