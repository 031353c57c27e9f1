using Tokenizer.Core.Ports;

namespace Tokenizer.Ledger.Tests;

public abstract class ConcurrencyTests(TestDatabase database) : LedgerTestBase(database)
{
    private const int Callers = 50;

    [Theory]
    [InlineData(1)] // one process (SQLite: writers queue on the in-process gate)
    [InlineData(5)] // five processes or replicas, each with its own connections: the database's constraint decides
    public async Task BeginAsync_FiftyConcurrentCallsForOneKey_ExactlyOneStarted(int instances)
    {
        // Arrange
        var ledgers = new List<RelationalTokenLedger> { Ledger };
        for (var i = 1; i < instances; i++)
        {
            ledgers.Add(await OpenLedgerAsync());
        }

        var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = Enumerable.Range(0, Callers)
            .Select(i => Task.Run(async () =>
            {
                await go.Task;
                return await ledgers[i % instances].Claims.ClaimAsync(TestData.Claim("hot-key", TestData.Hmac(1), T0), CancellationToken.None);
            }))
            .ToList();

        // Act
        go.SetResult();
        var outcomes = await Task.WhenAll(calls);

        // Assert
        Assert.Single(outcomes, o => o.State == IdempotencyState.Started);
        Assert.Equal(Callers - 1, outcomes.Count(o => o.State == IdempotencyState.InFlight));
        Assert.Equal(1, await CountRowsAsync("idempotency_records"));
    }

    [Fact]
    public async Task BeginAsync_ConcurrentTakeOversOfAnExpiredClaimAcrossInstances_ExactlyOneStarted()
    {
        // Arrange: the owner of k1 died; its lease has run out when twenty retries arrive on four instances at once.
        var ledgers = new List<RelationalTokenLedger> { Ledger };
        for (var i = 1; i < 4; i++)
        {
            ledgers.Add(await OpenLedgerAsync());
        }

        await Ledger.Claims.ClaimAsync(TestData.Claim("k1", TestData.Hmac(1), T0), CancellationToken.None);
        var later = T0 + TestData.Lease + TimeSpan.FromSeconds(1);
        var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = Enumerable.Range(0, 20)
            .Select(i => Task.Run(async () =>
            {
                await go.Task;
                return await ledgers[i % ledgers.Count].Claims.ClaimAsync(TestData.Claim("k1", TestData.Hmac(1), later), CancellationToken.None);
            }))
            .ToList();

        // Act
        go.SetResult();
        var outcomes = await Task.WhenAll(calls);

        // Assert: the conditional UPDATE lets exactly one taker win; the others see the renewed lease.
        Assert.Single(outcomes, o => o.State == IdempotencyState.Started);
        Assert.All(outcomes, o => Assert.Contains(o.State, new[] { IdempotencyState.Started, IdempotencyState.InFlight }));
    }

    [Fact]
    public async Task SaveCustomerAsync_ConcurrentWritersAcrossInstances_AllGetTheFirstWritersId()
    {
        // Arrange
        var other = await OpenLedgerAsync();
        var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = Enumerable.Range(0, 20)
            .Select(i => Task.Run(async () =>
            {
                await go.Task;
                var ledger = i % 2 == 0 ? Ledger : other;
                return await ledger.Customers.SaveCustomerAsync("stripe", "ref_1", $"cus_{i}", T0, CancellationToken.None);
            }))
            .ToList();

        // Act
        go.SetResult();
        var ids = await Task.WhenAll(calls);

        // Assert
        var winner = Assert.Single(ids.Distinct());
        Assert.Matches("^cus_([0-9]|1[0-9])$", winner);
        Assert.Equal(winner, await Ledger.Customers.FindCustomerAsync("stripe", "ref_1", CancellationToken.None));
        Assert.Equal(1, await CountRowsAsync("customers"));
    }

    [Fact]
    public async Task CompleteAsync_ConcurrentDistinctKeysAcrossInstances_RecordsEveryToken()
    {
        // Arrange
        var other = await OpenLedgerAsync();
        var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = Enumerable.Range(0, 40)
            .Select(i => Task.Run(async () =>
            {
                await go.Task;
                var ledger = i % 2 == 0 ? Ledger : other;
                var key = $"k{i}";
                var token = TestData.Card($"pm_{i}", T0.AddSeconds(i));
                Assert.Equal(
                    IdempotencyState.Started,
                    (await ledger.Claims.ClaimAsync(TestData.Claim(key, TestData.Hmac(1), T0), CancellationToken.None)).State);
                await ledger.Claims.CompleteWithTokenAsync(TestData.Caller, key, TestData.Response(token), token, CancellationToken.None);
            }))
            .ToList();

        // Act
        go.SetResult();
        await Task.WhenAll(calls);

        // Assert
        Assert.Equal(40, await CountRowsAsync("tokens"));
        Assert.Equal(40, await CountRowsAsync("idempotency_records"));
    }
}
