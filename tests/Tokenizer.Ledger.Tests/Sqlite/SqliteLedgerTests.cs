using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Tokenizer.Core.Ports;
using Tokenizer.Ledger.Tests.Audit;

namespace Tokenizer.Ledger.Tests.Sqlite;

// The shared ledger and audit behaviours, run on SQLite, plus what only SQLite has (a file, pragmas, BEGIN IMMEDIATE).

public sealed class SqliteIdempotencyTests() : IdempotencyTests(new SqliteTestDatabase());

public sealed class SqliteIntentTests() : IntentTests(new SqliteTestDatabase());

public sealed class SqliteInterruptedClaimAuditTests() : InterruptedClaimAuditTests(new SqliteTestDatabase());

public sealed class SqliteCustomerTests() : CustomerTests(new SqliteTestDatabase());

public sealed class SqliteTokenRoundTripTests() : TokenRoundTripTests(new SqliteTestDatabase());

public sealed class SqliteListTokensTests() : ListTokensTests(new SqliteTestDatabase());

public sealed class SqliteListingPropertyTests() : ListingPropertyTests(new SqliteTestDatabase());

public sealed class SqliteDataAtRestTests() : DataAtRestTests(new SqliteTestDatabase());

public sealed class SqliteAuditTamperTests() : AuditTamperTests(new SqliteTestDatabase())
{
    private const string NoOpGuards = """
        DROP TRIGGER audit_events_refuse_delete;
        CREATE TRIGGER audit_events_refuse_delete BEFORE DELETE ON audit_events WHEN 0 BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
        DROP TRIGGER audit_events_refuse_update;
        CREATE TRIGGER audit_events_refuse_update BEFORE UPDATE ON audit_events WHEN 0 BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
        """;

    [Fact]
    public async Task GuardsReplacedByNoOpsUnderTheirNames_VerifyNamesThemAndRestoreRecreatesThem()
    {
        // Arrange: control first: the guards as the migration made them, and as a restore recreated them, are not changed.
        await AppendEventsAsync(3);
        var untouched = await Trail.VerifyAsync(null, CancellationToken.None);
        var untouchedRestore = await Trail.RestoreGuardsAsync(CancellationToken.None);
        await DropTriggersAsync();
        await Trail.RestoreGuardsAsync(CancellationToken.None);
        var afterPlainRestore = await Trail.ChangedGuardsAsync(CancellationToken.None);
        await ExecuteAsync(NoOpGuards);

        // Act
        var neutered = await Trail.VerifyAsync(null, CancellationToken.None);
        var restored = await Trail.RestoreGuardsAsync(CancellationToken.None);
        var again = await Trail.RestoreGuardsAsync(CancellationToken.None);
        var after = await Trail.VerifyAsync(null, CancellationToken.None);

        // Assert: the no-op guards are a table problem and are recreated, and edits are refused again.
        Assert.True(untouched.Intact, untouched.Problem);
        Assert.Empty(untouched.TableProblems);
        Assert.Empty(untouchedRestore);
        Assert.Empty(afterPlainRestore);
        Assert.False(neutered.Intact);
        Assert.Equal(Core.Audit.AuditProblems.TableChanged, neutered.Problem);
        Assert.Empty(neutered.Broken);
        Assert.Equal(
            [Ledger.Audit.RelationalAuditTrail.ChangedGuardProblem + "audit_events_refuse_delete", Ledger.Audit.RelationalAuditTrail.ChangedGuardProblem + "audit_events_refuse_update"],
            neutered.TableProblems.Order(StringComparer.Ordinal));
        Assert.Equal(["audit_events_refuse_delete", "audit_events_refuse_update"], restored.Order(StringComparer.Ordinal));
        Assert.Empty(again);
        Assert.True(after.Intact, after.Problem);
        await Assert.ThrowsAnyAsync<SqliteException>(() => ExecuteAsync("UPDATE audit_events SET caller_id = 'x' WHERE sequence = 1"));
        await Assert.ThrowsAnyAsync<SqliteException>(() => ExecuteAsync("DELETE FROM audit_events WHERE sequence = 1"));
    }
}

public sealed class SqliteConcurrencyTests() : ConcurrencyTests(new SqliteTestDatabase())
{
    private SqliteTokenLedger SqliteLedger => (SqliteTokenLedger)Ledger;

    [Fact]
    public async Task WriteAsync_ConcurrentWritersAndOneFails_OthersCommitAndOnlyTheFailedOnesChangesAreUndone()
    {
        // Arrange: 40 writers at once, so they are committed in groups; writer 17 writes and then fails.
        var writes = Enumerable.Range(0, 40).Select(i => Task.Run(() => SqliteLedger.Database.WriteAsync(
            async (transaction, ct) =>
            {
                using var insert = transaction.Connection!.CreateCommand();
                insert.Transaction = transaction;
                insert.CommandText = "INSERT INTO customers (gateway, customer_reference, gateway_customer_id, created_at) VALUES ('stripe', $r, $c, 1)";
                insert.Parameters.Add(new SqliteParameter("$r", "ref-" + i.ToString(CultureInfo.InvariantCulture)));
                insert.Parameters.Add(new SqliteParameter("$c", "cus_" + i.ToString(CultureInfo.InvariantCulture)));
                await insert.ExecuteNonQueryAsync(ct);
                return i == 17 ? throw new InvalidOperationException("writer 17 fails after writing") : i;
            },
            CancellationToken.None))).ToList();

        // Act
        var outcomes = await Task.WhenAll(writes.Select(async w =>
        {
            try
            {
                return await w;
            }
            catch (InvalidOperationException)
            {
                return -1;
            }
        }));

        // Assert: every other writer got its own result and its row; writer 17 got its exception and left nothing.
        Assert.Equal(Enumerable.Range(0, 40).Select(i => i == 17 ? -1 : i), outcomes);
        Assert.Equal(39, await CountRowsAsync("customers"));
        Assert.Null(await Ledger.Customers.FindCustomerAsync("stripe", "ref-17", CancellationToken.None));
        Assert.Equal("cus_18", await Ledger.Customers.FindCustomerAsync("stripe", "ref-18", CancellationToken.None));
    }

    [Fact]
    public async Task WriteAsync_WritersQueuedBehindATransaction_AreCommittedTogetherInOneTransaction()
    {
        // Arrange: a first writer holds the write transaction open until ten more writers are queued behind it.
        var database = SqliteLedger.Database;
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var before = database.Commits;
        var first = database.WriteAsync(
            async (_, _) =>
            {
                await release.Task;
                return 0;
            },
            CancellationToken.None);
        var queued = Enumerable.Range(1, 10).Select(i => Task.Run(() => database.WriteAsync((_, _) => Task.FromResult(i), CancellationToken.None))).ToList();
        for (var waited = 0; database.QueuedWrites < 10; waited++)
        {
            Assert.True(waited < 1000, "the ten writers never queued");
            await Task.Delay(10);
        }

        // Act
        release.SetResult();
        var results = await Task.WhenAll(queued);
        await first;

        // Assert: two commits in all: the first writer's, then one for the ten.
        Assert.Equal(Enumerable.Range(1, 10), results);
        Assert.Equal(2, database.Commits - before);
    }

    [Fact]
    public async Task WriteAsync_CancelledWhileQueued_ThrowsAndWritesNothing()
    {
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => SqliteLedger.Database.WriteAsync<int>(
            (_, _) => throw new InvalidOperationException("must not run"),
            cancelled.Token));
        Assert.Equal(0, await CountRowsAsync("customers"));
    }

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
        var outcome = await Ledger.Claims.ClaimAsync(TestData.Claim("k1", TestData.Hmac(1), T0), CancellationToken.None);

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
                "index:ix_audit_events_resource",
                "index:ix_audit_events_time",
                "index:ix_idempotency_records_state_updated_at",
                "index:ix_idempotency_records_unaudited",
                "index:ix_intents_state_updated_at",
                "index:ix_privacy_personal_data_record_id",
                "index:ix_reconciliation_items_category",
                "index:ix_reconciliation_runs_created_at",
                "index:ix_reconciliation_runs_state",
                "index:ix_token_events_caller_sequence",
                "index:ix_token_events_recorded_at",
                "index:ix_tokens_created_at",
                "index:ix_tokens_customer_reference",
                "index:ix_tokens_gateway_customer_id",
                "index:ix_tokens_mandate_id",
                "index:ix_tokens_setup_intent",
                "index:ix_tokens_status_revoked_at",
                "index:ix_webhook_inbox_state_created",
                "table:audit_events",
                "table:customer_successions",
                "table:customers",
                "table:data_protection_keys",
                "table:erasure_fences",
                "table:idempotency_records",
                "table:intents",
                "table:key_checks",
                "table:privacy_erasures",
                "table:privacy_personal_data",
                "table:privacy_subject_keys",
                "table:reconciliation_items",
                "table:reconciliation_runs",
                "table:schema_migrations",
                "table:token_events",
                "table:tokens",
                "table:webhook_cursor",
                "table:webhook_inbox",
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

    [Fact]
    public async Task OpenAsync_PooledConnectionReopened_KeepsFullSyncAndBusyTimeout()
    {
        // Arrange: the pragmas are set once per physical connection; the pool hands the same one out again.
        var database = ((SqliteTokenLedger)Ledger).Database;
        SQLitePCL.sqlite3 first;
        await using (var connection = await database.OpenAsync(CancellationToken.None))
        {
            first = connection.Handle!;
        }

        // Act
        await using var reopened = await database.OpenAsync(CancellationToken.None);

        // Assert
        Assert.Same(first, reopened.Handle);
        Assert.Equal("2", await PragmaAsync(reopened, "synchronous")); // FULL
        Assert.Equal("5000", await PragmaAsync(reopened, "busy_timeout"));
    }

    [Fact]
    public async Task OpenAsync_TwoDatabaseObjectsOnOneFile_EachConnectionGetsItsOwnBusyTimeout()
    {
        // Arrange: same file, so both share the pool's physical connections.
        var path = ((SqliteTokenLedger)Ledger).Database.DatabasePath;
        using var shortWait = new Tokenizer.Ledger.Sqlite.SqliteDatabase(path, NullLogger.Instance, TimeSpan.FromMilliseconds(1500));
        using var longWait = new Tokenizer.Ledger.Sqlite.SqliteDatabase(path, NullLogger.Instance, TimeSpan.FromMilliseconds(1800));

        // Act and assert: alternating opens, each sees its own setting on whatever handle it gets.
        for (var i = 0; i < 3; i++)
        {
            await using (var a = await shortWait.OpenAsync(CancellationToken.None))
            {
                Assert.Equal("1500", await PragmaAsync(a, "busy_timeout"));
            }

            await using (var b = await longWait.OpenAsync(CancellationToken.None))
            {
                Assert.Equal("1800", await PragmaAsync(b, "busy_timeout"));
            }
        }
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

public sealed class SqliteReconciliationStoreTests() : ReconciliationStoreTests(new SqliteTestDatabase());

public sealed class SqliteReconcilerOnLedgerTests() : ReconcilerOnLedgerTests(new SqliteTestDatabase());

public sealed class SqliteTokenSetupTests() : TokenSetupTests(new SqliteTestDatabase());

public sealed class SqliteWebhookStoreTests() : WebhookStoreTests(new SqliteTestDatabase());
