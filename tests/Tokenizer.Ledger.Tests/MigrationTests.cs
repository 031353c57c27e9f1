using System.Data.Common;
using System.Globalization;
using Tokenizer.Core.Domain;
using Tokenizer.Core.Ports;
using Tokenizer.Ledger.Schema;

namespace Tokenizer.Ledger.Tests;

public abstract class MigrationTests(TestDatabase database) : LedgerTestBase(database)
{
    [Fact]
    public async Task InitializeAsync_NewDatabase_RecordsEveryMigration()
    {
        // Act
        var versions = await Database.QueryAsync("SELECT version FROM schema_migrations ORDER BY version", r => r.GetInt32(0));

        // Assert
        Assert.Equal(LedgerMigrations.All.Select(m => m.Version), versions);
        Assert.Equal(LedgerMigrations.All.Select(m => m.Version).Order(), versions);
        // Gapless.
        Assert.Equal(Enumerable.Range(1, LedgerMigrations.LatestVersion), versions);
    }

    [Fact]
    public async Task InitializeAsync_CalledAgain_AppliesNothingAndKeepsAppliedAt()
    {
        // Arrange
        var before = await Database.QueryAsync("SELECT version, applied_at FROM schema_migrations ORDER BY version", r => (r.GetInt32(0), r.GetString(1)));
        Clock.Advance(TimeSpan.FromDays(1));

        // Act
        await Ledger.InitializeAsync(CancellationToken.None);
        await (await OpenLedgerAsync(initialize: false)).InitializeAsync(CancellationToken.None);
        await Database.CreateTrail(new byte[32], Clock).InitializeAsync(CancellationToken.None);

        // Assert
        var after = await Database.QueryAsync("SELECT version, applied_at FROM schema_migrations ORDER BY version", r => (r.GetInt32(0), r.GetString(1)));
        Assert.Equal(before, after);
        Assert.Equal(T0.UtcDateTime.ToString("O", CultureInfo.InvariantCulture), after[0].Item2);
    }

    [Fact]
    public async Task InitializeAsync_ConcurrentLedgersAndTrailsOnNewDatabase_RecordEachVersionOnce()
    {
        // Arrange: four ledgers and two trails, each with its own connections, start at once on an empty database.
        var fresh = await Database.CreateSiblingAsync();
        var starts = Enumerable.Range(0, 4).Select(_ => (Func<Task>)(() => fresh.CreateLedger(Clock).InitializeAsync(CancellationToken.None)))
            .Concat(Enumerable.Range(0, 2).Select(_ => (Func<Task>)(() => fresh.CreateTrail(new byte[32], Clock).InitializeAsync(CancellationToken.None))));

        // Act
        await Task.WhenAll(starts.Select(Task.Run));

        // Assert
        Assert.Equal(
            LedgerMigrations.All.Select(m => m.Version),
            await fresh.QueryAsync("SELECT version FROM schema_migrations ORDER BY version", r => r.GetInt32(0)));
    }

    [Fact]
    public async Task InitializeAsync_DatabaseFromNewerBuild_ThrowsInvalidOperation()
    {
        // Arrange
        await Database.ExecuteAsync("INSERT INTO schema_migrations (version, applied_at) VALUES (@version, 'later')", ("@version", LedgerMigrations.LatestVersion + 1));

        // Act
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => Ledger.InitializeAsync(CancellationToken.None));

        // Assert
        Assert.Contains("newer than this build", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Schema_Last4LongerThanFourCharacters_IsRejectedByTheDatabase()
    {
        // Act and assert: SQLite and PostgreSQL both report a constraint violation.
        await Assert.ThrowsAnyAsync<DbException>(() => Database.ExecuteAsync(
            "INSERT INTO tokens (token, gateway, type, status, caller_id, customer_reference, last4, created_at) "
            + "VALUES ('pm_x', 'stripe', 'card', 'active', 'c', 'r', '4242424242424242', 0)"));
        Assert.Equal(0, await CountRowsAsync("tokens"));
    }

    [Fact]
    public async Task Schema_DataProtectionKeys_AcceptsAKeyDocumentWithAnAssignedId()
    {
        // Act: migration 3 is the same table for every provider (only PostgreSQL stores its key ring there).
        await Database.ExecuteAsync(
            "INSERT INTO data_protection_keys (friendly_name, xml, created_at) VALUES ('key-1', '<key/>', 0), (NULL, '<key/>', 1)");

        // Assert
        Assert.Equal([1L, 2L], await Database.QueryAsync("SELECT id FROM data_protection_keys ORDER BY id", r => r.GetInt64(0)));
    }

    [Fact]
    public async Task InitializeAsync_TokenMadeBeforeSetupIntents_ReadsNotSetUpAndKeepsEverythingElse()
    {
        // Arrange: a database at version 7 (before SetupIntents) holding a token made by create + attach.
        var old = await Database.CreateSiblingAsync();
        var dialect = Database.Provider == "SQLite" ? SqlDialect.Sqlite : SqlDialect.Postgres;
        await old.PrepareForDirectSqlAsync();

        await old.InTransactionAsync(async transaction =>
        {
            await LedgerMigrations.PrepareAsync(transaction, dialect, CancellationToken.None);
            foreach (var migration in LedgerMigrations.All.Where(m => m.Version <= 7))
            {
                await LedgerMigrations.ApplyAsync(transaction, dialect, migration, T0, CancellationToken.None);
            }
        });
        await old.ExecuteAsync(
            "INSERT INTO tokens (token, gateway, type, status, caller_id, customer_reference, gateway_customer_id, brand, last4, exp_month, exp_year, created_at) "
            + "VALUES ('pm_old', 'stripe', 'card', 'active', 'c', 'r', 'cus_old', 'visa', '4242', 12, 2030, 0)");

        // Act
        var ledger = old.CreateLedger(Clock);
        await ledger.InitializeAsync(CancellationToken.None);
        var token = await ledger.Tokens.GetTokenAsync("pm_old", CancellationToken.None);

        // Assert: the documented status, nothing invented, the rest as it was.
        Assert.NotNull(token);
        Assert.Equal(TokenSetup.NotSetUp, token.Setup);
        Assert.Null(token.Mandate);
        Assert.Equal("cus_old", token.GatewayCustomerId);
        Assert.Equal("4242", token.Card!.Last4);
        Assert.Equal(
            ["not_set_up"],
            await old.QueryAsync("SELECT setup_status FROM tokens", r => r.GetString(0)));
    }

    [Fact]
    public async Task InitializeAsync_CardRequestHmacsFromBeforeVersion11_ErasedAndAnyRetryUnderTheKeyReplays()
    {
        // Arrange: a database at version 10 whose card request HMACs covered the CVC; a bank request's HMAC as control.
        var old = await Database.CreateSiblingAsync();
        var dialect = Database.Provider == "SQLite" ? SqlDialect.Sqlite : SqlDialect.Postgres;
        await old.PrepareForDirectSqlAsync();

        await old.InTransactionAsync(async transaction =>
        {
            await LedgerMigrations.PrepareAsync(transaction, dialect, CancellationToken.None);
            foreach (var migration in LedgerMigrations.All.Where(m => m.Version < 11))
            {
                await LedgerMigrations.ApplyAsync(transaction, dialect, migration, T0, CancellationToken.None);
            }
        });
        var cardHmac = Enumerable.Repeat((byte)0xAB, 32).ToArray();
        var bankHmac = Enumerable.Repeat((byte)0xCD, 32).ToArray();
        foreach (var (key, operation, hmac) in new[] { ("k-card", "tokenize_card", cardHmac), ("k-bank", "tokenize_bank_account", bankHmac) })
        {
            await old.ExecuteAsync(
                "INSERT INTO idempotency_records (caller_id, idempotency_key, operation, request_hmac, state, response, created_at, updated_at) "
                + $"VALUES ('c', '{key}', '{operation}', {Hex(dialect, hmac)}, 'completed', '{{}}', 0, 0)");
            await old.ExecuteAsync(
                "INSERT INTO intents (caller_id, idempotency_key, intent_id, operation, customer_reference, request_hmac, state, token, created_at, updated_at) "
                + $"VALUES ('c', '{key}', 'i-{key}', '{operation}', 'r', {Hex(dialect, hmac)}, 'failed', NULL, 0, 0)");
        }

        // Act
        var ledger = old.CreateLedger(Clock);
        await ledger.InitializeAsync(CancellationToken.None);
        var anyCardRetry = await ledger.Claims.ClaimAsync(
            new IdempotencyClaim("c", "k-card", "tokenize_card", Enumerable.Repeat((byte)0x11, 32).ToArray(), Clock.GetUtcNow(), TimeSpan.FromMinutes(1)),
            CancellationToken.None);
        var otherBankRequest = await ledger.Claims.ClaimAsync(
            new IdempotencyClaim("c", "k-bank", "tokenize_bank_account", Enumerable.Repeat((byte)0x11, 32).ToArray(), Clock.GetUtcNow(), TimeSpan.FromMinutes(1)),
            CancellationToken.None);

        // Assert: no byte of the CVC-bearing HMACs is left; the bank HMAC (no CVC in it) is kept and still compared.
        var stored = await old.QueryAsync(
            "SELECT operation, request_hmac FROM idempotency_records UNION ALL SELECT operation, request_hmac FROM intents",
            r => (r.GetString(0), (byte[])r.GetValue(1)));
        Assert.All(stored.Where(s => s.Item1 == "tokenize_card"), s => Assert.Equal(new byte[32], s.Item2));
        Assert.All(stored.Where(s => s.Item1 == "tokenize_bank_account"), s => Assert.Equal(bankHmac, s.Item2));
        Assert.Equal(IdempotencyState.Replay, anyCardRetry.State);
        Assert.Equal(IdempotencyState.Conflict, otherBankRequest.State);
    }

    [Fact]
    public async Task Schema_TokenColumns_HoldNoIpAddressOrUserAgent()
    {
        var columns = Database.Provider == "SQLite"
            ? await Database.QueryAsync("SELECT name FROM pragma_table_info('tokens')", r => r.GetString(0))
            : await Database.QueryAsync("SELECT column_name FROM information_schema.columns WHERE table_name = 'tokens'", r => r.GetString(0));

        Assert.Contains("mandate_accepted_at", columns);
        Assert.DoesNotContain(columns, c => c.Contains("ip", StringComparison.OrdinalIgnoreCase) || c.Contains("agent", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task Schema_UnknownSetupStatus_IsRejectedByTheDatabase()
    {
        await Assert.ThrowsAnyAsync<DbException>(() => Database.ExecuteAsync(
            "INSERT INTO tokens (token, gateway, type, status, caller_id, customer_reference, created_at, setup_status) "
            + "VALUES ('pm_x', 'stripe', 'card', 'active', 'c', 'r', 0, 'chargeable')"));
        Assert.Equal(0, await CountRowsAsync("tokens"));
    }

    private static string Hex(SqlDialect dialect, byte[] bytes) =>
        dialect == SqlDialect.Sqlite ? $"X'{Convert.ToHexString(bytes)}'" : $"'\\x{Convert.ToHexString(bytes)}'::bytea";
}
