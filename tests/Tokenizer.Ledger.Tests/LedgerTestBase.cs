using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Tokenizer.Core.Domain;
using Tokenizer.Core.Ports;

namespace Tokenizer.Ledger.Tests;

/// <summary>A fresh ledger file per test in its own temp directory (under a not-yet-existing <c>data/</c> folder).</summary>
public abstract class LedgerTestBase : IAsyncLifetime
{
    private readonly List<SqliteTokenLedger> ledgers = [];

    protected LedgerTestBase()
    {
        RootDirectory = Path.Combine(Path.GetTempPath(), "tokenizer-ledger-tests", Guid.NewGuid().ToString("N"));
        DatabasePath = Path.Combine(RootDirectory, "data", "ledger.db");
    }

    protected static DateTimeOffset T0 { get; } = new(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);

    protected string RootDirectory { get; }

    protected string DatabasePath { get; }

    protected FakeTimeProvider Clock { get; } = new(T0);

    /// <summary>The first ledger on the file, initialised.</summary>
    protected SqliteTokenLedger Ledger { get; private set; } = null!;

    public async Task InitializeAsync() => Ledger = await OpenLedgerAsync();

    public async Task DisposeAsync()
    {
        foreach (var ledger in ledgers)
        {
            await ledger.DisposeAsync();
        }

        try
        {
            Directory.Delete(RootDirectory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a leftover temp directory must not fail a test.
        }
    }

    /// <summary>Another ledger instance on the same file, as a second process would have.</summary>
    protected async Task<SqliteTokenLedger> OpenLedgerAsync(bool initialize = true)
    {
        var ledger = new SqliteTokenLedger(
            new SqliteLedgerOptions { DatabasePath = DatabasePath },
            Clock,
            NullLogger<SqliteTokenLedger>.Instance);
        ledgers.Add(ledger);
        if (initialize)
        {
            await ledger.InitializeAsync(CancellationToken.None);
        }

        return ledger;
    }

    /// <summary>Records tokens the way the service does: claim, then complete.</summary>
    protected static async Task SeedAsync(SqliteTokenLedger ledger, IEnumerable<TokenRecord> tokens)
    {
        foreach (var token in tokens)
        {
            var key = "seed-" + token.Token;
            var outcome = await ledger.BeginAsync(TestData.Claim(key, TestData.Hmac(1), T0), CancellationToken.None);
            Assert.Equal(IdempotencyState.Started, outcome.State);
            await ledger.CompleteAsync(TestData.Caller, key, TestData.Response(token), token, CancellationToken.None);
        }
    }
}
