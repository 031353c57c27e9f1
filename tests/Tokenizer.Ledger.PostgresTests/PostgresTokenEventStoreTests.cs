using System.Globalization;
using Tokenizer.Core.Ports;
using Tokenizer.Ledger.Schema;
using Tokenizer.Ledger.Tests;
using Tokenizer.Ledger.TokenEvents;

namespace Tokenizer.Ledger.PostgresTests;

/// <summary>
/// The shared token event tests, plus the one PostgreSQL needs on its own: with several writers an identity does not
/// commit in order, so a reader must never see a later sequence while an earlier one is still in flight.
/// </summary>
public sealed class PostgresTokenEventStoreTests() : TokenEventStoreTests(new PostgresTestDatabase())
{
    [Fact]
    public async Task AppendAsync_EarlierAppendStillInFlight_ReaderNeverSeesPastIt()
    {
        // Arrange: an append that has drawn its sequence but not committed (another replica, mid-transaction).
        await using var connection = await Database.OpenConnectionAsync();
        await using var inFlight = await connection.BeginTransactionAsync();
        await RelationalTokenEventStore.AppendInTransactionAsync(inFlight, SqlDialect.Postgres, Draft("pm_first"), T0, takeLock: true, CancellationToken.None);

        // Act: a second append starts; read while it waits for the first.
        var second = Store.AppendAsync(Draft("pm_second"), CancellationToken.None);
        await WaitForAdvisoryLockWaiterAsync();
        var seenMeanwhile = await Store.ReadAfterAsync(0, null, 100, CancellationToken.None);
        await inFlight.CommitAsync();
        Assert.True(await second);
        var final = await Store.ReadAfterAsync(0, null, 100, CancellationToken.None);

        // Assert
        Assert.Equal(["pm_first", "pm_second"], final.Select(e => e.Token));
        Assert.True(IsPrefix(seenMeanwhile, final), "a reader saw a sequence before an earlier one committed");
    }

    [Fact]
    public async Task AppendWithoutLock_EarlierAppendStillInFlight_ReaderSkipsIt()
    {
        // Control: the same race without the append lock shows the skip the lock prevents, so the test above can fail.
        await using var first = await Database.OpenConnectionAsync();
        await using var inFlight = await first.BeginTransactionAsync();
        await RelationalTokenEventStore.AppendInTransactionAsync(inFlight, SqlDialect.Postgres, Draft("pm_first"), T0, takeLock: false, CancellationToken.None);
        await Database.InTransactionAsync(transaction =>
            RelationalTokenEventStore.AppendInTransactionAsync(transaction, SqlDialect.Postgres, Draft("pm_second"), T0, takeLock: false, CancellationToken.None));

        var seenMeanwhile = await Store.ReadAfterAsync(0, null, 100, CancellationToken.None);
        await inFlight.CommitAsync();
        var final = await Store.ReadAfterAsync(0, null, 100, CancellationToken.None);

        Assert.Equal(["pm_second"], seenMeanwhile.Select(e => e.Token));
        Assert.Equal(["pm_first", "pm_second"], final.Select(e => e.Token));
        Assert.False(IsPrefix(seenMeanwhile, final));
    }

    /// <summary>Bounded wait until a session of this database waits for an advisory lock (the second append).</summary>
    private async Task WaitForAdvisoryLockWaiterAsync()
    {
        var name = ((PostgresTestDatabase)Database).Name;
        for (var attempt = 0; attempt < 200; attempt++)
        {
            var waiting = await Database.QueryAsync(
                "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database WHERE l.locktype = 'advisory' AND NOT l.granted AND d.datname = '" + name + "'",
                r => Convert.ToInt64(r.GetValue(0), CultureInfo.InvariantCulture));
            if (waiting.Single() > 0)
            {
                return;
            }

            await Task.Delay(25);
        }

        Assert.Fail("the second append never waited for the append lock");
    }
}
