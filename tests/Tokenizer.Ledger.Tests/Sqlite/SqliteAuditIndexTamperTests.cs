using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Tokenizer.Core.Audit;
using Tokenizer.Ledger.Audit;
using Tokenizer.Ledger.Tests.Audit;

namespace Tokenizer.Ledger.Tests.Sqlite;

/// <summary>
/// The b-tree of <c>ix_audit_events_time</c> swapped for a stale or forged one through <c>writable_schema</c>: no row, trigger or schema text changes, the walk by primary key sees nothing, and an
/// export that trusted the index would leave a record out or serve it with another time.
/// </summary>
public sealed class SqliteAuditIndexTamperTests() : AuditTestBase(new SqliteTestDatabase())
{
    private const int Records = 10;

    private SqliteTestDatabase Sqlite => (SqliteTestDatabase)Database;

    [Theory]
    [InlineData("omit")]
    [InlineData("forge")]
    public async Task VerifyAndExport_TimeIndexBTreeSwapped_TableProblemAndEveryRecordServedWithItsSignedTime(string variant)
    {
        // Arrange. Control: the untouched trail verifies with no table problem and exports record 3 at its own time.
        await AppendEventsAsync(Records);
        var signed = await Trail.ReadAsync(null, null, CancellationToken.None).ToListAsync();
        var untouched = await Trail.VerifyAsync(null, CancellationToken.None);
        var forgedTime = T0.AddDays(-20);
        await SwapTimeIndexAsync(variant, forgedTime);

        // Act
        var verification = await Trail.VerifyAsync(null, CancellationToken.None);
        await using var readOnly = SqliteAuditTrail.OpenReadOnly(Sqlite.DatabasePath, new AuditKeyRing(Key), NullLogger<SqliteAuditTrail>.Instance);
        var offline = await readOnly.VerifyAsync(null, CancellationToken.None);
        var all = await Trail.ReadAsync(null, null, CancellationToken.None).ToListAsync();
        var day = await Trail.ReadAsync(T0, T0.AddDays(1), CancellationToken.None).ToListAsync();
        var third = await Trail.ReadAsync(T0.AddSeconds(3), T0.AddSeconds(4), CancellationToken.None).ToListAsync();
        var forgedDay = await Trail.ReadAsync(forgedTime.AddDays(-1), forgedTime.AddDays(1), CancellationToken.None).ToListAsync();

        // Assert: every record still verifies; the table is what is wrong, online and read-only.
        Assert.True(untouched.Intact, untouched.Problem);
        Assert.Empty(untouched.TableProblems);
        foreach (var report in new[] { verification, offline })
        {
            Assert.False(report.Intact);
            Assert.Equal(AuditProblems.TableChanged, report.Problem);
            Assert.Empty(report.Broken);
            Assert.NotEmpty(report.TableProblems);
            Assert.All(report.TableProblems, p => Assert.StartsWith("storage disagrees with the table: ", p, StringComparison.Ordinal));
            Assert.Contains(report.TableProblems, p => p.Contains("ix_audit_events_time", StringComparison.Ordinal));
        }

        Assert.Equal(Records, signed.Count);
        Assert.Equal(signed, all);
        Assert.Equal(signed, day);
        Assert.Equal([3L], third.Select(r => r.Sequence));
        Assert.Equal(T0.AddSeconds(3), third[0].Event.Time);
        Assert.Empty(forgedDay);
    }

    [Fact]
    public async Task ReadAsync_TimeIndexRebuiltByReindex_ServesTheSameAsBefore()
    {
        // Control for the swap above: the same b-tree work done honestly (REINDEX) changes nothing anyone can see.
        await AppendEventsAsync(Records);
        var before = await Trail.ReadAsync(T0.AddSeconds(2), T0.AddSeconds(8), CancellationToken.None).ToListAsync();

        // Act
        await ExecuteAsync("REINDEX ix_audit_events_time");
        var after = await Trail.ReadAsync(T0.AddSeconds(2), T0.AddSeconds(8), CancellationToken.None).ToListAsync();
        var verification = await Trail.VerifyAsync(null, CancellationToken.None);

        // Assert
        Assert.Equal([2L, 3L, 4L, 5L, 6L, 7L], before.Select(r => r.Sequence));
        Assert.Equal(before, after);
        Assert.True(verification.Intact, verification.Problem);
        Assert.Empty(verification.TableProblems);
    }

    /// <summary>
    /// A second index (omit: the same index without record 3; forge: an index of another
    /// table holding record 3 at <paramref name="forgedTime"/>) swaps root pages with <c>ix_audit_events_time</c>, and
    /// the helper object is dropped. The schema text of <c>audit_events</c> and its index is byte for byte the same.
    /// </summary>
    private async Task SwapTimeIndexAsync(string variant, DateTimeOffset forgedTime)
    {
        var helper = variant == "omit" ? "h7tmp" : "h7fakeix";
        if (variant == "omit")
        {
            await ExecuteAsync("CREATE INDEX h7tmp ON audit_events (time, sequence) WHERE sequence <> 3");
        }
        else
        {
            var forged = Schema.UnixMicros.From(forgedTime).ToString(CultureInfo.InvariantCulture);
            await ExecuteAsync(
                "CREATE TABLE h7fake (time INTEGER, seq INTEGER, id INTEGER PRIMARY KEY); "
                + "INSERT INTO h7fake SELECT CASE WHEN sequence = 3 THEN " + forged + " ELSE time END, sequence, sequence FROM audit_events; "
                + "CREATE INDEX h7fakeix ON h7fake (time, seq);");
        }

        var schemaBefore = await SchemaTextAsync();
        var root = (await Database.QueryAsync(
            "SELECT name, rootpage FROM sqlite_master WHERE name IN ('ix_audit_events_time', '" + helper + "')",
            r => (r.GetString(0), r.GetInt64(1)))).ToDictionary(p => p.Item1, p => p.Item2);
        var version = (await Database.QueryAsync("PRAGMA schema_version", r => r.GetInt64(0))).Single();
        await ExecuteAsync(string.Create(
            CultureInfo.InvariantCulture,
            $"PRAGMA writable_schema = ON; UPDATE sqlite_master SET rootpage = {root[helper]} WHERE name = 'ix_audit_events_time'; UPDATE sqlite_master SET rootpage = {root["ix_audit_events_time"]} WHERE name = '{helper}'; PRAGMA schema_version = {version + 1}; PRAGMA writable_schema = OFF;"));
        await ExecuteAsync(variant == "omit" ? "DROP INDEX h7tmp" : "DROP TABLE h7fake");
        Assert.Equal(schemaBefore, await SchemaTextAsync());
    }

    private Task<List<string>> SchemaTextAsync() =>
        Database.QueryAsync("SELECT sql FROM sqlite_master WHERE tbl_name = 'audit_events' AND name NOT LIKE 'h7%' ORDER BY name", r => r.GetString(0));
}
