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
        Assert.DoesNotContain("card[", everything, StringComparison.Ordinal);
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
