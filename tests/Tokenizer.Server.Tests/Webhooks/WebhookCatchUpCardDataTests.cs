using System.Diagnostics.Metrics;
using CsCheck;
using System.Net;
using System.Text;
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
/// The catch-up worker on a real SQLite ledger, with Stripe's GET /v1/events answered by a stub handler: a listed event
/// whose id or object id holds a card number is never stored, counted and audited in aggregate, as the listener refuses
/// such a delivery.
/// </summary>
public sealed class WebhookCatchUpCardDataTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("tokenizer-catchup-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public async Task RunOnce_ListedEventsWithPanInIds_NotStoredCountedAudited_OrdinaryEventStored()
    {
        var now = DateTimeOffset.UtcNow;
        using var ledger = new SqliteTokenLedger(new SqliteLedgerOptions { DatabasePath = Path.Combine(directory, "ledger.db") }, TimeProvider.System, NullLogger<SqliteTokenLedger>.Instance);
        await ledger.InitializeAsync(CancellationToken.None);
        var store = new RelationalWebhookStore(ledger);
        await store.AdvanceCatchUpAsync(now.AddMinutes(-1), now, CancellationToken.None);
        var created = now.ToUnixTimeSeconds();
        using var http = new HttpClient(new EventsHandler(
            "{\"object\":\"list\",\"url\":\"/v1/events\",\"has_more\":false,\"data\":["
            + Event("evt_4111111111111111", "pm_ordinary", created) + ","
            + Event("evt_objectholdspan", "pm_5555555555554444", created) + ","
            + Event("evt_ordinary", "pm_ordinary", created) + "]}"));
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
        long refusedCount = 0;
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Name == "tokenizer.webhook.catchup.refused")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref refusedCount, value));
        listener.Start();

        var added = await worker.RunOnceAsync(CancellationToken.None);
        await refusals.FlushAsync();
        var bytes = await File.ReadAllBytesAsync(Path.Combine(directory, "ledger.db"));
        var wal = File.Exists(Path.Combine(directory, "ledger.db-wal")) ? await File.ReadAllBytesAsync(Path.Combine(directory, "ledger.db-wal")) : [];

        // The control: the ordinary event is stored (and its id found by the same byte search).
        Assert.Equal(1, added);
        Assert.True(await store.ContainsAsync("evt_ordinary", CancellationToken.None));
        Assert.True(Holds(bytes, "evt_ordinary") || Holds(wal, "evt_ordinary"));
        Assert.False(await store.ContainsAsync("evt_4111111111111111", CancellationToken.None));
        Assert.False(await store.ContainsAsync("evt_objectholdspan", CancellationToken.None));
        Assert.False(Holds(bytes, "4111111111111111") || Holds(wal, "4111111111111111"));
        Assert.False(Holds(bytes, "5555555555554444") || Holds(wal, "5555555555554444"));
        Assert.Equal(2, Interlocked.Read(ref refusedCount));
        await trail.Received(1).AppendAsync(
            Arg.Is<AuditEvent>(e => e.ReasonCode == WebhookReasons.CardData && e.CorrelationId == "aggregate;count=2"),
            Arg.Any<CancellationToken>());
    }

    [Fact]
    public void HoldsCardData_AnyLuhnValidPanInsideAnIdOfAnyShape_True_LetterIdsFalse()
    {
        var letters = Gen.String[Gen.Char["abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"], 0, 12];
        var pan = Gen.Int[12, 19].SelectMany(length => Gen.Char['0', '9'].Array[length - 1]).Select(WithLuhnDigit);
        var field = Gen.Int[0, 2];
        Gen.Select(letters, pan, letters, field).Sample((before, number, after, where) =>
        {
            var id = before + number + after;
            var webhookEvent = where switch
            {
                0 => new WebhookEvent("evt_" + id, "payment_method.updated", DateTimeOffset.UnixEpoch, "pm_ordinary"),
                1 => new WebhookEvent("evt_ordinary", "payment_method.updated", DateTimeOffset.UnixEpoch, "pm_" + id),
                _ => new WebhookEvent("evt_ordinary", "x." + id, DateTimeOffset.UnixEpoch, null),
            };
            Assert.True(WebhookReceiver.HoldsCardData(webhookEvent));
        });

        // The control: Stripe-shaped ids without a digit run are never refused.
        Gen.Select(letters, letters).Sample((eventPart, objectPart) =>
            Assert.False(WebhookReceiver.HoldsCardData(new WebhookEvent("evt_" + eventPart, "setup_intent.succeeded", DateTimeOffset.UnixEpoch, "seti_" + objectPart))));
    }

    private static string WithLuhnDigit(char[] digits)
    {
        var sum = 0;
        for (var i = 0; i < digits.Length; i++)
        {
            var d = digits[digits.Length - 1 - i] - '0';
            if (i % 2 == 0)
            {
                d *= 2;
                d = d > 9 ? d - 9 : d;
            }

            sum += d;
        }

        return new string(digits) + (char)('0' + ((10 - (sum % 10)) % 10));
    }

    private static string Event(string id, string objectId, long created) =>
        "{\"id\":\"" + id + "\",\"object\":\"event\",\"api_version\":\"2026-10-28.endive\",\"created\":" + created
        + ",\"livemode\":false,\"pending_webhooks\":0,\"type\":\"payment_method.updated\",\"data\":{\"object\":{\"id\":\""
        + objectId + "\",\"object\":\"payment_method\",\"type\":\"card\"}}}";

    private static bool Holds(byte[] file, string text) => file.AsSpan().IndexOf(Encoding.ASCII.GetBytes(text)) >= 0;

    /// <summary>Answers every request with one page of Stripe's event list.</summary>
    private sealed class EventsHandler(string page) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(page, Encoding.UTF8, "application/json") });
    }
}

/// <summary>The listener's per-peer partition: IPv4 as it is, IPv6 by its /64.</summary>
public sealed class WebhookRateLimitPeerKeyTests
{
    [Theory]
    [InlineData("203.0.113.7", "203.0.113.7")]
    [InlineData("::ffff:203.0.113.7", "203.0.113.7")]
    [InlineData("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64")]
    [InlineData("2001:db8:1:2::1", "2001:db8:1:2::/64")]
    [InlineData("2001:db8:1:3::1", "2001:db8:1:3::/64")]
    public void PeerKey_Address_PartitionOfItsHost(string address, string expected) =>
        Assert.Equal(expected, WebhookRateLimits.PeerKey(System.Net.IPAddress.Parse(address)));

    [Fact]
    public void PeerKey_NoAddress_OnePartition() => Assert.Equal("unknown", WebhookRateLimits.PeerKey(null));
}
