using System.Net;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using Tokenizer.Contracts.V1;
using Tokenizer.Core.Redaction;
using Tokenizer.IntegrationTests;
using Tokenizer.Server.Telemetry;

namespace Tokenizer.SecurityTests.Operations;

/// <summary>
/// The Prometheus scrape: on its own loopback HTTP/1.1 listener, never on the gRPC port (nor gRPC on it), with the
/// service's instruments, and without any card, bank or personal data, reference, key or token id in the exported text.
/// </summary>
public sealed class MetricsTests(TokenizerServerFixture server) : IClassFixture<TokenizerServerFixture>
{
    private Uri MetricsAddress => server.App.Services.GetRequiredService<MetricsEndpoint>().Address
        ?? throw new InvalidOperationException("metrics are off");

    [Fact]
    public async Task Scrape_AfterCalls_InstrumentsPresentWithCounts()
    {
        await server.Client.TokenizeCardAsync(Requests.Card("4242424242424242", Requests.NewKey()));
        await Assert.ThrowsAsync<RpcException>(() => server.Client.GetTokenAsync(new GetTokenRequest { Token = "pm_unknown" }).ResponseAsync);

        var text = await ScrapeUntilAsync(t => t.Contains("outcome=\"NOT_FOUND\"", StringComparison.Ordinal));

        Assert.StartsWith("http://127.0.0.1:", MetricsAddress.ToString(), StringComparison.Ordinal);
        Assert.Matches(@"tokenizer_rpc_calls_total\{[^}]*outcome=""OK""[^}]*rpc=""tokenizer\.v1\.TokenizerService/TokenizeCard""[^}]*\} [1-9]", text);
        Assert.Matches(@"tokenizer_rpc_calls_total\{[^}]*outcome=""NOT_FOUND""[^}]*rpc=""tokenizer\.v1\.TokenizerService/GetToken""[^}]*\} [1-9]", text);
        Assert.Matches(@"tokenizer_rpc_duration_seconds_count\{[^}]*rpc=""tokenizer\.v1\.TokenizerService/TokenizeCard""[^}]*\} [1-9]", text);
        Assert.Matches(@"tokenizer_gateway_duration_seconds_count\{[^}]*operation=""create_payment_method""[^}]*outcome=""success""[^}]*\} [1-9]", text);
        Assert.Matches(@"tokenizer_gateway_duration_seconds_count\{[^}]*operation=""create_setup_intent""[^}]*\} [1-9]", text);
        Assert.Matches(@"tokenizer_gateway_circuit_state\{[^}]*\} 0", text);
    }

    [Fact]
    public async Task Scrape_GrpcPort_NotServed()
    {
        using var handler = new SocketsHttpHandler();
        handler.SslOptions.CertificateChainPolicy = new X509ChainPolicy
        {
            TrustMode = X509ChainTrustMode.CustomRootTrust,
            CustomTrustStore = { X509CertificateLoader.LoadCertificateFromFile(Path.Combine(server.PkiDirectory, "ca.crt")) },
            RevocationMode = X509RevocationMode.NoCheck,
        };
        using var ephemeral = X509Certificate2.CreateFromPemFile(Path.Combine(server.PkiDirectory, "admin.crt"), Path.Combine(server.PkiDirectory, "admin.key"));
        handler.SslOptions.ClientCertificates = [X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), null)];
        using var client = new HttpClient(handler);
        await server.Client.TokenizeCardAsync(Requests.Card("4242424242424242", Requests.NewKey()));

        // With a valid certificate, and with the metrics port in the Host header (what RequireHost would match on).
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(server.Address, "/metrics"))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        request.Headers.Host = $"127.0.0.1:{MetricsAddress.Port}";
        using var response = await client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();

        Assert.NotEqual(HttpStatusCode.OK, response.StatusCode);
        Assert.DoesNotContain("tokenizer_", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Grpc_MetricsPort_NotServed()
    {
        using var channel = GrpcChannel.ForAddress(new Uri(MetricsAddress, "/"));
        var client = new TokenizerService.TokenizerServiceClient(channel);

        var error = await Assert.ThrowsAsync<RpcException>(() => client.GetTokenAsync(new GetTokenRequest { Token = "pm_x" }).ResponseAsync);

        Assert.NotEqual(StatusCode.NotFound, error.StatusCode);
        Assert.NotEqual(StatusCode.Unauthenticated, error.StatusCode);
    }

    [Fact]
    public async Task Scrape_MetricsPortOtherPath_NotFound()
    {
        using var client = new HttpClient();

        using var response = await client.GetAsync(new Uri(MetricsAddress, "/tokenizer.v1.TokenizerService/GetToken"));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Scrape_AfterDistinctiveCardsAndAccounts_NoCardBankPersonalDataReferenceKeyOrToken()
    {
        var values = new SensitiveValues();
        var run = Guid.NewGuid().ToString("N");
        var customer = "cust-metrics-" + run;
        var keys = new List<string>();
        var tokens = new List<string>();
        string Key()
        {
            var key = $"idem-metrics-{run}-{keys.Count}";
            keys.Add(key);
            return key;
        }

        var billing = new BillingDetails
        {
            Name = "Metrics Sweep" + run[..6],
            Email = $"sweep-{run[..8]}@example.com",
            Address = new Address { Line1 = "1 Sweep Road", City = "London", PostalCode = "EC1A 1BB", Country = "GB" },
        };
        var card = Requests.Card(values.Pan, Key(), customer, values.Cvc, 12, 2031);
        card.BillingDetails = billing;
        tokens.Add((await server.Client.TokenizeCardAsync(card)).Token.Token_);
        TokenizeBankAccountRequest Bank() => new() { IdempotencyKey = Key(), CustomerReference = customer, BillingDetails = billing, MandateAcceptance = Tokenizer.IntegrationTests.Requests.OnlineMandate() };
        var becs = Bank();
        becs.AuBecsDebit = new AuBecsDebitAccount { BsbNumber = values.BecsBsb, AccountNumber = values.BecsAccount };
        var sepa = Bank();
        sepa.SepaDebit = new SepaDebitAccount { Iban = values.Iban };
        var bacs = Bank();
        bacs.BacsDebit = new BacsDebitAccount { SortCode = values.BacsSortCode, AccountNumber = values.BacsAccount };
        var ach = Bank();
        ach.UsBankAccount = new UsBankAccount { RoutingNumber = values.AchRouting, AccountNumber = values.AchAccount, AccountHolderType = AccountHolderType.Individual, AccountType = AccountType.Checking };
        foreach (var request in new[] { becs, sepa, bacs, ach })
        {
            tokens.Add((await server.Client.TokenizeBankAccountAsync(request)).Token.Token_);
        }

        // Failures carry the values too: a checksum failure, a decline, an unknown token.
        var badPan = values.Pan[..^1] + (char)('0' + ((values.Pan[^1] - '0' + 1) % 10));
        await Assert.ThrowsAsync<RpcException>(() => server.Client.TokenizeCardAsync(Requests.Card(badPan, Key(), customer)).ResponseAsync);
        await Assert.ThrowsAsync<RpcException>(() => server.Client.TokenizeCardAsync(Requests.Card("4000000000009995", Key(), customer)).ResponseAsync);
        await Assert.ThrowsAsync<RpcException>(() => server.Client.GetTokenAsync(new GetTokenRequest { Token = "pm_" + run }).ResponseAsync);
        foreach (var token in tokens)
        {
            await server.Finance.GetTokenAsync(new GetTokenRequest { Token = token });
        }

        var text = await ScrapeUntilAsync(t => t.Contains("outcome=\"FAILED_PRECONDITION\"", StringComparison.Ordinal)
            && t.Contains("outcome=\"INVALID_ARGUMENT\"", StringComparison.Ordinal));

        // Positive control: the scrape holds the RPC names, so it is the text that would show a leak.
        Assert.Contains("TokenizeCard", text, StringComparison.Ordinal);
        Assert.Contains("TokenizeBankAccount", text, StringComparison.Ordinal);
        var (labels, samples) = Split(text);
        Assert.Empty(SensitiveDataDetector.Find(labels));
        Assert.All(samples, sample => Assert.True(
            double.TryParse(sample, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out _) || sample is "+Inf" or "-Inf" or "NaN",
            "a sample value is a number"));
        string[] exact =
        [
            .. values.Secrets.Select(s => s.Value), values.BecsBsb, values.BacsSortCode, values.AchRouting, values.Pan[^4..] + "\"",
            customer, run, billing.Name, billing.Email, "pm_", "cus_", .. keys, .. tokens,
        ];
        Assert.All(exact, value => Assert.DoesNotContain(value, text, StringComparison.Ordinal));
    }

    /// <summary>
    /// The exposition text without its sample values (metric names, labels, comments), and the sample values. Values are
    /// numbers we computed (a histogram sum can print 17 digits that happen to pass Luhn), so the detector scans the
    /// rest, where caller input could land, and the values are only checked to be numbers.
    /// </summary>
    private static (string Labels, List<string> Samples) Split(string text)
    {
        var labels = new System.Text.StringBuilder();
        var samples = new List<string>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var valueAt = line.LastIndexOf(' ');
            if (line.StartsWith('#') || valueAt < 0)
            {
                labels.AppendLine(line);
                continue;
            }

            labels.AppendLine(line[..valueAt]);
            samples.Add(line[(valueAt + 1)..]);
        }

        return (labels.ToString(), samples);
    }

    /// <summary>Scrapes until <paramref name="done"/> holds (the exporter caches a scrape for a moment), at most 10 s.</summary>
    private async Task<string> ScrapeUntilAsync(Func<string, bool> done)
    {
        using var client = new HttpClient();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var text = await client.GetStringAsync(new Uri(MetricsAddress, MetricsEndpoint.Path));
            if (done(text) || DateTime.UtcNow > deadline)
            {
                return text;
            }

            await Task.Delay(200);
        }
    }
}
