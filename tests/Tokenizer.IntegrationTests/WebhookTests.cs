using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Tokenizer.Core.Audit;
using AuditEvent = Tokenizer.Core.Audit.AuditEvent;
using Tokenizer.Core.Ports;
using Tokenizer.Ledger.Webhooks;
using Tokenizer.Server.Webhooks;

namespace Tokenizer.IntegrationTests;

/// <summary>
/// The real server with its webhook listener on a real HTTPS port (development PKI), the embedded sandbox over real
/// HTTP and a real SQLite ledger. Events are built and signed here (HMAC-SHA256 over "{t}.{body}" with the endpoint
/// secret the host generated), as Stripe would.
/// </summary>
public sealed class WebhookServer : IAsyncLifetime
{
    private HttpClient? http;

    public WebhookServer()
        : this([])
    {
    }

    internal WebhookServer(params string[] extraArgs)
    {
        Server = new TokenizerServerFixture(
            null,
            [
                "--Tokenizer:Webhooks:Urls=https://127.0.0.1:0",
                "--Tokenizer:Webhooks:CatchUpIntervalSeconds=0",
                "--Tokenizer:Webhooks:PollMilliseconds=100",
                // The shortest lease: an attempt that failed on a loaded machine (a gateway timeout) is tried again soon.
                "--Tokenizer:Webhooks:LeaseSeconds=5",
                // A failed event is loud from its second failure (the default is the fifth).
                "--Tokenizer:Webhooks:AlertAfterAttempts=2",
                // A window longer than any test: refusals reach the trail only at shutdown, so the ledger file can be
                // compared byte for byte around each refused delivery.
                "--Tokenizer:Webhooks:RefusalAuditSeconds=3600",
                .. extraArgs,
            ]);
    }

    public TokenizerServerFixture Server { get; }

    public Uri Endpoint => new(Server.App.Services.GetRequiredService<WebhookListener>().Address!, "/stripe/webhook");

    public string Secret => File.ReadAllText(Path.Combine(Server.DataDirectory, "secrets", "stripe-webhook.secret")).Trim();

    public RelationalWebhookStore Store => Server.App.Services.GetRequiredService<RelationalWebhookStore>();

    public Tokenizer.Ledger.RelationalTokenLedger Ledger => Server.App.Services.GetRequiredService<Tokenizer.Ledger.RelationalTokenLedger>();

    public async Task InitializeAsync()
    {
        await Server.InitializeAsync();
        var handler = new SocketsHttpHandler
        {
            SslOptions =
            {
                CertificateChainPolicy = new X509ChainPolicy
                {
                    TrustMode = X509ChainTrustMode.CustomRootTrust,
                    CustomTrustStore = { X509CertificateLoader.LoadCertificateFromFile(Path.Combine(Server.PkiDirectory, "ca.crt")) },
                    RevocationMode = X509RevocationMode.NoCheck,
                },
            },
        };
        http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };
    }

    public async Task DisposeAsync()
    {
        http?.Dispose();
        await Server.DisposeAsync();
    }

    /// <summary>A Stripe Event as JSON: <paramref name="dataObject"/> is the raw JSON of data.object.</summary>
    public static string Event(string id, string type, string dataObject, DateTimeOffset? created = null) =>
        "{\"id\":\"" + id + "\",\"object\":\"event\",\"api_version\":\"2026-10-28.endive\",\"created\":"
        + (created ?? DateTimeOffset.UtcNow).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)
        + ",\"livemode\":false,\"pending_webhooks\":1,\"request\":{\"id\":null,\"idempotency_key\":null},\"type\":\"" + type
        + "\",\"data\":{\"object\":" + dataObject + "}}";

    // Letters only: a random hex id can hold a digit run the audit text scrubber reads as a card number (and masks).
    public static string NewEventId() => "evt_test" + RandomNumberGenerator.GetString("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", 24);

    /// <summary>Stripe's header: t=unix seconds, v1=hex HMAC-SHA256(secret, "{t}.{body}").</summary>
    public static string Sign(string body, string secret, DateTimeOffset? at = null)
    {
        var t = (at ?? DateTimeOffset.UtcNow).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(t + "." + body));
        return $"t={t},v1={Convert.ToHexStringLower(mac)}";
    }

    public async Task<HttpStatusCode> PostAsync(string body, string? signature)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Endpoint) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        // The listener refuses an oversize body by its Content-Length without reading it: with 100-continue the client
        // waits for that answer instead of writing into a connection the server is about to close.
        request.Headers.ExpectContinue = true;
        if (signature is not null)
        {
            request.Headers.TryAddWithoutValidation("Stripe-Signature", signature);
        }

        using var response = await http!.SendAsync(request);
        return response.StatusCode;
    }

    public async Task<HttpStatusCode> SendAsync(HttpMethod method, Uri uri)
    {
        using var request = new HttpRequestMessage(method, uri);
        using var response = await http!.SendAsync(request);
        return response.StatusCode;
    }

    public Task<HttpStatusCode> PostSignedAsync(string body) => PostAsync(body, Sign(body, Secret));

    /// <summary>Sends <paramref name="request"/> as it is; returns the status and the response body's text.</summary>
    public async Task<(HttpStatusCode Status, string Text)> SendRawAsync(HttpRequestMessage request)
    {
        using var response = await http!.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>A Stripe.net client on the embedded sandbox (its per-start key and address): Stripe acting behind our back.</summary>
    public Stripe.StripeClient SandboxClient()
    {
        var sandbox = Server.App.Services.GetRequiredService<Server.Hosting.EmbeddedSandbox>();
        return new Stripe.StripeClient(new Stripe.StripeClientOptions { ApiKey = sandbox.ApiKey, ApiBase = sandbox.BaseAddress.ToString().TrimEnd('/') });
    }

    /// <summary>The audit records of the last ten minutes whose correlation id is <paramref name="eventId"/>.</summary>
    public async Task<List<AuditEvent>> AuditOfAsync(string eventId)
    {
        var reader = Server.App.Services.GetRequiredService<IAuditTrailReader>();
        var records = new List<AuditEvent>();
        await foreach (var record in reader.ReadAsync(DateTimeOffset.UtcNow.AddMinutes(-10), null, CancellationToken.None))
        {
            if (record.Event.CorrelationId == eventId)
            {
                records.Add(record.Event);
            }
        }

        return records;
    }

    /// <summary>SHA-256 over the ledger database file and its write-ahead log: what "byte-identical" compares.</summary>
    public string LedgerBytes()
    {
        var ledger = Path.Combine(Server.DataDirectory, "ledger", "tokenizer.db");
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var path in new[] { ledger, ledger + "-wal" })
        {
            hash.AppendData(Encoding.UTF8.GetBytes(path));
            if (File.Exists(path))
            {
                using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                var buffer = new byte[81920];
                int read;
                while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
                {
                    hash.AppendData(buffer, 0, read);
                }
            }
        }

        return Convert.ToHexString(hash.GetHashAndReset());
    }

    /// <summary>
    /// Waits (bounded: 90 s, several leases, so a retried attempt counts) until the inbox row is no longer pending;
    /// returns its state, or null when absent.
    /// </summary>
    public async Task<WebhookState?> WaitProcessedAsync(string eventId)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            var found = await Store.FindAsync(eventId, CancellationToken.None);
            if (found is null || found.Value.State != WebhookState.Pending || DateTime.UtcNow > deadline)
            {
                return found?.State;
            }

            await Task.Delay(50);
        }
    }

    /// <summary>Waits (bounded) until the ledger's file has been quiet for a moment, then returns its bytes' hash.</summary>
    public async Task<string> QuietLedgerBytesAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        var last = LedgerBytes();
        while (DateTime.UtcNow < deadline)
        {
            await Task.Delay(300);
            var now = LedgerBytes();
            if (now == last)
            {
                return now;
            }

            last = now;
        }

        return last;
    }
}

/// <summary>Bad input to the listener: refused or ignored, nothing stored, the ledger byte-identical.</summary>
public sealed class WebhookListenerTests(WebhookServer server) : IClassFixture<WebhookServer>
{
    private static string SetupIntentObject(string id) => "{\"id\":\"" + id + "\",\"object\":\"setup_intent\",\"status\":\"succeeded\"}";

    [Fact]
    public async Task Post_NoSignature_400LedgerByteIdentical()
    {
        var body = WebhookServer.Event(WebhookServer.NewEventId(), "setup_intent.succeeded", SetupIntentObject("seti_nosig"));
        var before = await server.QuietLedgerBytesAsync();

        var status = await server.PostAsync(body, signature: null);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(before, server.LedgerBytes());
    }

    [Fact]
    public async Task Post_WrongSecret_400LedgerByteIdentical()
    {
        var body = WebhookServer.Event(WebhookServer.NewEventId(), "setup_intent.succeeded", SetupIntentObject("seti_wrong"));
        var before = await server.QuietLedgerBytesAsync();

        var status = await server.PostAsync(body, WebhookServer.Sign(body, "whsec_" + RandomNumberGenerator.GetHexString(40)));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(before, server.LedgerBytes());
    }

    [Fact]
    public async Task Post_TimestampOlderThanTolerance_400LedgerByteIdentical()
    {
        var body = WebhookServer.Event(WebhookServer.NewEventId(), "setup_intent.succeeded", SetupIntentObject("seti_stale"));
        var before = await server.QuietLedgerBytesAsync();

        var status = await server.PostAsync(body, WebhookServer.Sign(body, server.Secret, DateTimeOffset.UtcNow.AddSeconds(-301 - 5)));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(before, server.LedgerBytes());
    }

    [Fact]
    public async Task Post_BodyTamperedAfterSigning_400LedgerByteIdentical()
    {
        var body = WebhookServer.Event(WebhookServer.NewEventId(), "setup_intent.succeeded", SetupIntentObject("seti_tamper"));
        var signature = WebhookServer.Sign(body, server.Secret);
        var before = await server.QuietLedgerBytesAsync();

        var status = await server.PostAsync(body.Replace("seti_tamper", "seti_tampex", StringComparison.Ordinal), signature);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(before, server.LedgerBytes());
    }

    [Fact]
    public async Task Post_OversizeBody_400LedgerByteIdentical()
    {
        var padding = new string('a', WebhookOptions.MaxBodyBytes);
        var body = WebhookServer.Event(WebhookServer.NewEventId(), "setup_intent.succeeded", "{\"id\":\"seti_big\",\"description\":\"" + padding + "\"}");
        var before = await server.QuietLedgerBytesAsync();

        var status = await server.PostSignedAsync(body);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(before, server.LedgerBytes());
    }

    [Fact]
    public async Task Post_OversizeBodyChunked_400NoStackTraceLedgerByteIdentical()
    {
        // No Content-Length: the body is sent chunked, so only Kestrel's limit while reading can stop it.
        var before = await server.QuietLedgerBytesAsync();
        var chunk = Encoding.ASCII.GetBytes(new string('a', 8192));
        using var request = new HttpRequestMessage(HttpMethod.Post, server.Endpoint) { Content = new ChunkedContent(chunk, 12) };
        request.Headers.TransferEncodingChunked = true;
        request.Headers.TryAddWithoutValidation("Stripe-Signature", "t=1,v1=00");

        var (status, text) = await server.SendRawAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.DoesNotContain("Exception", text, StringComparison.Ordinal);
        Assert.Equal(before, server.LedgerBytes());
    }

    [Fact]
    public async Task Post_ChunkedBodyWithinLimit_Accepted()
    {
        // The control of the chunked oversize body: a small signed event sent chunked goes through.
        var id = WebhookServer.NewEventId();
        var body = WebhookServer.Event(id, "invoice.paid", "{\"id\":\"in_chunked\",\"object\":\"invoice\"}");
        using var request = new HttpRequestMessage(HttpMethod.Post, server.Endpoint) { Content = new ChunkedContent(Encoding.UTF8.GetBytes(body), 1) };
        request.Headers.TransferEncodingChunked = true;
        request.Headers.TryAddWithoutValidation("Stripe-Signature", WebhookServer.Sign(body, server.Secret));

        var (status, _) = await server.SendRawAsync(request);

        Assert.Equal(HttpStatusCode.OK, status);
    }

    [Fact]
    public async Task Post_CreatedFarInTheFuture_400NothingStored()
    {
        var id = WebhookServer.NewEventId();
        var body = WebhookServer.Event(id, "setup_intent.succeeded", SetupIntentObject("seti_future"), DateTimeOffset.FromUnixTimeSeconds(253402300799));
        var nearId = WebhookServer.NewEventId();
        var near = WebhookServer.Event(nearId, "setup_intent.succeeded", SetupIntentObject("seti_future"), DateTimeOffset.UtcNow.AddSeconds(360));
        var before = await server.QuietLedgerBytesAsync();

        var status = await server.PostSignedAsync(body);
        var nearStatus = await server.PostSignedAsync(near);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(HttpStatusCode.BadRequest, nearStatus);
        Assert.Equal(before, server.LedgerBytes());
        Assert.Null(await server.Store.FindAsync(id, CancellationToken.None));
    }

    [Fact]
    public async Task Post_CreatedWithinTheClockTolerance_Stored()
    {
        // The control: a sender clock a little ahead (within the signature's tolerance) is still Stripe's.
        var id = WebhookServer.NewEventId();
        var body = WebhookServer.Event(id, "setup_intent.succeeded", SetupIntentObject("seti_nearfuture"), DateTimeOffset.UtcNow.AddSeconds(200));

        var status = await server.PostSignedAsync(body);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.NotNull(await server.Store.FindAsync(id, CancellationToken.None));
    }

    [Fact]
    public async Task Post_ObjectIdHoldingAnAccountNumber_400NothingStored()
    {
        // The README's ACH test account number: no check digit, so only the digit-run rule catches it.
        var id = WebhookServer.NewEventId();
        var body = WebhookServer.Event(id, "mandate.updated", "{\"id\":\"mandate_000123456789\",\"object\":\"mandate\"}");
        var before = await server.QuietLedgerBytesAsync();

        var status = await server.PostSignedAsync(body);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(before, server.LedgerBytes());
        Assert.Null(await server.Store.FindAsync(id, CancellationToken.None));
    }

    [Fact]
    public async Task Post_ObjectIdWithShortDigitRun_Stored()
    {
        // The control: seven digits in a row are still a Stripe-shaped id.
        var id = WebhookServer.NewEventId();
        var body = WebhookServer.Event(id, "mandate.updated", "{\"id\":\"mandate_abc1234567XYZ\",\"object\":\"mandate\"}");

        var status = await server.PostSignedAsync(body);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.NotNull(await server.Store.FindAsync(id, CancellationToken.None));
    }

    [Fact]
    public async Task Post_MalformedJsonValidlySigned_400LedgerByteIdentical()
    {
        var body = "{\"id\":\"" + WebhookServer.NewEventId() + "\",\"type\":\"setup_intent.succeeded\",\"created\":";
        var before = await server.QuietLedgerBytesAsync();

        var status = await server.PostSignedAsync(body);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(before, server.LedgerBytes());
    }

    [Fact]
    public async Task Post_UnknownTypeValidlySigned_200NothingStoredLedgerByteIdentical()
    {
        var id = WebhookServer.NewEventId();
        var body = WebhookServer.Event(id, "invoice.paid", "{\"id\":\"in_123\",\"object\":\"invoice\"}");
        var before = await server.QuietLedgerBytesAsync();

        var status = await server.PostSignedAsync(body);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(before, server.LedgerBytes());
        Assert.Null(await server.Store.FindAsync(id, CancellationToken.None));
    }

    [Fact]
    public async Task Post_ValidEventThenReplay_FirstStoredReplayAcknowledgedLedgerByteIdentical()
    {
        // The control: a valid, signed event of a handled type does change the ledger (its inbox row).
        var id = WebhookServer.NewEventId();
        // An hour old: an event for an object no token holds is ignored at once only when it is no longer young.
        var body = WebhookServer.Event(id, "setup_intent.succeeded", SetupIntentObject("seti_notours"), DateTimeOffset.UtcNow.AddHours(-1));
        var first = await server.QuietLedgerBytesAsync();

        var accepted = await server.PostSignedAsync(body);
        var state = await server.WaitProcessedAsync(id);
        var afterFirst = await server.QuietLedgerBytesAsync();
        var replayed = await server.PostAsync(body, WebhookServer.Sign(body, server.Secret));
        var afterReplay = server.LedgerBytes();

        Assert.Equal(HttpStatusCode.OK, accepted);
        Assert.Equal(WebhookState.Ignored, state);
        Assert.NotEqual(first, afterFirst);
        Assert.Equal(HttpStatusCode.OK, replayed);
        Assert.Equal(afterFirst, afterReplay);
        Assert.Equal(1, (await server.Store.FindAsync(id, CancellationToken.None))!.Value.Attempts);
    }

    [Fact]
    public async Task Post_SignedWithEveryHeaderVariantButNoV1_400()
    {
        var body = WebhookServer.Event(WebhookServer.NewEventId(), "setup_intent.succeeded", SetupIntentObject("seti_v0"));
        var t = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);

        var status = await server.PostAsync(body, $"t={t},v0=" + new string('0', 64));

        Assert.Equal(HttpStatusCode.BadRequest, status);
    }

    [Fact]
    public async Task Post_Refusals_CountedByReasonInTheHostsMetric()
    {
        var factory = server.Server.App.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        var counted = new System.Collections.Concurrent.ConcurrentQueue<(string? Outcome, string? Reason)>();
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, meters) =>
        {
            if (ReferenceEquals(instrument.Meter.Scope, factory) && instrument.Name == "tokenizer.webhook.received")
            {
                meters.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            string? outcome = null, reason = null;
            foreach (var tag in tags)
            {
                outcome = tag.Key == "outcome" ? tag.Value as string : outcome;
                reason = tag.Key == "reason" ? tag.Value as string : reason;
            }

            counted.Enqueue((outcome, reason));
        });
        listener.Start();
        var body = WebhookServer.Event(WebhookServer.NewEventId(), "setup_intent.succeeded", SetupIntentObject("seti_metric"));

        await server.PostAsync(body, signature: null);
        await server.PostAsync(body, WebhookServer.Sign(body, server.Secret, DateTimeOffset.UtcNow.AddHours(-1)));
        await server.PostSignedAsync(WebhookServer.Event(WebhookServer.NewEventId(), "invoice.paid", "{\"id\":\"in_1\"}"));

        Assert.Equal(
            [("refused", "WEBHOOK_SIGNATURE_MISSING"), ("refused", "WEBHOOK_TIMESTAMP_STALE"), ("ignored", "unknown_type")],
            counted.ToArray());
    }

    [Fact]
    public async Task Get_WebhookPath_NotServed()
    {
        var get = await server.SendAsync(HttpMethod.Get, server.Endpoint);
        var other = await server.SendAsync(HttpMethod.Post, new Uri(server.Endpoint, "/other"));

        Assert.Equal(HttpStatusCode.MethodNotAllowed, get);
        Assert.Equal(HttpStatusCode.NotFound, other);
    }
}

/// <summary>Webhook bodies carry billing details: none of it reaches a log line, whatever the delivery's fate.</summary>
public sealed class WebhookLeakTests
{
    [Fact]
    public async Task Deliveries_WithBillingDetails_NothingOfTheBodyInAnyLogLine()
    {
        var server = new WebhookServer();
        await server.InitializeAsync();
        try
        {
            const string Email = "leak-marker-4f1c@example.com";
            const string Name = "Zebulon Leakmarker";
            var pm = "{\"id\":\"pm_leak\",\"object\":\"payment_method\",\"billing_details\":{\"email\":\"" + Email + "\",\"name\":\"" + Name + "\",\"phone\":\"4000056655665556\"}}";
            var id = WebhookServer.NewEventId();
            var valid = WebhookServer.Event(id, "payment_method.updated", pm);
            var statuses = new[]
            {
                await server.PostSignedAsync(valid),
                await server.PostAsync(valid, signature: null),
                await server.PostAsync(valid, WebhookServer.Sign(valid, "whsec_" + RandomNumberGenerator.GetHexString(40))),
                await server.PostSignedAsync(valid[..^3]),
                await server.PostSignedAsync(WebhookServer.Event(WebhookServer.NewEventId(), "charge.succeeded", pm)),
                await server.PostSignedAsync(valid + new string(' ', WebhookOptions.MaxBodyBytes)),
            };
            await server.WaitProcessedAsync(id);
            await server.Server.App.StopAsync();

            Assert.Equal([HttpStatusCode.OK, HttpStatusCode.BadRequest, HttpStatusCode.BadRequest, HttpStatusCode.BadRequest, HttpStatusCode.OK, HttpStatusCode.BadRequest], statuses);
            Assert.NotEmpty(server.Server.Logs.Lines);
            Assert.Contains(server.Server.Logs.Lines, l => l.Contains("Stripe webhook endpoint on", StringComparison.Ordinal));
            Assert.DoesNotContain(server.Server.Logs.Lines, l => l.Contains(Email, StringComparison.Ordinal) || l.Contains("Leakmarker", StringComparison.Ordinal) || l.Contains("4000056655665556", StringComparison.Ordinal));
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task Secret_OnTheCommandLine_StartRefusedNamingTheSetting()
    {
        var server = new WebhookServer("--Tokenizer:Webhooks:Secrets:0=whsec_0123456789abcdefABCDEF0123456789");

        var error = await Assert.ThrowsAnyAsync<Exception>(server.InitializeAsync);

        Assert.Contains("Tokenizer:Webhooks:Secrets must not be given on the command line", error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("whsec_0123456789abcdef", error.ToString(), StringComparison.Ordinal);
        await server.DisposeAsync();
    }
}

/// <summary>Refusals are audited in aggregate: one record per reason and peer for many refused deliveries.</summary>
public sealed class WebhookRefusalAuditTests
{
    [Fact]
    public async Task ManyRefusals_OneAggregatedAuditRecordPerReasonAtShutdown()
    {
        var server = new WebhookServer();
        await server.InitializeAsync();
        try
        {
            var started = DateTimeOffset.UtcNow.AddMinutes(-1);
            var body = WebhookServer.Event(WebhookServer.NewEventId(), "setup_intent.succeeded", "{\"id\":\"seti_x\"}");
            for (var i = 0; i < 5; i++)
            {
                Assert.Equal(HttpStatusCode.BadRequest, await server.PostAsync(body, signature: null));
            }

            Assert.Equal(HttpStatusCode.BadRequest, await server.PostAsync(body, WebhookServer.Sign(body, "whsec_" + RandomNumberGenerator.GetHexString(40))));
            var reader = server.Server.App.Services.GetRequiredService<IAuditTrailReader>();
            var beforeStop = await ReadWebhookRecordsAsync(reader, started);

            await server.Server.App.StopAsync();
            var afterStop = await ReadWebhookRecordsAsync(reader, started);

            Assert.Empty(beforeStop);
            var missing = Assert.Single(afterStop, r => r.ReasonCode == "WEBHOOK_SIGNATURE_MISSING");
            Assert.Equal("aggregate;count=5", missing.CorrelationId);
            Assert.Equal(AuditOutcome.Denied, missing.Outcome);
            var invalid = Assert.Single(afterStop, r => r.ReasonCode == "WEBHOOK_SIGNATURE_INVALID");
            Assert.Equal("aggregate;count=1", invalid.CorrelationId);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    private static async Task<List<AuditEvent>> ReadWebhookRecordsAsync(IAuditTrailReader reader, DateTimeOffset from)
    {
        var records = new List<AuditEvent>();
        await foreach (var record in reader.ReadAsync(from, null, CancellationToken.None))
        {
            if (record.Event.Action == "stripe.webhook/delivery")
            {
                records.Add(record.Event);
            }
        }

        return records;
    }
}

/// <summary>
/// Processing: signed events posted to the real listener; the worker reads the object's current state from the real
/// embedded sandbox (GET) and updates the ledger, audited with caller <c>stripe</c>.
/// </summary>
public sealed class WebhookProcessingTests : IClassFixture<WebhookServer>
{
    private readonly WebhookServer server;

    public WebhookProcessingTests(WebhookServer server)
    {
        // These tests post their own signed events: the sandbox's own deliveries (every tokenisation makes several)
        // would queue ahead of them in the one worker's inbox and outlast the bounded waits.
        this.server = server;
        server.Server.Sandbox.Webhooks.SetMode(StripeSandbox.Webhooks.SandboxWebhookMode.Drop);
    }

    [Fact]
    public async Task SetupIntentSucceeded_AchVerifiedAtTheGateway_LedgerReadyAndAudited()
    {
        var tokenized = (await server.Server.Client.TokenizeBankAccountAsync(Requests.Ach(Requests.NewKey()))).Token;
        using (var http = new HttpClient())
        using (var form = new FormUrlEncodedContent([new("amount1", "32"), new KeyValuePair<string, string>("amount2", "45")]))
        {
            using var verified = await http.PostAsync(new Uri(tokenized.Setup.NextAction.Url), form);
        }

        // The control: verified at the gateway, but nothing told the ledger yet.
        var before = await server.Ledger.Tokens.GetTokenAsync(tokenized.Token_, CancellationToken.None);
        var id = WebhookServer.NewEventId();
        var body = WebhookServer.Event(id, "setup_intent.succeeded", "{\"id\":\"" + tokenized.Setup.SetupIntent + "\",\"object\":\"setup_intent\",\"status\":\"succeeded\"}");

        var status = await server.PostSignedAsync(body);
        var state = await server.WaitProcessedAsync(id);
        var after = await server.Ledger.Tokens.GetTokenAsync(tokenized.Token_, CancellationToken.None);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(Core.Domain.SetupStatus.RequiresAction, before!.Setup.Status);
        Assert.Equal(WebhookState.Processed, state);
        Assert.Equal(Core.Domain.SetupStatus.Ready, after!.Setup.Status);
        Assert.Null(after.Setup.NextAction);
        Assert.Equal(Core.Domain.MandateStatus.Active, after.Mandate!.Status);
        var record = Assert.Single(await server.AuditOfAsync(id));
        Assert.Equal(("stripe", "stripe.webhook/setup_intent.succeeded", tokenized.Token_, AuditOutcome.Success), (record.CallerId, record.Action, record.Resource, record.Outcome));
    }

    [Fact]
    public async Task PaymentMethodUpdated_NewExpiryAtTheGateway_LedgerAndGetTokenShowIt()
    {
        var tokenized = (await server.Server.Client.TokenizeCardAsync(Requests.Card("4242424242424242", Requests.NewKey(), month: 12, year: 2030))).Token;
        var before = await server.Ledger.Tokens.GetTokenAsync(tokenized.Token_, CancellationToken.None);
        await new Stripe.PaymentMethodService(server.SandboxClient()).UpdateAsync(
            tokenized.Token_,
            new Stripe.PaymentMethodUpdateOptions { Card = new Stripe.PaymentMethodCardOptions { ExpMonth = 3, ExpYear = 2032 } });
        var id = WebhookServer.NewEventId();

        await server.PostSignedAsync(WebhookServer.Event(id, "payment_method.automatically_updated", "{\"id\":\"" + tokenized.Token_ + "\",\"object\":\"payment_method\"}"));
        var state = await server.WaitProcessedAsync(id);
        var read = (await server.Server.Client.GetTokenAsync(new Contracts.V1.GetTokenRequest { Token = tokenized.Token_ })).Token;

        Assert.Equal((12, 2030), (before!.Card!.ExpMonth, before.Card.ExpYear));
        Assert.Equal(WebhookState.Processed, state);
        Assert.Equal((3, 2032, "4242"), (read.Card.ExpMonth, read.Card.ExpYear, read.Card.Last4));
        Assert.Single(await server.AuditOfAsync(id));
    }

    [Fact]
    public async Task PaymentMethodDetached_StillAttachedAtTheGateway_StaysActive_DetachedThere_Revoked()
    {
        var tokenized = (await server.Server.Client.TokenizeCardAsync(Requests.Card("4242424242424242", Requests.NewKey()))).Token;
        var early = WebhookServer.NewEventId();

        // Signed, but Stripe says the PaymentMethod is still attached: the event's claim is not taken on trust.
        await server.PostSignedAsync(WebhookServer.Event(early, "payment_method.detached", "{\"id\":\"" + tokenized.Token_ + "\",\"object\":\"payment_method\",\"customer\":null}"));
        await server.WaitProcessedAsync(early);
        var stillActive = await server.Ledger.Tokens.GetTokenAsync(tokenized.Token_, CancellationToken.None);
        await new Stripe.PaymentMethodService(server.SandboxClient()).DetachAsync(tokenized.Token_);
        var id = WebhookServer.NewEventId();
        await server.PostSignedAsync(WebhookServer.Event(id, "payment_method.detached", "{\"id\":\"" + tokenized.Token_ + "\",\"object\":\"payment_method\",\"customer\":null}"));
        var state = await server.WaitProcessedAsync(id);
        var after = await server.Ledger.Tokens.GetTokenAsync(tokenized.Token_, CancellationToken.None);

        Assert.Equal(Core.Domain.TokenStatus.Active, stillActive!.Status);
        Assert.Equal(WebhookState.Processed, state);
        Assert.Equal(Core.Domain.TokenStatus.Revoked, after!.Status);
        Assert.NotNull(after.RevokedAt);
    }

    [Fact]
    public async Task EventThatKeepsFailing_BacksOffDoublingIsLoudFromTheAlertAttemptAndGoesThroughOnceTheCauseIsGone()
    {
        var tokenized = (await server.Server.Client.TokenizeCardAsync(Requests.Card("4242424242424242", Requests.NewKey()))).Token;
        var get = "GET /v1/payment_methods/" + tokenized.Token_;
        // Stripe answers the first two reads of the PaymentMethod with an error it says not to retry (the breaker does not
        // count a 409): each attempt fails at once. The third read is answered normally.
        server.Server.Sandbox.Faults.Add(get, StripeSandbox.Faults.SandboxFault.Status(409, shouldRetry: false), count: 2);
        var meter = server.Server.App.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>().Create(new System.Diagnostics.Metrics.MeterOptions(Core.Telemetry.TokenizerMetrics.MeterName));
        var gauge = new List<long>();
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter == meter && instrument.Name == "tokenizer.webhook.inbox.failing")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) =>
        {
            lock (gauge)
            {
                gauge.Add(value);
            }
        });
        listener.Start();
        var id = WebhookServer.NewEventId();

        await server.PostSignedAsync(WebhookServer.Event(id, "payment_method.automatically_updated", "{\"id\":\"" + tokenized.Token_ + "\",\"object\":\"payment_method\"}"));
        var deadline = DateTime.UtcNow.AddSeconds(90);
        var failingSeen = 0L;
        while (DateTime.UtcNow < deadline && (await server.Store.FindAsync(id, CancellationToken.None))?.Attempts < 2)
        {
            await Task.Delay(100);
        }

        // The second failure is given up just after its claim: read the gauge until it counts the event.
        while (DateTime.UtcNow < deadline && failingSeen == 0)
        {
            listener.RecordObservableInstruments();
            lock (gauge)
            {
                failingSeen = gauge.Count > 0 ? gauge[^1] : 0;
            }

            await Task.Delay(100);
        }

        var state = await server.WaitProcessedAsync(id);
        var failingAfter = -1L;
        while (DateTime.UtcNow < deadline.AddSeconds(30) && failingAfter != 0)
        {
            await Task.Delay(100);
            listener.RecordObservableInstruments();
            lock (gauge)
            {
                failingAfter = gauge[^1];
            }
        }

        var reads = server.Server.Sandbox.Requests.Snapshot(get).Select(r => r.Time).ToList();
        var lines = server.Server.Logs.Lines.Where(l => l.Contains(id, StringComparison.Ordinal)).ToList();

        Assert.Equal(WebhookState.Processed, state);
        Assert.Equal(3, reads.Count);
        // Back-off: the lease (5 s) after the first failure, twice that after the second. Without it every retry waited
        // one lease. Lower bounds only (less a little for clock granularity): a loaded machine makes gaps longer.
        Assert.True(reads[1] - reads[0] >= TimeSpan.FromSeconds(4.9), $"first retry after {(reads[1] - reads[0]).TotalSeconds} s");
        Assert.True(reads[2] - reads[1] >= TimeSpan.FromSeconds(9.9), $"second retry after {(reads[2] - reads[1]).TotalSeconds} s");
        Assert.Single(lines, l => l.StartsWith("Warning", StringComparison.Ordinal) && l.Contains("WebhookEventFailed", StringComparison.Ordinal));
        Assert.Single(lines, l => l.StartsWith("Error", StringComparison.Ordinal) && l.Contains("WebhookEventFailingRepeatedly", StringComparison.Ordinal));
        Assert.Equal((1, 0), (failingSeen, failingAfter));

        Assert.Single(await server.AuditOfAsync(id));
    }

    [Fact]
    public async Task CustomerDeleted_AtTheGateway_EveryTokenOfTheCustomerRevoked()
    {
        var customer = "cust-webhook-" + RandomNumberGenerator.GetHexString(8);
        var first = (await server.Server.Client.TokenizeCardAsync(Requests.Card("4242424242424242", Requests.NewKey(), customer: customer))).Token;
        var second = (await server.Server.Client.TokenizeCardAsync(Requests.Card("5555555555554444", Requests.NewKey(), customer: customer))).Token;
        var other = (await server.Server.Client.TokenizeCardAsync(Requests.Card("4242424242424242", Requests.NewKey(), customer: customer + "-other"))).Token;
        var gatewayCustomer = (await server.Ledger.Tokens.GetTokenAsync(first.Token_, CancellationToken.None))!.GatewayCustomerId!;
        await new Stripe.CustomerService(server.SandboxClient()).DeleteAsync(gatewayCustomer);
        var id = WebhookServer.NewEventId();

        await server.PostSignedAsync(WebhookServer.Event(id, "customer.deleted", "{\"id\":\"" + gatewayCustomer + "\",\"object\":\"customer\",\"deleted\":true}"));
        var state = await server.WaitProcessedAsync(id);

        Assert.Equal(WebhookState.Processed, state);
        foreach (var token in new[] { first, second })
        {
            Assert.Equal(Core.Domain.TokenStatus.Revoked, (await server.Ledger.Tokens.GetTokenAsync(token.Token_, CancellationToken.None))!.Status);
        }

        Assert.Equal(Core.Domain.TokenStatus.Active, (await server.Ledger.Tokens.GetTokenAsync(other.Token_, CancellationToken.None))!.Status);
        Assert.Equal(2, (await server.AuditOfAsync(id)).Count);
    }

    [Fact]
    public async Task CustomerDeleted_SevenTimesForOneReferenceTokenizingAfterEach_EveryTokenOnANewLiveCustomerAndTheGatewayRequestsDoNotGrow()
    {
        // Arrange: a token for the reference, under its first Customer.
        var reference = "cust-webhook-often-" + RandomNumberGenerator.GetHexString(8);
        var customers = new List<string> { (await server.Server.Client.TokenizeCardAsync(Requests.Card("4242424242424242", Requests.NewKey(), customer: reference))).Token.GatewayCustomer };
        var perTokenisation = new List<TokenisationRequests>();
        var sandbox = server.Server.Sandbox;

        for (var round = 1; round <= 7; round++)
        {
            // Act: the Customer deleted at Stripe (the Dashboard), its customer.deleted processed (the mapping dropped),
            // then a tokenisation for the same reference.
            await new Stripe.CustomerService(server.SandboxClient()).DeleteAsync(customers[^1]);
            var id = WebhookServer.NewEventId();
            await server.PostSignedAsync(WebhookServer.Event(id, "customer.deleted", "{\"id\":\"" + customers[^1] + "\",\"object\":\"customer\",\"deleted\":true}"));
            Assert.Equal(WebhookState.Processed, await server.WaitProcessedAsync(id));
            Assert.Null(await server.Ledger.Customers.FindCustomerAsync("stripe", reference, CancellationToken.None));
            var paymentMethodsBefore = sandbox.GetStats().PaymentMethods;
            sandbox.Requests.Clear();
            var token = (await server.Server.Client.TokenizeCardAsync(Requests.Card("5555555555554444", Requests.NewKey(), customer: reference))).Token;
            var requests = sandbox.Requests.Snapshot();

            // Assert: a token under a live Customer none of the earlier rounds had, and one PaymentMethod made for it.
            Assert.Equal((Contracts.V1.TokenStatus.Active, Contracts.V1.SetupStatus.Ready), (token.Status, token.Setup.Status));
            Assert.DoesNotContain(token.GatewayCustomer, customers);
            Assert.NotEqual(true, (await new Stripe.CustomerService(server.SandboxClient()).GetAsync(token.GatewayCustomer)).Deleted);
            Assert.Equal(paymentMethodsBefore + 1, sandbox.GetStats().PaymentMethods);
            customers.Add(token.GatewayCustomer);
            perTokenisation.Add(TokenisationRequests.Of(requests));
        }

        // Assert: the same gateway requests for every tokenisation, however many deletions came before it (the first
        // round, with one deletion behind it, is the control): the creation replaying the deleted Customer before it, the
        // new one, each read back; one PaymentMethod; one SetupIntent.
        Assert.All(perTokenisation, requests => Assert.Equal(new TokenisationRequests(CreateCustomer: 2, ReadCustomer: 2, CreatePaymentMethod: 1, CreateSetupIntent: 1), requests));
    }
}

/// <summary>
/// End to end with the embedded sandbox's own signed deliveries to the listener (registered at start, trusting the
/// development CA), its control endpoints, and the catch-up from GET /v1/events.
/// </summary>
public sealed class WebhookDeliveryTests
{
    [Fact]
    public async Task MandateUpdatedInactiveDeliveredBeforeSetupIntentSucceeded_EndsInactive()
    {
        var server = new WebhookServer();
        await server.InitializeAsync();
        try
        {
            var sandbox = server.Server.Sandbox;
            sandbox.Webhooks.SetMode(StripeSandbox.Webhooks.SandboxWebhookMode.Hold);
            var token = (await server.Server.Client.TokenizeBankAccountAsync(Requests.Sepa(Requests.NewKey(), customer: "cust-order"))).Token;
            sandbox.DeactivateMandate(token.Mandate.Id);

            sandbox.Webhooks.Release(StripeSandbox.Webhooks.SandboxReleaseOrder.Reverse);
            var deliveries = await DeliveredAsync(server, ["mandate.updated", "setup_intent.succeeded"]);
            var mandateUpdated = deliveries.Single(d => d.EventType == "mandate.updated");
            var setupSucceeded = deliveries.Single(d => d.EventType == "setup_intent.succeeded");
            var states = new[] { await server.WaitProcessedAsync(mandateUpdated.EventId), await server.WaitProcessedAsync(setupSucceeded.EventId) };
            var after = await server.Ledger.Tokens.GetTokenAsync(token.Token_, CancellationToken.None);

            // The control: the token was READY with an active mandate, and the deliveries really came in reverse order.
            Assert.Equal((Contracts.V1.SetupStatus.Ready, Contracts.V1.MandateStatus.Active), (token.Setup.Status, token.Mandate.Status));
            Assert.True(mandateUpdated.Sequence < setupSucceeded.Sequence, "mandate.updated was not delivered first");
            Assert.Equal([WebhookState.Processed, WebhookState.Processed], states);
            Assert.Equal(Core.Domain.SetupStatus.Ready, after!.Setup.Status);
            Assert.Equal(Core.Domain.MandateStatus.Inactive, after.Mandate!.Status);
            var kinds = (await server.Server.Client.ListTokenEventsAsync(new Contracts.V1.ListTokenEventsRequest { PageSize = 100 })).Events
                .Where(e => e.Token == token.Token_).Select(e => e.Kind).ToList();
            Assert.Contains(Contracts.V1.TokenEventKind.MandateInactive, kinds);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task CardAccountUpdater_DeliveredBySandbox_GetTokenShowsNewExpiryAndLast4AndItIsAudited()
    {
        var server = new WebhookServer();
        await server.InitializeAsync();
        try
        {
            var token = (await server.Server.Client.TokenizeCardAsync(Requests.Card("4242424242424242", Requests.NewKey(), month: 12, year: 2030))).Token;

            server.Server.Sandbox.UpdateCardAutomatically(token.Token_, 4, 2033, "1881");
            var delivery = (await DeliveredAsync(server, ["payment_method.automatically_updated"])).Single();
            var state = await server.WaitProcessedAsync(delivery.EventId);
            var read = (await server.Server.Client.GetTokenAsync(new Contracts.V1.GetTokenRequest { Token = token.Token_ })).Token;

            Assert.Equal((12, 2030, "4242"), (token.Card.ExpMonth, token.Card.ExpYear, token.Card.Last4));
            Assert.Equal(WebhookState.Processed, state);
            Assert.Equal((4, 2033, "1881"), (read.Card.ExpMonth, read.Card.ExpYear, read.Card.Last4));
            var audit = await server.AuditOfAsync(delivery.EventId);
            Assert.Equal(("stripe", "stripe.webhook/payment_method.automatically_updated", token.Token_), (Assert.Single(audit).CallerId, audit[0].Action, audit[0].Resource));
            // The token's owner (billing) sees one card_updated event with the masked fields.
            var events = (await server.Server.Client.ListTokenEventsAsync(new Contracts.V1.ListTokenEventsRequest { PageSize = 100 })).Events
                .Where(e => e.Token == token.Token_ && e.Kind == Contracts.V1.TokenEventKind.CardUpdated)
                .ToList();
            Assert.Equal((4, 2033, "1881"), (Assert.Single(events).Card.ExpMonth, events[0].Card.ExpYear, events[0].Card.Last4));
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task DeliveriesDropped_FiveEventsCaughtUpFromTheEventList_EachProcessedOnceAndWatchedOnceInOrderAfterReconnecting()
    {
        var server = new WebhookServer("--Tokenizer:Webhooks:CatchUpIntervalSeconds=5");
        await server.InitializeAsync();
        try
        {
            var sandbox = server.Server.Sandbox;
            var client = server.Server.Client;
            var first = (await client.TokenizeCardAsync(Requests.Card("4242424242424242", Requests.NewKey(), customer: "cust-catchup"))).Token;
            var second = (await client.TokenizeCardAsync(Requests.Card("5555555555554444", Requests.NewKey(), customer: "cust-catchup"))).Token;
            var third = (await client.TokenizeCardAsync(Requests.Card("4000056655665556", Requests.NewKey(), customer: "cust-catchup"))).Token;
            var sepa = (await client.TokenizeBankAccountAsync(Requests.Sepa(Requests.NewKey(), customer: "cust-catchup"))).Token;

            // A watcher reads up to now and goes away (its cursor kept); the tokenisations' own events are behind it.
            await WaitInboxQuietAsync(server);
            var cursor = await EndCursorAsync(server.Server.Finance);

            // The endpoint is down: Stripe's deliveries of the next five events never arrive.
            sandbox.Webhooks.SetMode(StripeSandbox.Webhooks.SandboxWebhookMode.Drop);
            sandbox.Webhooks.ClearDeliveries();
            sandbox.UpdateCardAutomatically(first.Token_, 7, 2034);
            sandbox.UpdateCardAutomatically(second.Token_, 8, 2035, "4445");
            await new Stripe.PaymentMethodService(server.SandboxClient()).DetachAsync(third.Token_);
            sandbox.DeactivateMandate(sepa.Mandate.Id);
            sandbox.UpdateCardAutomatically(first.Token_, 9, 2036);
            var dropped = sandbox.Webhooks.Deliveries()
                .Where(d => d.EventType is "payment_method.automatically_updated" or "payment_method.detached" or "mandate.updated")
                .ToList();

            // The catch-up lists GET /v1/events and processes the five, once each; the watcher reconnects after its
            // cursor and gets one event per change of the ledger, once each: four, because processing reads Stripe's
            // current state, so the first of the two updates of the first card already brings the ledger to the second
            // one's expiry, and the second changes nothing (a token event is appended only when the ledger changed).
            using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(90));
            using var watch = server.Server.Finance.WatchTokenEvents(new Contracts.V1.WatchTokenEventsRequest { After = cursor }, cancellationToken: bound.Token);
            var watched = new List<Contracts.V1.TokenEvent>();
            while (watched.Count < 4 && await watch.ResponseStream.MoveNext(bound.Token))
            {
                watched.Add(watch.ResponseStream.Current);
            }

            // Nothing more comes: no event is delivered twice (a second processing would append nothing, and a second
            // catch-up pass runs within this wait).
            using var quiet = CancellationTokenSource.CreateLinkedTokenSource(bound.Token);
            quiet.CancelAfter(TimeSpan.FromSeconds(7));
            var extra = await ExtraEventAsync(watch, quiet.Token);
            var listed = (await server.Server.Finance.ListTokenEventsAsync(new Contracts.V1.ListTokenEventsRequest { After = cursor, PageSize = 500 })).Events;
            var ledgerFirst = await server.Ledger.Tokens.GetTokenAsync(first.Token_, CancellationToken.None);

            Assert.Equal(5, dropped.Count);
            Assert.All(dropped, d => Assert.Equal("dropped", d.Outcome));
            Assert.Null(extra);
            Assert.Equal(
                new[]
                {
                    (first.Token_, Contracts.V1.TokenEventKind.CardUpdated),
                    (second.Token_, Contracts.V1.TokenEventKind.CardUpdated), (third.Token_, Contracts.V1.TokenEventKind.DetachedAtGateway),
                    (sepa.Token_, Contracts.V1.TokenEventKind.MandateInactive),
                }.Order(),
                watched.Select(e => (e.Token, e.Kind)).Order());
            // In order: the stream is the list, cursor by cursor.
            Assert.Equal(listed.Select(e => e.Cursor), watched.Select(e => e.Cursor));
            Assert.Equal((9, 2036), (ledgerFirst!.Card!.ExpMonth, ledgerFirst.Card.ExpYear));
            Assert.Equal((9, 2036), (watched.Single(e => e.Token == first.Token_).Card.ExpMonth, watched.Single(e => e.Token == first.Token_).Card.ExpYear));
            foreach (var delivery in dropped)
            {
                Assert.Equal((WebhookState.Processed, 1), await server.Store.FindAsync(delivery.EventId, CancellationToken.None));
                Assert.Single(await server.AuditOfAsync(delivery.EventId));
            }
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    /// <summary>Waits (bounded: 60 s) until the inbox holds no pending row and the sandbox has no delivery in flight.</summary>
    private static async Task WaitInboxQuietAsync(WebhookServer server)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline
            && (await server.Store.CountPendingAsync(CancellationToken.None) > 0
                || server.Server.Sandbox.Webhooks.Deliveries().Any(d => d.Outcome is not ("succeeded" or "dropped" or "failed"))))
        {
            await Task.Delay(100);
        }

        await Task.Delay(500);
    }

    private static async Task<string> EndCursorAsync(Contracts.V1.TokenizerService.TokenizerServiceClient finance)
    {
        var cursor = string.Empty;
        while (true)
        {
            var page = await finance.ListTokenEventsAsync(new Contracts.V1.ListTokenEventsRequest { After = cursor, PageSize = 500 });
            if (page.Events.Count == 0)
            {
                return cursor;
            }

            cursor = page.NextCursor;
        }
    }

    private static async Task<Contracts.V1.TokenEvent?> ExtraEventAsync(Grpc.Core.AsyncServerStreamingCall<Contracts.V1.TokenEvent> watch, CancellationToken quiet)
    {
        try
        {
            return await watch.ResponseStream.MoveNext(quiet) ? watch.ResponseStream.Current : null;
        }
        catch (Grpc.Core.RpcException error) when (error.StatusCode == Grpc.Core.StatusCode.Cancelled)
        {
            return null;
        }
    }

    /// <summary>Waits (bounded) until each of <paramref name="types"/> has a successful delivery; returns those deliveries.</summary>
    private static async Task<List<StripeSandbox.Webhooks.SandboxWebhookDelivery>> DeliveredAsync(WebhookServer server, string[] types)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var succeeded = server.Server.Sandbox.Webhooks.Deliveries().Where(d => d.Outcome == "succeeded" && types.Contains(d.EventType)).ToList();
            if (types.All(t => succeeded.Any(d => d.EventType == t)) || DateTime.UtcNow > deadline)
            {
                return succeeded;
            }

            await Task.Delay(50);
        }
    }
}

/// <summary>A body of <c>count</c> copies of one chunk, with no length: HttpClient sends it chunked.</summary>
internal sealed class ChunkedContent(byte[] chunk, int count) : HttpContent
{
    protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
    {
        for (var i = 0; i < count; i++)
        {
            await stream.WriteAsync(chunk);
            await stream.FlushAsync();
        }
    }

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }
}
