using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using Grpc.Core;
using Microsoft.Data.Sqlite;
using Npgsql;
using Tokenizer.Contracts.V1;
using Tokenizer.SecurityTests;
using Tokenizer.Server.Security;
using Tokenizer.StripeSandbox;
using Tokenizer.StripeSandbox.Faults;

namespace Tokenizer.IntegrationTests;

/// <summary>
/// The webhook inbox against real process deaths and real replicas: server processes (the dll scripts/run.sh starts)
/// with their webhook listeners on real HTTPS ports, one sandbox in this process standing in for Stripe (it outlives the
/// servers, as Stripe does), real SQLite, and real PostgreSQL for the replicas. Events are signed here with the
/// endpoint secret, as Stripe signs them.
/// </summary>
public sealed class WebhookCrashAndReplicaTests
{
    private const string EventType = "payment_method.automatically_updated";

    [Fact]
    public async Task KilledAfterAcknowledgingBeforeProcessing_EventProcessedOnceAfterRestart()
    {
        var directory = Directory.CreateTempSubdirectory("tokenizer-webhook-kill-").FullName;
        try
        {
            await using var stripe = await StripeSandboxServer.StartAsync(new StripeSandboxOptions(), "Development");
            var secret = NewSecret();
            var (variables, args) = Settings(stripe, secret);
            var eventId = NewEventId();
            string token;
            await using (var doomed = await ServerProcess.StartAsync(directory, "Development", variables, args))
            {
                token = (await doomed.Client.TokenizeCardAsync(Requests.Card("4242424242424242", Requests.NewKey(), month: 12, year: 2030))).Token.Token_;
                stripe.UpdateCardAutomatically(token, 4, 2033, "1881");
                // Stripe holds the worker's read of the PaymentMethod: the event is acknowledged and claimed, not processed.
                var read = "GET /v1/payment_methods/" + token;
                stripe.Faults.Add(read, SandboxFault.Hang(TimeSpan.FromMinutes(2)));

                var acknowledged = await doomed.PostWebhookAsync(Event(eventId, token), secret);
                var held = await Polling.EventuallyAsync(() => stripe.Requests.Snapshot(read).Any(r => r.Outcome == SandboxRequestOutcome.InProgress));
                doomed.Kill();

                Assert.Equal(HttpStatusCode.OK, acknowledged);
                Assert.True(held, "the worker never read the PaymentMethod:\n" + doomed.Output);
            }

            // The control: the process died with the event acknowledged and stored, claimed once, unprocessed.
            Assert.Equal(("pending", 1L, 12L), InboxRowAndExpiry(directory, eventId, token));

            await using (var restarted = await ServerProcess.StartAsync(directory, "Development", variables, args))
            {
                var finance = new TokenizerService.TokenizerServiceClient(TestChannels.Create(restarted.Address, Path.Combine(directory, "pki"), "finance"));
                var updated = await Polling.EventuallyAsync(
                    async () => (await finance.GetTokenAsync(new GetTokenRequest { Token = token })).Token.Card.ExpYear == 2033);
                var events = await TokenEventsAsync(finance, token);
                var audit = await AuditAsync(TestChannels.Create(restarted.Address, Path.Combine(directory, "pki"), "admin"), eventId);

                Assert.True(updated, "the event was not processed after the restart:\n" + restarted.Output);
                var card = Assert.Single(events, e => e.Kind == TokenEventKind.CardUpdated).Card;
                Assert.Equal((4, 2033, "1881"), (card.ExpMonth, card.ExpYear, card.Last4));
                Assert.Equal(("stripe", "success"), (Assert.Single(audit).CallerId, audit[0].Outcome));
            }

            Assert.Equal(("processed", 2L, 4L), InboxRowAndExpiry(directory, eventId, token));
        }
        finally
        {
            TokenizerServerFixture.TryDelete(directory);
        }
    }

    [Fact]
    public async Task TwoReplicasOnPostgres_EveryEventDeliveredToBoth_EachProcessedExactlyOnce()
    {
        await using var database = await ThrowawayPostgresDatabase.CreateAsync("tkz_webhooks_");
        var root = Directory.CreateTempSubdirectory("tokenizer-webhook-replicas-").FullName;

        try
        {
            await using var stripe = await StripeSandboxServer.StartAsync(new StripeSandboxOptions(), "Development");
            var pki = Path.Combine(root, "a", "pki");
            DevelopmentPki.EnsureCreated(pki, TimeProvider.System);
            ReplicaTests.CopyDirectory(pki, Path.Combine(root, "b", "pki"));
            var secret = NewSecret();
            var (variables, args) = Settings(stripe, secret);
            variables["Tokenizer__RequestHmacSecret"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
            variables["Tokenizer__AuditHmacSecret"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
            variables["ConnectionStrings__Ledger"] = database.ConnectionString;
            var (certificate, key) = ReplicaTests.DataProtectionCertificate(root);
            string[] replicaArgs =
            [
                .. args,
                "--Ledger:Provider=Postgres",
                $"--Tokenizer:Tls:CertificatePath={Path.Combine(pki, "server.crt")}",
                $"--Tokenizer:Tls:KeyPath={Path.Combine(pki, "server.key")}",
                $"--Tokenizer:Tls:ClientCaPath={Path.Combine(pki, "ca.crt")}",
                $"--Tokenizer:DataProtection:CertificatePath={certificate}",
                $"--Tokenizer:DataProtection:CertificateKeyPath={key}",
            ];

            await using var a = await ServerProcess.StartAsync(Path.Combine(root, "a"), "Development", variables, replicaArgs);
            await using var b = await ServerProcess.StartAsync(Path.Combine(root, "b"), "Development", variables, replicaArgs);
            var replicas = new[] { a, b };
            var tokens = new List<string>();
            for (var i = 0; i < 5; i++)
            {
                var replica = i % 2 == 0 ? a : b;
                tokens.Add((await replica.Client.TokenizeCardAsync(Requests.Card("4242424242424242", Requests.NewKey(), customer: "cust-webhook-replicas"))).Token.Token_);
            }

            var events = tokens.Select(t => (Token: t, EventId: NewEventId())).ToList();
            foreach (var (token, _) in events)
            {
                stripe.UpdateCardAutomatically(token, 7, 2034, "0005");
            }

            // Each event to both replicas at once, twice: Stripe retries a delivery it thinks failed, and a load balancer
            // may send the retry to the other replica.
            var posts = events.SelectMany(e => Enumerable.Range(0, 4).Select(n => replicas[n % 2].PostWebhookAsync(Event(e.EventId, e.Token), secret)));
            var statuses = await Task.WhenAll(posts);

            var finance = new TokenizerService.TokenizerServiceClient(TestChannels.Create(b.Address, pki, "finance"));
            var allUpdated = await Polling.EventuallyAsync(
                async () =>
                {
                    foreach (var token in tokens)
                    {
                        if ((await finance.GetTokenAsync(new GetTokenRequest { Token = token })).Token.Card.ExpYear != 2034)
                        {
                            return false;
                        }
                    }

                    return true;
                });
            // A second processing would come after the first: give the other replica's worker time to make one (its poll
            // is 100 ms, a lost lease 5 s).
            await Task.Delay(TimeSpan.FromSeconds(7));
            var tokenEvents = await TokenEventsAsync(finance, null);
            var audit = await AuditAsync(TestChannels.Create(a.Address, pki, "admin"), null);

            Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s));
            Assert.True(allUpdated, "not every event was processed:\n" + a.Output + "\n" + b.Output);
            foreach (var (token, eventId) in events)
            {
                Assert.Single(tokenEvents, e => e.Token == token && e.Kind == TokenEventKind.CardUpdated);
                // Every processing writes its audit record (the token event is unique per event id, so it alone would
                // hide a second processing): one record, one processing.
                Assert.Single(audit, e => e.CorrelationId == eventId);
            }

            using var inbox = NpgsqlDataSource.Create(database.ConnectionString);
            await using var count = inbox.CreateCommand("SELECT count(*) FROM webhook_inbox WHERE state = 'processed'");
            Assert.Equal(5L, (long)(await count.ExecuteScalarAsync())!);
        }
        finally
        {
            TokenizerServerFixture.TryDelete(root);
        }
    }

    /// <summary>The environment and arguments of a server on <paramref name="stripe"/> with its webhook listener on.</summary>
    private static (Dictionary<string, string> Variables, string[] Args) Settings(StripeSandboxServer stripe, string secret) => (
        new Dictionary<string, string>
        {
            ["Stripe__ApiKey"] = "sk_test_webhook_" + RandomNumberGenerator.GetHexString(16, lowercase: true),
            // The environment, not the command line (which the server refuses for a secret).
            ["Tokenizer__Webhooks__Secrets__0"] = secret,
        },
        [
            $"--Stripe:ApiBase={stripe.BaseAddress.ToString().TrimEnd('/')}",
            "--Tokenizer:Webhooks:Urls=https://127.0.0.1:0",
            "--Tokenizer:Webhooks:LeaseSeconds=5",
            "--Tokenizer:Webhooks:PollMilliseconds=100",
            "--Tokenizer:Webhooks:CatchUpIntervalSeconds=0",
        ]);

    private static string NewSecret() => "whsec_" + RandomNumberGenerator.GetHexString(40, lowercase: true);

    // Letters only: a random hex id can hold a digit run the audit text scrubber reads as a card number (and masks).
    private static string NewEventId() => "evt_test" + RandomNumberGenerator.GetString("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", 24);

    private static string Event(string id, string paymentMethod) =>
        "{\"id\":\"" + id + "\",\"object\":\"event\",\"api_version\":\"2026-10-28.endive\",\"created\":"
        + DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)
        + ",\"livemode\":false,\"pending_webhooks\":1,\"request\":{\"id\":null,\"idempotency_key\":null},\"type\":\"" + EventType
        + "\",\"data\":{\"object\":{\"id\":\"" + paymentMethod + "\",\"object\":\"payment_method\"}}}";

    /// <summary>The inbox row's state and attempts, and the token's expiry month, as the ledger file holds them.</summary>
    private static (string State, long Attempts, long ExpMonth) InboxRowAndExpiry(string directory, string eventId, string token)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(directory, "ledger", "tokenizer.db"),
            Pooling = false,
        }.ToString());
        connection.Open();
        using var inbox = connection.CreateCommand();
        inbox.CommandText = "SELECT state, attempts FROM webhook_inbox WHERE event_id = $id";
        inbox.Parameters.AddWithValue("$id", eventId);
        using var row = inbox.ExecuteReader();
        Assert.True(row.Read(), "the event is not in the inbox");
        using var card = connection.CreateCommand();
        card.CommandText = "SELECT exp_month FROM tokens WHERE token = $token";
        card.Parameters.AddWithValue("$token", token);
        return (row.GetString(0), row.GetInt64(1), (long)card.ExecuteScalar()!);
    }

    private static async Task<List<TokenEvent>> TokenEventsAsync(TokenizerService.TokenizerServiceClient finance, string? token)
    {
        var events = new List<TokenEvent>();
        var cursor = string.Empty;
        while (true)
        {
            var page = await finance.ListTokenEventsAsync(new ListTokenEventsRequest { After = cursor, PageSize = 500 });
            events.AddRange(page.Events.Where(e => token is null || e.Token == token));
            if (page.Events.Count == 0 || string.IsNullOrEmpty(page.NextCursor))
            {
                return events;
            }

            cursor = page.NextCursor;
        }
    }

    private static async Task<List<AuditEvent>> AuditAsync(Grpc.Net.Client.GrpcChannel admin, string? correlationId)
    {
        var events = new List<AuditEvent>();
        using var export = new AuditService.AuditServiceClient(admin).ExportAuditEvents(new ExportAuditEventsRequest());
        await foreach (var response in export.ResponseStream.ReadAllAsync())
        {
            if (response.Event.Action == "stripe.webhook/" + EventType && (correlationId is null || response.Event.CorrelationId == correlationId))
            {
                events.Add(response.Event);
            }
        }

        return events;
    }
}
