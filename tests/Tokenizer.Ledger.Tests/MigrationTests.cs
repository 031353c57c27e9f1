using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Tokenizer.Ledger.Schema;

namespace Tokenizer.Ledger.Tests;

public sealed class MigrationTests : LedgerTestBase
{
    [Fact]
    public async Task InitializeAsync_NewPath_CreatesDirectoryAndRecordsEveryMigration()
    {
        // Arrange: the base class initialised a ledger under a data/ folder that did not exist.

        // Act
        var versions = await QueryAsync("SELECT version FROM schema_migrations ORDER BY version", r => r.GetInt32(0));

        // Assert
        Assert.True(File.Exists(DatabasePath));
        Assert.Equal(LedgerMigrations.All.Select(m => m.Version), versions);
        Assert.Equal(Enumerable.Range(1, LedgerMigrations.LatestVersion), versions);
    }

    [Fact]
    public async Task InitializeAsync_CalledAgain_AppliesNothingAndKeepsAppliedAt()
    {
        // Arrange
        var before = await QueryAsync("SELECT version, applied_at FROM schema_migrations", r => (r.GetInt32(0), r.GetString(1)));
        Clock.Advance(TimeSpan.FromDays(1));

        // Act
        await Ledger.InitializeAsync(CancellationToken.None);
        await (await OpenLedgerAsync(initialize: false)).InitializeAsync(CancellationToken.None);

        // Assert
        var after = await QueryAsync("SELECT version, applied_at FROM schema_migrations", r => (r.GetInt32(0), r.GetString(1)));
        Assert.Equal(before, after);
        Assert.Equal(T0.UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture), after[0].Item2);
    }

    [Fact]
    public async Task InitializeAsync_ConcurrentInstancesOnNewFile_RecordEachVersionOnce()
    {
        // Arrange
        var others = new List<SqliteTokenLedger>();
        var path = Path.Combine(RootDirectory, "other", "concurrent.db");
        for (var i = 0; i < 4; i++)
        {
            others.Add(new SqliteTokenLedger(new SqliteLedgerOptions { DatabasePath = path }, Clock, NullLogger<SqliteTokenLedger>.Instance));
        }

        try
        {
            // Act
            await Task.WhenAll(others.Select(l => Task.Run(() => l.InitializeAsync(CancellationToken.None))));

            // Assert
            Assert.Equal(LedgerMigrations.All.Count, await others[0].CountRowsAsync(LedgerTable.SchemaMigrations, CancellationToken.None));
        }
        finally
        {
            foreach (var ledger in others)
            {
                await ledger.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task InitializeAsync_DatabaseFromNewerBuild_ThrowsInvalidOperation()
    {
        // Arrange
        await ExecuteAsync($"INSERT INTO schema_migrations (version, applied_at) VALUES ({LedgerMigrations.LatestVersion + 1}, 'later')");

        // Act
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => Ledger.InitializeAsync(CancellationToken.None));

        // Assert
        Assert.Contains("newer than this build", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InitializeAsync_NewFile_CreatesTablesIndexesAndAuditTriggers()
    {
        // Act
        var objects = await QueryAsync(
            "SELECT type || ':' || name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY 1",
            r => r.GetString(0));

        // Assert
        Assert.Equal(
            [
                "index:ix_audit_events_time",
                "index:ix_tokens_created_at",
                "index:ix_tokens_customer_reference",
                "table:audit_events",
                "table:customers",
                "table:idempotency_records",
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
        await using var connection = await Ledger.Database.OpenAsync(CancellationToken.None);

        // Act
        async Task<string> Pragma(string name)
        {
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA " + name;
            return Convert.ToString(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture)!;
        }

        // Assert
        Assert.Equal("wal", await Pragma("journal_mode"));
        Assert.Equal("2", await Pragma("synchronous")); // FULL
        Assert.Equal("1", await Pragma("foreign_keys"));
        Assert.Equal("5000", await Pragma("busy_timeout"));
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
    public async Task Schema_Last4LongerThanFourCharacters_IsRejectedByTheDatabase()
    {
        // Act
        var error = await Assert.ThrowsAsync<SqliteException>(() => ExecuteAsync(
            "INSERT INTO tokens (token, gateway, type, status, caller_id, customer_reference, last4, created_at) "
            + "VALUES ('pm_x', 'stripe', 'card', 'active', 'c', 'r', '4242424242424242', 0)"));

        // Assert
        Assert.Equal(19, error.SqliteErrorCode); // SQLITE_CONSTRAINT
    }

    [Fact]
    public async Task Schema_WrongValueType_IsRejectedByStrictTables()
    {
        // Act
        var error = await Assert.ThrowsAsync<SqliteException>(() => ExecuteAsync(
            "INSERT INTO tokens (token, gateway, type, status, caller_id, customer_reference, created_at) "
            + "VALUES ('pm_x', 'stripe', 'card', 'active', 'c', 'r', 'yesterday')"));

        // Assert
        Assert.Equal(19, error.SqliteErrorCode); // SQLITE_CONSTRAINT (datatype)
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = await Ledger.Database.OpenAsync(CancellationToken.None);
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    private async Task<List<T>> QueryAsync<T>(string sql, Func<SqliteDataReader, T> read)
    {
        await using var connection = await Ledger.Database.OpenAsync(CancellationToken.None);
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = await command.ExecuteReaderAsync();
        var rows = new List<T>();
        while (await reader.ReadAsync())
        {
            rows.Add(read(reader));
        }

        return rows;
    }
}
