using Npgsql;
using Tokenizer.Core.Audit;
using Tokenizer.Core.Ports;
using Tokenizer.Ledger.Audit;
using Tokenizer.Ledger.Schema;
using Tokenizer.Ledger.Tests;
using Tokenizer.Ledger.Tests.Audit;

namespace Tokenizer.Ledger.PostgresTests;

// The shared ledger and audit behaviours, run on PostgreSQL (a database per test on the cluster scripts/test.sh starts),
// plus what only PostgreSQL has: the catalog, privileges, the advisory locks, sessions that hold row locks.

public sealed class PostgresIdempotencyTests() : IdempotencyTests(new PostgresTestDatabase());

public sealed class PostgresIntentTests() : IntentTests(new PostgresTestDatabase());

public sealed class PostgresInterruptedClaimAuditTests() : InterruptedClaimAuditTests(new PostgresTestDatabase());

public sealed class PostgresCustomerTests() : CustomerTests(new PostgresTestDatabase());

public sealed class PostgresTokenRoundTripTests() : TokenRoundTripTests(new PostgresTestDatabase());

public sealed class PostgresListTokensTests() : ListTokensTests(new PostgresTestDatabase());

public sealed class PostgresListingPropertyTests() : ListingPropertyTests(new PostgresTestDatabase());

public sealed class PostgresDataAtRestTests() : DataAtRestTests(new PostgresTestDatabase());

public sealed class PostgresAuditTamperTests() : AuditTamperTests(new PostgresTestDatabase())
{
    [Theory]
    [InlineData("function no-op")]
    [InlineData("trigger disabled")]
    public async Task GuardsNeuteredUnderTheirNames_VerifyNamesThemAndRestoreRecreatesThem(string change)
    {
        // Arrange: an owner keeps the guards' names but makes them guard nothing: the shared function replaced by one
        // that lets every change through, or one trigger disabled. Control: the untouched guards, and guards dropped
        // and recreated by a restore, are not changed.
        await AppendEventsAsync(3);
        var untouchedRestore = await Trail.RestoreGuardsAsync(CancellationToken.None);
        await DropTriggersAsync();
        await Trail.RestoreGuardsAsync(CancellationToken.None);
        var afterPlainRestore = await Trail.ChangedGuardsAsync(CancellationToken.None);
        await ExecuteAsync(change == "function no-op"
            ? "CREATE OR REPLACE FUNCTION audit_events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN OLD; END $$"
            : "ALTER TABLE audit_events DISABLE TRIGGER audit_events_refuse_delete");

        // Act
        var neutered = await Trail.VerifyAsync(null, CancellationToken.None);
        var restored = await Trail.RestoreGuardsAsync(CancellationToken.None);
        var again = await Trail.RestoreGuardsAsync(CancellationToken.None);
        var after = await Trail.VerifyAsync(null, CancellationToken.None);

        // Assert
        string[] changed = change == "function no-op"
            ? ["audit_events_refuse_delete", "audit_events_refuse_truncate", "audit_events_refuse_update"]
            : ["audit_events_refuse_delete"];
        Assert.Empty(untouchedRestore);
        Assert.Empty(afterPlainRestore);
        Assert.False(neutered.Intact);
        Assert.Equal(Core.Audit.AuditProblems.TableChanged, neutered.Problem);
        Assert.Equal(changed.Select(n => Ledger.Audit.RelationalAuditTrail.ChangedGuardProblem + n), neutered.TableProblems.Order(StringComparer.Ordinal));
        Assert.Equal(changed, restored.Order(StringComparer.Ordinal));
        Assert.Empty(again);
        Assert.True(after.Intact, after.Problem);
        await Assert.ThrowsAnyAsync<Npgsql.PostgresException>(() => ExecuteAsync("DELETE FROM audit_events WHERE sequence = 1"));
        await Assert.ThrowsAnyAsync<Npgsql.PostgresException>(() => ExecuteAsync("UPDATE audit_events SET caller_id = 'x' WHERE sequence = 1"));
    }

    [Fact]
    public async Task VerifyAsync_TruncatedByAnOwnerWhoDroppedTheGuards_IntactWithoutAnchorTruncatedWithAnchor()
    {
        // Arrange
        await AppendEventsAsync(5);
        var anchored = await Trail.VerifyAsync(null, CancellationToken.None);
        await DropTriggersAsync();

        // Act
        await ExecuteAsync("TRUNCATE audit_events");

        // Assert
        Assert.True((await Trail.VerifyAsync(null, CancellationToken.None)).Intact);
        var withAnchor = await Trail.VerifyAsync(new AuditAnchor(anchored.HeadSequence, anchored.HeadMac), CancellationToken.None);
        Assert.Equal(AuditProblems.Truncated, withAnchor.Problem);
        Assert.Equal(1, withAnchor.FirstBrokenSequence);
    }
}

public sealed class PostgresConcurrencyTests() : ConcurrencyTests(new PostgresTestDatabase())
{
    [Theory]
    [InlineData(true, IdempotencyState.InFlight)]  // the other replica's claim commits: ours is a duplicate in flight
    [InlineData(false, IdempotencyState.Started)]  // it rolls back: the key is free and ours starts
    public async Task BeginAsync_AnotherSessionInsertedTheSameKeyUncommitted_WaitsForItsOutcome(bool commit, IdempotencyState expected)
    {
        // Arrange: another replica is inside BeginAsync for k1, its INSERT done, its COMMIT not yet.
        await using var other = await Database.OpenConnectionAsync();
        await using var transaction = await other.BeginTransactionAsync();
        using (var insert = transaction.Command(Claims.ClaimSql.InsertPendingClaim))
        {
            insert.Bind("@caller_id", TestData.Caller)
                .Bind("@idempotency_key", "k1")
                .Bind("@operation", TestData.Operation)
                .Bind("@request_hmac", TestData.Hmac(1))
                .Bind("@now", UnixMicros.From(T0))
                .Bind("@resource", null)
                .Bind("@mark", null);
            Assert.Equal(1, await insert.ExecuteNonQueryAsync());
        }

        // Act: our claim blocks on the unique index until the other transaction ends.
        var ours = Ledger.Claims.ClaimAsync(TestData.Claim("k1", TestData.Hmac(1), T0), CancellationToken.None);
        await Task.Delay(TimeSpan.FromMilliseconds(300));
        var waited = !ours.IsCompleted;
        if (commit)
        {
            await transaction.CommitAsync();
        }
        else
        {
            await transaction.RollbackAsync();
        }

        // Assert
        Assert.True(waited, "the claim did not wait for the uncommitted insert of the same key");
        Assert.Equal(expected, (await ours).State);
        Assert.Equal(1, await CountRowsAsync("idempotency_records"));
    }
}

public sealed class PostgresMigrationTests() : MigrationTests(new PostgresTestDatabase())
{
    [Fact]
    public async Task InitializeAsync_NewDatabase_CreatesTablesIndexesGuardsAndByteOrderTokenIds()
    {
        // Act
        var tables = await Database.QueryAsync(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1", r => r.GetString(0));
        var indexes = await Database.QueryAsync(
            "SELECT indexname FROM pg_indexes WHERE schemaname = 'public' AND indexname LIKE 'ix_%' ORDER BY 1", r => r.GetString(0));
        var triggers = await Database.QueryAsync(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_events'::regclass AND NOT tgisinternal ORDER BY 1", r => r.GetString(0));
        var tokenCollation = await Database.QueryAsync(
            "SELECT collation_name FROM information_schema.columns WHERE table_name = 'tokens' AND column_name = 'token'", r => r.GetString(0));

        // Assert
        Assert.Equal(
            ["audit_events", "customer_successions", "customers", "data_protection_keys", "erasure_fences", "idempotency_records", "intents", "key_checks", "privacy_erasures", "privacy_personal_data", "privacy_subject_keys", "reconciliation_items", "reconciliation_runs", "schema_migrations", "token_events", "tokens", "webhook_cursor", "webhook_inbox"],
            tables);
        Assert.Equal(
            ["ix_audit_events_resource", "ix_audit_events_time", "ix_idempotency_records_state_updated_at", "ix_idempotency_records_unaudited", "ix_intents_state_updated_at", "ix_privacy_personal_data_record_id", "ix_reconciliation_items_category", "ix_reconciliation_runs_created_at", "ix_reconciliation_runs_state", "ix_token_events_caller_sequence", "ix_token_events_recorded_at", "ix_tokens_created_at", "ix_tokens_customer_reference", "ix_tokens_gateway_customer_id", "ix_tokens_mandate_id", "ix_tokens_setup_intent", "ix_tokens_status_revoked_at", "ix_webhook_inbox_state_created"],
            indexes);
        Assert.Equal(["audit_events_refuse_delete", "audit_events_refuse_truncate", "audit_events_refuse_update"], triggers);
        Assert.Equal(["C"], tokenCollation);
    }

    [Fact]
    public async Task InitializeAsync_NewDatabase_ServiceRoleKeepsOnlyInsertAndSelectOnAuditEvents()
    {
        // Act: what the migrating role (the service's) may still do to the table it owns.
        var privileges = await Database.QueryAsync(
            """
            SELECT a.privilege_type FROM pg_class c, aclexplode(c.relacl) a
            WHERE c.relname = 'audit_events' AND a.grantee = (SELECT oid FROM pg_roles WHERE rolname = current_user)
            ORDER BY 1
            """,
            r => r.GetString(0));

        // Assert
        Assert.Equal(["INSERT", "REFERENCES", "SELECT", "TRIGGER"], privileges);
    }

    [Fact]
    public async Task Schema_TruncateAuditEvents_RefusedByTrigger()
    {
        // Arrange
        var trail = Database.CreateSharedTrail(Ledger, new byte[32], Clock);
        await trail.AppendAsync(new AuditEvent(T0, "c", null, "a", null, AuditOutcome.Success, null, "x"), CancellationToken.None);

        // Act
        var error = await Assert.ThrowsAsync<PostgresException>(() => Database.ExecuteAsync("TRUNCATE audit_events"));

        // Assert
        Assert.Contains("append-only", error.MessageText, StringComparison.Ordinal);
        Assert.Equal(1, await CountRowsAsync("audit_events"));
    }
}

public sealed class PostgresAuditTrailTests() : AuditTrailTests(new PostgresTestDatabase())
{
    [Fact]
    public async Task AnchorAsync_TwoReplicasAnchorTheSharedHead_StoredAnchorNeverGoesBackwards()
    {
        // Arrange: two replicas (own pools) append to one chain and anchor into one store, with a slow store write.
        var other = await OpenTrailAsync();
        RelationalAuditTrail[] replicas = [Trail, other];
        long stored = 0;
        var history = new System.Collections.Concurrent.ConcurrentQueue<long>();
        async Task Write(Core.Audit.AuditAnchor head, CancellationToken ct)
        {
            var seen = Volatile.Read(ref stored);
            await Task.Delay(5, ct);
            if (head.Sequence > seen)
            {
                Volatile.Write(ref stored, head.Sequence);
                history.Enqueue(head.Sequence);
            }
        }

        // Act
        var appends = Task.Run(async () =>
        {
            for (var n = 1; n <= 40; n++)
            {
                await replicas[n % 2].AppendAsync(Event(n), CancellationToken.None);
            }
        });
        var anchors = replicas.Select(replica => Task.Run(async () =>
        {
            while (!appends.IsCompleted)
            {
                await replica.AnchorAsync(Write, CancellationToken.None);
            }

            await replica.AnchorAsync(Write, CancellationToken.None);
        })).ToList();
        await Task.WhenAll([appends, .. anchors]);

        // Assert: every write moved the anchor forward, and the last one is the head.
        var written = history.ToList();
        Assert.True(written.Count > 1, "too few anchors written to show anything");
        Assert.Equal(written.OrderBy(s => s).Distinct(), written);
        Assert.Equal(40, written[^1]);
    }

    [Fact]
    public async Task AppendAsync_AnotherSessionHoldsTheAppendLock_WaitsAndChainsOnItsRecord()
    {
        // Arrange: another replica is mid-append: it holds the lock and has inserted record 1, not yet committed.
        await using var other = await Database.OpenConnectionAsync();
        await using var transaction = await other.BeginTransactionAsync();
        await transaction.ExecuteAsync(SqlDialect.AdvisoryLock(AdvisoryLocks.AuditAppend), CancellationToken.None);
        var unsigned = new AuditRow(1, UnixMicros.From(T0), "other-replica", null, "a", null, "success", null, "x", AuditChain.Genesis(), []);
        var first = unsigned with { Mac = AuditChain.ComputeMac(Key, unsigned) };
        using (var insert = transaction.Command(AuditSql.Insert))
        {
            first.Bind(insert);
            await insert.ExecuteNonQueryAsync();
        }

        // Act
        var ours = Trail.AppendAsync(Event(2), CancellationToken.None);
        await Task.Delay(TimeSpan.FromMilliseconds(300));
        var waited = !ours.IsCompleted;
        await transaction.CommitAsync();
        await ours;

        // Assert: ours became record 2, linked to the other replica's record 1.
        Assert.True(waited, "the append did not wait for the lock");
        var rows = await RowsAsync();
        Assert.Equal([1L, 2L], rows.Select(r => r.Sequence));
        Assert.Equal(first.Mac, rows[1].PrevMac);
        Assert.True((await Trail.VerifyAsync(null, CancellationToken.None)).Intact);
    }

    [Fact]
    public async Task AppendAsync_ThreeReplicasEachWithManyConcurrentAppends_OneIntactChain()
    {
        // Arrange: three trails with their own pools, as three service replicas; 60 concurrent appends each.
        var replicas = new[] { Trail, await OpenTrailAsync(), await OpenTrailAsync() };
        var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var appends = Enumerable.Range(1, 180)
            .Select(n => Task.Run(async () =>
            {
                await go.Task;
                await replicas[n % 3].AppendAsync(Event(n), CancellationToken.None);
            }))
            .ToList();

        // Act
        go.SetResult();
        await Task.WhenAll(appends);
        var verification = await replicas[1].VerifyAsync(null, CancellationToken.None);

        // Assert
        Assert.True(verification.Intact, verification.Problem);
        Assert.Equal(180, verification.HeadSequence);
        Assert.Equal(Enumerable.Range(1, 180).Select(n => "trace-" + n).Order(StringComparer.Ordinal),
            (await RowsAsync()).Select(r => r.CorrelationId).Order(StringComparer.Ordinal));
    }
}

public sealed class PostgresReconciliationStoreTests() : ReconciliationStoreTests(new PostgresTestDatabase());

public sealed class PostgresReconcilerOnLedgerTests() : ReconcilerOnLedgerTests(new PostgresTestDatabase());

public sealed class PostgresTokenSetupTests() : TokenSetupTests(new PostgresTestDatabase());

public sealed class PostgresWebhookStoreTests() : WebhookStoreTests(new PostgresTestDatabase());
