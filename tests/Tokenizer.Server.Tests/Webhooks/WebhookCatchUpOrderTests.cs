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
/// The catch-up worker on a real SQLite ledger, with Stripe's GET /v1/events (newest first, paged by
/// <c>starting_after</c>) answered by a stub handler over Stripe.net's real HTTP client: a pass adds its events to the
/// inbox oldest first, and within one <c>created</c> second in the list's order reversed, whatever order the ids sort in.
/// The inbox's claim order (<see cref="RelationalWebhookStore.ClaimAsync"/>) is the order the events are processed in.
/// </summary>
public sealed class WebhookCatchUpOrderTests : IDisposable
{
    private const string Letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

    private readonly string directory = Directory.CreateTempSubdirectory("tokenizer-catchup-order-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public async Task RunOnce_OneTokensEventsOfOneSecondIdsSortingAgainstTheirOrder_AddedInTheOrderTheyHappened()
    {
        // Arrange: the 3-D Secure completed, then the card was updated, in one second. Stripe lists the update first
        // (newest first); its id also sorts first, so an order by id would report the update before the setup.
        var created = DateTimeOffset.UtcNow.AddSeconds(-10).ToUnixTimeSeconds();
        var list = new[]
        {
            new Listed("evt_AcardUpdatedLater", "payment_method.automatically_updated", created, "pm_token"),
            new Listed("evt_BsetupSucceededFirst", "setup_intent.succeeded", created, "seti_token"),
        };

        // Act
        var claimed = await CatchUpAndClaimAsync("single", list);

        // Assert: the control is the list itself, whose id order is the wrong one.
        Assert.Equal(list.Select(e => e.Id).Order(StringComparer.Ordinal), list.Select(e => e.Id));
        Assert.Equal(["evt_BsetupSucceededFirst", "evt_AcardUpdatedLater"], claimed);
    }

    [Fact]
    public async Task RunOnce_ThreePagesOfOneSecondIdsAscendingInListOrder_LastPagesLastEventAddedFirst()
    {
        // Arrange: 250 events of one second listed newest first over three pages of 100 (Stripe.net follows
        // starting_after); ids ascend along the list, so an order by id is the list's (newest first) order.
        var created = DateTimeOffset.UtcNow.AddSeconds(-10).ToUnixTimeSeconds();
        var list = Enumerable.Range(0, 250)
            .Select(i => new Listed($"evt_list{i:D3}", "payment_method.automatically_updated", created, $"pm_token{i:D3}"))
            .ToList();

        // Act
        var claimed = await CatchUpAndClaimAsync("pages", list);

        // Assert: oldest first is the whole list reversed: the third page's last event first.
        Assert.Equal(250, claimed.Count);
        Assert.Equal("evt_list249", claimed[0]);
        Assert.Equal(list.Select(e => e.Id).Reverse(), claimed);
    }

    [Fact]
    public async Task RunOnce_AnyEventsOfFewSecondsWithRandomIdsOverPages_AddedOldestFirstInListOrderReversed()
    {
        // Arrange: the events as they happened (oldest first), of up to three seconds (created has whole seconds, so
        // ties are common), with random letter ids; Stripe lists them newest first, up to three pages of 100.
        var happened = Gen.Select(Gen.Int[0, 2], Gen.String[Gen.Char[Letters], 20, 20]).Array[1, 230];
        var now = DateTimeOffset.UtcNow.AddSeconds(-10).ToUnixTimeSeconds();
        var sample = 0;

        // Act + Assert
        await happened.SampleAsync(
            async events =>
            {
                var inOrder = events
                    .DistinctBy(e => e.Item2)
                    .OrderBy(e => e.Item1)
                    .Select(e => new Listed("evt_" + e.Item2, "payment_method.automatically_updated", now - 2 + e.Item1, "pm_" + e.Item2))
                    .ToList();
                var list = Enumerable.Reverse(inOrder).ToList();

                var claimed = await CatchUpAndClaimAsync("sample" + Interlocked.Increment(ref sample), list);

                Assert.Equal(inOrder.Select(e => e.Id), claimed);
            },
            iter: 25,
            threads: 1);
    }

    private static string Page(IEnumerable<Listed> events, bool hasMore) =>
        "{\"object\":\"list\",\"url\":\"/v1/events\",\"has_more\":" + (hasMore ? "true" : "false") + ",\"data\":["
        + string.Join(',', events.Select(e =>
            "{\"id\":\"" + e.Id + "\",\"object\":\"event\",\"api_version\":\"2026-10-28.endive\",\"created\":" + e.Created
            + ",\"livemode\":false,\"pending_webhooks\":0,\"type\":\"" + e.Type + "\",\"data\":{\"object\":{\"id\":\""
            + e.ObjectId + "\",\"object\":\"payment_method\",\"type\":\"card\"}}}"))
        + "]}";

    /// <summary>Runs one catch-up pass over <paramref name="list"/> (newest first) on a new ledger; returns the inbox's claim order.</summary>
    private async Task<List<string>> CatchUpAndClaimAsync(string name, IReadOnlyList<Listed> list)
    {
        var now = DateTimeOffset.UtcNow;
        using var ledger = new SqliteTokenLedger(new SqliteLedgerOptions { DatabasePath = Path.Combine(directory, name + ".db") }, TimeProvider.System, NullLogger<SqliteTokenLedger>.Instance);
        await ledger.InitializeAsync(CancellationToken.None);
        var store = new RelationalWebhookStore(ledger);
        await store.AdvanceCatchUpAsync(now.AddMinutes(-1), now, CancellationToken.None);
        using var http = new HttpClient(new EventsHandler(list));
        var client = StripeClientFactory.Create(new StripeGatewayOptions { ApiKey = "sk_test_catchup", ApiBase = "http://stripe.test", MaxNetworkRetries = 0 }, http);
        using var meters = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var options = Options.Create(new WebhookOptions());
        using var refusals = new WebhookRefusalAudit(Substitute.For<IAuditTrail>(), options, TimeProvider.System, NullLogger<WebhookRefusalAudit>.Instance);
        using var services = new ServiceCollection()
            .AddSingleton(store)
            .AddSingleton(new StripeTokenGateway(client, new FixedStripeApiKey("sk_test_catchup"), NullLogger<StripeTokenGateway>.Instance))
            .AddSingleton(new WebhookMetrics(meters.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()))
            .AddSingleton(refusals)
            .BuildServiceProvider();
        using var signal = new WebhookSignal();
        var worker = new WebhookCatchUpWorker(services, options, signal, TimeProvider.System, NullLogger<WebhookCatchUpWorker>.Instance);

        var added = await worker.RunOnceAsync(CancellationToken.None);
        var claims = await store.ClaimAsync("order-test", now, TimeSpan.FromMinutes(5), list.Count + 10, CancellationToken.None);

        // Every listed event was added once (none refused, none held back): the order compared is the whole pass.
        Assert.Equal(list.Count, added);
        return claims.Select(c => c.Event.EventId).ToList();
    }

    private sealed record Listed(string Id, string Type, long Created, string ObjectId);

    /// <summary>Answers GET /v1/events as Stripe does: the list newest first, <c>limit</c> per page, after <c>starting_after</c>.</summary>
    private sealed class EventsHandler(IReadOnlyList<Listed> list) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var query = (request.RequestUri?.Query ?? string.Empty).TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries)
                .Select(p => p.Split('=', 2))
                .ToDictionary(p => Uri.UnescapeDataString(p[0]), p => p.Length > 1 ? Uri.UnescapeDataString(p[1]) : string.Empty);
            var limit = query.TryGetValue("limit", out var text) ? int.Parse(text, System.Globalization.CultureInfo.InvariantCulture) : 10;
            var start = query.TryGetValue("starting_after", out var after) ? list.ToList().FindIndex(e => e.Id == after) + 1 : 0;
            var page = list.Skip(start).Take(limit).ToList();
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK)
            {
                Content = new StringContent(Page(page, start + page.Count < list.Count), Encoding.UTF8, "application/json"),
            });
        }
    }
}
