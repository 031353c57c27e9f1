using Microsoft.Extensions.DependencyInjection;
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

    private static string PaymentMethod(string id) => "{\"id\":\"" + id + "\",\"object\":\"payment_method\"}";

    private static bool FailureLogged(WebhookServer server, string eventId) =>
        server.Server.Logs.Lines.Any(l => l.Contains(eventId, StringComparison.Ordinal) && l.Contains("WebhookEventFailed", StringComparison.Ordinal));
}
