using System.Security.Cryptography;
using Tokenizer.Core.Audit;
using Tokenizer.Ledger.Audit;

namespace Tokenizer.Ledger.Tests.Audit;

/// <summary>
/// An attacker with write access to the database (not to the audit key) edits the trail: drops the append-only
/// guards, then alters, deletes, swaps or forges rows. Each edit must be named by the first broken record, and every
/// independent edit is listed.
/// </summary>
public abstract class AuditTamperTests(TestDatabase database) : AuditTestBase(database)
{
    private const int Records = 10;

    [Fact]
    public async Task VerifyAsync_FieldOfRecordKAltered_NamesKMacMismatch()
    {
        // Arrange
        await AppendEventsAsync(Records);
        await DropTriggersAsync();

        // Act: a denied call rewritten as a success by someone else.
        await ExecuteAsync("UPDATE audit_events SET caller_id = 'someone-else' WHERE sequence = 4");
        var verification = await Trail.VerifyAsync(null, CancellationToken.None);

        // Assert
        AssertBroken(verification, 4, AuditProblems.MacMismatch);
        Assert.Equal(Records, verification.RecordsChecked);
        Assert.Equal(3, verification.HeadSequence);

        // Control for the listing below: an edited record's successors still link to its stored MAC, so it alone is listed.
        Assert.Equal([new AuditBreak(4, AuditProblems.MacMismatch)], verification.Broken);
        Assert.Equal(1, verification.BrokenCount);
    }

    [Fact]
    public async Task VerifyAsync_TwoIndependentEdits_ListsBoth()
    {
        // Arrange: a record re-attributed behind another altered one.
        await AppendEventsAsync(Records);
        await DropTriggersAsync();

        // Act
        await ExecuteAsync("UPDATE audit_events SET outcome = 'denied' WHERE sequence = 3; UPDATE audit_events SET caller_id = 'finance-staff' WHERE sequence = 8;");
        var verification = await Trail.VerifyAsync(null, CancellationToken.None);

        // Assert
        AssertBroken(verification, 3, AuditProblems.MacMismatch);
        Assert.Equal([new AuditBreak(3, AuditProblems.MacMismatch), new AuditBreak(8, AuditProblems.MacMismatch)], verification.Broken);
        Assert.Equal(2, verification.BrokenCount);
        Assert.Equal(2, verification.HeadSequence);
    }

    [Fact]
    public async Task VerifyAsync_RecordDeletedAndALaterOneEdited_ListsTheGapAndTheEdit()
    {
        // Arrange
        await AppendEventsAsync(Records);
        await DropTriggersAsync();

        // Act: after a gap the next record's link cannot be checked (its predecessor is gone), but its own MAC can.
        await ExecuteAsync("DELETE FROM audit_events WHERE sequence IN (4, 5); UPDATE audit_events SET action = 'nothing/happened' WHERE sequence = 9;");
        var verification = await Trail.VerifyAsync(null, CancellationToken.None);

        // Assert
        Assert.Equal([new AuditBreak(4, AuditProblems.SequenceGap), new AuditBreak(9, AuditProblems.MacMismatch)], verification.Broken);
        Assert.Equal(Records - 2, verification.RecordsChecked);
    }

    [Fact]
    public async Task VerifyAsync_EditAndTruncationWithAnchor_ListsBoth()
    {
        // Arrange
        await AppendEventsAsync(Records);
        var anchored = await Trail.VerifyAsync(null, CancellationToken.None);
        await DropTriggersAsync();

        // Act
        await ExecuteAsync("UPDATE audit_events SET reason = 'X' WHERE sequence = 2; DELETE FROM audit_events WHERE sequence > 7;");
        var verification = await Trail.VerifyAsync(new AuditAnchor(anchored.HeadSequence, anchored.HeadMac), CancellationToken.None);

        // Assert
        Assert.Equal([new AuditBreak(2, AuditProblems.MacMismatch), new AuditBreak(8, AuditProblems.Truncated)], verification.Broken);
    }

    [Theory]
    [InlineData("time = time + 1")]
    [InlineData("source_address = NULL")]
    [InlineData("source_address = ''")]
    [InlineData("outcome = 'denied'")]
    [InlineData("reason = 'X'")]
    [InlineData("resource = 'pm_other'")]
    [InlineData("correlation_id = correlation_id || ' '")]
    [InlineData("prev_mac = mac")]
    public async Task VerifyAsync_AnyColumnOfRecordKAltered_NamesKMacMismatch(string change)
    {
        // Arrange
        await AppendEventsAsync(Records);
        await DropTriggersAsync();

        // Act
        await ExecuteAsync("UPDATE audit_events SET " + change + " WHERE sequence = 6");
        var verification = await Trail.VerifyAsync(null, CancellationToken.None);

        // Assert
        AssertBroken(verification, 6, AuditProblems.MacMismatch);
    }

    [Fact]
    public async Task VerifyAsync_RecordKDeleted_NamesKSequenceGap()
    {
        // Arrange
        await AppendEventsAsync(Records);
        await DropTriggersAsync();

        // Act
        await ExecuteAsync("DELETE FROM audit_events WHERE sequence = 5");
        var verification = await Trail.VerifyAsync(null, CancellationToken.None);

        // Assert: k is the first missing sequence number; record k+1 is the row that exposed it.
        AssertBroken(verification, 5, AuditProblems.SequenceGap);
        Assert.Equal(4, verification.HeadSequence);
    }

    [Fact]
    public async Task VerifyAsync_FirstRecordDeleted_NamesOneSequenceGap()
    {
        // Arrange
        await AppendEventsAsync(Records);
        await DropTriggersAsync();

        // Act
        await ExecuteAsync("DELETE FROM audit_events WHERE sequence = 1");

        // Assert
        AssertBroken(await Trail.VerifyAsync(null, CancellationToken.None), 1, AuditProblems.SequenceGap);
    }

    [Fact]
    public async Task VerifyAsync_RecordKDeletedAndLaterOnesRenumbered_NamesKMacMismatch()
    {
        // Arrange: the attacker closes the gap; the sequence number is signed, so the moved record no longer verifies.
        await AppendEventsAsync(Records);
        await DropTriggersAsync();

        // Act
        await ExecuteAsync("DELETE FROM audit_events WHERE sequence = 5; UPDATE audit_events SET sequence = sequence - 1 WHERE sequence > 5;");
        var verification = await Trail.VerifyAsync(null, CancellationToken.None);

        // Assert
        AssertBroken(verification, 5, AuditProblems.MacMismatch);
    }

    [Fact]
    public async Task VerifyAsync_ContentOfTwoRecordsSwapped_NamesTheFirstMacMismatch()
    {
        // Arrange
        await AppendEventsAsync(Records);
        await DropTriggersAsync();

        // Act: records 3 and 7 trade every column but their sequence numbers (macs and links travel with them).
        await ExecuteAsync("""
            UPDATE audit_events SET sequence = 1003 WHERE sequence = 3;
            UPDATE audit_events SET sequence = 3 WHERE sequence = 7;
            UPDATE audit_events SET sequence = 7 WHERE sequence = 1003;
            """);
        var verification = await Trail.VerifyAsync(null, CancellationToken.None);

        // Assert
        AssertBroken(verification, 3, AuditProblems.MacMismatch);
    }

    [Fact]
    public async Task VerifyAsync_MacReplacedByRecomputedUnkeyedHash_StillMacMismatch()
    {
        // Arrange: the attacker alters record 4 and "fixes" its MAC with everything but the key: SHA-256 of the
        // canonical form, and HMAC under a guessed key. The next record's link is fixed up too.
        await AppendEventsAsync(Records);
        await DropTriggersAsync();
        var rows = await RowsAsync();
        var altered = rows[3] with { Outcome = "success", CallerId = "admin" };
        var guessedKey = new byte[32];
        var forgedMac = SHA256.HashData(AuditChain.ComputeMac(guessedKey, altered));

        // Act
        await ExecuteAsync(
            "UPDATE audit_events SET outcome = 'success', caller_id = 'admin', mac = @mac WHERE sequence = 4; "
            + "UPDATE audit_events SET prev_mac = @mac WHERE sequence = 5;",
            ("@mac", forgedMac));
        var verification = await Trail.VerifyAsync(null, CancellationToken.None);

        // Assert
        AssertBroken(verification, 4, AuditProblems.MacMismatch);
    }

    [Fact]
    public async Task VerifyAsync_RecordSplicedFromAnotherChainUnderTheSameKey_NamesKLinkMismatch()
    {
        // Arrange: a second trail under the same key (an old backup, a test environment) has its own record 6.
        await AppendEventsAsync(Records);
        var otherDatabase = await Database.CreateSiblingAsync();
        var other = await OpenTrailAsync(on: otherDatabase);
        for (var n = 1; n <= Records; n++)
        {
            await other.AppendAsync(Event(n) with { CallerId = "other-" + n }, CancellationToken.None);
        }

        var foreign = (await RowsAsync(otherDatabase))[5];
        await DropTriggersAsync();

        // Act: record 6 is replaced by the validly signed record 6 of the other chain.
        await ExecuteAsync("DELETE FROM audit_events WHERE sequence = 6");
        await ExecuteAsync(
            "INSERT INTO audit_events (" + Schema.AuditSql.Columns + ") VALUES (@sequence, @time, @caller_id, @source_address, "
            + "@action, @resource, @outcome, @reason, @correlation_id, @prev_mac, @mac, @key_id, @recorded_at)",
            ("@sequence", foreign.Sequence),
            ("@time", foreign.TimeMicros),
            ("@caller_id", foreign.CallerId),
            ("@source_address", foreign.SourceAddress),
            ("@action", foreign.Action),
            ("@resource", foreign.Resource),
            ("@outcome", foreign.Outcome),
            ("@reason", foreign.Reason),
            ("@correlation_id", foreign.CorrelationId),
            ("@prev_mac", foreign.PrevMac),
            ("@mac", foreign.Mac),
            ("@key_id", foreign.KeyId),
            ("@recorded_at", foreign.RecordedAtMicros));
        var verification = await Trail.VerifyAsync(null, CancellationToken.None);

        // Assert
        AssertBroken(verification, 6, AuditProblems.LinkMismatch);
    }

    [Fact]
    public async Task VerifyAsync_RowAppendedWithoutTheKey_NamesItMacMismatch()
    {
        // Arrange
        await AppendEventsAsync(3);
        var head = (await RowsAsync())[^1];

        // Act: INSERT is allowed (append-only); without the key the new row cannot carry a valid MAC.
        await ExecuteAsync(
            "INSERT INTO audit_events (" + Schema.AuditSql.Columns + ") VALUES (4, 0, 'ghost', NULL, 'a', NULL, 'success', NULL, '', @prev, @mac, NULL, NULL)",
            ("@prev", head.Mac),
            ("@mac", RandomNumberGenerator.GetBytes(32)));

        // Assert
        AssertBroken(await Trail.VerifyAsync(null, CancellationToken.None), 4, AuditProblems.MacMismatch);
    }

    [Fact]
    public async Task VerifyAsync_TamperedThenMoreAppends_StillNamesTheTamperedRecord()
    {
        // Arrange
        await AppendEventsAsync(5);
        await DropTriggersAsync();
        await ExecuteAsync("UPDATE audit_events SET action = 'nothing/happened' WHERE sequence = 2");

        // Act: the service keeps appending after the edit.
        await AppendEventsAsync(3);
        var verification = await Trail.VerifyAsync(null, CancellationToken.None);

        // Assert
        AssertBroken(verification, 2, AuditProblems.MacMismatch);
    }

    [Fact]
    public async Task VerifyAsync_NewestRecordsDeleted_IntactWithoutAnchorTruncatedWithAnchor()
    {
        // Arrange: the operator anchored the head (e.g. exported it daily to write-once storage).
        await AppendEventsAsync(Records);
        var anchored = await Trail.VerifyAsync(null, CancellationToken.None);
        var anchor = new AuditAnchor(anchored.HeadSequence, anchored.HeadMac);
        await DropTriggersAsync();

        // Act: the newest three records go; what is left is a valid, shorter chain.
        await ExecuteAsync("DELETE FROM audit_events WHERE sequence > 7");
        var withoutAnchor = await Trail.VerifyAsync(null, CancellationToken.None);
        var withAnchor = await Trail.VerifyAsync(anchor, CancellationToken.None);

        // Assert: the residual risk, and its mitigation.
        Assert.True(withoutAnchor.Intact);
        Assert.Equal(7, withoutAnchor.HeadSequence);
        AssertBroken(withAnchor, 8, AuditProblems.Truncated);
    }

    [Fact]
    public async Task VerifyAsync_ChainRebuiltByKeyHolder_IntactWithoutAnchorAnchorMismatchWithAnchor()
    {
        // Arrange: someone holding the key (and the file) rewrites the whole trail.
        await AppendEventsAsync(Records);
        var anchored = await Trail.VerifyAsync(null, CancellationToken.None);
        await DropTriggersAsync();
        await ExecuteAsync("DELETE FROM audit_events");
        await SeedChainAsync(Records + 2);

        // Act
        var withoutAnchor = await Trail.VerifyAsync(null, CancellationToken.None);
        var withAnchor = await Trail.VerifyAsync(new AuditAnchor(anchored.HeadSequence, anchored.HeadMac), CancellationToken.None);

        // Assert
        Assert.True(withoutAnchor.Intact);
        AssertBroken(withAnchor, Records, AuditProblems.AnchorMismatch);
    }

    [Fact]
    public async Task VerifyAsync_AnchorAtAnIntactHead_Intact()
    {
        // Arrange
        await AppendEventsAsync(4);
        var anchored = await Trail.VerifyAsync(null, CancellationToken.None);
        await AppendEventsAsync(2);

        // Act
        var verification = await Trail.VerifyAsync(new AuditAnchor(anchored.HeadSequence, anchored.HeadMac), CancellationToken.None);

        // Assert
        Assert.True(verification.Intact, verification.Problem);
        Assert.Equal(6, verification.HeadSequence);
    }

    [Fact]
    public async Task AppendAsync_ForeignTriggerSkipsTheRow_FailsAndTheTriggerIsNamed()
    {
        // Arrange: DDL rights and no key: a trigger that silently skips chosen records as they are inserted (on SQLite
        // named like a guard the other dialect has). Control: the guards alone are not foreign, and appends succeed.
        await AppendEventsAsync(2);
        var before = await Trail.ForeignTriggersAsync(CancellationToken.None);
        var name = Database.Provider == "SQLite" ? "audit_events_refuse_truncate" : "audit_events_skip_some";
        await ExecuteAsync(Database.Provider == "SQLite"
            ? $"CREATE TRIGGER {name} BEFORE INSERT ON audit_events WHEN NEW.action LIKE '%GetToken%' BEGIN SELECT RAISE(IGNORE); END"
            : $"""
              CREATE FUNCTION audit_events_skip() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
              CREATE TRIGGER {name} BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION audit_events_skip();
              """);

        // Act
        var append = await Record.ExceptionAsync(() => Trail.AppendAsync(Event(3), CancellationToken.None));
        var after = await Trail.ForeignTriggersAsync(CancellationToken.None);

        // Assert
        Assert.Empty(before);
        Assert.IsType<InvalidOperationException>(append);
        Assert.Equal([name], after);
        Assert.Equal(2, (await RowsAsync()).Count);
    }

    [Fact]
    public async Task VerifyAndExport_RowWithSequenceBelowOne_ReportedAndNeverExported()
    {
        // Arrange: a row no MAC proves, written past the CHECK constraint (SQLite: PRAGMA ignore_check_constraints;
        // PostgreSQL: the constraint dropped), framing a caller.
        await AppendEventsAsync(3);
        await ExecuteAsync(Database.Provider == "SQLite"
            ? "PRAGMA ignore_check_constraints = ON; " + PlantedRow("zeroblob(32)") + "; PRAGMA ignore_check_constraints = OFF"
            : "ALTER TABLE audit_events DROP CONSTRAINT IF EXISTS audit_events_sequence_check; " + PlantedRow("decode(repeat('00', 32), 'hex')"));

        // Act
        var verification = await Trail.VerifyAsync(null, CancellationToken.None);
        var exported = new List<AuditRecord>();
        await foreach (var record in Trail.ReadAsync(T0.AddDays(-1), T0.AddDays(1), CancellationToken.None))
        {
            exported.Add(record);
        }

        // Assert: the planted row is reported, the chain behind it still verifies from record 1.
        Assert.Equal([new AuditBreak(-7, AuditProblems.SequenceOutOfRange)], verification.Broken);
        Assert.Equal(4, verification.RecordsChecked);
        Assert.Equal(3, verification.HeadSequence);
        Assert.Equal([1L, 2L, 3L], exported.Select(r => r.Sequence));
    }

    [Fact]
    public async Task VerifyAndExport_TimeStoredWithAnotherType_NamesTheRecordAndTheChangedTable()
    {
        // Arrange: SQLite: STRICT removed through writable_schema, record 3's time
        // rewritten as a BLOB of the same digits (its MAC still verifies over the converted value, and a BLOB sorts
        // above every number, so no bounded export period holds it), the guard recreated with its own SQL.
        // PostgreSQL: the analogue, the column's type changed. Control: the untouched table and trail pass.
        await AppendEventsAsync(5);
        var untouched = await Trail.VerifyAsync(null, CancellationToken.None);
        var untouchedTable = await Trail.TableDefinitionProblemsAsync(CancellationToken.None);
        if (Database.Provider == "SQLite")
        {
            await RewriteSqliteSchemaAsync("replace(sql, ') STRICT', ')')");
            await ExecuteAsync("""
                DROP TRIGGER audit_events_refuse_update;
                UPDATE audit_events SET time = CAST(CAST(time AS TEXT) AS BLOB) WHERE sequence = 3;
                CREATE TRIGGER audit_events_refuse_update BEFORE UPDATE ON audit_events BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
                """);
        }
        else
        {
            await ExecuteAsync("ALTER TABLE audit_events ALTER COLUMN time TYPE numeric(20, 0)");
        }

        // Act
        var verification = await Trail.VerifyAsync(null, CancellationToken.None);
        var table = await Trail.TableDefinitionProblemsAsync(CancellationToken.None);
        var exported = new List<long>();
        await foreach (var record in Trail.ReadAsync(T0.AddDays(-1), T0.AddDays(1), CancellationToken.None))
        {
            exported.Add(record.Sequence);
        }

        // Assert
        Assert.True(untouched.Intact, untouched.Problem);
        Assert.Empty(untouched.TableProblems);
        Assert.Empty(untouchedTable);
        Assert.False(verification.Intact);
        Assert.Equal(table, verification.TableProblems);
        if (Database.Provider == "SQLite")
        {
            Assert.Equal([new AuditBreak(3, AuditProblems.StoredTypeChanged)], verification.Broken);
            Assert.Equal(AuditProblems.StoredTypeChanged, verification.Problem);
            Assert.Equal(["table is no longer STRICT (a value of any type can be stored in any column)"], table);
            Assert.Equal([1L, 2L, 4L, 5L], exported);
        }
        else
        {
            Assert.Empty(verification.Broken);
            Assert.Equal(AuditProblems.TableChanged, verification.Problem);
            Assert.Equal(["column time is declared numeric(20,0), not BIGINT"], table);
        }
    }

    [Theory]
    [InlineData("index")]
    [InlineData("nullable")]
    [InlineData("column")]
    public async Task TableDefinitionProblemsAsync_DefinitionChanged_NamesTheChange(string change)
    {
        // Arrange: DDL rights and no key (SQLite: the definition rewritten through writable_schema, as a stopped
        // server's file can be). Control: the table as the migrations made it has no problem.
        var before = await Trail.TableDefinitionProblemsAsync(CancellationToken.None);
        var sqlite = Database.Provider == "SQLite";
        switch (change)
        {
            case "index":
                await ExecuteAsync("DROP INDEX ix_audit_events_time; CREATE INDEX ix_audit_events_time ON audit_events (sequence)");
                break;
            case "nullable" when sqlite:
                await RewriteSqliteSchemaAsync("replace(sql, 'time INTEGER NOT NULL', 'time INTEGER NULL')");
                break;
            case "nullable":
                await ExecuteAsync("ALTER TABLE audit_events ALTER COLUMN time DROP NOT NULL");
                break;
            default:
                await ExecuteAsync("ALTER TABLE audit_events ADD COLUMN shadow TEXT NULL");
                break;
        }

        // Act
        var after = await Trail.TableDefinitionProblemsAsync(CancellationToken.None);

        // Assert
        Assert.Empty(before);
        var expected = change switch
        {
            "index" => "index ix_audit_events_time is on (sequence), not (time,sequence)",
            "nullable" => "column time is nullable, not NOT NULL",
            _ => "column shadow was added",
        };
        Assert.Equal([expected], after);
        Assert.Equal([expected], (await Trail.VerifyAsync(null, CancellationToken.None)).TableProblems);
    }

    [Fact]
    public async Task VerifyAsync_ForeignTriggerOnTheTable_NotIntactNamingIt()
    {
        // Arrange: a trigger that copies every record elsewhere as it is written. Control: the
        // same trail before it verifies intact with no table problem.
        await AppendEventsAsync(3);
        var before = await Trail.VerifyAsync(null, CancellationToken.None);
        await ExecuteAsync(Database.Provider == "SQLite"
            ? "CREATE TABLE shadow (x); CREATE TRIGGER zz_copy AFTER INSERT ON audit_events BEGIN INSERT INTO shadow VALUES (new.caller_id); END"
            : """
              CREATE TABLE shadow (x text);
              CREATE FUNCTION zz_copy_fn() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO shadow VALUES (NEW.caller_id); RETURN NEW; END $$;
              CREATE TRIGGER zz_copy AFTER INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION zz_copy_fn();
              """);

        // Act
        var after = await Trail.VerifyAsync(null, CancellationToken.None);

        // Assert: every record still verifies; the table is what is wrong.
        Assert.True(before.Intact, before.Problem);
        Assert.False(after.Intact);
        Assert.Equal(AuditProblems.TableChanged, after.Problem);
        Assert.Equal(0, after.FirstBrokenSequence);
        Assert.Empty(after.Broken);
        Assert.Equal(["trigger or rule this service did not create: zz_copy"], after.TableProblems);
        Assert.Equal(3, after.HeadSequence);
    }

    [Theory]
    [InlineData("tokens")]
    [InlineData("idempotency_records")]
    [InlineData("token_events")]
    [InlineData("key_checks")]
    public async Task VerifyAsync_TriggerOnAnotherTableThatDeletesAuditRecords_NotIntactNamingItAndItsTable(string table)
    {
        // Arrange: the outside review's planted trigger: whenever another table is written, the newest audit record is
        // deleted (the next append reuses its sequence, so the chain still verifies; PostgreSQL: the table's name
        // built at run time, which no text search of the function would find). Control: the untouched trail.
        await AppendEventsAsync(3);
        var before = await Trail.VerifyAsync(null, CancellationToken.None);
        await ExecuteAsync(Database.Provider == "SQLite"
            ? $"CREATE TRIGGER zz_housekeeping AFTER INSERT ON {table} BEGIN DELETE FROM audit_events WHERE sequence = (SELECT max(sequence) FROM audit_events); END"
            : $"""
              CREATE FUNCTION zz_housekeeping_fn() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN EXECUTE 'DELETE FROM audit' || '_events WHERE sequence = 0'; RETURN NEW; END $$;
              CREATE TRIGGER zz_housekeeping AFTER INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION zz_housekeeping_fn();
              """);

        // Act
        var foreign = await Trail.ForeignTriggersAsync(CancellationToken.None);
        var after = await Trail.VerifyAsync(null, CancellationToken.None);

        // Assert
        Assert.True(before.Intact, before.Problem);
        Assert.Empty(before.TableProblems);
        Assert.Equal([$"zz_housekeeping (on {table})"], foreign);
        Assert.False(after.Intact);
        Assert.Equal(AuditProblems.TableChanged, after.Problem);
        Assert.Equal([$"trigger or rule this service did not create: zz_housekeeping (on {table})"], after.TableProblems);
    }

    [Theory]
    [InlineData("expression index", "index ix_audit_events_misc was added")]
    [InlineData("partial time index", "index ix_audit_events_time differs from the migrations' definition")]
    [InlineData("unique index", "index ix_audit_events_corr was added")]
    [InlineData("resource index on another column", "index ix_audit_events_resource_2 was added")]
    [InlineData("partial resource index", "index ix_audit_events_resource differs from the migrations' definition")]
    [InlineData("resource index dropped", "index ix_audit_events_resource is missing")]
    [InlineData("check added", null)]
    [InlineData("check changed", null)]
    public async Task TableDefinitionProblemsAsync_IndexOrCheckPlanted_NamedOnlineAndInVerify(string change, string? problem)
    {
        // Arrange: objects evaluated on every insert, so they can refuse chosen appends after the audited change has
        // committed (or break the export). Control: the table as the migrations made it has no problem.
        await AppendEventsAsync(3);
        var before = await Trail.TableDefinitionProblemsAsync(CancellationToken.None);
        var sqlite = Database.Provider == "SQLite";
        switch (change)
        {
            case "expression index":
                await ExecuteAsync("CREATE INDEX ix_audit_events_misc ON audit_events ((CASE WHEN action LIKE '%RevokeToken' THEN 1 ELSE 0 END))");
                break;
            case "partial time index":
                await ExecuteAsync("DROP INDEX ix_audit_events_time; CREATE INDEX ix_audit_events_time ON audit_events (time, sequence) WHERE sequence < 10");
                break;
            case "unique index":
                await ExecuteAsync("CREATE UNIQUE INDEX ix_audit_events_corr ON audit_events (correlation_id)");
                break;
            case "resource index on another column":
                await ExecuteAsync("CREATE INDEX ix_audit_events_resource_2 ON audit_events (action)");
                break;
            case "partial resource index":
                await ExecuteAsync("DROP INDEX ix_audit_events_resource; CREATE INDEX ix_audit_events_resource ON audit_events (resource) WHERE resource <> 'pm_2'");
                break;
            case "resource index dropped":
                await ExecuteAsync("DROP INDEX ix_audit_events_resource");
                break;
            case "check added" when sqlite:
                await RewriteSqliteSchemaAsync("replace(sql, 'CHECK (length(mac) = 32)', 'CHECK (length(mac) = 32 AND action NOT LIKE ''%RevokeToken'')')");
                break;
            case "check added":
                await ExecuteAsync("ALTER TABLE audit_events ADD CONSTRAINT zz_no_revokes CHECK (action NOT LIKE '%RevokeToken')");
                break;
            case "check changed" when sqlite:
                await RewriteSqliteSchemaAsync("replace(sql, '''denied''', '''refused''')");
                break;
            default:
                await ExecuteAsync("ALTER TABLE audit_events DROP CONSTRAINT audit_events_outcome_check; ALTER TABLE audit_events ADD CONSTRAINT audit_events_outcome_check CHECK (outcome IN ('success', 'failure')) NOT VALID");
                break;
        }

        // Act
        var after = await Trail.TableDefinitionProblemsAsync(CancellationToken.None);
        var verification = await Trail.VerifyAsync(null, CancellationToken.None);

        // Assert
        var expected = problem ?? (sqlite
            ? "table definition differs from the migrations'"
            : change == "check added" ? "constraint zz_no_revokes was added" : "constraint audit_events_outcome_check differs from the migrations' definition");
        Assert.Empty(before);
        Assert.Contains(after, p => p.StartsWith(expected, StringComparison.Ordinal));
        Assert.False(verification.Intact);
        Assert.Equal(after, verification.TableProblems);
    }

    private static string PlantedRow(string zeroMac) =>
        "INSERT INTO audit_events (" + Schema.AuditSql.Columns + ") VALUES (-7, "
        + Schema.UnixMicros.From(T0).ToString(System.Globalization.CultureInfo.InvariantCulture)
        + ", 'finance-staff', '10.9.9.9', 'tokenizer.v1.PrivacyService/EraseSubject', 'subj_framed', 'success', NULL, 'planted', "
        + zeroMac + ", " + zeroMac + ", 'aaaaaaaaaaaaaaaa', NULL)";

    [Fact]
    public async Task VerifyAsync_KeyIdChanged_BreaksTheMacItIsSignedIn()
    {
        // Arrange: key_id picks the key to try and is signed with the record, so removing it (NULL would be tried under
        // every configured key, retired ones included) or naming another key breaks the MAC.
        await AppendEventsAsync(Records);
        await DropTriggersAsync();

        // Act
        await ExecuteAsync("UPDATE audit_events SET key_id = NULL WHERE sequence = 3");
        var nulled = await Trail.VerifyAsync(null, CancellationToken.None);
        await ExecuteAsync("UPDATE audit_events SET key_id = 'aaaaaaaaaaaaaaaa' WHERE sequence = 5; UPDATE audit_events SET key_id = NULL, caller_id = 'finance-staff' WHERE sequence = 7;");
        var forged = await Trail.VerifyAsync(null, CancellationToken.None);
        await ExecuteAsync("UPDATE audit_events SET key_id = NULL");
        var allNulled = await Trail.VerifyAsync(null, CancellationToken.None);

        // Assert
        Assert.Equal([new AuditBreak(3, AuditProblems.MacMismatch)], nulled.Broken);
        Assert.Equal([new AuditBreak(3, AuditProblems.MacMismatch), new AuditBreak(5, AuditProblems.UnknownKey), new AuditBreak(7, AuditProblems.MacMismatch)], forged.Broken);
        Assert.Equal(Records, allNulled.BrokenCount);
    }

    [Fact]
    public async Task RestoreGuardsAsync_GuardsDropped_RecreatesAndNamesThemThenEditsAreRefusedAgain()
    {
        // Arrange
        await AppendEventsAsync(3);
        var untouched = await Trail.RestoreGuardsAsync(CancellationToken.None);
        await DropTriggersAsync();

        // Act
        var restored = await Trail.RestoreGuardsAsync(CancellationToken.None);
        var again = await Trail.RestoreGuardsAsync(CancellationToken.None);

        // Assert: the control restores nothing; after the drop every guard the migration made is named and back.
        Assert.Empty(untouched);
        Assert.Contains("audit_events_refuse_update", restored);
        Assert.Contains("audit_events_refuse_delete", restored);
        Assert.Empty(again);
        await Assert.ThrowsAnyAsync<System.Data.Common.DbException>(() => ExecuteAsync("UPDATE audit_events SET caller_id = 'x' WHERE sequence = 1"));
        await Assert.ThrowsAnyAsync<System.Data.Common.DbException>(() => ExecuteAsync("DELETE FROM audit_events WHERE sequence = 1"));
        Assert.True((await Trail.VerifyAsync(null, CancellationToken.None)).Intact);
    }

    [Theory]
    [InlineData(0, 32)]
    [InlineData(1, 31)]
    public async Task VerifyAsync_MalformedAnchor_ThrowsArgumentException(long sequence, int macLength)
    {
        // Act and assert
        await Assert.ThrowsAsync<ArgumentException>(() =>
            Trail.VerifyAsync(new AuditAnchor(sequence, new byte[macLength]), CancellationToken.None));
    }

    private static void AssertBroken(AuditVerification verification, long sequence, string problem)
    {
        Assert.False(verification.Intact);
        Assert.Equal(problem, verification.Problem);
        Assert.Equal(sequence, verification.FirstBrokenSequence);
    }
}
