using Tokenizer.Ledger.Schema;
using Tokenizer.Ledger.Tests.Audit;

namespace Tokenizer.Ledger.Tests.Sqlite;

/// <summary>The privacy export's audit read on SQLite, and its query plan.</summary>
public sealed class SqliteAuditByResourceTests() : AuditByResourceTests(new SqliteTestDatabase())
{
    [Theory]
    [InlineData(1)]
    [InlineData(AuditSql.ResourceBatch)]
    public async Task ExportQuery_SearchesTheResourceIndex_NeverScansTheTable(int resources)
    {
        // Arrange: a trail with records (the plan does not depend on statistics here: no ANALYZE runs on the ledger).
        await AppendEventsAsync(50);

        // Act
        var plan = await PlanAsync(AuditSql.SelectByResources(resources));

        // Assert
        Assert.Contains(plan, step => step.StartsWith("SEARCH audit_events USING INDEX " + AuditSql.ResourceIndex + " (resource=?)", StringComparison.Ordinal));
        Assert.DoesNotContain(plan, step => step.StartsWith("SCAN", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ExportQuery_WithoutTheResourceIndex_ScansTheTable()
    {
        // Arrange: the control: the same query on the trail as it was before the index (migration 16) existed.
        await AppendEventsAsync(50);
        await ExecuteAsync("DROP INDEX " + AuditSql.ResourceIndex);

        // Act
        var plan = await PlanAsync(AuditSql.SelectByResources(3));

        // Assert
        Assert.Contains("SCAN audit_events", plan);
        Assert.DoesNotContain(plan, step => step.Contains(AuditSql.ResourceIndex, StringComparison.Ordinal));
    }

    /// <summary>The detail of each step of SQLite's plan for <paramref name="sql"/> (its parameters unbound: NULL).</summary>
    private Task<List<string>> PlanAsync(string sql) => Database.QueryAsync("EXPLAIN QUERY PLAN " + sql, r => r.GetString(3));
}
