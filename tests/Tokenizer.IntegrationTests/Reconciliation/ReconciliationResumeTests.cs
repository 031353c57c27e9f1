using Tokenizer.Contracts.V1;
using Tokenizer.StripeSandbox.Faults;

namespace Tokenizer.IntegrationTests.Reconciliation;

/// <summary>A reconciliation server whose Stripe calls are not retried, so an injected failure reaches the run at once.</summary>
public sealed class ResumeServerFixture() : ReconciliationServerFixture(["--Stripe:Resilience:MaxRetries=0"]);

/// <summary>Gateway errors in the middle of a run: the run stops interrupted with its cursor, resumes, and ends as a clean run does.</summary>
public sealed class ReconciliationResumeTests(ResumeServerFixture host) : IClassFixture<ResumeServerFixture>
{
    private const string ListPaymentMethods = "GET /v1/customers/*/payment_methods";

    [Fact]
    public async Task Run_GatewayFailsMidRun_InterruptedThenResumesAndFinishesWithTheCleanRunsResult()
    {
        // Arrange: two customers with several pages each (two PaymentMethods a page) and one discrepancy.
        var from = DateTimeOffset.UtcNow.AddHours(-1);
        var tokens = new List<string>();
        foreach (var (customer, count) in new[] { ("cust-resume-1", 5), ("cust-resume-2", 3) })
        {
            for (var i = 0; i < count; i++)
            {
                tokens.Add((await host.Server.Client.TokenizeCardAsync(Requests.Card("4242424242424242", Requests.NewKey(), customer))).Token.Token_);
            }
        }

        await host.StripePostAsync($"/v1/payment_methods/{tokens[6]}/detach");
        var to = DateTimeOffset.UtcNow.AddHours(1);

        // Two pages succeed, then every list request fails.
        host.Server.Sandbox.Faults.Add(ListPaymentMethods, SandboxFault.Status(503), nth: 3, count: SandboxFaultRule.Unlimited);

        // Act
        var runId = await host.StartAsync(from, to);
        var interrupted = await host.WaitAsync(runId, ReconciliationState.Interrupted);
        host.Server.Sandbox.Faults.Clear();
        var resumed = await host.WaitAsync(runId, ReconciliationState.Completed);
        var clean = await host.ReconcileAsync(from, to);

        // Assert: stopped with its progress kept, then the same items and counts as a run that met no error.
        Assert.Equal(ReconciliationState.Interrupted, interrupted.Reconciliation.State);
        Assert.Equal("GATEWAY_UNAVAILABLE", interrupted.Reconciliation.ErrorReason);
        Assert.True(interrupted.Reconciliation.ItemsTotal is > 0 and < 8, "the pages before the failure were kept");
        Assert.Equal(ReconciliationState.Completed, resumed.Reconciliation.State);
        Assert.Equal(string.Empty, resumed.Reconciliation.ErrorReason);
        Assert.Equal(Summary(await host.ItemsAsync(clean.Reconciliation.RunId)), Summary(await host.ItemsAsync(runId)));
        Assert.Equal((8L, 1L), (resumed.Reconciliation.ItemsTotal, resumed.Reconciliation.Discrepancies));
        Assert.Equal(clean.Reconciliation.GatewayRequests, resumed.Reconciliation.GatewayRequests);
        Assert.Equal(clean.Reconciliation.CustomersDone, resumed.Reconciliation.CustomersDone);
    }

    private static List<(string, ReconciliationCategory, string)> Summary(IEnumerable<ReconciliationItem> items) =>
        [.. items.Select(i => (i.Token, i.Category, i.Detail)).OrderBy(i => i.Token, StringComparer.Ordinal)];
}
