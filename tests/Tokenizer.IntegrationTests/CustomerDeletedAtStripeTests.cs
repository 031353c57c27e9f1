using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Stripe;
using Tokenizer.Contracts.V1;
using Tokenizer.Core.Ports;
using Tokenizer.Server.Hosting;
using Tokenizer.StripeSandbox.Faults;

namespace Tokenizer.IntegrationTests;

/// <summary>
/// A Customer deleted at Stripe (the Dashboard, the API, an erasure) while the ledger still maps its reference to it,
/// and its <c>customer.deleted</c> event not processed (this fixture runs no webhook listener, so it never is): the real
/// server over real gRPC, the embedded sandbox over real HTTP, the real SQLite ledger. The next tokenisation for the
/// reference gets a new Customer instead of failing until the event arrives.
/// </summary>
public sealed class CustomerDeletedAtStripeTests(TokenizerServerFixture server) : IClassFixture<TokenizerServerFixture>
{
    private StripeClient Gateway => new(new StripeClientOptions
    {
        ApiKey = server.App.Services.GetRequiredService<EmbeddedSandbox>().ApiKey,
        ApiBase = server.Sandbox.BaseAddress.ToString().TrimEnd('/'),
    });

    private Tokenizer.Ledger.RelationalTokenLedger Ledger => server.App.Services.GetRequiredService<Tokenizer.Ledger.RelationalTokenLedger>();

    [Fact]
    public async Task TokenizeCard_MappedCustomerDeletedAtStripe_NewCustomerMappedNoErrorLoggedRetryReplays()
    {
        // Arrange: a token for the reference, then its Customer deleted at Stripe behind the service's back.
        var reference = "cust-gone-" + Guid.NewGuid().ToString("N")[..10];
        var before = (await server.Client.TokenizeCardAsync(Requests.Card("4242424242424242", Requests.NewKey(), customer: reference))).Token;
        var deleted = await Gateway.V1.Customers.DeleteAsync(before.GatewayCustomer);
        Assert.True(deleted.Deleted);
        Assert.Equal(before.GatewayCustomer, await MappedCustomerAsync(reference)); // still mapped: the event is not processed
        var linesBefore = server.Logs.Lines.Count;

        // Act: the same reference again, then the caller's retry of that request.
        var request = Requests.Card("5555555555554444", Requests.NewKey(), customer: reference);
        var response = await server.Client.TokenizeCardAsync(request);
        var retried = await server.Client.TokenizeCardAsync(request);

        // Assert: a token under a new, live Customer, which the ledger now maps the reference to; the retry replays it.
        var token = response.Token;
        Assert.Equal((TokenStatus.Active, SetupStatus.Ready), (token.Status, token.Setup.Status));
        Assert.StartsWith("cus_", token.GatewayCustomer, StringComparison.Ordinal);
        Assert.NotEqual(before.GatewayCustomer, token.GatewayCustomer);
        Assert.Equal(token.GatewayCustomer, await MappedCustomerAsync(reference));
        Assert.NotEqual(true, (await Gateway.V1.Customers.GetAsync(token.GatewayCustomer)).Deleted);
        Assert.Equal(token.GatewayCustomer, (await Gateway.V1.PaymentMethods.GetAsync(token.Token_)).CustomerId);

        Assert.True(retried.Replayed);
        Assert.Equal(token, retried.Token);

        // Logged as a deletion at Stripe (Warning), never as an Error ("a bug in how we build the request"), and no line
        // names the reference.
        var lines = server.Logs.Lines.Skip(linesBefore).ToList();
        Assert.DoesNotContain(lines, l => l.StartsWith("Error ", StringComparison.Ordinal) || l.StartsWith("Critical ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("Warning ", StringComparison.Ordinal) && l.Contains("DeletedCustomerReplaced", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains(reference, StringComparison.Ordinal));
    }

    [Fact]
    public async Task TokenizeCard_AnswerToTheSecondSetupLost_RetryOfTheRequestReplaysItUnderTheNewCustomer()
    {
        // Arrange: as above, and the answers to the request's second SetupIntent (under the new Customer) are lost, so
        // the caller hears UNAVAILABLE; the gateway keeps the first SetupIntent's 404 under that request's first key.
        var reference = "cust-gone-lost-" + Guid.NewGuid().ToString("N")[..10];
        var before = (await server.Client.TokenizeCardAsync(Requests.Card("4242424242424242", Requests.NewKey(), customer: reference))).Token;
        await Gateway.V1.Customers.DeleteAsync(before.GatewayCustomer);
        var request = Requests.Card("5555555555554444", Requests.NewKey(), customer: reference);
        server.Sandbox.Requests.Clear();
        server.Sandbox.Faults.Add("POST /v1/setup_intents", SandboxFault.DropAfterSuccess(), nth: 2, count: SandboxFaultRule.Unlimited);
        try
        {
            var lost = await Assert.ThrowsAsync<RpcException>(() => server.Client.TokenizeCardAsync(request).ResponseAsync);
            Assert.Equal(StatusCode.Unavailable, lost.StatusCode);
        }
        finally
        {
            server.Sandbox.Faults.Clear();
        }

        // Act: the caller retries the same request.
        var token = (await server.Client.TokenizeCardAsync(request)).Token;

        // Assert: the new Customer, mapped; the SetupIntent the lost answers belonged to (one, replayed under its key).
        Assert.NotEqual(before.GatewayCustomer, token.GatewayCustomer);
        Assert.Equal(token.GatewayCustomer, await MappedCustomerAsync(reference));
        Assert.Equal(SetupStatus.Ready, token.Setup.Status);
        var setups = server.Sandbox.Requests.Snapshot("POST /v1/setup_intents");
        Assert.Equal(2, setups.Select(s => s.IdempotencyKey).Distinct().Count());
        Assert.Equal(setups[1].IdempotencyKey, setups[^1].IdempotencyKey);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    public async Task TokenizeCard_ConcurrentRequestsMeetTheDeletedCustomer_OneReplacementAtStripeAllTokensUnderIt(int requests)
    {
        // Arrange: a token for the reference, then its Customer deleted at Stripe while still mapped.
        var reference = "cust-gone-conc-" + Guid.NewGuid().ToString("N")[..10];
        var before = (await server.Client.TokenizeCardAsync(Requests.Card("4242424242424242", Requests.NewKey(), customer: reference))).Token;
        await Gateway.V1.Customers.DeleteAsync(before.GatewayCustomer);
        var customersBefore = server.Sandbox.GetStats().Customers;

        // Act: concurrent requests for the reference, each under its own idempotency key (one request is the control).
        var responses = await Task.WhenAll(Enumerable.Range(0, requests).Select(_ =>
            server.Client.TokenizeCardAsync(Requests.Card("5555555555554444", Requests.NewKey(), customer: reference)).ResponseAsync));

        // Assert: one new live Customer at Stripe, the mapped one, and every token under it.
        var replacement = Assert.Single(responses.Select(r => r.Token.GatewayCustomer).Distinct());
        Assert.NotEqual(before.GatewayCustomer, replacement);
        Assert.Equal(replacement, await MappedCustomerAsync(reference));
        Assert.Equal(customersBefore + 1, server.Sandbox.GetStats().Customers);
        foreach (var response in responses)
        {
            Assert.Equal(replacement, (await Gateway.V1.PaymentMethods.GetAsync(response.Token.Token_)).CustomerId);
        }
    }

    private Task<string?> MappedCustomerAsync(string reference) => Ledger.Customers.FindCustomerAsync("stripe", reference, CancellationToken.None);
}
