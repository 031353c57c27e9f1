using System.Net.Http.Headers;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.DependencyInjection;
using Tokenizer.Contracts.V1;
using Tokenizer.Server.Hosting;

namespace Tokenizer.IntegrationTests.Conformance;

/// <summary>
/// The main flows against a real server and its embedded sandbox (real gRPC, Stripe.net over real HTTP), then every
/// request that sandbox received judged against Stripe's description: the conformance check on its own, without the
/// rest of the suite.
/// </summary>
public sealed class ConformanceFlowTests
{
    /// <summary>The Customer id in the paths of the control's non-conforming requests: the suite judge leaves exactly those out.</summary>
    internal const string ControlCustomer = "cus_conformance_control";

    [Fact]
    public async Task MainFlows_EveryGatewayRequestAndAnswer_ConformsToStripesDescription()
    {
        var server = new TokenizerServerFixture();
        await server.InitializeAsync();
        try
        {
            var customer = "cust-conformance-" + Guid.NewGuid().ToString("N")[..8];
            var card = (await server.Client.TokenizeCardAsync(Requests.Card("4242424242424242", Requests.NewKey(), customer))).Token;
            await server.Client.TokenizeBankAccountAsync(Requests.Becs(Requests.NewKey(), customer: customer));
            var sepa = (await server.Client.TokenizeBankAccountAsync(Requests.Sepa(Requests.NewKey(), customer: customer))).Token;
            await server.Client.TokenizeBankAccountAsync(Requests.Bacs(Requests.NewKey(), customer: customer));
            await server.Client.TokenizeBankAccountAsync(Requests.Ach(Requests.NewKey(), customer: customer));
            await server.Finance.GetTokenAsync(new GetTokenRequest { Token = card.Token_ });
            await server.Finance.ListTokensAsync(new ListTokensRequest { CustomerReference = customer });
            await server.Admin.RevokeTokenAsync(new RevokeTokenRequest { Token = sepa.Token_, IdempotencyKey = Requests.NewKey(), Reason = "conformance" });

            var privacy = new PrivacyService.PrivacyServiceClient(server.ChannelFor("admin"));
            await privacy.CorrectSubjectDataAsync(new CorrectSubjectDataRequest
            {
                IdempotencyKey = Requests.NewKey(),
                CustomerReference = customer,
                BillingDetails = new BillingDetails { Email = "corrected@example.com", Address = new Address { City = "Correctville" } },
            });

            var reconciliation = new ReconciliationService.ReconciliationServiceClient(server.ChannelFor("finance"));
            var run = await reconciliation.StartReconciliationAsync(new StartReconciliationRequest
            {
                Filter = new ReconciliationFilter { From = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddHours(-1)), To = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddHours(1)) },
                IdempotencyKey = Requests.NewKey(),
            });
            await WaitForReconciliationAsync(reconciliation, run.RunId);

            await privacy.EraseSubjectAsync(new EraseSubjectRequest { CustomerReference = customer, IdempotencyKey = Requests.NewKey(), Reason = "conformance" });

            var calls = RecordedCalls.From(server.Sandbox, "flow sandbox");
            var verdict = ConformanceVerdict.Of(calls);
            var operations = calls.Select(c => $"{c.Method} {StripeOpenApi.Instance.Template(c.Method, c.Path)}").ToHashSet(StringComparer.Ordinal);

            // The flows reached every operation the service uses today (else the check judged less than it claims).
            Assert.Superset(
                new HashSet<string>(StringComparer.Ordinal)
                {
                    "POST /v1/customers",
                    "POST /v1/payment_methods",
                    "POST /v1/payment_methods/{payment_method}/detach",
                    "POST /v1/payment_methods/{payment_method}",
                    "GET /v1/customers/{customer}/payment_methods",
                    "DELETE /v1/customers/{customer}",
                    "POST /v1/setup_intents",
                    "GET /v1/mandates/{mandate}",

                    // The erasure cancels the ACH token's setup, still waiting for its microdeposits, and reads it back.
                    "POST /v1/setup_intents/{intent}/cancel",
                    "GET /v1/setup_intents/{intent}",
                },
                operations);
            Assert.All(calls, c => Assert.NotNull(c.Parameters));
            Assert.True(verdict.Judged >= 10, $"judged only {verdict.Judged} requests");
            Assert.True(verdict.Findings.Count == 0, "requests or answers that do not conform to Stripe's description:" + Environment.NewLine + verdict.Describe());

            // Control: the same sandbox, recording and checker find requests that do not conform.
            await SendNonConformingRequestsAsync(server);
            var control = ConformanceVerdict.Of(RecordedCalls.From(server.Sandbox, "flow sandbox").Skip(calls.Count));
            Assert.Equal(
                [(Rules.UnknownParameter, "emial"), (Rules.WrongEnum, "type"), (Rules.WrongType, "limit")],
                control.Findings.Select(f => (f.Rule, f.Subject)).Order());
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    private static async Task SendNonConformingRequestsAsync(TokenizerServerFixture server)
    {
        using var http = new HttpClient { BaseAddress = server.Sandbox.BaseAddress };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", server.App.Services.GetRequiredService<EmbeddedSandbox>().ApiKey);
        using var form = new FormUrlEncodedContent([KeyValuePair.Create("emial", "someone@example.com")]);
        using var update = await http.PostAsync(new Uri($"v1/customers/{ControlCustomer}", UriKind.Relative), form);
        using var list = await http.GetAsync(new Uri($"v1/customers/{ControlCustomer}/payment_methods?type=cheque&limit=ten", UriKind.Relative));
    }

    private static async Task WaitForReconciliationAsync(ReconciliationService.ReconciliationServiceClient client, string runId)
    {
        // A safety bound on polling, not an assertion on time.
        using var bound = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        while (true)
        {
            var state = (await client.GetReconciliationAsync(new GetReconciliationRequest { RunId = runId }, cancellationToken: bound.Token)).Reconciliation.State;
            if (state is ReconciliationState.Completed or ReconciliationState.Failed)
            {
                Assert.Equal(ReconciliationState.Completed, state);
                return;
            }

            await Task.Delay(100, bound.Token);
        }
    }
}
