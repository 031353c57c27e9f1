using System.Net;
using System.Text.Json;
using Stripe;
using Tokenizer.StripeSandbox.Faults;

namespace Tokenizer.StripeSandbox.Tests;

/// <summary>What the sandbox records of the requests it receives: method, path, Idempotency-Key, outcome; never bodies.</summary>
public sealed class RequestLogTests
{
    private const string Pan = "4000056655665556";
    private const string Cvc = "987";

    [Fact]
    public async Task Requests_CardCreateWithKey_RecordsKeyAndOutcomeButNeverTheBody()
    {
        await using var server = await SandboxHarness.StartAsync();
        var client = SandboxHarness.Client(server);
        var created = await client.V1.PaymentMethods.CreateAsync(
            SandboxHarness.Card(Pan, cvc: Cvc), new RequestOptions { IdempotencyKey = "log-key-1" });

        var record = Assert.Single(server.Requests.Snapshot());

        Assert.Equal(1, record.Sequence);
        Assert.Equal(("POST", "/v1/payment_methods", "log-key-1"), (record.Method, record.Path, record.IdempotencyKey));
        Assert.Equal((SandboxRequestOutcome.Answered, (int?)200, (SandboxFaultAction?)null), (record.Outcome, record.Status, record.Fault));
        Assert.True(record.Time > DateTimeOffset.UtcNow.AddMinutes(-5));
        Assert.StartsWith("pm_", created.Id, StringComparison.Ordinal);
        var everything = string.Join('|', server.Requests.Snapshot().Select(r => r.ToString()))
            + JsonSerializer.Serialize(server.Requests.Snapshot());
        Assert.DoesNotContain(Pan, everything, StringComparison.Ordinal);
        Assert.DoesNotContain($"\"{Cvc}\"", everything, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Requests_CardCreate_RecordsParameterNamesKindsAndOnlyWordValues()
    {
        await using var server = await SandboxHarness.StartAsync();
        var client = SandboxHarness.Client(server);
        var options = SandboxHarness.Card(Pan, cvc: Cvc);
        options.Metadata = new Dictionary<string, string> { ["tokenizer_intent"] = "int_0123456789abcdef" };
        await client.V1.PaymentMethods.CreateAsync(options);

        var parameters = Assert.Single(server.Requests.Snapshot()).Parameters!.ToDictionary(p => p.Name);

        Assert.Equal((SandboxParameterKind.Text, "card"), (parameters["type"].Kind, parameters["type"].Value));
        Assert.Equal((SandboxParameterKind.WholeNumber, (string?)null), (parameters["card[number]"].Kind, parameters["card[number]"].Value));
        Assert.Equal((SandboxParameterKind.WholeNumber, (string?)null), (parameters["card[cvc]"].Kind, parameters["card[cvc]"].Value));
        Assert.Equal(SandboxParameterKind.WholeNumber, parameters["card[exp_year]"].Kind);
        Assert.Equal((SandboxParameterKind.Text, (string?)null), (parameters["metadata[tokenizer_intent]"].Kind, parameters["metadata[tokenizer_intent]"].Value));
        Assert.All(parameters.Values, p => Assert.Equal(SandboxParameterSource.Form, p.Source));
    }

    [Fact]
    public async Task Requests_CardSepaBacsAchInForms_NoPanIbanAccountOrCvcAnywhereInTheLogTheControlEndpointOrTheExport()
    {
        const string Iban = "AT611904300234573201";
        const string Account = "000123456789";
        const string Cvc4 = "0479";
        var export = Directory.CreateTempSubdirectory("sandbox-log-export-");
        try
        {
            await using var server = await SandboxHarness.StartAsync(o => o.ControlToken = "control-token-for-the-request-log-tests");
            var client = SandboxHarness.Client(server);
            await client.V1.PaymentMethods.CreateAsync(SandboxHarness.Card("378282246310005", cvc: Cvc4));
            await client.V1.PaymentMethods.CreateAsync(SandboxHarness.Sepa(Iban));
            await client.V1.PaymentMethods.CreateAsync(SandboxHarness.UsBank(account: Account));
            using var http = SandboxHarness.Http(server);
            using var form = new FormUrlEncodedContent([new("type", "card"), new($"metadata[{Pan}]", Pan), new("card[number]", Pan), new("card[cvc]", Cvc)]);
            using var raw = await http.PostAsync(new Uri("v1/payment_methods?note=" + Pan, UriKind.Relative), form);
            http.DefaultRequestHeaders.Add("Sandbox-Control-Token", "control-token-for-the-request-log-tests");
            var served = await http.GetStringAsync(new Uri("_sandbox/requests", UriKind.Relative));
            var log = new SandboxRequestLog(100, TimeProvider.System, export.FullName);
            foreach (var record in server.Requests.Snapshot())
            {
                var entry = log.Begin(record.Method, record.Path, null)!;
                entry.SetParameters(record.Parameters!);
                entry.SetResponseKeys(record.ResponseKeys!);
                log.Complete(entry, record.Status, null);
            }

            var exported = await System.IO.File.ReadAllLinesAsync(log.ExportFile!);
            var everything = JsonSerializer.Serialize(server.Requests.Snapshot()) + served + string.Join('\n', exported);

            Assert.Equal(4, exported.Length); // control: the export holds every request, with its parameter names
            Assert.All(exported, line => Assert.Contains("\"name\":\"type\"", line, StringComparison.Ordinal));

            Assert.Equal(4, server.Requests.Snapshot().Count);
            Assert.Contains("metadata[{redacted}]", everything, StringComparison.Ordinal); // control: the raw request was recorded
            Assert.Contains("\"card[cvc]\"", served, StringComparison.Ordinal);
            foreach (var secret in new[] { Pan, "378282246310005", Iban, Iban[4..], Account, $"\"{Cvc}\"", $"\"{Cvc4}\"" })
            {
                Assert.DoesNotContain(secret, everything, StringComparison.Ordinal);
            }
        }
        finally
        {
            export.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Requests_Answer_RecordsResponseKeyPathsWithArraysAsBrackets()
    {
        await using var server = await SandboxHarness.StartAsync();
        var client = SandboxHarness.Client(server);
        var customer = await client.V1.Customers.CreateAsync(new CustomerCreateOptions());
        var created = await client.V1.PaymentMethods.CreateAsync(SandboxHarness.Card(Pan, cvc: Cvc));
        await client.V1.PaymentMethods.AttachAsync(created.Id, new PaymentMethodAttachOptions { Customer = customer.Id });
        await client.V1.Customers.PaymentMethods.ListAsync(customer.Id, new CustomerPaymentMethodListOptions { Type = "card", Limit = 3 });

        var records = server.Requests.Snapshot();

        Assert.Contains("card.last4", records[1].ResponseKeys!);
        Assert.Contains("billing_details.address", records[1].ResponseKeys!);
        Assert.Contains("data[].card.brand", records[3].ResponseKeys!);
        Assert.Contains("has_more", records[3].ResponseKeys!);
        Assert.DoesNotContain(records[1].ResponseKeys!, k => k.Contains("4242", StringComparison.Ordinal) || k.Contains("pm_", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Requests_ErrorAnswer_RecordsTheErrorKeys()
    {
        await using var server = await SandboxHarness.StartAsync();
        using var http = SandboxHarness.Http(server);

        using var response = await http.GetAsync(new Uri("v1/customers/cus_missing", UriKind.Relative));

        Assert.Contains("error.type", Assert.Single(server.Requests.Snapshot()).ResponseKeys!);
    }

    [Theory]
    [InlineData("card[number]", "card[number]")]
    [InlineData("payment_method_types[0]", "payment_method_types[0]")]
    [InlineData("mandate_data[customer_acceptance][online][ip_address]", "mandate_data[customer_acceptance][online][ip_address]")]
    [InlineData("metadata[4242424242424242]", "metadata[{redacted}]")]
    [InlineData("metadata[4242 4242]", "metadata[{redacted}]")]
    [InlineData("AT611904300234573201[x]", "{redacted}[x]")]
    [InlineData("amounts[]", "amounts[]")]
    public void SafeName_KeepsPlainSegmentsRedactsOthers(string name, string expected) =>
        Assert.Equal(expected, SandboxRequestLog.SafeName(name));

    [Theory]
    [InlineData("", SandboxParameterKind.Empty, null)]
    [InlineData("true", SandboxParameterKind.Boolean, "true")]
    [InlineData("42", SandboxParameterKind.WholeNumber, null)]
    [InlineData("-1", SandboxParameterKind.WholeNumber, null)]
    [InlineData("1.5", SandboxParameterKind.Number, null)]
    [InlineData("off_session", SandboxParameterKind.Text, "off_session")]
    [InlineData("Off_session", SandboxParameterKind.Text, null)]
    [InlineData("pm_123", SandboxParameterKind.Text, null)]
    [InlineData("4242 4242 4242 4242", SandboxParameterKind.Text, null)]
    public void Parameter_KindFromTextValueOnlyForWords(string value, SandboxParameterKind kind, string? kept)
    {
        var parameter = SandboxRequestLog.Parameter("x", value, SandboxParameterSource.Query);

        Assert.Equal((kind, kept), (parameter.Kind, parameter.Value));
    }

    [Fact]
    public async Task Requests_ListWithQuery_RecordsThePathOnly()
    {
        await using var server = await SandboxHarness.StartAsync();
        var client = SandboxHarness.Client(server);
        var customer = await client.V1.Customers.CreateAsync(new CustomerCreateOptions());
        await client.V1.Customers.PaymentMethods.ListAsync(customer.Id, new CustomerPaymentMethodListOptions { Type = "card", Limit = 3 });

        var records = server.Requests.Snapshot();

        Assert.Equal(["POST /v1/customers", $"GET /v1/customers/{customer.Id}/payment_methods"], records.Select(r => $"{r.Method} {r.Path}"));
        Assert.NotNull(records[0].IdempotencyKey); // Stripe.net adds a fresh key to every POST
        Assert.Null(records[1].IdempotencyKey);
        Assert.All(records, r => Assert.DoesNotContain("?", r.Path, StringComparison.Ordinal));
        Assert.Equal(
            [("type", SandboxParameterKind.Text, "card", SandboxParameterSource.Query), ("limit", SandboxParameterKind.WholeNumber, null, SandboxParameterSource.Query)],
            records[1].Parameters!.Select(p => (p.Name, p.Kind, p.Value, p.Source)).OrderByDescending(p => p.Name));
    }

    [Theory]
    [InlineData("v1/payment_methods/4242424242424242")]
    [InlineData("v1/payment_methods/4242%204242%204242%204242")]
    [InlineData("v1/payment_methods/4242-4242-4242-4242/attach")]
    public async Task Requests_CardNumberInThePath_SegmentRedacted(string path)
    {
        await using var server = await SandboxHarness.StartAsync();
        using var http = SandboxHarness.Http(server);

        using var response = await http.GetAsync(new Uri(path, UriKind.Relative));

        var record = Assert.Single(server.Requests.Snapshot());
        Assert.StartsWith("/v1/payment_methods/{redacted}", record.Path, StringComparison.Ordinal);
        Assert.DoesNotContain("4242", record.Path, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Requests_Unauthenticated_RecordedWith401()
    {
        await using var server = await SandboxHarness.StartAsync(o => o.ApiKey = SandboxHarness.ApiKey);
        using var http = SandboxHarness.Http(server, "sk_test_wrong");

        using var response = await http.GetAsync(new Uri("v1/customers/cus_x", UriKind.Relative));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(401, Assert.Single(server.Requests.Snapshot()).Status);
    }

    [Fact]
    public async Task Requests_SandboxEndpoints_NotRecorded()
    {
        await using var server = await SandboxHarness.StartAsync();
        using var http = SandboxHarness.Http(server);

        using var stats = await http.GetAsync(new Uri("_sandbox/stats", UriKind.Relative));
        using var other = await http.GetAsync(new Uri("favicon.ico", UriKind.Relative));

        Assert.Empty(server.Requests.Snapshot());
    }

    [Fact]
    public async Task Requests_BeyondTheLimit_KeepsTheLatest()
    {
        await using var server = await SandboxHarness.StartAsync(o => o.RecordedRequestLimit = 3);
        var customers = SandboxHarness.Client(server).V1.Customers;
        for (var i = 0; i < 5; i++)
        {
            await customers.CreateAsync(new CustomerCreateOptions());
        }

        Assert.Equal(3, server.Requests.Capacity);
        Assert.Equal([3L, 4L, 5L], server.Requests.Snapshot().Select(r => r.Sequence));
    }

    [Fact]
    public async Task Requests_LimitZero_RecordsNothing()
    {
        await using var server = await SandboxHarness.StartAsync(o => o.RecordedRequestLimit = 0);

        await SandboxHarness.Client(server).V1.Customers.CreateAsync(new CustomerCreateOptions());

        Assert.Empty(server.Requests.Snapshot());
    }

    [Fact]
    public async Task Requests_Clear_EmptiesAndSequenceKeepsCounting()
    {
        await using var server = await SandboxHarness.StartAsync();
        var customers = SandboxHarness.Client(server).V1.Customers;
        await customers.CreateAsync(new CustomerCreateOptions());

        server.Requests.Clear();
        Assert.Empty(server.Requests.Snapshot());
        await customers.CreateAsync(new CustomerCreateOptions());

        Assert.Equal(2, Assert.Single(server.Requests.Snapshot()).Sequence);
    }

    [Fact]
    public async Task Requests_HeldRequest_ShowsInProgressWithItsFault()
    {
        await using var server = await SandboxHarness.StartAsync();
        server.Faults.Add("POST /v1/customers", SandboxFault.Hang(TimeSpan.FromSeconds(60)));
        using var cancel = new CancellationTokenSource();
        var customers = SandboxHarness.Client(server).V1.Customers;

        var held = customers.CreateAsync(new CustomerCreateOptions(), cancellationToken: cancel.Token);
        await SandboxHarness.WaitUntilAsync(() => server.Requests.Snapshot() is [{ Fault: not null }]);
        var during = server.Requests.Snapshot()[0];
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => held);

        Assert.Equal((SandboxRequestOutcome.InProgress, (int?)null, (SandboxFaultAction?)SandboxFaultAction.Hang), (during.Outcome, during.Status, during.Fault));
        await SandboxHarness.WaitUntilAsync(() => server.Requests.Snapshot()[0].Outcome == SandboxRequestOutcome.Aborted);
    }

    [Fact]
    public async Task Snapshot_WithMatch_FiltersAndRejectsMalformedPatterns()
    {
        await using var server = await SandboxHarness.StartAsync();
        var client = SandboxHarness.Client(server);
        var customer = await client.V1.Customers.CreateAsync(new CustomerCreateOptions());
        await client.V1.Customers.GetAsync(customer.Id);

        Assert.Single(server.Requests.Snapshot("GET /v1/customers/*"));
        Assert.Equal(2, server.Requests.Snapshot("*").Count);
        Assert.Throws<ArgumentException>(() => server.Requests.Snapshot("customers"));
    }
}
