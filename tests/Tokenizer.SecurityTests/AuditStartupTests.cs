using System.Security.Cryptography;
using Grpc.Core;
using Microsoft.Data.Sqlite;
using Tokenizer.Cli;
using Tokenizer.Contracts.V1;
using Tokenizer.IntegrationTests;

namespace Tokenizer.SecurityTests;

/// <summary>
/// The real server process restarted over the same data directory after its audit trail or keys were changed under it:
/// deleted newest records, a middle record edited or deleted, a wrong audit key, another request HMAC secret. Each is refused at start-up with a message
/// naming the cause; the untouched restart and a proper rotation (new secret plus the old one as previous) start.
/// </summary>
public sealed class AuditStartupTests
{
    [Fact]
    public async Task Restart_NewestAuditRecordsDeleted_RefusesToStartNamingTruncation()
    {
        var directory = Directory.CreateTempSubdirectory("tokenizer-audit-trunc-").FullName;
        try
        {
            await RunAndStopAsync(directory);

            // Control: an untouched restart starts (and anchors its own newer head at shutdown).
            await RunAndStopAsync(directory);
            Assert.True(File.Exists(Path.Combine(directory, "anchor", "audit-anchor.json")));

            DeleteNewestAuditRecords(directory, 3);

            var refused = await StartRefusedAsync(directory);
            AssertRefusedNaming(refused, "failed to start: Tokenizer:AuditAnchor: the audit trail is truncated");
            // The refused start left the evidence alone: the trigger the attacker dropped is still missing.
            Assert.DoesNotContain("audit_events_refuse_delete", Triggers(directory));
            Assert.Contains("audit_events_refuse_update", Triggers(directory));
        }
        finally
        {
            TokenizerServerFixture.TryDelete(directory);
        }
    }

    [Fact]
    public async Task OfflineVerify_StoppedServerTruncatedThenEdited_ListsEveryBreakReadOnly()
    {
        var directory = Directory.CreateTempSubdirectory("tokenizer-audit-offline-").FullName;
        try
        {
            await RunAndStopAsync(directory);
            await RunAndStopAsync(directory);

            // Control: the untouched trail of a stopped server verifies offline, against the service's own anchor.
            var (code, output) = await VerifyOfflineAsync(directory);
            Assert.True(code == 0, output);
            Assert.Matches(@"intact\s+yes", output);
            Assert.Matches(@"compared with anchor\s+[1-9]", output);

            // A wrong configured key: the anchor does not open under it (its seal names the key in use), so the walk
            // without it names the first record signed by a key it does not have; a key that is not base64 is bad usage.
            var wrong = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
            (code, output) = await VerifyOfflineAsync(directory, ("Tokenizer__AuditHmacSecret", wrong));
            Assert.True(code == AuditCommands.ExitBroken, output);
            Assert.Matches(@"first broken record\s+1\b", output);
            Assert.Contains("unknown key", output, StringComparison.Ordinal);
            Assert.DoesNotContain(wrong, output, StringComparison.Ordinal);
            (code, output) = await VerifyOfflineAsync(directory, ("Tokenizer__AuditHmacSecret", "not base64!"));
            Assert.True(code == 2, output);
            Assert.Contains("Tokenizer__AuditHmacSecret is not base64", output, StringComparison.Ordinal);

            // Truncated while stopped: start-up refuses and points at the offline command, which names the truncation.
            DeleteNewestAuditRecords(directory, 3);
            var refused = await StartRefusedAsync(directory);
            AssertRefusedNaming(refused, $"tokenizer audit verify --offline --data-directory {directory}");
            var before = LedgerFiles(directory);
            (code, output) = await VerifyOfflineAsync(directory);
            Assert.True(code == AuditCommands.ExitBroken, output);
            Assert.Matches(@"intact\s+NO", output);
            Assert.Contains("truncated", output, StringComparison.Ordinal);

            // A record in the middle edited too: the walk lists it as well (the refused start named only the first cause).
            var middle = MiddleSequence(directory);
            TamperWithGuardDown(directory, "audit_events_refuse_update", $"UPDATE audit_events SET caller_id = 'finance-staff' WHERE sequence = {middle}");
            var tampered = LedgerFiles(directory);
            (code, output) = await VerifyOfflineAsync(directory);
            Assert.True(code == AuditCommands.ExitBroken, output);
            Assert.Matches($@"broken record\s+{middle} mac mismatch", output);

            // Read-only: the database file is byte for byte what the tampering left, before and after each verification.
            Assert.NotEqual(before[0], tampered[0]);
            Assert.Equal(tampered, LedgerFiles(directory));

            // Bad usage: no ledger in the directory named.
            (code, output) = await VerifyOfflineAsync(Path.Combine(directory, "nowhere"));
            Assert.True(code == 2, output);
            Assert.Contains("no SQLite ledger", output, StringComparison.Ordinal);
        }
        finally
        {
            TokenizerServerFixture.TryDelete(directory);
        }
    }

    [Fact]
    public async Task Restart_NewestAuditRecordEdited_RefusesToStartNamingTheEditNotTheKey()
    {
        var directory = Directory.CreateTempSubdirectory("tokenizer-audit-edit-").FullName;
        try
        {
            await RunAndStopAsync(directory);

            // The edit: the guard trigger dropped, the newest record's caller rewritten.
            var database = Path.Combine(directory, "ledger", "tokenizer.db");
            using (var connection = new SqliteConnection($"Data Source={database};Pooling=false"))
            {
                connection.Open();
                using var command = connection.CreateCommand();
                command.CommandText = """
                    DROP TRIGGER audit_events_refuse_update;
                    UPDATE audit_events SET caller_id = 'admin' WHERE sequence = (SELECT max(sequence) FROM audit_events);
                    """;
                Assert.Equal(1, command.ExecuteNonQuery());
            }

            var refused = await StartRefusedAsync(directory);
            AssertRefusedNaming(refused, "failed to start: Tokenizer:AuditAnchor: the newest audit record");
            Assert.Contains("was changed after it was written", refused.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("Tokenizer:AuditHmacSecret does not verify", refused.Message, StringComparison.Ordinal);
        }
        finally
        {
            TokenizerServerFixture.TryDelete(directory);
        }
    }

    [Fact]
    public async Task Restart_MiddleAuditRecordEditedBehindRecreatedTrigger_RefusesToStartNamingTheRecord()
    {
        var directory = Directory.CreateTempSubdirectory("tokenizer-audit-mid-edit-").FullName;
        try
        {
            await RunAndStopAsync(directory);

            // Control: an untouched restart walks the whole chain and starts.
            await RunAndStopAsync(directory);

            // The edit: the guard dropped, a record between the first and the anchored head re-attributed,
            // the guard recreated, so the schema looks untouched. The head and the anchored record are intact.
            var middle = MiddleSequence(directory);
            TamperWithGuardDown(directory, "audit_events_refuse_update", $"UPDATE audit_events SET caller_id = 'finance-staff' WHERE sequence = {middle}");

            var refused = await StartRefusedAsync(directory);
            AssertRefusedNaming(refused, $"failed to start: Tokenizer:AuditAnchor: the audit trail is broken: audit record {middle} was changed after it was written");
        }
        finally
        {
            TokenizerServerFixture.TryDelete(directory);
        }
    }

    [Fact]
    public async Task Restart_MiddleAuditRecordDeletedBehindRecreatedTrigger_RefusesToStartNamingTheRecord()
    {
        var directory = Directory.CreateTempSubdirectory("tokenizer-audit-mid-delete-").FullName;
        try
        {
            await RunAndStopAsync(directory);
            await RunAndStopAsync(directory);
            var middle = MiddleSequence(directory);
            TamperWithGuardDown(directory, "audit_events_refuse_delete", $"DELETE FROM audit_events WHERE sequence = {middle}");

            // A second, independent forgery behind the first: the walk goes on after the gap and names it too.
            TamperWithGuardDown(directory, "audit_events_refuse_update", $"UPDATE audit_events SET action = 'nothing/happened' WHERE sequence = {middle + 2}");

            var refused = await StartRefusedAsync(directory);
            AssertRefusedNaming(refused, $"failed to start: Tokenizer:AuditAnchor: the audit trail is broken: audit record {middle} is missing (sequence gap)");
            Assert.Contains($"Broken records: {middle} sequence gap, {middle + 2} mac mismatch (", refused.Message, StringComparison.Ordinal);
        }
        finally
        {
            TokenizerServerFixture.TryDelete(directory);
        }
    }

    [Fact]
    public async Task Restart_AppendOnlyTriggerDropped_StartsWarningNamingItAndRestoresIt()
    {
        var directory = Directory.CreateTempSubdirectory("tokenizer-audit-guard-").FullName;
        try
        {
            string untouched;
            await using (var server = await ServerProcess.StartAsync(directory))
            {
                await AuditedCallsAsync(server);
                untouched = server.Output;
            }

            // Dropped while stopped, nothing else changed: the chain is intact, so the start goes on, says so and restores it.
            using (var connection = OpenLedger(directory))
            using (var drop = connection.CreateCommand())
            {
                drop.CommandText = "DROP TRIGGER audit_events_refuse_delete";
                drop.ExecuteNonQuery();
            }

            string restarted;
            await using (var server = await ServerProcess.StartAsync(directory))
            {
                await AuditedCallsAsync(server);
                restarted = server.Output;
            }

            Assert.DoesNotContain("append-only guard", untouched, StringComparison.Ordinal);
            Assert.Contains("append-only guard audit_events_refuse_delete was missing", restarted, StringComparison.Ordinal);
            using var check = OpenLedger(directory);
            using var command = check.CreateCommand();
            command.CommandText = "DELETE FROM audit_events WHERE sequence = 1";
            var refused = Assert.Throws<SqliteException>(() => command.ExecuteNonQuery());
            Assert.Contains("append-only", refused.Message, StringComparison.Ordinal);
        }
        finally
        {
            TokenizerServerFixture.TryDelete(directory);
        }
    }

    [Fact]
    public async Task Restart_AppendOnlyTriggersReplacedByNoOpsUnderTheirNames_StartsWarningNamingThemAndRestoresThem()
    {
        var directory = Directory.CreateTempSubdirectory("tokenizer-audit-guard-noop-").FullName;
        try
        {
            string untouched;
            await using (var server = await ServerProcess.StartAsync(directory))
            {
                await AuditedCallsAsync(server);
                untouched = server.Output;
            }

            // Replaced while stopped by guards that never fire, under the same names: present by name, yet guarding nothing.
            using (var connection = OpenLedger(directory))
            using (var replace = connection.CreateCommand())
            {
                replace.CommandText = """
                    DROP TRIGGER audit_events_refuse_delete;
                    CREATE TRIGGER audit_events_refuse_delete BEFORE DELETE ON audit_events WHEN 0 BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
                    DROP TRIGGER audit_events_refuse_update;
                    CREATE TRIGGER audit_events_refuse_update BEFORE UPDATE ON audit_events WHEN 0 BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
                    """;
                replace.ExecuteNonQuery();
            }

            string restarted;
            await using (var server = await ServerProcess.StartAsync(directory))
            {
                await AuditedCallsAsync(server);
                restarted = server.Output;
            }

            Assert.DoesNotContain("append-only guard", untouched, StringComparison.Ordinal);
            Assert.Contains("append-only guard audit_events_refuse_delete was missing or changed", restarted, StringComparison.Ordinal);
            Assert.Contains("append-only guard audit_events_refuse_update was missing or changed", restarted, StringComparison.Ordinal);
            using var check = OpenLedger(directory);
            using var command = check.CreateCommand();
            command.CommandText = "SELECT count(*) FROM audit_events WHERE action = 'configuration/audit_guard_restored'";
            Assert.Equal(2L, Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture));
            command.CommandText = "UPDATE audit_events SET reason = 'edited' WHERE sequence = 1";
            var refused = Assert.Throws<SqliteException>(() => command.ExecuteNonQuery());
            Assert.Contains("append-only", refused.Message, StringComparison.Ordinal);
        }
        finally
        {
            TokenizerServerFixture.TryDelete(directory);
        }
    }

    [Fact]
    public async Task Restart_WrongAuditKey_RefusesToStartNamingTheSetting_RotationStartsAndVerifies()
    {
        var directory = Directory.CreateTempSubdirectory("tokenizer-audit-key-").FullName;
        try
        {
            await RunAndStopAsync(directory);
            var wrong = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

            var refused = await StartRefusedAsync(directory, $"--Tokenizer:AuditHmacSecret={wrong}");
            AssertRefusedNaming(refused, "failed to start: Tokenizer:AuditHmacSecret does not verify the newest audit record");
            Assert.DoesNotContain(wrong, refused.Message, StringComparison.Ordinal);

            // Rotation: the same new key as current, the key in use as previous. New records are signed with the new key;
            // the whole chain verifies with the set, through the CLI, against the service's own anchor.
            var old = Convert.ToBase64String(await File.ReadAllBytesAsync(Path.Combine(directory, "secrets", "audit-hmac.key")));
            string[] rotated = [$"--Tokenizer:AuditHmacSecret={wrong}", $"--Tokenizer:AuditHmacPreviousSecrets:0={old}"];
            await using (var server = await ServerProcess.StartAsync(directory, rotated))
            {
                await AuditedCallsAsync(server);
                var (code, output) = await VerifyWithCliAsync(server);
                Assert.True(code == 0, output);
                Assert.Matches(@"compared with anchor\s+[1-9]", output);
            }

            // After the rotation the old key alone no longer verifies the newest record.
            refused = await StartRefusedAsync(directory);
            Assert.True(refused.Message.Contains("Tokenizer:AuditHmacSecret does not verify the newest audit record", StringComparison.Ordinal), refused.Message);

            // And the rotated configuration still starts.
            await RunAndStopAsync(directory, rotated);

            // The new key alone verifies the newest record, but not the older records the retired key signed: the walk
            // names the first of them and the setting that must keep the retired key.
            refused = await StartRefusedAsync(directory, $"--Tokenizer:AuditHmacSecret={wrong}");
            AssertRefusedNaming(refused, "failed to start: Tokenizer:AuditAnchor: the audit trail is broken: audit record 1 names a key that no configured audit key has (unknown key)");
            Assert.Contains("Tokenizer:AuditHmacPreviousSecrets", refused.Message, StringComparison.Ordinal);
            Assert.DoesNotContain(wrong, refused.Message, StringComparison.Ordinal);
        }
        finally
        {
            TokenizerServerFixture.TryDelete(directory);
        }
    }

    [Fact]
    public async Task Restart_RecordSignedWithARetiredKeyAfterTheRotation_RefusesToStartNamingIt()
    {
        var directory = Directory.CreateTempSubdirectory("tokenizer-audit-retired-").FullName;
        var copies = new List<string>();
        try
        {
            // The key in use (K0) is rotated out for K1 (a suspected leak, say), and kept as previous to verify its records.
            await RunAndStopAsync(directory);
            var old = await File.ReadAllBytesAsync(Path.Combine(directory, "secrets", "audit-hmac.key"));
            // The shortest grace (1 minute), so a record 4 minutes on is past it and still not ahead of the clock.
            var rotated = new[]
            {
                $"--Tokenizer:AuditHmacSecret={Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))}",
                $"--Tokenizer:AuditHmacPreviousSecrets:0={Convert.ToBase64String(old)}",
                "--Tokenizer:AuditKeyRotationGraceMinutes=1",
            };
            await RunAndStopAsync(directory, rotated);
            string Copy(string name)
            {
                var copy = Directory.CreateTempSubdirectory($"tokenizer-audit-{name}-").FullName;
                copies.Add(copy);
                CopyDirectory(directory, copy);
                return copy;
            }

            // Whoever holds K0 and the database file appends a validly signed record naming K0: past the rotation grace,
            // within it (control: a replica not yet restarted would do the same), and in the older format that signs
            // neither the key id nor the recorded time.
            var late = Copy("late");
            AppendRecordSignedWith(late, old, recordedAfterHead: TimeSpan.FromMinutes(4));
            var withinGrace = Copy("grace");
            AppendRecordSignedWith(withinGrace, old, recordedAfterHead: TimeSpan.FromSeconds(1));
            var olderFormat = Copy("format");
            AppendRecordSignedWith(olderFormat, old, recordedAfterHead: null);

            var refused = await StartRefusedAsync(late, rotated);
            AssertRefusedNaming(refused, "failed to start: Tokenizer:AuditAnchor: the audit trail is broken: audit record");
            Assert.Contains("(retired key)", refused.Message, StringComparison.Ordinal);
            Assert.Contains("Tokenizer:AuditKeyRotationGraceMinutes", refused.Message, StringComparison.Ordinal);
            refused = await StartRefusedAsync(olderFormat, rotated);
            Assert.True(refused.Message.Contains("(recorded time missing)", StringComparison.Ordinal), refused.Message);
            await RunAndStopAsync(withinGrace, rotated);

            // The offline walk reports the same record; a grace setting that covers it is the operator's deliberate choice.
            (string, string)[] keys = [("Tokenizer__AuditHmacSecret", rotated[0].Split('=', 2)[1]), ("Tokenizer__AuditHmacPreviousSecrets__0", Convert.ToBase64String(old))];
            var (code, output) = await VerifyOfflineAsync(late, [.. keys, ("Tokenizer__AuditKeyRotationGraceMinutes", "1")]);
            Assert.True(code == 4, output);
            Assert.Contains("retired key", output, StringComparison.Ordinal);
            (code, output) = await VerifyOfflineAsync(late, [.. keys, ("Tokenizer__AuditKeyRotationGraceMinutes", "5")]);
            Assert.True(code == 0, output);
        }
        finally
        {
            TokenizerServerFixture.TryDelete(directory);
            copies.ForEach(TokenizerServerFixture.TryDelete);
        }
    }

    [Fact]
    public async Task Restart_ForeignInsertTriggerOnTheAuditTable_RefusesToStartNamingIt()
    {
        var directory = Directory.CreateTempSubdirectory("tokenizer-audit-trigger-").FullName;
        try
        {
            await RunAndStopAsync(directory);

            // Control: an untouched restart starts.
            await RunAndStopAsync(directory);

            // Control for the offline command: the untouched stopped ledger verifies intact.
            var (intactCode, intactOutput) = await VerifyOfflineAsync(directory);
            Assert.True(intactCode == 0, intactOutput);

            // SQL access and no key: a trigger that skips every revoke's record as it is inserted, named like a guard.
            using (var connection = OpenLedger(directory))
            using (var create = connection.CreateCommand())
            {
                create.CommandText = "CREATE TRIGGER audit_events_refuse_truncate BEFORE INSERT ON audit_events WHEN NEW.action LIKE '%RevokeToken%' BEGIN SELECT RAISE(IGNORE); END";
                create.ExecuteNonQuery();
            }

            var refused = await StartRefusedAsync(directory);
            AssertRefusedNaming(refused, "failed to start: Tokenizer:AuditAnchor: the ledger database has 1 trigger(s) or rule(s) this service did not create (audit_events_refuse_truncate)");

            // The command the refusal points at says the same, and exits as for a broken trail (every record verifies).
            var (code, output) = await VerifyOfflineAsync(directory);
            Assert.True(code == AuditCommands.ExitBroken, output);
            Assert.Matches(@"intact\s+NO", output);
            Assert.Matches(@"table problem\s+trigger or rule this service did not create: audit_events_refuse_truncate", output);
            Assert.Matches(@"problem\s+table changed", output);

            // With the anchor edited too, the invalid anchor is the first problem and the trigger is still listed.
            await File.WriteAllTextAsync(Path.Combine(directory, "anchor", "audit-anchor.json"), "{}");
            (code, output) = await VerifyOfflineAsync(directory);
            Assert.True(code == AuditCommands.ExitBroken, output);
            Assert.Matches(@"problem\s+anchor invalid", output);
            Assert.Matches(@"broken record\s+\d+ anchor invalid", output);
            Assert.Matches(@"table problem\s+trigger or rule this service did not create: audit_events_refuse_truncate", output);
        }
        finally
        {
            TokenizerServerFixture.TryDelete(directory);
        }
    }

    [Fact]
    public async Task Restart_GuardsMovedToTokensAndADeletingTriggerOnIdempotencyRecords_RefusesToStartNamingEach()
    {
        var directory = Directory.CreateTempSubdirectory("tokenizer-audit-moved-").FullName;
        try
        {
            await RunAndStopAsync(directory);

            // Control: an untouched restart starts, and the stopped ledger verifies intact offline.
            await RunAndStopAsync(directory);
            var (intactCode, intactOutput) = await VerifyOfflineAsync(directory);
            Assert.True(intactCode == 0, intactOutput);

            // The outside review's tampering: both guards moved onto tokens under their own names (SQLite trigger names
            // are schema-wide, so recreating them "IF NOT EXISTS" did nothing), and a trigger on another table that
            // deletes the newest record, a revoke's, whenever the next call claims its idempotency key.
            using (var connection = OpenLedger(directory))
            using (var plant = connection.CreateCommand())
            {
                plant.CommandText = """
                    DROP TRIGGER audit_events_refuse_delete; DROP TRIGGER audit_events_refuse_update;
                    CREATE TRIGGER audit_events_refuse_delete BEFORE DELETE ON tokens BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
                    CREATE TRIGGER audit_events_refuse_update BEFORE UPDATE ON tokens WHEN 0 BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
                    CREATE TRIGGER zz_housekeeping AFTER INSERT ON idempotency_records BEGIN
                        DELETE FROM audit_events WHERE action LIKE '%RevokeToken' AND sequence = (SELECT max(sequence) FROM audit_events); END;
                    """;
                plant.ExecuteNonQuery();
            }

            var refused = await StartRefusedAsync(directory);
            AssertRefusedNaming(refused, "failed to start: Tokenizer:AuditAnchor: the ledger database has 3 trigger(s) or rule(s) this service did not create (");
            AssertRefusedNaming(refused, "audit_events_refuse_delete (on tokens)");
            AssertRefusedNaming(refused, "audit_events_refuse_update (on tokens)");
            AssertRefusedNaming(refused, "zz_housekeeping (on idempotency_records)");

            var (code, output) = await VerifyOfflineAsync(directory);
            Assert.True(code == AuditCommands.ExitBroken, output);
            Assert.Matches(@"table problem\s+trigger or rule this service did not create: zz_housekeeping \(on idempotency_records\)", output);
            Assert.Matches(@"table problem\s+trigger or rule this service did not create: audit_events_refuse_delete \(on tokens\)", output);

            // The operator drops what was planted, as the refusal says: the next start restores both guards on the audit
            // table itself (read back, not assumed).
            using (var connection = OpenLedger(directory))
            using (var drop = connection.CreateCommand())
            {
                drop.CommandText = "DROP TRIGGER audit_events_refuse_delete; DROP TRIGGER audit_events_refuse_update; DROP TRIGGER zz_housekeeping;";
                drop.ExecuteNonQuery();
            }

            string restarted;
            await using (var server = await ServerProcess.StartAsync(directory))
            {
                await AuditedCallsAsync(server);
                restarted = server.Output;
            }

            Assert.Contains("append-only guard audit_events_refuse_delete was missing", restarted, StringComparison.Ordinal);
            using var check = OpenLedger(directory);
            using var command = check.CreateCommand();
            command.CommandText = "SELECT name || ' on ' || tbl_name FROM sqlite_master WHERE type = 'trigger' ORDER BY name";
            var triggers = new List<string>();
            using (var reader = command.ExecuteReader())
            {
                while (reader.Read())
                {
                    triggers.Add(reader.GetString(0));
                }
            }

            Assert.Equal(["audit_events_refuse_delete on audit_events", "audit_events_refuse_update on audit_events"], triggers);
        }
        finally
        {
            TokenizerServerFixture.TryDelete(directory);
        }
    }

    [Theory]
    [InlineData("CREATE INDEX ix_audit_events_misc ON audit_events (abs(CASE WHEN action LIKE '%RevokeToken' AND outcome = 'success' THEN -9223372036854775808 ELSE 0 END))", "index ix_audit_events_misc was added")]
    [InlineData("DROP INDEX ix_audit_events_time; CREATE INDEX ix_audit_events_time ON audit_events (time, sequence) WHERE sequence < 10", "index ix_audit_events_time differs from the migrations' definition")]
    [InlineData("writable_schema", "table definition differs from the migrations'")]
    public async Task Restart_IndexOrCheckPlantedOnTheAuditTable_RefusesToStartNamingIt(string plantSql, string problem)
    {
        var directory = Directory.CreateTempSubdirectory("tokenizer-audit-index-").FullName;
        try
        {
            await RunAndStopAsync(directory);

            // Control: an untouched restart starts, and the stopped ledger verifies intact offline.
            await RunAndStopAsync(directory);
            var (intactCode, intactOutput) = await VerifyOfflineAsync(directory);
            Assert.True(intactCode == 0, intactOutput);

            // An object evaluated on every insert that refuses chosen records (a successful revoke's), or breaks the export.
            using (var connection = OpenLedger(directory))
            using (var plant = connection.CreateCommand())
            {
                plant.CommandText = plantSql != "writable_schema"
                    ? plantSql
                    : """
                      PRAGMA writable_schema = ON;
                      UPDATE sqlite_master SET sql = replace(sql, 'CHECK (length(mac) = 32)', 'CHECK (length(mac) = 32 AND action NOT LIKE ''%RevokeToken'')')
                      WHERE type = 'table' AND name = 'audit_events';
                      PRAGMA writable_schema = OFF;
                      """;
                plant.ExecuteNonQuery();
            }

            var refused = await StartRefusedAsync(directory);
            AssertRefusedNaming(refused, "failed to start: Tokenizer:AuditAnchor: the audit table's definition or storage was changed outside this service (" + problem);

            var (code, output) = await VerifyOfflineAsync(directory);
            Assert.True(code == AuditCommands.ExitBroken, output);
            Assert.Contains("table problem", output, StringComparison.Ordinal);
            Assert.Contains(problem, output, StringComparison.Ordinal);
        }
        finally
        {
            TokenizerServerFixture.TryDelete(directory);
        }
    }

    [Fact]
    public async Task Restart_AuditTableNoLongerStrictAndATimeStoredAsBlob_RefusesToStartAndOfflineVerifyNamesTheRecord()
    {
        var directory = Directory.CreateTempSubdirectory("tokenizer-audit-strict-").FullName;
        try
        {
            await RunAndStopAsync(directory);

            // Control: an untouched restart starts, and the offline walk of the stopped ledger is intact.
            await RunAndStopAsync(directory);
            var (code, output) = await VerifyOfflineAsync(directory);
            Assert.True(code == 0, output);

            // The edit: STRICT removed through writable_schema, one record's time rewritten as a
            // BLOB of the same digits (its MAC still verifies; no export period holds it), the guard recreated as it was.
            var middle = MiddleSequence(directory);
            RewriteAuditTableDefinition(directory, "replace(sql, ') STRICT', ')')");
            TamperWithGuardDown(directory, "audit_events_refuse_update", $"UPDATE audit_events SET time = CAST(CAST(time AS TEXT) AS BLOB) WHERE sequence = {middle}");

            var refused = await StartRefusedAsync(directory);
            AssertRefusedNaming(refused, "failed to start: Tokenizer:AuditAnchor: the audit table's definition or storage was changed outside this service (table is no longer STRICT");
            AssertRefusedNaming(refused, $"tokenizer audit verify --offline --data-directory {directory}");
            (code, output) = await VerifyOfflineAsync(directory);
            Assert.True(code == AuditCommands.ExitBroken, output);
            Assert.Matches($@"broken record\s+{middle} stored type changed", output);
            Assert.Matches(@"table problem\s+table is no longer STRICT", output);

            // STRICT put back the same way: the definition is as created; SQLite's integrity check finds the BLOB in the
            // STRICT column, and the walk still names the record.
            RewriteAuditTableDefinition(directory, "sql || ' STRICT'");
            refused = await StartRefusedAsync(directory);
            AssertRefusedNaming(refused, "failed to start: Tokenizer:AuditAnchor: the audit table's definition or storage was changed outside this service (storage disagrees with the table: ");
            (code, output) = await VerifyOfflineAsync(directory);
            Assert.True(code == AuditCommands.ExitBroken, output);
            Assert.Matches($@"broken record\s+{middle} stored type changed", output);
            Assert.Matches(@"table problem\s+storage disagrees with the table: .*audit_events\.time", output);
            Assert.DoesNotContain("table is no longer STRICT", output, StringComparison.Ordinal);
        }
        finally
        {
            TokenizerServerFixture.TryDelete(directory);
        }
    }

    [Theory]
    [InlineData("omit")]
    [InlineData("forge")]
    public async Task Restart_TimeIndexBTreeSwappedUnderAnUnchangedSchema_RefusesToStartNamingTheStorageProblem(string variant)
    {
        var directory = Directory.CreateTempSubdirectory("tokenizer-audit-index-").FullName;
        try
        {
            await RunAndStopAsync(directory);

            // Control: an untouched restart starts, and the offline walk of the stopped ledger is intact.
            await RunAndStopAsync(directory);
            var (code, output) = await VerifyOfflineAsync(directory);
            Assert.True(code == 0, output);
            Assert.DoesNotContain("table problem", output, StringComparison.Ordinal);

            // A second b-tree (omit: the index without one record; forge: an index of
            // another table holding that record at another time) swaps root pages with ix_audit_events_time through
            // writable_schema; the helper is dropped. No row, trigger or CREATE statement changes.
            var middle = MiddleSequence(directory);
            var schema = AuditSchemaText(directory);
            SwapTimeIndex(directory, variant, middle);
            Assert.Equal(schema, AuditSchemaText(directory));

            var refused = await StartRefusedAsync(directory);
            AssertRefusedNaming(refused, "failed to start: Tokenizer:AuditAnchor: the audit table's definition or storage was changed outside this service (storage disagrees with the table: ");
            AssertRefusedNaming(refused, "ix_audit_events_time");
            AssertRefusedNaming(refused, $"tokenizer audit verify --offline --data-directory {directory}");
            (code, output) = await VerifyOfflineAsync(directory);
            Assert.True(code == AuditCommands.ExitBroken, output);
            Assert.Matches(@"intact\s+NO", output);
            Assert.Matches(@"problem\s+table changed", output);
            Assert.Matches(@"table problem\s+storage disagrees with the table: .*ix_audit_events_time", output);
            Assert.DoesNotContain("broken record", output, StringComparison.Ordinal);
        }
        finally
        {
            TokenizerServerFixture.TryDelete(directory);
        }
    }

    [Fact]
    public async Task Restart_TrailAndAnchorDeleted_StartsWarningThatTheTrailWasEmptied()
    {
        var directory = Directory.CreateTempSubdirectory("tokenizer-audit-wiped-").FullName;
        try
        {
            string first;
            await using (var server = await ServerProcess.StartAsync(directory))
            {
                first = server.Output;
            }

            // Every record and the anchor deleted with the service stopped: nothing is left to compare.
            DeleteNewestAuditRecords(directory, AuditRecordCount(directory));
            File.Delete(Path.Combine(directory, "anchor", "audit-anchor.json"));

            string restarted;
            await using (var server = await ServerProcess.StartAsync(directory))
            {
                restarted = server.Output;
            }

            // Control: the first start of a new ledger is not a wiped one.
            Assert.DoesNotContain("The audit trail is empty", first, StringComparison.Ordinal);
            Assert.Contains("The audit trail is empty and there is no audit anchor", restarted, StringComparison.Ordinal);
        }
        finally
        {
            TokenizerServerFixture.TryDelete(directory);
        }
    }

    [Fact]
    public async Task Restart_OtherRequestHmacSecret_RefusesToStartNamingTheSetting()
    {
        var directory = Directory.CreateTempSubdirectory("tokenizer-request-key-").FullName;
        try
        {
            await RunAndStopAsync(directory);
            var other = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

            var refused = await StartRefusedAsync(directory, $"--Tokenizer:RequestHmacSecret={other}");
            AssertRefusedNaming(refused, "failed to start: Tokenizer:RequestHmacSecret is not the secret this ledger was used with");
            Assert.DoesNotContain(other, refused.Message, StringComparison.Ordinal);

            // Control: the new secret with the one in use as previous is a rotation, and starts.
            var old = Convert.ToBase64String(await File.ReadAllBytesAsync(Path.Combine(directory, "secrets", "request-hmac.key")));
            await RunAndStopAsync(directory, $"--Tokenizer:RequestHmacSecret={other}", $"--Tokenizer:RequestHmacPreviousSecrets:0={old}");
        }
        finally
        {
            TokenizerServerFixture.TryDelete(directory);
        }
    }

    [Fact]
    public async Task Restart_KeyChecksDeletedFromAUsedLedger_RefusedNamingTheSettingUntilAdoptedWithAWarningAndARecord()
    {
        var directory = Directory.CreateTempSubdirectory("tokenizer-key-checks-").FullName;
        try
        {
            // Arrange: a ledger with a token (an idempotency record, an intent, a Customer), its key checks deleted.
            await using (var server = await ServerProcess.StartAsync(directory))
            {
                await server.Client.TokenizeCardAsync(Requests.Card("4242424242424242", Requests.NewKey()));
            }

            DeleteKeyChecks(directory);
            var other = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

            // Act and assert: a changed secret is refused, and so is the original one (nothing can tell them apart).
            var changed = await StartRefusedAsync(directory, $"--Tokenizer:RequestHmacSecret={other}");
            AssertRefusedNaming(changed, "failed to start: Tokenizer:RequestHmacSecret cannot be checked: this ledger holds idempotency records, tokens or privacy data keyed by the secret, but its key check value is missing");
            Assert.Contains("Tokenizer:AdoptKeyChecks=true", changed.Message, StringComparison.Ordinal);
            Assert.DoesNotContain(other, changed.Message, StringComparison.Ordinal);
            AssertRefusedNaming(await StartRefusedAsync(directory), "Tokenizer:RequestHmacSecret cannot be checked");
            Assert.Equal(0, KeyCheckCount(directory));

            // The operator vouches for the original secret: it starts, warns, records it, and the check holds again.
            string adopted;
            await using (var server = await ServerProcess.StartAsync(directory, "--Tokenizer:AdoptKeyChecks=true"))
            {
                adopted = server.Output;
            }

            Assert.Contains("The check value of Tokenizer:RequestHmacSecret was missing although the ledger holds data keyed by it", adopted, StringComparison.Ordinal);
            Assert.Equal(["request-hmac-key", "privacy-pseudonym-key"], AuditResources(directory, "configuration/key_check_adopted"));
            Assert.Equal(2, KeyCheckCount(directory));
            AssertRefusedNaming(await StartRefusedAsync(directory, $"--Tokenizer:RequestHmacSecret={other}"), "Tokenizer:RequestHmacSecret is not the secret this ledger was used with");
        }
        finally
        {
            TokenizerServerFixture.TryDelete(directory);
        }
    }

    [Fact]
    public async Task Restart_KeyChecksDeletedFromALedgerHoldingNothingKeyed_StartsAndStoresTheCheckWithAnInformationLine()
    {
        var directory = Directory.CreateTempSubdirectory("tokenizer-key-checks-empty-").FullName;
        try
        {
            // Arrange: started and stopped once (audit records only, keyed by the audit key), key checks deleted.
            string first;
            await using (var server = await ServerProcess.StartAsync(directory))
            {
                first = server.Output;
            }

            DeleteKeyChecks(directory);
            var other = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

            // Act
            string restarted;
            await using (var server = await ServerProcess.StartAsync(directory, $"--Tokenizer:RequestHmacSecret={other}"))
            {
                restarted = server.Output;
            }

            // Assert: a first start in effect; logged at Information, no adoption recorded.
            Assert.Contains("The check value of Tokenizer:RequestHmacSecret is stored", first, StringComparison.Ordinal);
            Assert.Contains("The check value of Tokenizer:RequestHmacSecret is stored", restarted, StringComparison.Ordinal);
            Assert.Equal(2, KeyCheckCount(directory));
            Assert.Empty(AuditResources(directory, "configuration/key_check_adopted"));
        }
        finally
        {
            TokenizerServerFixture.TryDelete(directory);
        }
    }

    private static void DeleteKeyChecks(string directory)
    {
        using var connection = OpenLedger(directory);
        using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM key_checks";
        Assert.Equal(2, command.ExecuteNonQuery());
    }

    private static int KeyCheckCount(string directory)
    {
        using var connection = OpenLedger(directory);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM key_checks";
        return Convert.ToInt32(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static List<string> AuditResources(string directory, string action)
    {
        using var connection = OpenLedger(directory);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT resource FROM audit_events WHERE action = @action ORDER BY sequence";
        command.Parameters.AddWithValue("@action", action);
        using var reader = command.ExecuteReader();
        var resources = new List<string>();
        while (reader.Read())
        {
            resources.Add(reader.GetString(0));
        }

        return resources;
    }

    /// <summary>
    /// Starts the server over <paramref name="directory"/> as it is now and expects start-up to refuse; returns the
    /// refusal, whose message holds the server's output. A server that starts anyway is stopped again, not left running.
    /// </summary>
    private static Task<InvalidOperationException> StartRefusedAsync(string directory, params string[] args) =>
        Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await using var started = await ServerProcess.StartAsync(directory, args);
        });

    private static async Task RunAndStopAsync(string directory, params string[] args)
    {
        await using var server = await ServerProcess.StartAsync(directory, args);
        await AuditedCallsAsync(server);
    }

    // Audited calls (NOT_FOUND lookups), so the trail has records past service_started.
    private static async Task AuditedCallsAsync(ServerProcess server)
    {
        for (var i = 0; i < 3; i++)
        {
            var lookup = await Assert.ThrowsAsync<RpcException>(() => server.Client.GetTokenAsync(new GetTokenRequest { Token = "pm_unknown" }).ResponseAsync);
            Assert.Equal(StatusCode.NotFound, lookup.StatusCode);
        }
    }

    // What someone with write access to the stopped server's database file can do: drop the guard, delete the newest rows.
    private static List<string> Triggers(string directory)
    {
        using var connection = OpenLedger(directory);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT name FROM sqlite_master WHERE type = 'trigger'";
        using var reader = command.ExecuteReader();
        var names = new List<string>();
        while (reader.Read())
        {
            names.Add(reader.GetString(0));
        }

        return names;
    }

    private static void DeleteNewestAuditRecords(string directory, int count)
    {
        var database = Path.Combine(directory, "ledger", "tokenizer.db");
        using var connection = new SqliteConnection($"Data Source={database};Pooling=false");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"""
            DROP TRIGGER audit_events_refuse_delete;
            DELETE FROM audit_events WHERE sequence > (SELECT max(sequence) FROM audit_events) - {count};
            """;
        Assert.Equal(count, command.ExecuteNonQuery());
    }

    private static int AuditRecordCount(string directory)
    {
        using var connection = OpenLedger(directory);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM audit_events";
        return Convert.ToInt32(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    // A record well inside the chain: neither the first nor the newest (which the anchor and the head check cover).
    /// <summary>
    /// Appends one record after the head of a stopped server's trail, signed with <paramref name="key"/> in the format
    /// README "Audit trail" documents (written here independently of the service's code): the second format, naming the
    /// key's id and recorded <paramref name="recordedAfterHead"/> after the head; null: the older format, which signs
    /// neither (the key id is stored all the same).
    /// </summary>
    private static void AppendRecordSignedWith(string directory, byte[] key, TimeSpan? recordedAfterHead)
    {
        using var connection = OpenLedger(directory);
        long sequence, time, headRecorded;
        byte[] previous;
        using (var head = connection.CreateCommand())
        {
            head.CommandText = "SELECT sequence, time, mac, recorded_at FROM audit_events ORDER BY sequence DESC LIMIT 1";
            using var reader = head.ExecuteReader();
            Assert.True(reader.Read());
            (sequence, time, previous, headRecorded) = (reader.GetInt64(0) + 1, reader.GetInt64(1), (byte[])reader.GetValue(2), reader.GetInt64(3));
        }

        var keyId = Tokenizer.Ledger.Audit.AuditKeyRing.KeyIdOf(key);
        long? recorded = recordedAfterHead is { } after ? headRecorded + (after.Ticks / TimeSpan.TicksPerMicrosecond) : null;
        var fields = new List<byte>();
        void Text(string? value)
        {
            var bytes = value is null ? null : System.Text.Encoding.UTF8.GetBytes(value);
            fields.AddRange(BigEndian(bytes?.Length ?? -1));
            fields.AddRange(bytes ?? []);
        }

        Text(recorded is null ? "tokenizer.audit.v1" : "tokenizer.audit.v2");
        fields.AddRange(BigEndian(sequence));
        fields.AddRange(BigEndian(time + 1));
        foreach (var value in new[] { "admin", "127.0.0.1", "tokenizer.v1.TokenizerService/RevokeToken", "pm_forged", "success", null, "forged" })
        {
            Text(value);
        }

        fields.AddRange(BigEndian(previous.Length));
        fields.AddRange(previous);
        if (recorded is { } at)
        {
            Text(keyId);
            fields.AddRange(BigEndian(at));
        }

        using var insert = connection.CreateCommand();
        insert.CommandText = """
            INSERT INTO audit_events (sequence, time, caller_id, source_address, action, resource, outcome, reason, correlation_id, prev_mac, mac, key_id, recorded_at)
            VALUES (@sequence, @time, 'admin', '127.0.0.1', 'tokenizer.v1.TokenizerService/RevokeToken', 'pm_forged', 'success', NULL, 'forged', @prev, @mac, @key_id, @recorded)
            """;
        insert.Parameters.AddWithValue("@sequence", sequence);
        insert.Parameters.AddWithValue("@time", time + 1);
        insert.Parameters.AddWithValue("@prev", previous);
        insert.Parameters.AddWithValue("@mac", HMACSHA256.HashData(key, fields.ToArray()));
        insert.Parameters.AddWithValue("@key_id", keyId);
        insert.Parameters.AddWithValue("@recorded", (object?)recorded ?? DBNull.Value);
        Assert.Equal(1, insert.ExecuteNonQuery());
    }

    private static byte[] BigEndian(long value)
    {
        var bytes = new byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(bytes, value);
        return bytes;
    }

    private static byte[] BigEndian(int value)
    {
        var bytes = new byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(bytes, value);
        return bytes;
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target, overwrite: true);
        }
    }

    private static long MiddleSequence(string directory)
    {
        using var connection = OpenLedger(directory);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT max(sequence) FROM audit_events";
        var head = (long)command.ExecuteScalar()!;
        Assert.True(head >= 5, $"the trail holds {head} records");
        return head / 2;
    }

    // An attacker with write access to the stopped server's database: drop the append-only trigger, change one statement's
    // worth of rows, recreate the trigger exactly as the migration wrote it.
    private static void TamperWithGuardDown(string directory, string trigger, string change)
    {
        using var connection = OpenLedger(directory);
        string definition;
        using (var select = connection.CreateCommand())
        {
            select.CommandText = "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = @name";
            select.Parameters.AddWithValue("@name", trigger);
            definition = (string)select.ExecuteScalar()!;
        }

        // One command per statement: SQLite reports the last change count again after DDL.
        foreach (var (statement, changes) in new[] { ($"DROP TRIGGER {trigger}", (int?)null), (change, 1), (definition, null) })
        {
            using var command = connection.CreateCommand();
            command.CommandText = statement;
            var changed = command.ExecuteNonQuery();
            Assert.True(changes is null || changes == changed, $"{changed} rows changed");
        }
    }

    // What anyone who can write a stopped server's file can do: rewrite the audit table's CREATE statement
    // (newSql is an SQL expression over the old sql).
    private static void RewriteAuditTableDefinition(string directory, string newSql)
    {
        using var connection = OpenLedger(directory);
        using var command = connection.CreateCommand();
        command.CommandText = $"PRAGMA writable_schema = ON; UPDATE sqlite_master SET sql = {newSql} WHERE type = 'table' AND name = 'audit_events'; PRAGMA writable_schema = OFF;";
        command.ExecuteNonQuery();
    }

    // The CREATE statements of the audit table, its index and triggers, as stored.
    private static List<string> AuditSchemaText(string directory)
    {
        using var connection = OpenLedger(directory);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT sql FROM sqlite_master WHERE tbl_name = 'audit_events' ORDER BY name";
        using var reader = command.ExecuteReader();
        var text = new List<string>();
        while (reader.Read())
        {
            text.Add(reader.GetString(0));
        }

        return text;
    }

    // The edit as the sqlite3 tool would run it on the stopped server's file.
    private static void SwapTimeIndex(string directory, string variant, long sequence)
    {
        using var connection = OpenLedger(directory);
        var helper = variant == "omit" ? "h7tmp" : "h7fakeix";
        var forged = (DateTimeOffset.UtcNow.AddDays(-20).ToUnixTimeMilliseconds() * 1000).ToString(System.Globalization.CultureInfo.InvariantCulture);
        Execute(variant == "omit"
            ? $"CREATE INDEX h7tmp ON audit_events (time, sequence) WHERE sequence <> {sequence}"
            : $"CREATE TABLE h7fake (time INTEGER, seq INTEGER, id INTEGER PRIMARY KEY); INSERT INTO h7fake SELECT CASE WHEN sequence = {sequence} THEN {forged} ELSE time END, sequence, sequence FROM audit_events; CREATE INDEX h7fakeix ON h7fake (time, seq);");
        long RootPage(string name)
        {
            using var select = connection.CreateCommand();
            select.CommandText = "SELECT rootpage FROM sqlite_master WHERE name = @name";
            select.Parameters.AddWithValue("@name", name);
            return (long)select.ExecuteScalar()!;
        }

        var (index, other) = (RootPage("ix_audit_events_time"), RootPage(helper));
        Execute($"PRAGMA writable_schema = ON; UPDATE sqlite_master SET rootpage = {other} WHERE name = 'ix_audit_events_time'; UPDATE sqlite_master SET rootpage = {index} WHERE name = '{helper}'; PRAGMA writable_schema = OFF;");
        connection.Close();
        connection.Open();
        Execute(variant == "omit" ? "DROP INDEX h7tmp" : "DROP TABLE h7fake");

        void Execute(string sql)
        {
            using var command = connection.CreateCommand();
            command.CommandText = sql;
            command.ExecuteNonQuery();
        }
    }

    private static SqliteConnection OpenLedger(string directory)
    {
        var connection = new SqliteConnection($"Data Source={Path.Combine(directory, "ledger", "tokenizer.db")};Pooling=false");
        connection.Open();
        return connection;
    }

    private static async Task<(int Code, string Output)> VerifyWithCliAsync(ServerProcess server)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await CliApp.BuildRootCommand(TextReader.Null, output, error)
            .Parse(["audit", "verify", "--server", server.Address.ToString().TrimEnd('/'), "--pki", Path.Combine(server.DataDirectory, "pki")])
            .InvokeAsync(new System.CommandLine.InvocationConfiguration { Output = output, Error = error });
        return (code, output + error.ToString());
    }

    private static async Task<(int Code, string Output)> VerifyOfflineAsync(string directory, params (string Name, string Value)[] environment)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var variables = environment.ToDictionary(v => v.Name, v => v.Value, StringComparer.Ordinal);
        var code = await CliApp.BuildRootCommand(TextReader.Null, output, error, name => variables.GetValueOrDefault(name))
            .Parse(["audit", "verify", "--offline", "--data-directory", directory])
            .InvokeAsync(new System.CommandLine.InvocationConfiguration { Output = output, Error = error });
        return (code, output + error.ToString());
    }

    // The ledger file's bytes (hex SHA-256) and the WAL's length: a read-only verification changes neither.
    private static string[] LedgerFiles(string directory)
    {
        var ledger = Path.Combine(directory, "ledger", "tokenizer.db");
        using var stream = new FileStream(ledger, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var wal = new FileInfo(ledger + "-wal");
        return [Convert.ToHexString(SHA256.HashData(stream)), wal.Exists ? wal.Length.ToString(System.Globalization.CultureInfo.InvariantCulture) : "0"];
    }

    /// <summary>The start-up refusal names its cause in one line, without the host's stack trace.</summary>
    private static void AssertRefusedNaming(InvalidOperationException refused, string cause)
    {
        Assert.True(refused.Message.Contains(cause, StringComparison.Ordinal), refused.Message);
        Assert.DoesNotContain(" at Microsoft.Extensions.Hosting", refused.Message, StringComparison.Ordinal);
    }
}
