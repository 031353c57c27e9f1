using Tokenizer.Core.Ports;

namespace Tokenizer.Ledger.Tests;

public sealed class ConcurrencyTests : LedgerTestBase
{
    private const int Callers = 50;

    [Theory]
    [InlineData(1)] // one process: writers queue on the in-process gate
    [InlineData(5)] // five "processes" on one file: writers meet at SQLite's BEGIN IMMEDIATE and busy timeout
    public async Task BeginAsync_FiftyConcurrentCallsForOneKey_ExactlyOneStarted(int instances)
    {
        // Arrange
        var ledgers = new List<SqliteTokenLedger> { Ledger };
        for (var i = 1; i < instances; i++)
        {
            ledgers.Add(await OpenLedgerAsync());
        }

        var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = Enumerable.Range(0, Callers)
            .Select(i => Task.Run(async () =>
            {
                await go.Task;
                return await ledgers[i % instances].BeginAsync(TestData.Claim("hot-key", TestData.Hmac(1), T0), CancellationToken.None);
            }))
            .ToList();

        // Act
        go.SetResult();
        var outcomes = await Task.WhenAll(calls);

        // Assert
        Assert.Single(outcomes, o => o.State == IdempotencyState.Started);
        Assert.Equal(Callers - 1, outcomes.Count(o => o.State == IdempotencyState.InFlight));
        Assert.Equal(1, await Ledger.CountRowsAsync(LedgerTable.IdempotencyRecords, CancellationToken.None));
    }

    [Fact]
    public async Task BeginAsync_OtherProcessHoldsTheWriteLockBriefly_WaitsAndStarts()
    {
        // Arrange: a raw connection stands in for another process in the middle of a write transaction.
        await using var other = await Ledger.Database.OpenAsync(CancellationToken.None);
        await using var lockHeld = other.BeginTransaction(deferred: false);
        var release = Task.Run(async () =>
        {
            await Task.Delay(TimeSpan.FromMilliseconds(300));
            await lockHeld.CommitAsync();
        });

        // Act
        var outcome = await Ledger.BeginAsync(TestData.Claim("k1", TestData.Hmac(1), T0), CancellationToken.None);

        // Assert
        await release;
        Assert.Equal(IdempotencyState.Started, outcome.State);
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
                return await ledger.SaveCustomerAsync("stripe", "ref_1", $"cus_{i}", T0, CancellationToken.None);
            }))
            .ToList();

        // Act
        go.SetResult();
        var ids = await Task.WhenAll(calls);

        // Assert
        var winner = Assert.Single(ids.Distinct());
        Assert.Matches("^cus_([0-9]|1[0-9])$", winner);
        Assert.Equal(winner, await Ledger.FindCustomerAsync("stripe", "ref_1", CancellationToken.None));
        Assert.Equal(1, await Ledger.CountRowsAsync(LedgerTable.Customers, CancellationToken.None));
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
                    (await ledger.BeginAsync(TestData.Claim(key, TestData.Hmac(1), T0), CancellationToken.None)).State);
                await ledger.CompleteAsync(TestData.Caller, key, TestData.Response(token), token, CancellationToken.None);
            }))
            .ToList();

        // Act
        go.SetResult();
        await Task.WhenAll(calls);

        // Assert
        Assert.Equal(40, await Ledger.CountRowsAsync(LedgerTable.Tokens, CancellationToken.None));
        Assert.Equal(40, await Ledger.CountRowsAsync(LedgerTable.IdempotencyRecords, CancellationToken.None));
    }
}
