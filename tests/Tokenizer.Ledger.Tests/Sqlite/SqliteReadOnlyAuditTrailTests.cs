using Microsoft.Extensions.Logging.Abstractions;
using Tokenizer.Core.Audit;
using Tokenizer.Ledger.Audit;
using Tokenizer.Ledger.Tests.Audit;

namespace Tokenizer.Ledger.Tests.Sqlite;

/// <summary>
/// <see cref="SqliteAuditTrail.OpenReadOnly"/> (what <c>tokenizer audit verify --offline</c> reads): it verifies the
/// chain like the writable trail and cannot write.
/// </summary>
public sealed class SqliteReadOnlyAuditTrailTests() : AuditTestBase(new SqliteTestDatabase())
{
    private SqliteTestDatabase Sqlite => (SqliteTestDatabase)Database;

    [Fact]
    public async Task OpenReadOnly_VerifiesLikeTheWritableTrail_AndRefusesEveryWrite()
    {
        // Arrange
        await AppendEventsAsync(5);
        var writable = await Trail.VerifyAsync(null, CancellationToken.None);
        await using var readOnly = SqliteAuditTrail.OpenReadOnly(Sqlite.DatabasePath, new AuditKeyRing(Key), NullLogger<SqliteAuditTrail>.Instance);

        // Act
        var verified = await readOnly.VerifyAsync(null, CancellationToken.None);
        var write = await Assert.ThrowsAsync<Tokenizer.Core.Errors.TokenizerException>(() => readOnly.AppendAsync(Event(6), CancellationToken.None));

        // Assert: the same report; the write refused (SQLite's read-only error surfaces as LEDGER_UNAVAILABLE), the chain
        // still five records long.
        Assert.True(verified.Intact, verified.Problem);
        Assert.Equal(writable.HeadSequence, verified.HeadSequence);
        Assert.Equal(writable.HeadMac, verified.HeadMac);
        Assert.Equal(5, verified.RecordsChecked);
        Assert.Equal(Tokenizer.Core.Errors.ErrorReasons.LedgerUnavailable, write.Reason);
        Assert.Equal(5, (await Trail.VerifyAsync(null, CancellationToken.None)).HeadSequence);
    }

    [Fact]
    public async Task OpenReadOnly_BlobTimeThenStrictRestored_NamesTheRecordStoredTypeChanged()
    {
        // Arrange: an edit on a stopped server's file (STRICT removed through writable_schema,
        // record 4's time rewritten as a BLOB of the same digits, the guard recreated with its own SQL), then STRICT put
        // back, so the table's definition is as created and only the stored value differs. Control: before the edit,
        // the offline walk is intact.
        await AppendEventsAsync(5);
        await using var readOnly = SqliteAuditTrail.OpenReadOnly(Sqlite.DatabasePath, new AuditKeyRing(Key), NullLogger<SqliteAuditTrail>.Instance);
        var before = await readOnly.VerifyAsync(null, CancellationToken.None);
        await RewriteSqliteSchemaAsync("replace(sql, ') STRICT', ')')");
        await ExecuteAsync("""
            DROP TRIGGER audit_events_refuse_update;
            UPDATE audit_events SET time = CAST(CAST(time AS TEXT) AS BLOB) WHERE sequence = 4;
            CREATE TRIGGER audit_events_refuse_update BEFORE UPDATE ON audit_events BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
            """);
        await RewriteSqliteSchemaAsync("sql || ' STRICT'");

        // Act
        var after = await readOnly.VerifyAsync(null, CancellationToken.None);

        // Assert: the definition is back, the value is still named; the intact part ends before it. SQLite's integrity
        // check sees the BLOB in a STRICT INTEGER column too.
        Assert.True(before.Intact, before.Problem);
        Assert.Empty(before.TableProblems);
        Assert.StartsWith("storage disagrees with the table: ", Assert.Single(after.TableProblems), StringComparison.Ordinal);
        Assert.Contains("audit_events.time", after.TableProblems[0], StringComparison.Ordinal);
        Assert.Equal([new AuditBreak(4, AuditProblems.StoredTypeChanged)], after.Broken);
        Assert.Equal(3, after.HeadSequence);
    }

    [Fact]
    public void OpenReadOnly_NoFile_FileNotFoundAndNothingCreated()
    {
        var path = Path.Combine(Sqlite.RootDirectory, "nowhere", "tokenizer.db");

        Assert.Throws<FileNotFoundException>(() => SqliteAuditTrail.OpenReadOnly(path, new AuditKeyRing(Key), NullLogger<SqliteAuditTrail>.Instance));
        Assert.False(File.Exists(path));
    }
}
