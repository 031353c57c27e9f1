using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;
using Tokenizer.Contracts.V1;
using Tokenizer.Core.Redaction;
using Tokenizer.Core.Telemetry;
using Tokenizer.IntegrationTests;
using Tokenizer.Server.Webhooks;

namespace Tokenizer.SecurityTests;

/// <summary>
/// No card, bank or personal data, and no id, reference or key, in traces: the real server (gRPC over Kestrel, the
/// embedded sandbox over HTTP, SQLite, the webhook listener) with a tracer provider exporting every span to memory,
/// through card, bank and billing-details tokenisations, replays, failures that carry the values, a hostile signed
/// webhook, and lookups of PAN-shaped tokens. Every span name, attribute, event, link and status description is
/// searched for this run's distinctive values and by Core's card-data detector.
/// </summary>
public sealed class TraceLeakageTests
{
    [Fact]
    public async Task TokenizeFailAndWebhook_EveryExportedSpan_NoCardBankPersonalDataOrIds()
    {
        // Arrange
        var values = new SensitiveValues();
        var spans = new SpanCollection();
        string Unique(string prefix) => prefix + RandomNumberGenerator.GetString("abcdefghijklmnopqrstuvwxyz", 16);
        var reference = Unique("trace-ref-");
        var billing = new BillingDetails
        {
            Name = "Trace " + Unique("Sweeper "),
            Email = Unique("trace.") + "@example.net",
            // 11 digits: too short for the card-number rule to read (a random 12-digit phone is Luhn-valid one time in ten).
            Phone = "+61 4" + RandomNumberGenerator.GetInt32(10_000_000, 99_999_999).ToString(CultureInfo.InvariantCulture),
            Address = new Address { Line1 = Unique("1 ") + " Road", City = "London", PostalCode = "EC1A 1BB", Country = "GB" },
        };
        var keys = new List<string>();
        string Key()
        {
            keys.Add(Unique("trace-key-"));
            return keys[^1];
        }

        var tokens = new List<string>();
        var eventId = "evt_trace" + RandomNumberGenerator.GetString("abcdefghijklmnopqrstuvwxyz", 20);
        var fixture = new TokenizerServerFixture(
            null,
            "--Tokenizer:Webhooks:Urls=https://127.0.0.1:0",
            "--Tokenizer:Webhooks:CatchUpIntervalSeconds=0",
            "--Tokenizer:Webhooks:PollMilliseconds=100")
        {
            ConfigureHost = builder => builder.Services.AddOpenTelemetry().WithTracing(tracing => tracing.AddInMemoryExporter(spans)),
        };
        await fixture.InitializeAsync();
        try
        {
            var client = fixture.Client;

            // Act: successes with billing details (card, replay, each bank scheme). The card call carries the caller's
            // trace context with card and bank data in its vendor state and a PAN in each id; the replay a clean one.
            var card = await client.TokenizeCardAsync(
                new TokenizeCardRequest
                {
                    IdempotencyKey = Key(),
                    CustomerReference = reference,
                    Card = new Card { Number = values.Pan, ExpMonth = 12, ExpYear = 2031, Cvc = values.Cvc },
                    BillingDetails = billing,
                },
                HostileTraceContext(values));
            tokens.Add(card.Token.Token_);
            var replay = await client.TokenizeCardAsync(
                new TokenizeCardRequest
                {
                    IdempotencyKey = keys[0],
                    CustomerReference = reference,
                    Card = new Card { Number = values.Pan, ExpMonth = 12, ExpYear = 2031, Cvc = values.Cvc },
                    BillingDetails = billing,
                },
                new Metadata { { "traceparent", $"00-{CleanTraceId}-00f067aa0ba902b7-01" }, { "tracestate", "vendor=" + values.Iban } });
            Assert.True(replay.Replayed);

            TokenizeBankAccountRequest Bank() => new() { IdempotencyKey = Key(), CustomerReference = reference, BillingDetails = billing, MandateAcceptance = Requests.OnlineMandate() };
            var becs = Bank();
            becs.AuBecsDebit = new AuBecsDebitAccount { BsbNumber = values.BecsBsb, AccountNumber = values.BecsAccount };
            var sepa = Bank();
            sepa.SepaDebit = new SepaDebitAccount { Iban = values.Iban };
            var bacs = Bank();
            bacs.BacsDebit = new BacsDebitAccount { SortCode = values.BacsSortCode, AccountNumber = values.BacsAccount };
            var ach = Bank();
            ach.UsBankAccount = new UsBankAccount { RoutingNumber = values.AchRouting, AccountNumber = values.AchAccount, AccountHolderType = AccountHolderType.Company, AccountType = AccountType.Savings };
            foreach (var request in new[] { becs, sepa, bacs, ach })
            {
                tokens.Add((await client.TokenizeBankAccountAsync(request)).Token.Token_);
            }

            // Failures that carry the values: a checksum failure, a reused key, an invalid IBAN and account, a decline,
            // a PAN where a token goes, a PAN in the reference.
            var badPan = values.Pan[..^1] + (char)('0' + ((values.Pan[^1] - '0' + 1) % 10));
            await FailsAsync(client.TokenizeCardAsync(new TokenizeCardRequest { IdempotencyKey = Key(), CustomerReference = reference, Card = new Card { Number = badPan, ExpMonth = 1, ExpYear = 2020, Cvc = values.Cvc }, BillingDetails = billing }).ResponseAsync);
            await FailsAsync(client.TokenizeCardAsync(new TokenizeCardRequest { IdempotencyKey = keys[0], CustomerReference = reference, Card = new Card { Number = "4242424242424242", ExpMonth = 12, ExpYear = 2031, Cvc = "123" } }).ResponseAsync);
            var badSepa = Bank();
            badSepa.SepaDebit = new SepaDebitAccount { Iban = values.Iban[..^1] + (values.Iban[^1] == '0' ? '1' : '0') };
            await FailsAsync(client.TokenizeBankAccountAsync(badSepa).ResponseAsync);
            var badAch = Bank();
            badAch.UsBankAccount = new UsBankAccount { RoutingNumber = values.AchAccount[..9], AccountNumber = values.AchAccount + "12345678", AccountHolderType = AccountHolderType.Individual, AccountType = AccountType.Checking };
            await FailsAsync(client.TokenizeBankAccountAsync(badAch).ResponseAsync);
            await FailsAsync(client.TokenizeCardAsync(new TokenizeCardRequest { IdempotencyKey = Key(), CustomerReference = reference, Card = new Card { Number = "4000000000000002", ExpMonth = 12, ExpYear = 2031, Cvc = "123" }, BillingDetails = billing }).ResponseAsync);
            await FailsAsync(client.GetTokenAsync(new GetTokenRequest { Token = values.Pan }).ResponseAsync);
            await FailsAsync(client.GetTokenAsync(new GetTokenRequest { Token = "pm_" + Unique(string.Empty) }).ResponseAsync);
            await FailsAsync(client.TokenizeCardAsync(new TokenizeCardRequest { IdempotencyKey = Key(), CustomerReference = values.Pan, Card = new Card { Number = "4242424242424242", ExpMonth = 12, ExpYear = 2031, Cvc = "123" } }).ResponseAsync);
            var read = await client.GetTokenAsync(new GetTokenRequest { Token = tokens[0] });
            Assert.Equal(values.Pan[^4..], read.Token.Card.Last4);

            // A hostile signed webhook for the card's token, with card and personal data in its body.
            var body = "{\"id\":\"" + eventId + "\",\"object\":\"event\",\"api_version\":\"2026-10-28.endive\",\"created\":"
                + DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)
                + ",\"livemode\":false,\"type\":\"payment_method.updated\",\"data\":{\"object\":{\"id\":\"" + tokens[0]
                + "\",\"object\":\"payment_method\",\"billing_details\":{\"name\":\"" + values.WebhookName + "\",\"email\":\"" + values.WebhookEmail
                + "\"},\"card\":{\"number\":\"" + values.Pan + "\",\"cvc\":\"" + values.Cvc + "\"},\"metadata\":{\"iban\":\"" + values.Iban + "\"}}}}";
            Assert.Equal(HttpStatusCode.OK, await PostWebhookAsync(fixture, body));
            for (var deadline = DateTime.UtcNow.AddSeconds(30); !spans.Snapshot().Any(s => s.DisplayName == "webhook process") && DateTime.UtcNow < deadline;)
            {
                await Task.Delay(100);
            }
        }
        finally
        {
            await fixture.DisposeAsync();
        }

        var exported = spans.Snapshot();
        var text = SpanCollection.Render(exported);

        // Positive controls: the sweep sees RPC, gateway, ledger and webhook spans, failures with their reasons, and the
        // detector finds a PAN in this rendering when one is there.
        var names = string.Join(", ", exported.Select(s => s.DisplayName).Distinct());
        Assert.True(exported.Any(s => s.DisplayName == "tokenizer.v1.TokenizerService/TokenizeCard"), "no TokenizeCard span: " + names);
        Assert.True(exported.Any(s => s.DisplayName == "tokenizer.v1.TokenizerService/TokenizeBankAccount"), "no TokenizeBankAccount span: " + names);
        Assert.True(exported.Any(s => s.Source.Name == TokenizerTracing.GatewaySourceName && s.DisplayName.StartsWith("POST /v1/payment_methods", StringComparison.Ordinal)), "no gateway span: " + names);
        Assert.True(exported.Any(s => s.Source.Name == TokenizerTracing.LedgerSourceName), "no ledger span: " + names);
        Assert.True(exported.Any(s => s.DisplayName == "webhook process"), "no webhook span: " + names);
        Assert.True(exported.Any(s => (string?)s.GetTagItem(TokenizerTracing.ErrorReasonKey) == "VALIDATION_FAILED"), "no VALIDATION_FAILED span");
        Assert.True(exported.Any(s => (string?)s.GetTagItem(TokenizerTracing.ErrorReasonKey) == "CARD_DECLINED"), "no CARD_DECLINED span");
        Assert.NotEmpty(SensitiveDataDetector.Find(text + "\n" + values.Pan));
        Assert.Contains(exported, s => s.TraceId.ToHexString() == CleanTraceId && s.ParentSpanId.ToHexString() == "00f067aa0ba902b7");

        // The caller's ids that read as a PAN are not adopted (a new trace), and no span carries a caller's tracestate.
        Assert.DoesNotContain(exported, s => s.TraceId.ToHexString().Contains(HostileTraceId, StringComparison.Ordinal) || s.ParentSpanId.ToHexString() == HostileParentId);

        // Assert
        var searched = values.Secrets
            .Append(("billing name", billing.Name))
            .Append(("billing email", billing.Email))
            .Append(("billing phone", billing.Phone))
            .Append(("billing address", billing.Address.Line1))
            .Append(("customer reference", reference))
            .Append(("webhook event id", eventId))
            .Concat(keys.Select(k => ("idempotency key", k)))
            .Concat(tokens.Select(t => ("token", t)))
            .Append(("a Stripe object id", "pm_"))
            .Append(("a Stripe customer id", "cus_"))
            .Append(("a Stripe SetupIntent id", "seti_"))
            .Append(("a Stripe mandate id", "mandate_"));
        var hits = searched.Where(v => text.Contains(v.Item2, StringComparison.OrdinalIgnoreCase)).Select(v => v.Item1).ToList();
        hits.AddRange(SensitiveDataDetector.Find(text).Select(m => "detector: " + m.Kind + " in \"" + SpanLine(text, m.Start) + "\""));
        Assert.Empty(hits);

        // Nothing but our own sources is exported (no ASP.NET Core, HttpClient or gRPC activity with paths and addresses).
        Assert.All(exported, s => Assert.Contains(s.Source.Name, TokenizerTracing.SourceNames));
    }

    private const string CleanTraceId = "4bf92f3577b34da6a3ce929d0e0e4736";

    private const string HostileTraceId = "4111111111111111";

    private const string HostileParentId = "5555555555554444";

    /// <summary>W3C trace context whose ids hold test PANs and whose vendor state holds this run's PAN, CVC and IBAN.</summary>
    private static Metadata HostileTraceContext(SensitiveValues values) => new()
    {
        { "traceparent", $"00-{HostileTraceId}0000000000000000-{HostileParentId}-01" },
        { "tracestate", $"pan={values.Pan},cvc={values.Cvc},iban={values.Iban}" },
    };

    /// <summary>The rendered line around <paramref name="index"/> (the test's own output; the values sought are this run's random ones).</summary>
    private static string SpanLine(string text, int index)
    {
        var start = text.LastIndexOf('\n', Math.Max(0, index - 1)) + 1;
        var end = text.IndexOf('\n', index);
        return text[start..(end < 0 ? text.Length : end)];
    }

    private static async Task FailsAsync(Task call) => await Assert.ThrowsAsync<RpcException>(() => call);

    private static async Task<HttpStatusCode> PostWebhookAsync(TokenizerServerFixture fixture, string body)
    {
        var secret = (await File.ReadAllTextAsync(Path.Combine(fixture.DataDirectory, "secrets", "stripe-webhook.secret"))).Trim();
        var t = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(t + "." + body));
        using var handler = new SocketsHttpHandler
        {
            SslOptions =
            {
                CertificateChainPolicy = new X509ChainPolicy
                {
                    TrustMode = X509ChainTrustMode.CustomRootTrust,
                    CustomTrustStore = { X509CertificateLoader.LoadCertificateFromFile(Path.Combine(fixture.PkiDirectory, "ca.crt")) },
                    RevocationMode = X509RevocationMode.NoCheck,
                },
            },
        };
        using var http = new HttpClient(handler);
        var endpoint = new Uri(fixture.App.Services.GetRequiredService<WebhookListener>().Address!, "/stripe/webhook");
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("Stripe-Signature", $"t={t},v1={Convert.ToHexStringLower(mac)}");
        using var response = await http.SendAsync(request);
        return response.StatusCode;
    }
}
