using System.Diagnostics.Metrics;
using System.Net;
using System.Text;
using CsCheck;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using NSubstitute;
using Tokenizer.Core.Audit;
using Tokenizer.Gateways.Stripe;
using Tokenizer.Ledger;
using Tokenizer.Ledger.Webhooks;
using Tokenizer.Server.Webhooks;

namespace Tokenizer.Server.Tests.Webhooks;

/// <summary>
/// The catch-up position never lies ahead of the clock (an event with a far-future <c>created</c> cannot switch the
/// catch-up off), on a real SQLite ledger with Stripe's GET /v1/events answered by a stub; and ids holding a long digit
/// run are refused.
/// </summary>
public sealed class WebhookClockAndIdTests : IDisposable
{
    private const string Base62 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

    private readonly string directory = Directory.CreateTempSubdirectory("tokenizer-catchup-clock-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public async Task RunOnce_InboxHoldsFarFutureEvent_ListsFromNowAndCursorNotPastNow()
    {
        var now = DateTimeOffset.UtcNow;
        var (store, ledger) = await StoreAsync();
        using var ledgerOwner = ledger;
        await store.AdvanceCatchUpAsync(now.AddMinutes(-1), now, CancellationToken.None);
        await store.AddAsync(new WebhookEvent("evt_farfuture", "payment_method.updated", DateTimeOffset.FromUnixTimeSeconds(253402300799), "pm_x"), WebhookSource.Delivery, now, CancellationToken.None);
        // A day ahead (Stripe.net reads a created above 5e9 as milliseconds, so a year-9999 one cannot come this way).
        // A day ahead: Stripe.net reads a created above 5e9 as milliseconds, so a year-9999 one cannot come this way.
        var handler = new EventsHandler(Page(Event("evt_listedfuture", "pm_ordinary", now.AddDays(1).ToUnixTimeSeconds()), Event("evt_ordinary", "pm_ordinary", now.ToUnixTimeSeconds())));

        var added = await RunOnceAsync(store, handler);
        var from = handler.CreatedFrom();
        var position = await store.CatchUpPositionAsync(CancellationToken.None);

        Assert.False(await store.ContainsAsync("evt_listedfuture", CancellationToken.None));
        Assert.InRange(from, now.ToUnixTimeSeconds() - 400, now.ToUnixTimeSeconds());
        Assert.Equal(1, added);
        Assert.InRange(from, now.ToUnixTimeSeconds() - 400, now.ToUnixTimeSeconds());
        Assert.True(await store.ContainsAsync("evt_ordinary", CancellationToken.None));

        // The cursor itself stays within the clock's tolerance (the inbox's planted row is what the position still reads).
        Assert.NotNull(position);
        var second = new EventsHandler(Page());
        await RunOnceAsync(store, second);
        Assert.InRange(second.CreatedFrom(), now.ToUnixTimeSeconds() - 400, DateTimeOffset.UtcNow.ToUnixTimeSeconds());
    }

    [Fact]
    public async Task RunOnce_OrdinaryPosition_ListsFromPositionLessOverlap()
    {
        // The control: an ordinary position is used as it is.
        var now = DateTimeOffset.UtcNow;
        var (store, ledger) = await StoreAsync();
        using var ledgerOwner = ledger;
        await store.AdvanceCatchUpAsync(now.AddMinutes(-30), now, CancellationToken.None);
        var handler = new EventsHandler(Page(Event("evt_ordinary", "pm_ordinary", now.ToUnixTimeSeconds())));

        var added = await RunOnceAsync(store, handler);

        Assert.Equal(1, added);
        Assert.Equal(now.AddMinutes(-30).ToUnixTimeSeconds() - new WebhookOptions().CatchUpOverlapSeconds, handler.CreatedFrom());
    }

    [Fact]
    public void HoldsCardData_IdWithRunOfEightOrMoreDigits_True_SevenFalse()
    {
        var letters = Gen.String[Gen.Char["abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"], 0, 12];
        var run = Gen.Int[8, 11].SelectMany(length => Gen.Char['0', '9'].Array[length]).Select(d => new string(d));
        Gen.Select(letters, run, letters).Sample((before, digits, after) =>
            Assert.True(WebhookReceiver.HoldsCardData(new WebhookEvent("evt_ordinary", "mandate.updated", DateTimeOffset.UnixEpoch, "mandate_" + before + digits + after))));

        // The control: seven digits in a row (never a card or account number the detector knows) pass.
        var seven = Gen.Char['0', '9'].Array[7].Select(d => new string(d));
        Gen.Select(letters, seven, letters).Sample((before, digits, after) =>
            Assert.False(WebhookReceiver.HoldsCardData(new WebhookEvent("evt_ordinary", "mandate.updated", DateTimeOffset.UnixEpoch, "mandate_" + before + digits + "x" + after))));
        Assert.True(WebhookReceiver.HoldsCardData(new WebhookEvent("evt_ordinary", "mandate.updated", DateTimeOffset.UnixEpoch, "mandate_000123456789")));
    }

    [Fact]
    public void HoldsCardData_RandomStripeShapedIds_RefusedAtMostOnceInTenThousand()
    {
        // Stripe's ids: a prefix and 24 random base62 characters. 8 digits in a row come about once in 10^5 ids.
        const int Samples = 200_000;
        var refused = 0;
        var id = Gen.Select(Gen.OneOfConst("evt_", "pm_", "seti_", "mandate_", "cus_"), Gen.Char[Base62].Array[24]).Select((prefix, chars) => prefix + new string(chars));
        id.Sample(
            text =>
            {
                if (WebhookReceiver.HoldsCardData(new WebhookEvent("evt_ordinary", "payment_method.updated", DateTimeOffset.UnixEpoch, text)))
                {
                    Interlocked.Increment(ref refused);
                }
            },
            iter: Samples);

        Assert.InRange(refused, 0, Samples / 10_000);
    }

    private async Task<(RelationalWebhookStore Store, SqliteTokenLedger Ledger)> StoreAsync()
    {
        var ledger = new SqliteTokenLedger(new SqliteLedgerOptions { DatabasePath = Path.Combine(directory, "ledger.db") }, TimeProvider.System, NullLogger<SqliteTokenLedger>.Instance);
        await ledger.InitializeAsync(CancellationToken.None);
        return (new RelationalWebhookStore(ledger), ledger);
    }

    private static async Task<int> RunOnceAsync(RelationalWebhookStore store, EventsHandler handler)
    {
        using var http = new HttpClient(handler, disposeHandler: false);
        var client = StripeClientFactory.Create(new StripeGatewayOptions { ApiKey = "sk_test_catchup", ApiBase = "http://stripe.test", MaxNetworkRetries = 0 }, http);
        var trail = Substitute.For<IAuditTrail>();
        using var meters = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var options = Options.Create(new WebhookOptions());
        using var refusals = new WebhookRefusalAudit(trail, options, TimeProvider.System, NullLogger<WebhookRefusalAudit>.Instance);
        using var services = new ServiceCollection()
            .AddSingleton(store)
            .AddSingleton(new StripeTokenGateway(client, new FixedStripeApiKey("sk_test_catchup"), NullLogger<StripeTokenGateway>.Instance))
            .AddSingleton(new WebhookMetrics(meters.GetRequiredService<IMeterFactory>()))
            .AddSingleton(refusals)
            .BuildServiceProvider();
        using var signal = new WebhookSignal();
        var worker = new WebhookCatchUpWorker(services, options, signal, TimeProvider.System, NullLogger<WebhookCatchUpWorker>.Instance);
        return await worker.RunOnceAsync(CancellationToken.None);
    }

    private static string Page(params string[] events) =>
        "{\"object\":\"list\",\"url\":\"/v1/events\",\"has_more\":false,\"data\":[" + string.Join(",", events) + "]}";

    private static string Event(string id, string objectId, long created) =>
        "{\"id\":\"" + id + "\",\"object\":\"event\",\"api_version\":\"2026-10-28.endive\",\"created\":" + created
        + ",\"livemode\":false,\"pending_webhooks\":0,\"type\":\"payment_method.updated\",\"data\":{\"object\":{\"id\":\""
        + objectId + "\",\"object\":\"payment_method\",\"type\":\"card\"}}}";

    /// <summary>Answers every request with one page of Stripe's event list, and keeps the first request's query.</summary>
    private sealed class EventsHandler(string page) : HttpMessageHandler
    {
        private string? query;

        /// <summary>The first request's <c>created[gte]</c> (unix seconds).</summary>
        public long CreatedFrom()
        {
            var decoded = Uri.UnescapeDataString(query ?? string.Empty);
            var start = decoded.IndexOf("created[gte]=", StringComparison.Ordinal) + "created[gte]=".Length;
            var end = decoded.IndexOf('&', start);
            return long.Parse(end < 0 ? decoded[start..] : decoded[start..end], System.Globalization.CultureInfo.InvariantCulture);
        }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            query ??= request.RequestUri!.Query;
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(page, Encoding.UTF8, "application/json") });
        }
    }
}
