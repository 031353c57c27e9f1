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
        // Arrange: the outside review's case, a record re-attributed behind another altered one.
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
