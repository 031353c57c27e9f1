using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Tokenizer.Contracts.V1;
using Tokenizer.Ledger.Webhooks;
using Tokenizer.StripeSandbox.Faults;

namespace Tokenizer.IntegrationTests;

/// <summary>
/// A hanging Stripe read holds up only its own event (and later events on the same token), never the independent events
/// behind it: the real server, the embedded sandbox over real HTTP with a hang fault, signed events to the real listener.
/// </summary>
public sealed class WebhookConcurrencyTests
{
    [Fact]
    public async Task StripeReadHangs_IndependentEventBehindItProcessed_SameTokenEventWaitsItsTurn()
    {
        // The default lease (60 s): the hanging event's attempt lasts until the gateway's total timeout (25 s), far longer
        // than the independent event needs.
        var server = new WebhookServer("--Tokenizer:Webhooks:LeaseSeconds=60");
        await server.InitializeAsync();
        try
        {
            server.Server.Sandbox.Webhooks.SetMode(StripeSandbox.Webhooks.SandboxWebhookMode.Drop);
            var client = server.Server.Client;
            var stuck = (await client.TokenizeCardAsync(Requests.Card("4242424242424242", Requests.NewKey()))).Token;
            var other = (await client.TokenizeCardAsync(Requests.Card("5555555555554444", Requests.NewKey()))).Token;
            var get = "GET /v1/payment_methods/" + stuck.Token_;
            server.Server.Sandbox.Faults.Add(get, SandboxFault.Hang(TimeSpan.FromMinutes(2)), count: SandboxFaultRule.Unlimited);
            var hung = WebhookServer.NewEventId();
            var sameToken = WebhookServer.NewEventId();
            var behind = WebhookServer.NewEventId();

            // The first event is claimed and its Stripe read hangs; then one for the same token, then an independent one.
            await server.PostSignedAsync(WebhookServer.Event(hung, "payment_method.automatically_updated", PaymentMethod(stuck.Token_)));
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (DateTime.UtcNow < deadline && server.Server.Sandbox.Requests.Snapshot(get).Count == 0)
            {
                await Task.Delay(50);
            }

            await server.PostSignedAsync(WebhookServer.Event(sameToken, "payment_method.updated", PaymentMethod(stuck.Token_)));
            await server.PostSignedAsync(WebhookServer.Event(behind, "payment_method.automatically_updated", PaymentMethod(other.Token_)));

            // Bounded wait: until the independent event is done, or the hanging event's first attempt has ended (its
            // failure is logged), whichever comes first.
            while (DateTime.UtcNow < deadline
                && (await server.Store.FindAsync(behind, CancellationToken.None))?.State == WebhookState.Pending
                && !FailureLogged(server, hung))
            {
                await Task.Delay(50);
            }

            var behindState = (await server.Store.FindAsync(behind, CancellationToken.None))?.State;
            var hungEnded = FailureLogged(server, hung);
            var same = await server.Store.FindAsync(sameToken, CancellationToken.None);

            Assert.Equal(WebhookState.Processed, behindState);
            Assert.False(hungEnded, "the independent event waited until the hanging event's attempt ended");

            // The event on the same token has not run beside the hanging one: it waits its turn.
            Assert.Equal(WebhookState.Pending, same?.State);
        }
        finally
        {
            server.Server.Sandbox.Faults.Clear();
            await server.DisposeAsync();
        }
    }

    /// <summary>
    /// An event that waited too long for its turn is handed back and claimed again; claimed again, it still waits for
    /// the earlier event on its token that is still running. Lease 30 s: an event has 5 s to start. The first event's
    /// first Stripe read hangs until the gateway's attempt timeout (10 s), its retry answers; so the second event is
    /// handed back at least once while the first is still running.
    /// </summary>
    [Fact]
    public async Task SameTokenEventHandedBackAndClaimedAgain_StillWaitsForTheRunningOne()
    {
        var server = new WebhookServer("--Tokenizer:Webhooks:LeaseSeconds=30");
        await server.InitializeAsync();

        // The hand-back is counted as result "deferred" (tokenizer.webhook.processed): the path under test did run.
        var meter = server.Server.App.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>().Create(new System.Diagnostics.Metrics.MeterOptions(Core.Telemetry.TokenizerMetrics.MeterName));
        var deferred = 0;
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter == meter && instrument.Name == "tokenizer.webhook.processed")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            var isUpdated = false;
            var isDeferred = false;
            foreach (var tag in tags)
            {
                isUpdated |= tag.Key == "type" && (tag.Value as string) == "payment_method.updated";
                isDeferred |= tag.Key == "result" && (tag.Value as string) == "deferred";
            }

            if (isUpdated && isDeferred)
            {
                Interlocked.Increment(ref deferred);
            }
        });
        listener.Start();
        try
        {
            server.Server.Sandbox.Webhooks.SetMode(StripeSandbox.Webhooks.SandboxWebhookMode.Drop);
            var token = (await server.Server.Client.TokenizeCardAsync(Requests.Card("4242424242424242", Requests.NewKey()))).Token;
            var get = "GET /v1/payment_methods/" + token.Token_;
            server.Server.Sandbox.Faults.Add(get, SandboxFault.Hang(TimeSpan.FromMinutes(2)), count: 1);
            var first = WebhookServer.NewEventId();
            var second = WebhookServer.NewEventId();

            await server.PostSignedAsync(WebhookServer.Event(first, "payment_method.automatically_updated", PaymentMethod(token.Token_)));
            var deadline = DateTime.UtcNow.AddSeconds(90);
            while (DateTime.UtcNow < deadline && server.Server.Sandbox.Requests.Snapshot(get).Count == 0)
            {
                await Task.Delay(50);
            }

            await server.PostSignedAsync(WebhookServer.Event(second, "payment_method.updated", PaymentMethod(token.Token_)));

            // Bounded wait until both are processed; at every look, the second must not be done while the first is not.
            var ranBeside = false;
            WebhookState? firstState = null, secondState = null;
            while (DateTime.UtcNow < deadline && !(firstState == WebhookState.Processed && secondState == WebhookState.Processed))
            {
                firstState = (await server.Store.FindAsync(first, CancellationToken.None))?.State;
                var found = await server.Store.FindAsync(second, CancellationToken.None);
                secondState = found?.State;
                ranBeside |= secondState == WebhookState.Processed && firstState != WebhookState.Processed;
                await Task.Delay(50);
            }

            Assert.True(Volatile.Read(ref deferred) > 0, "the second event was never handed back: the case under test did not happen");
            Assert.Equal(WebhookState.Processed, firstState);
            Assert.Equal(WebhookState.Processed, secondState);
            Assert.False(ranBeside, "the second event on the token finished while the first was still running");
        }
        finally
        {
            server.Server.Sandbox.Faults.Clear();
            await server.DisposeAsync();
        }
    }

    /// <summary>
    /// The order of a token's events survives a hand-back. E1 (a payment method update on token X) hangs on its Stripe
    /// read; E2 (setup_intent.succeeded for X's SetupIntent) waits behind it; E3 (payment_method.detached for X) is claimed
    /// while E2 waits; E2's wait runs out and it is handed back and claimed again; then E1's read ends. E2 must run before
    /// E3: the billing service sees <c>setup_succeeded</c> and then <c>detached_at_gateway</c>. (Before the fix, E2 was
    /// claimed again behind E3: E3 revoked the token first, E2 then changed nothing, and <c>setup_succeeded</c> was never
    /// reported.) Lease 60 s: an event has 10 s to start; E3 comes about halfway through E2's wait, so E3's own wait has
    /// about 5 s left when E2 is claimed again, and the test ends E1's read at that moment (SandboxFaultPlan.EndHolds),
    /// long before the gateway's own timeout (25 s) would.
    /// </summary>
    [Fact]
    public async Task OlderEventHandedBackWhileNewerWaitsOnItsToken_ClaimedAgainItStillRunsFirst_SetupSucceededBeforeDetached()
    {
        var server = new WebhookServer("--Tokenizer:Webhooks:LeaseSeconds=60");
        await server.InitializeAsync();
        using var deferred = new DeferredCounter(server, "setup_intent.succeeded");
        try
        {
            server.Server.Sandbox.Webhooks.SetMode(StripeSandbox.Webhooks.SandboxWebhookMode.Drop);
            var token = (await server.Server.Client.TokenizeBankAccountAsync(Requests.Ach(Requests.NewKey(), customer: "cust-order-handback"))).Token;
            var x = token.Token_;
            var get = "GET /v1/payment_methods/" + x;
            server.Server.Sandbox.Faults.Add(get, SandboxFault.Hang(TimeSpan.FromMinutes(2)), count: SandboxFaultRule.Unlimited);
            var e1 = WebhookServer.NewEventId();
            var e2 = WebhookServer.NewEventId();
            var e3 = WebhookServer.NewEventId();

            // E1: claimed, its read of X hangs.
            await server.PostSignedAsync(WebhookServer.Event(e1, "payment_method.updated", PaymentMethod(x)));
            Assert.True(await Polling.EventuallyAsync(() => server.Server.Sandbox.Requests.Snapshot(get).Count > 0), "E1 never read X");

            // E2: the setup completes at Stripe (microdeposits verified), and its event waits behind E1.
            using (var http = new HttpClient())
            using (var form = new FormUrlEncodedContent([new("amount1", "32"), new KeyValuePair<string, string>("amount2", "45")]))
            {
                using var verified = await http.PostAsync(new Uri(token.Setup.NextAction.Url), form);
                Assert.True(verified.IsSuccessStatusCode, "the sandbox did not verify the microdeposits");
            }

            await server.PostSignedAsync(WebhookServer.Event(e2, "setup_intent.succeeded", SetupIntent(token.Setup.SetupIntent)));
            long? firstClaim = null;
            Assert.True(await Polling.EventuallyAsync(() => (firstClaim = ClaimedAt(server, e2)) is not null), "E2 was never claimed");

            // E3: X is detached at Stripe about halfway through E2's wait, and its event is claimed behind E1 and E2.
            await Task.Delay(TimeSpan.FromSeconds(5));
            await new Stripe.PaymentMethodService(server.SandboxClient()).DetachAsync(x);
            await server.PostSignedAsync(WebhookServer.Event(e3, "payment_method.detached", PaymentMethod(x)));
            Assert.True(await Polling.EventuallyAsync(() => ClaimedAt(server, e3) is not null), "E3 was never claimed");

            // E2 is handed back and claimed again while E1 still hangs; then E1's read ends and the waiting events run.
            Assert.True(await Polling.EventuallyAsync(() => deferred.Count > 0), "E2 was never handed back: the case under test did not happen");
            Assert.True(await Polling.EventuallyAsync(() => ClaimedAt(server, e2) is { } again && again != firstClaim), "E2 was never claimed again");
            server.Server.Sandbox.Faults.Clear();
            server.Server.Sandbox.Faults.EndHolds();
            var done = await Polling.EventuallyAsync(async () =>
                (await server.Store.FindAsync(e2, CancellationToken.None))?.State == WebhookState.Processed
                && (await server.Store.FindAsync(e3, CancellationToken.None))?.State == WebhookState.Processed);
            var events = await TokenEventsOf.ListAsync(server.Server.Finance, x);

            Assert.True(done, "E2 and E3 were not both processed");
            Assert.Equal([TokenEventKind.SetupSucceeded, TokenEventKind.DetachedAtGateway], events.Select(e => e.Kind));
        }
        finally
        {
            server.Server.Sandbox.Faults.Clear();
            server.Server.Sandbox.Faults.EndHolds();
            await server.DisposeAsync();
        }
    }

    /// <summary>
    /// An older event delivered late still runs before a newer one on its token that was claimed first and is waiting:
    /// the newer one gives way (is handed back at once) and is claimed again behind it. E1 hangs on its read of X; E3
    /// (payment_method.detached, created now) waits behind it; then E2 (setup_intent.succeeded, created 30 s earlier)
    /// arrives. Lease 60 s: E3's own wait would run out only after 10 s; the test waits at most 5 s for E3 to give way,
    /// then ends E1's read. Without the give-way, E3 runs first (control: remove it from WebhookWorker and this fails with
    /// only <c>detached_at_gateway</c>).
    /// </summary>
    [Fact]
    public async Task OlderEventDeliveredLateWhileNewerWaitsOnItsToken_NewerGivesWay_SetupSucceededBeforeDetached()
    {
        var server = new WebhookServer("--Tokenizer:Webhooks:LeaseSeconds=60");
        await server.InitializeAsync();
        using var deferred = new DeferredCounter(server, "payment_method.detached");
        try
        {
            server.Server.Sandbox.Webhooks.SetMode(StripeSandbox.Webhooks.SandboxWebhookMode.Drop);
            var token = (await server.Server.Client.TokenizeBankAccountAsync(Requests.Ach(Requests.NewKey(), customer: "cust-order-late"))).Token;
            var x = token.Token_;
            var get = "GET /v1/payment_methods/" + x;
            server.Server.Sandbox.Faults.Add(get, SandboxFault.Hang(TimeSpan.FromMinutes(2)), count: SandboxFaultRule.Unlimited);
            var e1 = WebhookServer.NewEventId();
            var e2 = WebhookServer.NewEventId();
            var e3 = WebhookServer.NewEventId();
            using (var http = new HttpClient())
            using (var form = new FormUrlEncodedContent([new("amount1", "32"), new KeyValuePair<string, string>("amount2", "45")]))
            {
                using var verified = await http.PostAsync(new Uri(token.Setup.NextAction.Url), form);
                Assert.True(verified.IsSuccessStatusCode, "the sandbox did not verify the microdeposits");
            }

            await new Stripe.PaymentMethodService(server.SandboxClient()).DetachAsync(x);
            var now = DateTimeOffset.UtcNow;

            await server.PostSignedAsync(WebhookServer.Event(e1, "payment_method.updated", PaymentMethod(x), now));
            Assert.True(await Polling.EventuallyAsync(() => server.Server.Sandbox.Requests.Snapshot(get).Count > 0), "E1 never read X");
            await server.PostSignedAsync(WebhookServer.Event(e3, "payment_method.detached", PaymentMethod(x), now));
            Assert.True(await Polling.EventuallyAsync(() => ClaimedAt(server, e3) is not null), "E3 was never claimed");
            await server.PostSignedAsync(WebhookServer.Event(e2, "setup_intent.succeeded", SetupIntent(token.Setup.SetupIntent), now.AddSeconds(-30)));
            Assert.True(await Polling.EventuallyAsync(() => ClaimedAt(server, e2) is not null), "E2 was never claimed");

            // Bounded (5 s, half of E3's own start deadline): with the give-way, E3 is handed back at once.
            var until = DateTime.UtcNow.AddSeconds(5);
            while (deferred.Count == 0 && DateTime.UtcNow < until)
            {
                await Task.Delay(50);
            }

            server.Server.Sandbox.Faults.Clear();
            server.Server.Sandbox.Faults.EndHolds();
            var done = await Polling.EventuallyAsync(async () =>
                (await server.Store.FindAsync(e2, CancellationToken.None))?.State == WebhookState.Processed
                && (await server.Store.FindAsync(e3, CancellationToken.None))?.State == WebhookState.Processed);
            var events = await TokenEventsOf.ListAsync(server.Server.Finance, x);

            Assert.True(done, "E2 and E3 were not both processed");
            Assert.Equal([TokenEventKind.SetupSucceeded, TokenEventKind.DetachedAtGateway], events.Select(e => e.Kind));
        }
        finally
        {
            server.Server.Sandbox.Faults.Clear();
            server.Server.Sandbox.Faults.EndHolds();
            await server.DisposeAsync();
        }
    }

    private static string SetupIntent(string id) => "{\"id\":\"" + id + "\",\"object\":\"setup_intent\"}";

    /// <summary>When the worker's current claim on <paramref name="eventId"/> began (unix microseconds), or null when unclaimed.</summary>
    private static long? ClaimedAt(WebhookServer server, string eventId)
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(server.Server.DataDirectory, "ledger", "tokenizer.db")};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var select = connection.CreateCommand();
        select.CommandText = "SELECT claimed_at FROM webhook_inbox WHERE event_id = @id";
        select.Parameters.AddWithValue("@id", eventId);
        return select.ExecuteScalar() is long value ? value : null;
    }

    private static string PaymentMethod(string id) => "{\"id\":\"" + id + "\",\"object\":\"payment_method\"}";

    private static bool FailureLogged(WebhookServer server, string eventId) =>
        server.Server.Logs.Lines.Any(l => l.Contains(eventId, StringComparison.Ordinal) && l.Contains("WebhookEventFailed", StringComparison.Ordinal));
}

/// <summary>Counts the hand-backs of events of one type: result <c>deferred</c> of <c>tokenizer.webhook.processed</c>.</summary>
internal sealed class DeferredCounter : IDisposable
{
    private readonly System.Diagnostics.Metrics.MeterListener listener = new();
    private int count;

    public DeferredCounter(WebhookServer server, string type)
    {
        var meter = server.Server.App.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>().Create(new System.Diagnostics.Metrics.MeterOptions(Core.Telemetry.TokenizerMetrics.MeterName));
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter == meter && instrument.Name == "tokenizer.webhook.processed")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            var ofType = false;
            var isDeferred = false;
            foreach (var tag in tags)
            {
                ofType |= tag.Key == "type" && (tag.Value as string) == type;
                isDeferred |= tag.Key == "result" && (tag.Value as string) == "deferred";
            }

            if (ofType && isDeferred)
            {
                Interlocked.Increment(ref count);
            }
        });
        listener.Start();
    }

    public int Count => Volatile.Read(ref count);

    public void Dispose() => listener.Dispose();
}
