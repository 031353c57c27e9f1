using Tokenizer.Contracts.V1;

namespace Tokenizer.IntegrationTests.Reconciliation;

/// <summary>
/// Tokens whose setup waits for the customer (a card that needs 3-D Secure, an ACH account before its microdeposits) are
/// not attached at Stripe yet (Stripe attaches a SetupIntent's PaymentMethod on successful setup only): reconciliation
/// reports them pending, not missing at the gateway. Real server, real gRPC, the embedded sandbox over HTTP, SQLite.
/// </summary>
public sealed class ReconciliationWaitingSetupTests(ReconciliationServerFixture host) : IClassFixture<ReconciliationServerFixture>
{
    [Fact]
    public async Task Reconcile_SetupsWaitingForTheCustomer_PendingWhileADetachedTokenIsStillMissingAtGateway()
    {
        // Arrange: for one reference, a 3-D Secure card and an ACH account waiting for the customer, a plain card
        // (matched), and a plain card detached behind our back (missing at the gateway: the control).
        var reference = "cust-recon-waiting-" + Guid.NewGuid().ToString("N")[..8];
        var billing = host.Server.Client;
        var threeDsRequest = Requests.Card("4000002500003155", Requests.NewKey(), customer: reference);
        threeDsRequest.ReturnUrl = "https://billing.example.com/3ds/done";
        var threeDs = (await billing.TokenizeCardAsync(threeDsRequest)).Token;
        var ach = (await billing.TokenizeBankAccountAsync(Requests.Ach(Requests.NewKey(), customer: reference))).Token;
        var plain = (await billing.TokenizeCardAsync(Requests.Card("4242424242424242", Requests.NewKey(), customer: reference))).Token;
        var detached = (await billing.TokenizeCardAsync(Requests.Card("5555555555554444", Requests.NewKey(), customer: reference))).Token;
        await host.StripePostAsync($"/v1/payment_methods/{detached.Token_}/detach");
        Assert.Equal(
            (SetupStatus.RequiresAction, NextActionKind.RedirectToUrl, SetupStatus.RequiresAction, NextActionKind.VerifyWithMicrodeposits),
            (threeDs.Setup.Status, threeDs.Setup.NextAction.Kind, ach.Setup.Status, ach.Setup.NextAction.Kind));

        // Act
        var run = await host.ReconcileAsync(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1), reference);
        var items = await host.ItemsAsync(run.Reconciliation.RunId);

        // Assert
        Assert.Equal(ReconciliationState.Completed, run.Reconciliation.State);
        ReconciliationItem Of(Token token) => Assert.Single(items, i => i.Token == token.Token_);
        Assert.Equal(("active", "not_attached", ReconciliationCategory.Pending), Facts(Of(threeDs)));
        Assert.Contains("3-D Secure", Of(threeDs).Detail, StringComparison.Ordinal);
        Assert.Equal(("active", "not_attached", ReconciliationCategory.Pending), Facts(Of(ach)));
        Assert.Contains("microdeposit", Of(ach).Detail, StringComparison.Ordinal);
        Assert.Equal(ReconciliationCategory.Matched, Of(plain).Category);
        Assert.Equal(("active", "not_attached", ReconciliationCategory.MissingAtGateway), Facts(Of(detached)));
    }

    [Fact]
    public async Task Reconcile_ThreeDSecureCompletedThenDetachedWebhooksUnprocessed_MissingAtGatewayNotPending()
    {
        // Arrange: two 3-D Secure cards for one reference. The customer completes the first at Stripe's page and its
        // PaymentMethod is then detached at Stripe behind our back; this fixture processes no webhooks, so the ledger
        // still says both wait for the customer. The second is left untouched (the control).
        var reference = "cust-recon-3ds-detached-" + Guid.NewGuid().ToString("N")[..8];
        var billing = host.Server.Client;
        var completedRequest = Requests.Card("4000002500003155", Requests.NewKey(), customer: reference);
        completedRequest.ReturnUrl = "https://billing.example.com/3ds/done";
        var completed = (await billing.TokenizeCardAsync(completedRequest)).Token;
        var untouchedRequest = Requests.Card("4000002500003155", Requests.NewKey(), customer: reference);
        untouchedRequest.ReturnUrl = "https://billing.example.com/3ds/done";
        var untouched = (await billing.TokenizeCardAsync(untouchedRequest)).Token;
        using (var page = await PostPageAsync(completed.Setup.NextAction.Url, ("outcome", "complete")))
        {
            Assert.True((int)page.StatusCode is >= 200 and < 400, $"3-D Secure page: {(int)page.StatusCode}");
        }

        await host.StripePostAsync($"/v1/payment_methods/{completed.Token_}/detach");

        // Act
        var run = await host.ReconcileAsync(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1), reference);
        var items = await host.ItemsAsync(run.Reconciliation.RunId);

        // Assert: Stripe's SetupIntent, not the ledger's stale state, decides.
        Assert.Equal(ReconciliationState.Completed, run.Reconciliation.State);
        ReconciliationItem Of(Token token) => Assert.Single(items, i => i.Token == token.Token_);
        Assert.Equal(("active", "not_attached", ReconciliationCategory.MissingAtGateway), Facts(Of(completed)));
        Assert.Contains("setup succeeded at the gateway", Of(completed).Detail, StringComparison.Ordinal);
        Assert.Equal(("active", "not_attached", ReconciliationCategory.Pending), Facts(Of(untouched)));
        Assert.Contains("3-D Secure", Of(untouched).Detail, StringComparison.Ordinal);
    }

    private static async Task<HttpResponseMessage> PostPageAsync(string url, params (string Name, string Value)[] fields)
    {
        using var handler = new HttpClientHandler { AllowAutoRedirect = false, CheckCertificateRevocationList = true };
        using var http = new HttpClient(handler);
        using var form = new FormUrlEncodedContent(fields.Select(f => KeyValuePair.Create(f.Name, f.Value)));
        return await http.PostAsync(new Uri(url), form);
    }

    private static (string, string, ReconciliationCategory) Facts(ReconciliationItem item) => (item.LedgerStatus, item.GatewayStatus, item.Category);
}
