using Tokenizer.Ledger.Schema;
using Tokenizer.Ledger.Tests.Audit;

namespace Tokenizer.Ledger.PostgresTests;

/// <summary>The privacy export's audit read on PostgreSQL, and its query plan.</summary>
public sealed class PostgresAuditByResourceTests() : AuditByResourceTests(new PostgresTestDatabase())
{
    [Theory]
    [InlineData(1)]
    [InlineData(AuditSql.ResourceBatch)]
    public async Task ExportQuery_ReadsTheResourceIndex_NeverScansTheTable(int resources)
    {
        // Arrange: a trail large enough, with statistics, that the planner chooses by cost (on a few rows a sequential
        // scan is cheapest whatever the indexes).
        await SeedAsync();

        // Act
        var plan = await PlanAsync(resources);

        // Assert
        Assert.Contains(plan, line => line.Contains(AuditSql.ResourceIndex, StringComparison.Ordinal));
        Assert.DoesNotContain(plan, line => line.Contains("Seq Scan", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ExportQuery_WithoutTheResourceIndex_ScansTheTable()
    {
        // Arrange: the control: the same query and trail as before the index (migration 16) existed.
        await SeedAsync();
        await ExecuteAsync("DROP INDEX " + AuditSql.ResourceIndex);
        await ExecuteAsync("ANALYZE audit_events");

        // Act
        var plan = await PlanAsync(3);

        // Assert
        Assert.Contains(plan, line => line.Contains("Seq Scan on audit_events", StringComparison.Ordinal));
        Assert.DoesNotContain(plan, line => line.Contains(AuditSql.ResourceIndex, StringComparison.Ordinal));
    }

    /// <summary>20,000 records of 20,000 resources, written directly (the plan does not depend on their MACs), then ANALYZE.</summary>
    private async Task SeedAsync()
    {
        await ExecuteAsync("""
            INSERT INTO audit_events (sequence, time, caller_id, action, resource, outcome, correlation_id, prev_mac, mac)
            SELECT g, g, 'caller-1', 'tokenizer.v1.TokenizerService/GetToken', 'pm_' || g, 'success', '',
                   decode(repeat('00', 32), 'hex'), decode(repeat('00', 32), 'hex')
            FROM generate_series(1, 20000) g
            """);
        await ExecuteAsync("ANALYZE audit_events");
    }

    /// <summary>PostgreSQL's plan for the export's query naming <paramref name="resources"/> resources, bound as the trail binds them.</summary>
    private async Task<List<string>> PlanAsync(int resources)
    {
        await using var connection = await Database.OpenConnectionAsync();
        using var command = connection.CreateCommand();
        command.CommandText = "EXPLAIN " + AuditSql.SelectByResources(resources);
        for (var i = 0; i < resources; i++)
        {
            command.Bind(AuditSql.ResourceParameter(i), "pm_" + ((i * 97) + 1));
        }

        var plan = new List<string>();
        using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            plan.Add(reader.GetString(0));
        }

        return plan;
    }
}
