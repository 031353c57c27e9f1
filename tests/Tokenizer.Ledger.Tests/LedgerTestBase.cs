using Microsoft.Extensions.Time.Testing;
using Tokenizer.Core.Domain;
using Tokenizer.Core.Ports;

namespace Tokenizer.Ledger.Tests;

/// <summary>
/// The ledger behaviours every provider must have. Each test gets a fresh, initialised ledger on a database of its own
/// (<see cref="TestDatabase"/>); a sealed class per provider runs these test bodies: SQLite's in Sqlite/, PostgreSQL's
/// in tests/Tokenizer.Ledger.PostgresTests, which compiles these files too.
/// </summary>
public abstract class LedgerTestBase(TestDatabase database) : IAsyncLifetime
{
    protected static DateTimeOffset T0 { get; } = new(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);

    protected TestDatabase Database { get; } = database;

    protected FakeTimeProvider Clock { get; } = new(T0);

    /// <summary>The first ledger on the database, initialised.</summary>
    protected RelationalTokenLedger Ledger { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await Database.CreateAsync();
        Ledger = await OpenLedgerAsync();
    }

    public async Task DisposeAsync() => await Database.DisposeAsync();

    /// <summary>Another ledger instance on the same database, as a second process or replica would have.</summary>
    protected async Task<RelationalTokenLedger> OpenLedgerAsync(bool initialize = true)
    {
        var ledger = Database.CreateLedger(Clock);
        if (initialize)
        {
            await ledger.InitializeAsync(CancellationToken.None);
        }

        return ledger;
    }

    /// <summary>Rows in one ledger table.</summary>
    protected Task<long> CountRowsAsync(string table) => Database.CountRowsAsync(table);

    /// <summary>Records tokens the way the service does: claim, then complete.</summary>
    protected static async Task SeedAsync(RelationalTokenLedger ledger, IEnumerable<TokenRecord> tokens)
    {
        foreach (var token in tokens)
        {
            var key = "seed-" + token.Token;
            var outcome = await ledger.Claims.ClaimAsync(TestData.Claim(key, TestData.Hmac(1), T0), CancellationToken.None);
            Assert.Equal(IdempotencyState.Started, outcome.State);
            await ledger.Claims.CompleteWithTokenAsync(TestData.Caller, key, TestData.Response(token), token, CancellationToken.None);
        }
    }
}
