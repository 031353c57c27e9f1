using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Tokenizer.Core.Ports;
using Tokenizer.Ledger.Tests.Audit;

namespace Tokenizer.Ledger.Tests.Sqlite;

// The shared ledger and audit behaviours, run on SQLite, plus what only SQLite has (a file, pragmas, BEGIN IMMEDIATE).

public sealed class SqliteIdempotencyTests() : IdempotencyTests(new SqliteTestDatabase());

public sealed class SqliteIntentTests() : IntentTests(new SqliteTestDatabase());

public sealed class SqliteCustomerTests() : CustomerTests(new SqliteTestDatabase());

public sealed class SqliteTokenRoundTripTests() : TokenRoundTripTests(new SqliteTestDatabase());

public sealed class SqliteListTokensTests() : ListTokensTests(new SqliteTestDatabase());

public sealed class SqliteListingPropertyTests() : ListingPropertyTests(new SqliteTestDatabase());

public sealed class SqliteDataAtRestTests() : DataAtRestTests(new SqliteTestDatabase());

public sealed class SqliteAuditTamperTests() : AuditTamperTests(new SqliteTestDatabase());

public sealed class SqliteConcurrencyTests() : ConcurrencyTests(new SqliteTestDatabase())
{
    private SqliteTokenLedger SqliteLedger => (SqliteTokenLedger)Ledger;

    [Fact]
    public async Task BeginAsync_OtherProcessHoldsTheWriteLockBriefly_WaitsAndStarts()
    {
        // Arrange: a raw connection stands in for another process in the middle of a write transaction.
        await using var other = await SqliteLedger.Database.OpenAsync(CancellationToken.None);
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
}

public sealed class SqliteMigrationTests() : MigrationTests(new SqliteTestDatabase())
{
    private SqliteTestDatabase File => (SqliteTestDatabase)Database;

    [Fact]
    public void InitializeAsync_NewPath_CreatedTheDirectoryAndFile() =>
        Assert.True(System.IO.File.Exists(File.DatabasePath));

    [Fact]
    public async Task InitializeAsync_NewFile_CreatesTablesIndexesAndAuditTriggers()
    {
        // Act
        var objects = await Database.QueryAsync(
            "SELECT type || ':' || name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY 1",
            r => r.GetString(0));

        // Assert
        Assert.Equal(
            [
                "index:ix_audit_events_time",
                "index:ix_idempotency_records_state_updated_at",
                "index:ix_intents_state_updated_at",
                "index:ix_privacy_personal_data_record_id",
                "index:ix_tokens_created_at",
                "index:ix_tokens_customer_reference",
                "index:ix_tokens_status_revoked_at",
                "table:audit_events",
                "table:customers",
                "table:data_protection_keys",
                "table:idempotency_records",
                "table:intents",
                "table:privacy_erasures",
                "table:privacy_personal_data",
                "table:privacy_subject_keys",
                "table:schema_migrations",
                "table:tokens",
                "trigger:audit_events_refuse_delete",
                "trigger:audit_events_refuse_update",
            ],
            objects);
    }

    [Fact]
    public async Task OpenAsync_AnyConnection_UsesWalFullSyncForeignKeysAndBusyTimeout()
    {
        // Arrange
        await using var connection = await ((SqliteTokenLedger)Ledger).Database.OpenAsync(CancellationToken.None);

        // Act and assert
        Assert.Equal("wal", await PragmaAsync(connection, "journal_mode"));
        Assert.Equal("2", await PragmaAsync(connection, "synchronous")); // FULL
        Assert.Equal("1", await PragmaAsync(connection, "foreign_keys"));
        Assert.Equal("5000", await PragmaAsync(connection, "busy_timeout"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public void Constructor_EmptyDatabasePath_ThrowsArgumentExceptionNamingSetting(string path)
    {
        // Act
        var error = Assert.Throws<ArgumentException>(() => new SqliteTokenLedger(
            new SqliteLedgerOptions { DatabasePath = path },
            TimeProvider.System,
            NullLogger<SqliteTokenLedger>.Instance));

        // Assert
        Assert.Contains("DatabasePath", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Schema_WrongValueType_IsRejectedByStrictTables()
    {
        // Act
        var error = await Assert.ThrowsAsync<SqliteException>(() => Database.ExecuteAsync(
            "INSERT INTO tokens (token, gateway, type, status, caller_id, customer_reference, created_at) "
            + "VALUES ('pm_x', 'stripe', 'card', 'active', 'c', 'r', 'yesterday')"));

        // Assert
        Assert.Equal(19, error.SqliteErrorCode); // SQLITE_CONSTRAINT (datatype)
    }

    internal static async Task<string> PragmaAsync(SqliteConnection connection, string name)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA " + name;
        return Convert.ToString(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture)!;
    }
}

public sealed class SqliteAuditTrailTests() : AuditTrailTests(new SqliteTestDatabase())
{
    [Fact]
    public async Task AppendAsync_DatabaseFileReplacedByGarbage_ThrowsSqliteException()
    {
        // Arrange: a file that is not (or no longer) a database; chmod would not stop root, which runs these tests in CI.
        var path = ((SqliteTestDatabase)Database).DatabasePath;
        await System.IO.File.WriteAllBytesAsync(path + ".broken", new byte[8192].Select((_, i) => (byte)(i * 7)).ToArray());
        await using var broken = new Ledger.Audit.SqliteAuditTrail(
            new SqliteLedgerOptions { DatabasePath = path + ".broken" }, Key, Clock, NullLogger<Ledger.Audit.SqliteAuditTrail>.Instance);

        // Act and assert
        await Assert.ThrowsAsync<SqliteException>(() => broken.AppendAsync(Event(1), CancellationToken.None));
    }

    [Fact]
    public async Task OpenAsync_AuditConnection_UsesWalAndFullSync()
    {
        // Arrange
        await using var connection = await ((Ledger.Audit.SqliteAuditTrail)Trail).Database.OpenAsync(CancellationToken.None);

        // Act and assert: a record is on disk before AppendAsync returns.
        Assert.Equal("wal", await SqliteMigrationTests.PragmaAsync(connection, "journal_mode"));
        Assert.Equal("2", await SqliteMigrationTests.PragmaAsync(connection, "synchronous")); // FULL
    }
}
