using System.Text.Json;
using Grpc.Core;
using Tokenizer.Contracts.V1;
using Tokenizer.SecurityTests;

namespace Tokenizer.IntegrationTests;

/// <summary>
/// The process is killed (SIGKILL, not an exception) between the gateway's success and the ledger commit; after a
/// restart the billing service's retry of the same request finishes it: one PaymentMethod at the gateway, one token.
/// </summary>
public sealed class CrashConsistencyTests
{
    [Fact]
    public async Task KilledAfterGatewaySuccess_RetryAfterRestart_OnePaymentMethodAndOneToken()
    {
        var directory = Directory.CreateTempSubdirectory("tokenizer-crash-").FullName;
        try
        {
            var key = Requests.NewKey();
            var request = Requests.Card("4242424242424242", key, customer: "cust-crash");

            // The first attempt: the gateway creates and attaches the PaymentMethod, then the process dies.
            await using (var doomed = await ServerProcess.StartAsync(directory, "--Tokenizer:FailPoint=kill-after-gateway-success", "--Tokenizer:PendingLeaseSeconds=2"))
            {
                var lost = await Assert.ThrowsAsync<RpcException>(() => doomed.Client.TokenizeCardAsync(request).ResponseAsync);
                Assert.Contains(lost.StatusCode, new[] { StatusCode.Unavailable, StatusCode.Internal, StatusCode.Unknown });
                await doomed.WaitForExitAsync();
            }

            Assert.Equal(1, PaymentMethodsAtTheGateway(directory));

            // Restart on the same data directory and retry the same request with the same key.
            await using (var server = await ServerProcess.StartAsync(directory, "--Tokenizer:PendingLeaseSeconds=2"))
            {
                var response = await RetryWhileInFlightAsync(() => server.Client.TokenizeCardAsync(request).ResponseAsync);
                var replay = await server.Client.TokenizeCardAsync(request);
                var finance = new TokenizerService.TokenizerServiceClient(TestChannels.Create(server.Address, Path.Combine(directory, "pki"), "finance"));
                var listed = await finance.ListTokensAsync(new ListTokensRequest { CustomerReference = "cust-crash" });

                Assert.StartsWith("pm_", response.Token.Token_, StringComparison.Ordinal);
                Assert.True(replay.Replayed);
                Assert.Equal(response.Token, replay.Token);
                Assert.Equal([response.Token.Token_], listed.Tokens.Select(t => t.Token_));
            }

            // The gateway replayed the create for the same Idempotency-Key: still one PaymentMethod.
            Assert.Equal(1, PaymentMethodsAtTheGateway(directory));
        }
        finally
        {
            TokenizerServerFixture.TryDelete(directory);
        }
    }

    /// <summary>Until the dead owner's lease runs out the key answers ABORTED (retryable): retry as a billing service would.</summary>
    private static async Task<TokenizeCardResponse> RetryWhileInFlightAsync(Func<Task<TokenizeCardResponse>> call)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await call();
            }
            catch (RpcException error) when (error.StatusCode == StatusCode.Aborted && attempt < 20)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(500));
            }
        }
    }

    /// <summary>PaymentMethods the embedded sandbox holds, from its persisted state.</summary>
    private static int PaymentMethodsAtTheGateway(string directory)
    {
        using var state = JsonDocument.Parse(File.ReadAllText(Path.Combine(directory, "sandbox", "state.json")));
        return state.RootElement.GetProperty("payment_methods").GetArrayLength();
    }
}
