using Tokenizer.Contracts.V1;

namespace Tokenizer.IntegrationTests.Reconciliation;

/// <summary>
/// A Customer deleted at Stripe behind the service's back (the Dashboard: the sandbox's delete-customer control) while
/// its <c>customer.deleted</c> is not processed (this fixture processes no webhooks, as when the event is lost or held):
/// Stripe takes no further operations on a deleted Customer, so a token under it can never become chargeable, even when
/// its SetupIntent still says requires_action. Reconciliation reports every active token under it as
/// <c>missing_at_gateway</c> naming the cause, never <c>pending</c>. Real server, real gRPC, the embedded sandbox over
/// HTTP, SQLite.
/// </summary>
public sealed class ReconciliationDeletedCustomerTests(ReconciliationServerFixture host) : IClassFixture<ReconciliationServerFixture>
{
    private const string DeletedDetail = "its Customer is deleted at the gateway";

    [Fact]
    public async Task Reconcile_MappedCustomerDeletedAtStripeEventUnprocessed_EveryActiveTokenMissingNamingTheDeletionNotPending()
    {
        // Arrange: for one reference, a 3-D Secure card waiting for the customer and a plain card, then the reference's
        // Customer deleted in the Dashboard. The control: another reference's 3-D Secure card under a live Customer.
        var reference = "cust-recon-deleted-" + Guid.NewGuid().ToString("N")[..8];
        var control = "cust-recon-live-" + Guid.NewGuid().ToString("N")[..8];
        var threeDs = await ThreeDSecureAsync(reference);
        var plain = (await host.Server.Client.TokenizeCardAsync(Requests.Card("4242424242424242", Requests.NewKey(), customer: reference))).Token;
        var live = await ThreeDSecureAsync(control);
        Assert.Equal(threeDs.GatewayCustomer, plain.GatewayCustomer);
        host.Server.Sandbox.DeleteCustomer(threeDs.GatewayCustomer);

        // Act
        var items = await ReconcileAsync(reference);
        var controlItems = await ReconcileAsync(control);

        // Assert: both tokens not chargeable, the detail naming the cause (a fixed text: no id, reference or input).
        ReconciliationItem Of(List<ReconciliationItem> all, Token token) => Assert.Single(all, i => i.Token == token.Token_);
        foreach (var token in new[] { threeDs, plain })
        {
            var item = Of(items, token);
            Assert.Equal(("active", "not_attached", ReconciliationCategory.MissingAtGateway), Facts(item));
            Assert.Contains(DeletedDetail, item.Detail, StringComparison.Ordinal);
            Assert.DoesNotContain(reference, item.Detail, StringComparison.Ordinal);
            Assert.DoesNotContain(token.GatewayCustomer, item.Detail, StringComparison.Ordinal);
        }

        Assert.Equal(("active", "not_attached", ReconciliationCategory.Pending), Facts(Of(controlItems, live)));
        Assert.Contains("3-D Secure", Of(controlItems, live).Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reconcile_DeletedCustomerReplacedForTheReference_ItsWaitingTokenMissingNamingTheDeletionTheNewOneMatched()
    {
        // Arrange: a 3-D Secure card waiting for the customer, its Customer deleted in the Dashboard, then a new card for
        // the same reference, which gets a replacement Customer (the ledger maps the reference to it now). The walk lists
        // only the replacement; the waiting token is found by the ledger sweep, which asks Stripe about its Customer.
        var reference = "cust-recon-replaced-" + Guid.NewGuid().ToString("N")[..8];
        var threeDs = await ThreeDSecureAsync(reference);
        host.Server.Sandbox.DeleteCustomer(threeDs.GatewayCustomer);
        var after = (await host.Server.Client.TokenizeCardAsync(Requests.Card("5555555555554444", Requests.NewKey(), customer: reference))).Token;
        Assert.NotEqual(threeDs.GatewayCustomer, after.GatewayCustomer);

        // Act
        var items = await ReconcileAsync(reference);

        // Assert: the waiting token is not chargeable and says why; the token under the live replacement is the control.
        var waiting = Assert.Single(items, i => i.Token == threeDs.Token_);
        Assert.Equal(("active", "not_attached", ReconciliationCategory.MissingAtGateway), Facts(waiting));
        Assert.Contains(DeletedDetail, waiting.Detail, StringComparison.Ordinal);
        Assert.Equal(ReconciliationCategory.Matched, Assert.Single(items, i => i.Token == after.Token_).Category);
    }

    private async Task<Token> ThreeDSecureAsync(string reference)
    {
        var request = Requests.Card("4000002500003155", Requests.NewKey(), customer: reference);
        request.ReturnUrl = "https://billing.example.com/3ds/done";
        var token = (await host.Server.Client.TokenizeCardAsync(request)).Token;
        Assert.Equal((SetupStatus.RequiresAction, NextActionKind.RedirectToUrl), (token.Setup.Status, token.Setup.NextAction.Kind));
        return token;
    }

    private async Task<List<ReconciliationItem>> ReconcileAsync(string reference)
    {
        var run = await host.ReconcileAsync(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1), reference);
        Assert.Equal(ReconciliationState.Completed, run.Reconciliation.State);
        return await host.ItemsAsync(run.Reconciliation.RunId);
    }

    private static (string, string, ReconciliationCategory) Facts(ReconciliationItem item) => (item.LedgerStatus, item.GatewayStatus, item.Category);
}
