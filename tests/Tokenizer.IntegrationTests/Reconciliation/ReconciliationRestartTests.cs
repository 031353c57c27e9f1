using Tokenizer.Contracts.V1;

namespace Tokenizer.IntegrationTests.Reconciliation;

/// <summary>Runs live in the ledger: a run cut short by a server restart resumes on the next start and ends as a clean run does.</summary>
public sealed class ReconciliationRestartTests
{
    [Fact]
    public async Task Run_ServerStoppedMidRun_NextStartResumesItFromItsCursorWithTheCleanRunsResult()
    {
        // Arrange: one PaymentMethod a page, paced at 2 requests a second, so the run is still going when the server stops.
        var directory = Directory.CreateTempSubdirectory("tokenizer-recon-restart-").FullName;
        string[] slow = ["--Tokenizer:Reconciliation:GatewayPageSize=1", "--Tokenizer:Reconciliation:GatewayRequestsPerSecond=2"];
        var from = DateTimeOffset.UtcNow.AddHours(-1);
        var to = DateTimeOffset.UtcNow.AddHours(1);
        try
        {
            string runId;
            GetReconciliationResponse stopped;
            var first = new ReconciliationServerFixture(directory, slow);
            try
            {
                await first.InitializeAsync();
                foreach (var customer in new[] { "cust-restart-1", "cust-restart-2" })
                {
                    for (var i = 0; i < 4; i++)
                    {
                        await first.Server.Client.TokenizeCardAsync(Requests.Card("4242424242424242", Requests.NewKey(), customer));
                    }
                }

                // Act: stop once the run has saved its first page.
                runId = await first.StartAsync(from, to);
                using var bound = new CancellationTokenSource(TimeSpan.FromMinutes(2));
                while (true)
                {
                    stopped = await first.Finance.GetReconciliationAsync(new GetReconciliationRequest { RunId = runId }, cancellationToken: bound.Token);
                    if (stopped.Reconciliation.GatewayRequests > 0)
                    {
                        break;
                    }

                    await Task.Delay(50, bound.Token);
                }
            }
            finally
            {
                await first.DisposeAsync();
            }

            var second = new ReconciliationServerFixture(directory, []);
            try
            {
                await second.InitializeAsync();
                var resumed = await second.WaitAsync(runId, ReconciliationState.Completed);
                var clean = await second.ReconcileAsync(from, to);

                // Assert
                Assert.Equal(ReconciliationState.Running, stopped.Reconciliation.State);
                Assert.True(stopped.Reconciliation.ItemsTotal < 8, "stopped before the end");
                Assert.Equal(ReconciliationState.Completed, resumed.Reconciliation.State);
                Assert.Equal((8L, 0L), (resumed.Reconciliation.ItemsTotal, resumed.Reconciliation.Discrepancies));
                Assert.Equal(
                    (await second.ItemsAsync(clean.Reconciliation.RunId)).Select(i => (i.Token, i.Category)),
                    (await second.ItemsAsync(runId)).Select(i => (i.Token, i.Category)));
            }
            finally
            {
                await second.DisposeAsync();
            }
        }
        finally
        {
            TokenizerServerFixture.TryDelete(directory);
        }
    }
}
