using System.Data.Common;
using Tokenizer.Core.Audit;
using Tokenizer.Ledger.Audit;

namespace Tokenizer.Ledger.Tests.Audit;

public abstract class AuditTrailTests(TestDatabase database) : AuditTestBase(database)
{
    private static readonly byte[] NewKey = Enumerable.Range(0, 32).Select(i => (byte)(0xC0 + i)).ToArray();

    [Fact]
    public async Task KeyRotation_NewRecordsUnderNewKey_ChainVerifiesWithTheSetOnly()
    {
        // Arrange: records under the old key, then the key rotated (the old one kept as previous).
        await AppendEventsAsync(3);
        var rotated = await RingTrailAsync(new AuditKeyRing(NewKey, [Key]));

        // Act
        var before = await rotated.CheckAsync(null, CancellationToken.None);
        await AppendEventsAsync(2, rotated);
        var rows = await RowsAsync();
        var withSet = await rotated.VerifyAsync(null, CancellationToken.None);
        var newKeyOnly = await (await RingTrailAsync(new AuditKeyRing(NewKey))).VerifyAsync(null, CancellationToken.None);
        var wrongKey = await (await RingTrailAsync(new AuditKeyRing(NewKey.Reverse().ToArray()))).CheckAsync(null, CancellationToken.None);

        // Assert
        Assert.True(before.HeadVerifies);
        Assert.Equal(Enumerable.Repeat(AuditKeyRing.KeyIdOf(Key), 3).Concat(Enumerable.Repeat(AuditKeyRing.KeyIdOf(NewKey), 2)), rows.Select(r => r.KeyId));
        Assert.All(rows, r => Assert.Matches("^[a-p]{16}$", r.KeyId!));
        Assert.True(withSet.Intact, withSet.Problem);
        Assert.Equal(5, withSet.HeadSequence);
        Assert.False(newKeyOnly.Intact);
        Assert.Equal(AuditProblems.UnknownKey, newKeyOnly.Problem);
        Assert.Equal(1, newKeyOnly.FirstBrokenSequence);
        Assert.False(wrongKey.HeadVerifies);
    }

    [Fact]
    public async Task CheckAsync_RecordsWithoutKeyId_VerifyUnderAnyConfiguredKey()
    {
        // Arrange: records as written before key ids and recorded times existed, then records of this version.
        await SeedChainAsync(2);
        await AppendEventsAsync(2);

        // Act
        var withOld = await (await RingTrailAsync(new AuditKeyRing(NewKey, [Key]))).VerifyAsync(null, CancellationToken.None);
        var withoutOld = await (await RingTrailAsync(new AuditKeyRing(NewKey))).VerifyAsync(null, CancellationToken.None);

        // Assert
        Assert.True(withOld.Intact, withOld.Problem);
        Assert.Equal((1L, AuditProblems.MacMismatch), (withoutOld.FirstBrokenSequence, withoutOld.Problem));
    }

    [Fact]
    public async Task VerifyAsync_OlderFormatRecordAfterKeyedOnes_ReportedAsKeyIdOrRecordedTimeMissing()
    {
        // Arrange: the older format signs neither key id nor recorded time, so a record written in it after newer ones
        // would be tried under every configured key (retired ones too) and escape the retired-key rule. Control: a
        // chain that starts in the older format (written before the upgrade) verifies.
        await SeedChainAsync(2);
        await AppendEventsAsync(2);
        var legacy = await Trail.VerifyAsync(null, CancellationToken.None);

        // Act
        await ForgeAsync(Key, null, null);
        await ForgeAsync(Key, AuditKeyRing.KeyIdOf(Key), null);
        var forged = await Trail.VerifyAsync(null, CancellationToken.None);

        // Assert
        Assert.True(legacy.Intact, legacy.Problem);
        Assert.Equal([new AuditBreak(5, AuditProblems.KeyIdMissing), new AuditBreak(6, AuditProblems.RecordedTimeMissing)], forged.Broken);
    }

    [Fact]
    public async Task VerifyAsync_RetiredKeySignsAfterTheRotationGrace_ReportedAsRetiredKey()
    {
        // Arrange: two records under the old key, the rotation, two under the new key (the old one kept to verify).
        await AppendEventsAsync(2);
        var rotated = await RingTrailAsync(new AuditKeyRing(NewKey, [Key]));
        Clock.Advance(TimeSpan.FromMinutes(1));
        await AppendEventsAsync(2, rotated);
        var firstNew = (await RowsAsync())[2].RecordedAtMicros!.Value;
        var graceMicros = AuditKeyRing.DefaultRotationGrace.Ticks / TimeSpan.TicksPerMicrosecond;

        // Act: someone holding the old key appends validly signed records naming it: within the grace (a replica not yet
        // restarted would), then past it; by then the clock has moved past both.
        Clock.Advance(AuditKeyRing.DefaultRotationGrace + TimeSpan.FromMinutes(1));
        await ForgeAsync(Key, AuditKeyRing.KeyIdOf(Key), firstNew + graceMicros);
        var withinGrace = await rotated.VerifyAsync(null, CancellationToken.None);
        await ForgeAsync(Key, AuditKeyRing.KeyIdOf(Key), firstNew + graceMicros + 1);
        var pastGrace = await rotated.VerifyAsync(null, CancellationToken.None);
        var longerGrace = await (await RingTrailAsync(new AuditKeyRing(NewKey, [Key], TimeSpan.FromHours(1)))).VerifyAsync(null, CancellationToken.None);

        // Assert
        Assert.True(withinGrace.Intact, withinGrace.Problem);
        Assert.Equal([new AuditBreak(6, AuditProblems.RetiredKey)], pastGrace.Broken);
        Assert.True(longerGrace.Intact, longerGrace.Problem);
    }

    [Fact]
    public async Task VerifyAsync_KeyNeverUsedSignsAfterTheCurrentKey_ReportedAsRetiredKey()
    {
        // Arrange: a configured previous key that signed nothing yet is still older than the current one.
        var unused = Enumerable.Range(0, 32).Select(i => (byte)(0x40 + i)).ToArray();
        var ring = new AuditKeyRing(Key, [unused]);
        await AppendEventsAsync(2);
        var head = (await RowsAsync())[^1].RecordedAtMicros!.Value;

        // Act
        Clock.Advance(AuditKeyRing.DefaultRotationGrace + TimeSpan.FromMinutes(1));
        await ForgeAsync(unused, AuditKeyRing.KeyIdOf(unused), head + AuditKeyRing.DefaultRotationGrace.Ticks / TimeSpan.TicksPerMicrosecond + 1);
        var verification = await (await RingTrailAsync(ring)).VerifyAsync(null, CancellationToken.None);

        // Assert
        Assert.Equal([new AuditBreak(3, AuditProblems.RetiredKey)], verification.Broken);
    }

    [Fact]
    public async Task RollingRotation_ReplicasOnBothKeysInterleaveWithinTheGrace_IntactAndAStragglerPastItReported()
    {
        // Arrange: two replicas of one chain; one restarted with the new key, the other still on the old one.
        var straggler = Trail;
        var restarted = await RingTrailAsync(new AuditKeyRing(NewKey, [Key]));

        // Act: they take turns for 10 minutes, then the straggler appends 20 minutes after the first new-key record.
        for (var minute = 0; minute < 10; minute++)
        {
            await restarted.AppendAsync(Event(2 * minute), CancellationToken.None);
            await straggler.AppendAsync(Event((2 * minute) + 1), CancellationToken.None);
            Clock.Advance(TimeSpan.FromMinutes(1));
        }

        var rolling = await restarted.VerifyAsync(null, CancellationToken.None);
        Clock.Advance(TimeSpan.FromMinutes(10));
        await straggler.AppendAsync(Event(99), CancellationToken.None);
        var late = await restarted.VerifyAsync(null, CancellationToken.None);

        // Assert
        Assert.True(rolling.Intact, rolling.Problem);
        Assert.Equal([new AuditBreak(21, AuditProblems.RetiredKey)], late.Broken);
    }

    [Fact]
    public async Task AppendAsync_ReplicaClockBehind_RecordedTimeNeverGoesBackAndABackDatedRecordIsReported()
    {
        // Arrange: a second replica whose clock is an hour behind appends after the first.
        await AppendEventsAsync(2);
        var behind = Database.CreateTrail(Key, new Microsoft.Extensions.Time.Testing.FakeTimeProvider(T0.AddHours(-1)));
        await behind.InitializeAsync(CancellationToken.None);
        await AppendEventsAsync(1, behind);
        var rows = await RowsAsync();

        // Act: a record signed with the current key but recorded before its predecessor; control: at the same time.
        await ForgeAsync(Key, AuditKeyRing.KeyIdOf(Key), rows[^1].RecordedAtMicros);
        var sameTime = await Trail.VerifyAsync(null, CancellationToken.None);
        await ForgeAsync(Key, AuditKeyRing.KeyIdOf(Key), rows[^1].RecordedAtMicros - 1);
        var backDated = await Trail.VerifyAsync(null, CancellationToken.None);

        // Assert
        Assert.Equal(rows[1].RecordedAtMicros, rows[2].RecordedAtMicros);
        Assert.True(sameTime.Intact, sameTime.Problem);
        Assert.Equal([new AuditBreak(5, AuditProblems.RecordedOutOfOrder)], backDated.Broken);
    }

    [Fact]
    public async Task VerifyAsync_RecordDatedAheadOfTheClock_ReportedAsRecordedInTheFuture()
    {
        // Arrange: whoever holds the key dates a record ahead, so every later record (the appender never goes back in
        // time) would share that time and a rotation's grace would never end. Control: within the clock tolerance.
        await AppendEventsAsync(2);
        var now = Schema.UnixMicros.From(Clock.GetUtcNow());
        var tolerance = AuditVerifier.ClockTolerance.Ticks / TimeSpan.TicksPerMicrosecond;

        // Act
        await ForgeAsync(Key, AuditKeyRing.KeyIdOf(Key), now + tolerance);
        var withinTolerance = await Trail.VerifyAsync(null, CancellationToken.None);
        await ForgeAsync(Key, AuditKeyRing.KeyIdOf(Key), now + tolerance + 1);
        await AppendEventsAsync(1);
        var ahead = await Trail.VerifyAsync(null, CancellationToken.None);
        var rows = await RowsAsync();

        // Assert: the record dated ahead is reported, and so is the service's own next record, which took its time.
        Assert.True(withinTolerance.Intact, withinTolerance.Problem);
        Assert.Equal([new AuditBreak(4, AuditProblems.RecordedInTheFuture), new AuditBreak(5, AuditProblems.RecordedInTheFuture)], ahead.Broken);
        Assert.Equal(rows[3].RecordedAtMicros, rows[4].RecordedAtMicros);
    }

    [Fact]
    public async Task CheckAsync_EmptyTrail_UsedBeforeOnlyOnceKeyChecksAreStored()
    {
        // Arrange
        var fresh = await Trail.CheckAsync(null, CancellationToken.None);
        await Trail.CheckKeyAsync("request", [.. Enumerable.Repeat((byte)1, 16)], [], adoptMissing: false, CancellationToken.None);

        // Act
        var used = await Trail.CheckAsync(null, CancellationToken.None);

        // Assert: every start stores key checks and writes a record, so an empty trail beside them was emptied.
        Assert.Equal((0L, false), (fresh.HeadSequence, fresh.UsedBefore));
        Assert.Equal((0L, true), (used.HeadSequence, used.UsedBefore));
    }

    [Fact]
    public async Task CheckKeyAsync_StoresThenMatchesRotatesAndRefusesOthers()
    {
        byte[] a = [.. Enumerable.Repeat((byte)1, 16)], b = [.. Enumerable.Repeat((byte)2, 16)], c = [.. Enumerable.Repeat((byte)3, 16)];

        Assert.Equal(KeyCheckOutcome.Stored, await Trail.CheckKeyAsync("request", a, [], adoptMissing: false, CancellationToken.None));
        Assert.Equal(KeyCheckOutcome.Matched, await Trail.CheckKeyAsync("request", a, [], adoptMissing: false, CancellationToken.None));
        Assert.Equal(KeyCheckOutcome.Mismatch, await Trail.CheckKeyAsync("request", b, [], adoptMissing: false, CancellationToken.None));
        Assert.Equal(KeyCheckOutcome.Rotated, await Trail.CheckKeyAsync("request", b, [c, a], adoptMissing: false, CancellationToken.None));
        Assert.Equal(KeyCheckOutcome.Matched, await Trail.CheckKeyAsync("request", b, [a], adoptMissing: false, CancellationToken.None));
        Assert.Equal(KeyCheckOutcome.Mismatch, await Trail.CheckKeyAsync("request", a, [], adoptMissing: false, CancellationToken.None));
    }

    [Fact]
    public async Task CheckKeyAsync_ValueDeletedFromAUsedLedger_MissingUntilAdoptedAndNothingStoredMeanwhile()
    {
        // Arrange: a ledger that holds data keyed by the secret (a Customer created under a key derived from it), its
        // check value deleted, and another secret configured.
        byte[] a = [.. Enumerable.Repeat((byte)1, 16)], b = [.. Enumerable.Repeat((byte)2, 16)];
        Assert.Equal(KeyCheckOutcome.Stored, await Trail.CheckKeyAsync("request", a, [], adoptMissing: false, CancellationToken.None));
        await ExecuteAsync(
            "INSERT INTO customers (gateway, customer_reference, gateway_customer_id, created_at) VALUES ('stripe', 'cust-1', 'cus_1', 1)");
        await ExecuteAsync("DELETE FROM key_checks");

        // Act
        var missing = await Trail.CheckKeyAsync("request", b, [], adoptMissing: false, CancellationToken.None);
        var stillMissing = await Trail.CheckKeyAsync("request", b, [], adoptMissing: false, CancellationToken.None);
        var adopted = await Trail.CheckKeyAsync("request", b, [], adoptMissing: true, CancellationToken.None);

        // Assert: refused (nothing stored) until the operator adopts the configured secret, which is then required.
        Assert.Equal((KeyCheckOutcome.Missing, KeyCheckOutcome.Missing, KeyCheckOutcome.Adopted), (missing, stillMissing, adopted));
        Assert.Equal(KeyCheckOutcome.Matched, await Trail.CheckKeyAsync("request", b, [], adoptMissing: false, CancellationToken.None));
        Assert.Equal(KeyCheckOutcome.Mismatch, await Trail.CheckKeyAsync("request", a, [], adoptMissing: true, CancellationToken.None));
    }

    [Fact]
    public async Task CheckKeyAsync_ValueDeletedFromALedgerHoldingNothingKeyed_StoredAsOnAFirstStart()
    {
        // Arrange: audit records only (they are keyed by the audit key, not by this secret).
        byte[] a = [.. Enumerable.Repeat((byte)1, 16)], b = [.. Enumerable.Repeat((byte)2, 16)];
        Assert.Equal(KeyCheckOutcome.Stored, await Trail.CheckKeyAsync("request", a, [], adoptMissing: false, CancellationToken.None));
        await AppendEventsAsync(2);
        await ExecuteAsync("DELETE FROM key_checks");

        // Act
        var outcome = await Trail.CheckKeyAsync("request", b, [], adoptMissing: false, CancellationToken.None);

        // Assert
        Assert.Equal(KeyCheckOutcome.Stored, outcome);
        Assert.Equal(KeyCheckOutcome.Matched, await Trail.CheckKeyAsync("request", b, [], adoptMissing: false, CancellationToken.None));
    }

    private async Task<RelationalAuditTrail> RingTrailAsync(AuditKeyRing keys)
    {
        var ledger = Database.CreateLedger(Clock);
        RelationalAuditTrail trail = ledger is SqliteTokenLedger sqlite
            ? new SqliteAuditTrail(sqlite, keys, Clock)
            : new Tokenizer.Ledger.Postgres.PostgresAuditTrail((Tokenizer.Ledger.Postgres.PostgresTokenLedger)ledger, keys, Clock);
        await trail.InitializeAsync(CancellationToken.None);
        return trail;
    }

    [Fact]
    public async Task AppendAsync_ThenVerifyAndRead_IntactAndRecordsRoundTrip()
    {
        // Arrange
        var events = new[] { Event(1), Event(2, AuditOutcome.Failure), Event(3, AuditOutcome.Denied) with { SourceAddress = null, Resource = null } };

        // Act
        foreach (var auditEvent in events)
        {
            await Trail.AppendAsync(auditEvent, CancellationToken.None);
        }

        var verification = await Trail.VerifyAsync(null, CancellationToken.None);
        var records = await Trail.ReadAsync(null, null, CancellationToken.None).ToListAsync();

        // Assert
        Assert.True(verification.Intact);
        Assert.Equal(3, verification.RecordsChecked);
        Assert.Equal(0, verification.FirstBrokenSequence);
        Assert.Null(verification.Problem);
        Assert.Equal(3, verification.HeadSequence);
        Assert.Equal((await RowsAsync())[^1].Mac, verification.HeadMac);
        Assert.Equal([1L, 2L, 3L], records.Select(r => r.Sequence));
        Assert.Equal(events, records.Select(r => r.Event));
    }

    [Fact]
    public async Task AppendAsync_FirstRecords_ChainFromZeroPrevMacWithKeyedMacs()
    {
        // Act
        await AppendEventsAsync(2);
        var rows = await RowsAsync();

        // Assert
        Assert.Equal(new byte[32], rows[0].PrevMac);
        Assert.Equal(rows[0].Mac, rows[1].PrevMac);
        Assert.All(rows, row => Assert.Equal(AuditChain.ComputeMac(Key, row), row.Mac));
        Assert.Equal(Schema.UnixMicros.From(T0.AddSeconds(1)), rows[0].TimeMicros);
    }

    [Theory]
    [InlineData(1)] // one trail (SQLite: appends queue on the in-process gate)
    [InlineData(3)] // three processes or replicas with their own connections: BEGIN IMMEDIATE / the advisory lock
    public async Task AppendAsync_ManyConcurrentTasks_GaplessSequencesAndIntactChain(int instances)
    {
        // Arrange
        const int Appends = 120;
        var trailsOnFile = new List<RelationalAuditTrail> { Trail };
        for (var i = 1; i < instances; i++)
        {
            trailsOnFile.Add(await OpenTrailAsync());
        }

        var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var appends = Enumerable.Range(1, Appends)
            .Select(n => Task.Run(async () =>
            {
                await go.Task;
                await trailsOnFile[n % instances].AppendAsync(Event(n), CancellationToken.None);
            }))
            .ToList();

        // Act
        go.SetResult();
        await Task.WhenAll(appends);
        var verification = await Trail.VerifyAsync(null, CancellationToken.None);

        // Assert
        Assert.True(verification.Intact, verification.Problem);
        Assert.Equal(Appends, verification.RecordsChecked);
        Assert.Equal(Enumerable.Range(1, Appends).Select(n => (long)n), (await RowsAsync()).Select(r => r.Sequence));
        Assert.Equal(
            Enumerable.Range(1, Appends).Select(n => "trace-" + n).Order(StringComparer.Ordinal),
            (await RowsAsync()).Select(r => r.CorrelationId).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task VerifyAsync_ChainLongerThanOnePage_IntactAcrossPages()
    {
        // Arrange: 2500 records span three verification pages of 1000.
        await SeedChainAsync(2500);
        await Trail.AppendAsync(Event(1), CancellationToken.None);

        // Act
        var verification = await Trail.VerifyAsync(null, CancellationToken.None);

        // Assert
        Assert.True(verification.Intact, verification.Problem);
        Assert.Equal(2501, verification.RecordsChecked);
        Assert.Equal(2501, verification.HeadSequence);
    }

    [Fact]
    public async Task VerifyAsync_EmptyTrail_IntactWithGenesisHead()
    {
        // Act
        var verification = await Trail.VerifyAsync(null, CancellationToken.None);

        // Assert
        Assert.True(verification.Intact);
        Assert.Equal(0, verification.RecordsChecked);
        Assert.Equal(0, verification.HeadSequence);
        Assert.Equal(new byte[32], verification.HeadMac);
    }

    [Fact]
    public async Task VerifyAsync_OtherKey_UnknownKeyOnTheFirstRecord()
    {
        // Arrange
        await AppendEventsAsync(3);
        var otherKey = Key.ToArray();
        otherKey[0] ^= 1;
        var impostor = await OpenTrailAsync(otherKey);

        // Act
        var verification = await impostor.VerifyAsync(null, CancellationToken.None);

        // Assert
        Assert.False(verification.Intact);
        Assert.Equal(1, verification.FirstBrokenSequence);

        // Each record names the key that signed it: one not configured is reported as such.
        Assert.Equal(AuditProblems.UnknownKey, verification.Problem);
    }

    [Fact]
    public async Task ReadAsync_Range_FromInclusiveToExclusiveOldestFirst()
    {
        // Arrange: events at T0+1s .. T0+10s, appended newest first so time order differs from sequence order.
        for (var n = 10; n >= 1; n--)
        {
            await Trail.AppendAsync(Event(n), CancellationToken.None);
        }

        // Act
        var middle = await Trail.ReadAsync(T0.AddSeconds(3), T0.AddSeconds(6), CancellationToken.None).ToListAsync();
        var openStart = await Trail.ReadAsync(null, T0.AddSeconds(2), CancellationToken.None).ToListAsync();
        var openEnd = await Trail.ReadAsync(T0.AddSeconds(9), null, CancellationToken.None).ToListAsync();
        var subMicrosecond = await Trail.ReadAsync(T0.AddSeconds(3).AddTicks(1), T0.AddSeconds(4).AddTicks(1), CancellationToken.None).ToListAsync();
        var empty = await Trail.ReadAsync(T0.AddSeconds(6), T0.AddSeconds(3), CancellationToken.None).ToListAsync();

        // Assert
        Assert.Equal(["caller-3", "caller-4", "caller-5"], middle.Select(r => r.Event.CallerId));
        Assert.Equal([8L, 7L, 6L], middle.Select(r => r.Sequence));
        Assert.Equal(["caller-1"], openStart.Select(r => r.Event.CallerId));
        Assert.Equal(["caller-9", "caller-10"], openEnd.Select(r => r.Event.CallerId));
        Assert.Equal(["caller-4"], subMicrosecond.Select(r => r.Event.CallerId));
        Assert.Empty(empty);
    }

    [Fact]
    public async Task ReadAsync_MoreThanOnePage_EveryRecordOnceInOrder()
    {
        // Arrange: 1200 records one microsecond apart (three export pages of 500), then two that share a time.
        await SeedChainAsync(1200);
        await Trail.AppendAsync(Event(1) with { Time = T0.AddDays(1) }, CancellationToken.None);
        await Trail.AppendAsync(Event(2) with { Time = T0.AddDays(1) }, CancellationToken.None);

        // Act
        var records = await Trail.ReadAsync(null, null, CancellationToken.None).ToListAsync();

        // Assert
        Assert.Equal(Enumerable.Range(1, 1202).Select(n => (long)n), records.Select(r => r.Sequence));
    }

    [Fact]
    public async Task AppendAsync_TextWithControlCharactersAndOverlongValues_StoredSanitisedAndVerifies()
    {
        // Arrange
        var auditEvent = new AuditEvent(
            T0,
            "caller\r\nforged-line",
            " 10.0.0.1\t",
            "tokenizer.v1.TokenizerService/GetToken\u202E",
            new string('x', 300),
            AuditOutcome.Failure,
            "TOKEN_NOT_FOUND\n",
            "trace\u0000id\uD800");

        // Act
        await Trail.AppendAsync(auditEvent, CancellationToken.None);
        var stored = (await Trail.ReadAsync(null, null, CancellationToken.None).ToListAsync()).Single().Event;

        // Assert
        Assert.Equal("callerforged-line", stored.CallerId);
        Assert.Equal("10.0.0.1", stored.SourceAddress);
        Assert.Equal("tokenizer.v1.TokenizerService/GetToken", stored.Action);
        Assert.Equal(new string('x', 200), stored.Resource);
        Assert.Equal("TOKEN_NOT_FOUND", stored.ReasonCode);
        Assert.Equal("traceid\uFFFD", stored.CorrelationId);
        Assert.True((await Trail.VerifyAsync(null, CancellationToken.None)).Intact);
    }

    [Fact]
    public async Task AppendAsync_CardNumberInAField_StoresRedactedAndNoDigitsAtRest()
    {
        // Arrange: a caller pasted a PAN where a token id belongs.
        const string Pan = "4242424242424242";

        // Act
        await Trail.AppendAsync(Event(1) with { Resource = Pan, CorrelationId = "x" + Pan }, CancellationToken.None);
        var stored = (await Trail.ReadAsync(null, null, CancellationToken.None).ToListAsync()).Single().Event;
        var files = await Database.ReadAtRestAsync();

        // Assert
        Assert.Equal(AuditText.Redacted, stored.Resource);
        Assert.Equal(AuditText.Redacted, stored.CorrelationId);
        Assert.Contains(files.Own, f => f.Contains(AuditText.Redacted, StringComparison.Ordinal));
        Assert.DoesNotContain(files.All, f => f.Contains(Pan, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("", "tokenizer.v1.TokenizerService/GetToken")]
    [InlineData("caller", " \r\n")]
    public async Task AppendAsync_EmptyCallerOrAction_ThrowsAndStoresNothing(string caller, string action)
    {
        // Act
        await Assert.ThrowsAsync<ArgumentException>(() =>
            Trail.AppendAsync(Event(1) with { CallerId = caller, Action = action }, CancellationToken.None));

        // Assert
        Assert.Empty(await RowsAsync());
    }

    [Fact]
    public async Task AppendAsync_UndefinedOutcome_ThrowsArgumentOutOfRange()
    {
        // Act and assert
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() =>
            Trail.AppendAsync(Event(1) with { Outcome = (AuditOutcome)42 }, CancellationToken.None));
    }

    [Fact]
    public async Task AppendAsync_TableMissing_ThrowsDbExceptionOrLedgerUnavailable()
    {
        // Arrange: an uninitialised database has no audit_events table (SQLite: not even a file, which it cannot open).
        var uninitialised = await OpenTrailAsync(on: await Database.CreateSiblingAsync(), initialize: false);

        // Act
        var error = await Assert.ThrowsAnyAsync<Exception>(() => uninitialised.AppendAsync(Event(1), CancellationToken.None));

        // Assert: a schema error, or a database that cannot be opened (UNAVAILABLE LEDGER_UNAVAILABLE); never success.
        Assert.True(
            error is DbException or Tokenizer.Core.Errors.TokenizerException { Reason: Tokenizer.Core.Errors.ErrorReasons.LedgerUnavailable },
            error.GetType().Name);
    }

    [Fact]
    public async Task AppendAsync_TableDroppedUnderneath_ThrowsDbException()
    {
        // Arrange: the table an append needs is gone (an attacker with file access, or a botched restore).
        await AppendEventsAsync(1);
        await ExecuteAsync("DROP TABLE audit_events");

        // Act and assert
        await Assert.ThrowsAnyAsync<DbException>(() => Trail.AppendAsync(Event(2), CancellationToken.None));
    }

    [Fact]
    public async Task Schema_UpdateOrDelete_RefusedByTriggers()
    {
        // Arrange
        await AppendEventsAsync(2);

        // Act
        var update = await Assert.ThrowsAnyAsync<DbException>(() => ExecuteAsync("UPDATE audit_events SET outcome = 'success' WHERE sequence = 1"));
        var delete = await Assert.ThrowsAnyAsync<DbException>(() => ExecuteAsync("DELETE FROM audit_events WHERE sequence = 2"));

        // Assert
        Assert.Contains("append-only", update.Message, StringComparison.Ordinal);
        Assert.Contains("append-only", delete.Message, StringComparison.Ordinal);
        Assert.Equal(2, (await RowsAsync()).Count);
    }

    [Fact]
    public async Task Schema_ShortMac_RefusedByCheck()
    {
        // Act and assert
        await Assert.ThrowsAnyAsync<DbException>(() => ExecuteAsync(
            "INSERT INTO audit_events (" + Schema.AuditSql.Columns + ") VALUES (1, 0, 'c', NULL, 'a', NULL, 'success', NULL, '', @prev, @mac, NULL, NULL)",
            ("@prev", new byte[32]),
            ("@mac", new byte[31])));
        Assert.Empty(await RowsAsync());
    }

    [Fact]
    public async Task InitializeAsync_NextToTheTokenLedger_OneSchemaBothWork()
    {
        // Arrange
        var ledger = Database.CreateLedger(Clock);

        // Act
        await ledger.InitializeAsync(CancellationToken.None);
        await Trail.InitializeAsync(CancellationToken.None);
        await Trail.AppendAsync(Event(1), CancellationToken.None);

        // Assert
        Assert.Equal(Schema.LedgerMigrations.All.Count, await Database.CountRowsAsync("schema_migrations"));
        Assert.Null(await ledger.Tokens.GetTokenAsync("pm_1", CancellationToken.None));
        Assert.True((await Trail.VerifyAsync(null, CancellationToken.None)).Intact);
    }

    [Fact]
    public async Task Constructor_OnTheTokenLedger_ConcurrentLedgerWritesAndAppendsShareItsConnections()
    {
        // Arrange: the service's wiring: one database, one write queue (SQLite) or pool (PostgreSQL) for both.
        var ledger = Database.CreateLedger(Clock);
        await ledger.InitializeAsync(CancellationToken.None);
        var shared = Database.CreateSharedTrail(ledger, Key, Clock);
        await shared.InitializeAsync(CancellationToken.None);

        // Act
        var work = Enumerable.Range(1, 40).Select(n => Task.Run(async () =>
        {
            await ledger.Customers.SaveCustomerAsync("stripe", "cust-" + n, "cus_" + n, T0, CancellationToken.None);
            await shared.AppendAsync(Event(n), CancellationToken.None);
        }));
        await Task.WhenAll(work);
        var verification = await shared.VerifyAsync(null, CancellationToken.None);
        await shared.DisposeAsync();

        // Assert: disposing the trail leaves the ledger's database open for the ledger.
        Assert.True(verification.Intact, verification.Problem);
        Assert.Equal(40, verification.RecordsChecked);
        Assert.Equal("cus_7", await ledger.Customers.FindCustomerAsync("stripe", "cust-7", CancellationToken.None));
        Assert.Equal(40, await Database.CountRowsAsync("customers"));
    }

    [Fact]
    public async Task AppendAsync_AfterDispose_ThrowsAndChainStaysIntact()
    {
        // Arrange: a call still running at shutdown, on a trail that shares the ledger's (still open) database.
        var ledger = Database.CreateLedger(Clock);
        var shared = Database.CreateSharedTrail(ledger, Key, Clock);
        await shared.AppendAsync(Event(1), CancellationToken.None);
        shared.Dispose();

        // Act
        await Assert.ThrowsAsync<ObjectDisposedException>(() => shared.AppendAsync(Event(2), CancellationToken.None));

        // Assert
        Assert.True((await Trail.VerifyAsync(null, CancellationToken.None)).Intact);
        Assert.Single(await RowsAsync());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(31)]
    public void Constructor_KeyShorterThan32Bytes_ThrowsArgumentException(int length)
    {
        // Act
        var error = Assert.Throws<ArgumentException>(() => Database.CreateTrail(new byte[length], Clock));

        // Assert
        Assert.Contains("at least 32 bytes", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Constructor_KeyArrayChangedAfterwards_TrailKeepsItsCopy()
    {
        // Arrange
        var key = Key.ToArray();
        var trail = await OpenTrailAsync(key);
        await trail.AppendAsync(Event(1), CancellationToken.None);

        // Act
        Array.Clear(key);

        // Assert
        Assert.True((await trail.VerifyAsync(null, CancellationToken.None)).Intact);
    }
}
