using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Stripe;
using Tokenizer.Contracts.V1;
using Tokenizer.Server.Hosting;
using Tokenizer.StripeSandbox.Faults;

namespace Tokenizer.IntegrationTests;

/// <summary>
/// An erasure against what happens at Stripe meanwhile: the billing service tokenising for the same person while the
/// erasure runs, and a Customer deleted in the Dashboard before it (its <c>customer.deleted</c> never processed: this
/// fixture runs no webhook listener). The real server over real gRPC and TLS, the embedded sandbox over real HTTP, the
/// real SQLite ledger.
/// </summary>
public sealed class ErasureFenceTests(TokenizerServerFixture server) : IClassFixture<TokenizerServerFixture>
{
    private const string BillingName = "Zebulon Fence";

    private PrivacyService.PrivacyServiceClient Privacy => new(server.ChannelFor("admin"));

    private StripeClient Gateway => new(new StripeClientOptions
    {
        ApiKey = server.App.Services.GetRequiredService<EmbeddedSandbox>().ApiKey,
        ApiBase = server.Sandbox.BaseAddress.ToString().TrimEnd('/'),
    });

    [Fact]
    public async Task TokenizeCard_WhileTheErasuresCustomerDeleteIsInFlight_RefusedErasureInProgressNothingSentAndEveryPaymentMethodCleared()
    {
        // Arrange: a token for the person; the erasure's DELETE /v1/customers/{id} is held 4 s at the sandbox, the window
        // in which a SetupIntent under that still-live Customer would attach and be detached uncleared by the delete.
        var reference = "cust-fence-" + Guid.NewGuid().ToString("N")[..10];
        var first = await TokenizeAsync(reference, "4242424242424242");
        server.Sandbox.Faults.Add("DELETE /v1/customers/*", SandboxFault.Latency(TimeSpan.FromSeconds(4)), count: 1);
        var erasure = Privacy.EraseSubjectAsync(new EraseSubjectRequest { CustomerReference = reference, IdempotencyKey = Requests.NewKey() }).ResponseAsync;
        await EventuallyAsync(async () =>
            (await Privacy.GetErasureStatusAsync(new GetErasureStatusRequest { CustomerReference = reference })).Status.State == ErasureState.DeletingCustomer);
        var paymentMethodsBefore = server.Sandbox.Requests.Snapshot("POST /v1/payment_methods").Count;

        // Act: the billing service tokenises for the same person while the delete is in flight; another person meanwhile.
        var refused = await Assert.ThrowsAsync<RpcException>(() => TokenizeAsync(reference, "5555555555554444"));
        var paymentMethodsAfterRefusal = server.Sandbox.Requests.Snapshot("POST /v1/payment_methods").Count;
        var other = await TokenizeAsync("cust-fence-other-" + Guid.NewGuid().ToString("N")[..10], "5555555555554444");
        var erased = await erasure;

        // Assert: refused naming the field and the rule, before any gateway request; the control went through; the erasure
        // completed with the one PaymentMethod it had, cleared and detached.
        Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
        Assert.Equal("ERASURE_IN_PROGRESS", TokenizeTests.ErrorInfoOf(refused).Reason);
        Assert.Contains("customer_reference", refused.Status.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain(reference, refused.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(paymentMethodsBefore, paymentMethodsAfterRefusal);
        Assert.Equal(Contracts.V1.TokenStatus.Active, other.Status);
        Assert.Equal((ErasureState.Completed, 1, 0), (erased.Status.State, erased.Status.PaymentMethodsDetached, erased.Status.PaymentMethodsNotCleared));
        var atGateway = await Gateway.V1.PaymentMethods.GetAsync(first.Token_);
        Assert.Null(atGateway.CustomerId);
        Assert.Null(atGateway.BillingDetails.Name);

        // Once the erasure is complete, the reference is a new person to the service: tokenising works again.
        var after = await TokenizeAsync(reference, "5555555555554444");
        Assert.Equal(Contracts.V1.TokenStatus.Active, after.Status);
        Assert.NotEqual(first.GatewayCustomer, after.GatewayCustomer);
    }

    [Fact]
    public async Task EraseSubject_PaymentMethodDetachedByACustomerDeletedInTheDashboard_CountedNotClearedNotDetachedAndNoErrorLogged()
    {
        // Arrange: a token, then its Customer deleted at Stripe (which detaches the PaymentMethod, billing details and all);
        // a second person's erasure is the control.
        var reference = "cust-dash-" + Guid.NewGuid().ToString("N")[..10];
        var token = await TokenizeAsync(reference, "4242424242424242");
        Assert.True((await Gateway.V1.Customers.DeleteAsync(token.GatewayCustomer)).Deleted);
        var control = "cust-dash-ctl-" + Guid.NewGuid().ToString("N")[..10];
        await TokenizeAsync(control, "4242424242424242");
        var linesBefore = server.Logs.Lines.Count;

        // Act
        var erased = await Privacy.EraseSubjectAsync(new EraseSubjectRequest { CustomerReference = reference, IdempotencyKey = Requests.NewKey() });
        var controlErased = await Privacy.EraseSubjectAsync(new EraseSubjectRequest { CustomerReference = control, IdempotencyKey = Requests.NewKey() });

        // Assert: the gateway still holds the details (Stripe updates attached PaymentMethods only), and the erasure says
        // so instead of counting it cleared; the refusal is a Warning naming the PaymentMethod, never an Error.
        Assert.Equal((ErasureState.Completed, 0, 1), (erased.Status.State, erased.Status.PaymentMethodsDetached, erased.Status.PaymentMethodsNotCleared));
        Assert.Equal((ErasureState.Completed, 1, 0), (controlErased.Status.State, controlErased.Status.PaymentMethodsDetached, controlErased.Status.PaymentMethodsNotCleared));
        Assert.Equal(BillingName, (await Gateway.V1.PaymentMethods.GetAsync(token.Token_)).BillingDetails.Name);
        var lines = server.Logs.Lines.Skip(linesBefore).ToList();
        Assert.DoesNotContain(lines, l => l.StartsWith("Error ", StringComparison.Ordinal) || l.StartsWith("Critical ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("Warning ", StringComparison.Ordinal) && l.Contains("StripePaymentMethodNotAttached", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("Warning ", StringComparison.Ordinal) && l.Contains("PrivacyClearRefused", StringComparison.Ordinal) && l.Contains(token.Token_, StringComparison.Ordinal));
    }

    private async Task<Contracts.V1.Token> TokenizeAsync(string reference, string pan)
    {
        var request = Requests.Card(pan, Requests.NewKey(), customer: reference);
        request.BillingDetails = new Contracts.V1.BillingDetails { Name = BillingName, Email = "fence@example.com" };
        return (await server.Client.TokenizeCardAsync(request)).Token;
    }

    private static async Task EventuallyAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTimeOffset.UtcNow.AddSeconds(30);
        while (!await condition())
        {
            Assert.True(DateTimeOffset.UtcNow < deadline, "the condition did not hold within 30 s");
            await Task.Delay(50);
        }
    }
}
