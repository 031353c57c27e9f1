using System.Collections.Concurrent;
using System.Diagnostics;
using Grpc.Core;
using Tokenizer.Contracts.V1;
using Tokenizer.SecurityTests;

namespace Tokenizer.IntegrationTests;

/// <summary>
/// SIGTERM in the middle of a stream of calls: the server stops accepting, lets the calls it accepted finish, and exits.
/// No accepted call is lost: every call either succeeded (and its token is in the ledger after a restart) or was refused
/// with UNAVAILABLE before the server accepted it (a retry with the same key after the restart is not a replay).
/// </summary>
public sealed class GracefulShutdownTests
{
    private const int TotalCalls = 200;
    private const int Workers = 8;
    private const int SignalAfterSuccesses = 24;

    [Fact]
    public async Task Sigterm_DuringConcurrentTokenizeCalls_AcceptedCallsCompleteAndNoneIsLost()
    {
        var directory = Directory.CreateTempSubdirectory("tokenizer-shutdown-").FullName;
        try
        {
            var outcomes = new ConcurrentBag<(string Key, string? Token, StatusCode Status, bool FromServer, long CompletedAt)>();
            long signalledAt = long.MaxValue;
            Task? stopping = null;
            var output = string.Empty;
            await using (var server = await ServerProcess.StartAsync(directory, "--Stripe:SandboxLatencyMs=100", "--Tokenizer:ShutdownTimeoutSeconds=30"))
            {
                var next = 0;
                var successes = 0;
                var signal = new object();
                async Task WorkAsync(int worker)
                {
                    while (Interlocked.Increment(ref next) is var n && n <= TotalCalls)
                    {
                        var key = $"shutdown-{worker}-{n}";
                        try
                        {
                            var response = await server.Client.TokenizeCardAsync(
                                Requests.Card("4242424242424242", key, customer: $"cust-shutdown-{worker}"),
                                deadline: DateTime.UtcNow.AddSeconds(60));
                            outcomes.Add((key, response.Token.Token_, StatusCode.OK, true, Stopwatch.GetTimestamp()));
                            if (Interlocked.Increment(ref successes) == SignalAfterSuccesses)
                            {
                                lock (signal)
                                {
                                    Volatile.Write(ref signalledAt, Stopwatch.GetTimestamp());
                                    stopping = server.StopAsync();
                                }
                            }
                        }
                        catch (RpcException error)
                        {
                            outcomes.Add((key, null, error.StatusCode, error.Trailers.Any(t => t.Key == "grpc-status-details-bin"), Stopwatch.GetTimestamp()));
                        }
                    }
                }

                await Task.WhenAll(Enumerable.Range(0, Workers).Select(w => Task.Run(() => WorkAsync(w))));
                Assert.NotNull(stopping);
                await stopping;
                output = server.Output;
                Assert.Contains("Application is shutting down", output, StringComparison.Ordinal);
            }

            var succeeded = outcomes.Where(o => o.Status == StatusCode.OK).ToList();
            var failed = outcomes.Where(o => o.Status != StatusCode.OK).ToList();
            Assert.Equal(TotalCalls, outcomes.Count);
            // Refused before acceptance: UNAVAILABLE made by the client (connection refused, GOAWAY), never a status the
            // server produced after accepting the call (that would carry our ErrorInfo, e.g. GATEWAY_UNAVAILABLE).
            Assert.All(failed, f => Assert.Equal(StatusCode.Unavailable, f.Status));
            Assert.All(failed, f => Assert.False(f.FromServer, $"{f.Key} was accepted and then failed"));
            Assert.NotEmpty(failed);
            // The calls in flight at the signal were drained, not cut: some finished after it.
            Assert.True(succeeded.Any(s => s.CompletedAt > signalledAt), $"{succeeded.Count} ok, {failed.Count} failed; failed ms after signal: {string.Join(",", failed.Select(f => (f.CompletedAt - signalledAt) * 1000 / Stopwatch.Frequency).Order().Take(20))}\n{output[^Math.Min(output.Length, 6000)..]}");

            // Restart on the same data directory (no latency): every success is in the ledger, and every refused call
            // had never been accepted, so its key starts fresh rather than replaying or finding a pending claim.
            await using (var restarted = await ServerProcess.StartAsync(directory))
            {
                using var financeChannel = TestChannels.Create(restarted.Address, Path.Combine(directory, "pki"), "finance");
                var finance = new TokenizerService.TokenizerServiceClient(financeChannel);
                foreach (var success in succeeded)
                {
                    var found = await finance.GetTokenAsync(new GetTokenRequest { Token = success.Token });
                    Assert.Equal(success.Token, found.Token.Token_);
                }

                await Parallel.ForEachAsync(failed, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (refused, cancellation) =>
                {
                    var worker = refused.Key.Split('-')[1];
                    var retry = await restarted.Client.TokenizeCardAsync(Requests.Card("4242424242424242", refused.Key, customer: $"cust-shutdown-{worker}"), cancellationToken: cancellation);
                    Assert.False(retry.Replayed, $"{refused.Key} was accepted before the shutdown but its answer was lost");
                });
            }
        }
        finally
        {
            TokenizerServerFixture.TryDelete(directory);
        }
    }
}
