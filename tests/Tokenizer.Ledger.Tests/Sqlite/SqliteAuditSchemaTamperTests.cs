using Microsoft.Extensions.Logging.Abstractions;
using Tokenizer.Core.Audit;
using Tokenizer.Ledger.Audit;
using Tokenizer.Ledger.Sqlite;
using Tokenizer.Ledger.Tests.Audit;

namespace Tokenizer.Ledger.Tests.Sqlite;

/// <summary>
/// Schema objects planted by someone who can write a stopped server's SQLite file, each of which can change the trail
/// without touching a record the chain covers: a trigger on any table (SQLite trigger names are schema-wide, so the
/// guards can be moved off <c>audit_events</c> under their own names), an index or CHECK constraint that refuses chosen
/// appends. Each must be a table problem online and read-only, naming the object; the untouched ledger is the control.
/// </summary>
public sealed class SqliteAuditSchemaTamperTests() : AuditTestBase(new SqliteTestDatabase())
{
    private const string DeleteNewest = "DELETE FROM audit_events WHERE sequence = (SELECT max(sequence) FROM audit_events);";

    private SqliteTestDatabase Sqlite => (SqliteTestDatabase)Database;

    /// <summary>Every table the migrations create (the ledger writes all of them), from the reference schema.</summary>
    private static string[] TableNames =>
        SqliteSchemaReference.Objects.Where(o => o.Type == "table" && o.Name != "sqlite_sequence").Select(o => o.Name).ToArray();

    /// <summary>Every table but the audit table itself.</summary>
    public static TheoryData<string> OtherTables() => new(TableNames.Where(t => t != "audit_events"));

    /// <summary>Every table, each with a trigger body that names the audit table in another spelling, or not at all.</summary>
    public static TheoryData<string, string> TablesAndBodies()
    {
        var bodies = new[]
        {
            DeleteNewest,
            "DELETE FROM \"audit_events\" WHERE sequence = (SELECT max(sequence) FROM audit_events);",
            "DELETE FROM [AUDIT_EVENTS] WHERE 0;",
            "UPDATE `Audit_Events` SET reason = 'x' WHERE 0;",
            "SELECT 1;",
        };
        var data = new TheoryData<string, string>();
        var tables = TableNames;
        for (var i = 0; i < tables.Length; i++)
        {
            data.Add(tables[i], bodies[i % bodies.Length]);
        }

        return data;
    }

    [Fact]
    public void Migrations_CreateNoTriggerButTheTwoGuards()
    {
        // The expected trigger set is the guards: a migration that adds a trigger must add it to that set too.
        var triggers = SqliteSchemaReference.Objects.Where(o => o.Type == "trigger").Select(o => (o.Name, o.Table)).Order().ToList();

        Assert.Equal([("audit_events_refuse_delete", "audit_events"), ("audit_events_refuse_update", "audit_events")], triggers);
    }

    [Fact]
    public async Task UntouchedLedger_NoTableProblemOnlineOrReadOnly()
    {
        // The control for every test below.
        await AppendEventsAsync(3);

        var report = await Trail.VerifyAsync(null, CancellationToken.None);
        await using var readOnly = SqliteAuditTrail.OpenReadOnly(Sqlite.DatabasePath, new AuditKeyRing(Key), NullLogger<SqliteAuditTrail>.Instance);
        var offline = await readOnly.VerifyAsync(null, CancellationToken.None);

        Assert.True(report.Intact, report.Problem);
        Assert.True(offline.Intact, offline.Problem);
        Assert.Empty(await Trail.ForeignTriggersAsync(CancellationToken.None));
        Assert.Empty(await Trail.RestoreGuardsAsync(CancellationToken.None));
    }

    [Theory]
    [MemberData(nameof(TablesAndBodies))]
    public async Task ForeignTriggersAsync_TriggerOnAnyTable_NamedWithItsTable(string table, string body)
    {
        // Arrange
        await AppendEventsAsync(3);
        var before = await Trail.ForeignTriggersAsync(CancellationToken.None);
        await ExecuteAsync($"CREATE TRIGGER zz_housekeeping AFTER INSERT ON {table} BEGIN {body} END");

        // Act
        var after = await Trail.ForeignTriggersAsync(CancellationToken.None);
        var problems = await BothVerificationsAsync();

        // Assert
        var expected = table == "audit_events" ? "zz_housekeeping" : $"zz_housekeeping (on {table})";
        Assert.Empty(before);
        Assert.Equal([expected], after);
        Assert.All(problems, p => Assert.Equal(["trigger or rule this service did not create: " + expected], p));
    }

    [Theory]
    [MemberData(nameof(OtherTables))]
    public async Task GuardsMovedToAnotherTable_NamedAsForeignAndRestoreRecreatesThemOnTheAuditTable(string table)
    {
        // Arrange: the guards moved under their own names (a name SQLite holds once per schema), as in the outside
        // review: CREATE TRIGGER IF NOT EXISTS would then recreate nothing.
        await AppendEventsAsync(3);
        await ExecuteAsync($"""
            DROP TRIGGER audit_events_refuse_delete; DROP TRIGGER audit_events_refuse_update;
            CREATE TRIGGER audit_events_refuse_delete BEFORE DELETE ON {table} BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
            CREATE TRIGGER audit_events_refuse_update BEFORE UPDATE ON {table} WHEN 0 BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
            """);

        // Act
        var foreign = await Trail.ForeignTriggersAsync(CancellationToken.None);
        var problems = await BothVerificationsAsync();
        var restored = await Trail.RestoreGuardsAsync(CancellationToken.None);
        var placed = await Database.QueryAsync("SELECT name, tbl_name FROM sqlite_master WHERE type = 'trigger' ORDER BY name", r => (r.GetString(0), r.GetString(1)));
        var delete = await Record.ExceptionAsync(() => ExecuteAsync("DELETE FROM audit_events WHERE sequence = 3"));

        // Assert
        string[] moved = [$"audit_events_refuse_delete (on {table})", $"audit_events_refuse_update (on {table})"];
        Assert.Equal(moved, foreign.Order());
        Assert.All(problems, p => Assert.Equal(moved.Select(m => "trigger or rule this service did not create: " + m), p.Order()));
        Assert.Equal(["audit_events_refuse_delete", "audit_events_refuse_update"], restored.Order());
        Assert.Equal([("audit_events_refuse_delete", "audit_events"), ("audit_events_refuse_update", "audit_events")], placed);
        Assert.NotNull(delete);
        Assert.Empty(await Trail.ForeignTriggersAsync(CancellationToken.None));
    }

    [Theory]
    [InlineData("expression", "CREATE INDEX ix_audit_events_misc ON audit_events (abs(CASE WHEN action LIKE '%RevokeToken' THEN -9223372036854775808 ELSE 0 END))", "index ix_audit_events_misc was added")]
    [InlineData("extra", "CREATE INDEX ix_audit_events_caller ON audit_events (caller_id)", "index ix_audit_events_caller was added")]
    [InlineData("unique", "CREATE UNIQUE INDEX ix_audit_events_corr ON audit_events (correlation_id)", "index ix_audit_events_corr was added")]
    [InlineData("partial", "DROP INDEX ix_audit_events_time; CREATE INDEX ix_audit_events_time ON audit_events (time, sequence) WHERE sequence < 10", "index ix_audit_events_time differs")]
    [InlineData("order", "DROP INDEX ix_audit_events_time; CREATE INDEX ix_audit_events_time ON audit_events (time DESC, sequence)", "index ix_audit_events_time differs")]
    [InlineData("unique time", "DROP INDEX ix_audit_events_time; CREATE UNIQUE INDEX ix_audit_events_time ON audit_events (time, sequence)", "index ix_audit_events_time differs")]
    [InlineData("collation", "DROP INDEX ix_audit_events_time; CREATE INDEX ix_audit_events_time ON audit_events (time, sequence COLLATE NOCASE)", "index ix_audit_events_time differs")]
    public async Task TableDefinitionProblemsAsync_IndexAddedOrChanged_NamesTheIndex(string kind, string sql, string problem)
    {
        // Arrange
        _ = kind;
        await AppendEventsAsync(3);
        var before = await Trail.TableDefinitionProblemsAsync(CancellationToken.None);
        await ExecuteAsync(sql);

        // Act
        var after = await Trail.TableDefinitionProblemsAsync(CancellationToken.None);
        var problems = await BothVerificationsAsync();

        // Assert
        Assert.Empty(before);
        var only = Assert.Single(after);
        Assert.StartsWith(problem, only, StringComparison.Ordinal);
        Assert.All(problems, p => Assert.Equal(after, p));
    }

    [Theory]
    [InlineData("literal case", "replace(sql, '''success''', '''SUCCESS''')")]
    [InlineData("added check", "replace(sql, 'CHECK (length(mac) = 32)', 'CHECK (length(mac) = 32 AND action NOT LIKE ''%RevokeToken'')')")]
    [InlineData("bound", "replace(sql, 'BETWEEN 1 AND 200', 'BETWEEN 1 AND 20')")]
    [InlineData("table check", "replace(sql, ') STRICT', ', CHECK (outcome <> ''denied'')) STRICT')")]
    public async Task TableDefinitionProblemsAsync_CheckConstraintChanged_TableProblem(string kind, string rewrite)
    {
        // Arrange: the definition rewritten through writable_schema, as a stopped server's file can be; each refuses
        // chosen appends only. Control: the migrated table has no problem.
        _ = kind;
        await AppendEventsAsync(3);
        var before = await Trail.TableDefinitionProblemsAsync(CancellationToken.None);
        await RewriteSqliteSchemaAsync(rewrite);

        // Act
        var after = await Trail.TableDefinitionProblemsAsync(CancellationToken.None);
        var problems = await BothVerificationsAsync();

        // Assert
        // (A changed CHECK that existing records break is also named by the integrity check, once per record.)
        Assert.Empty(before);
        Assert.All(
            problems.Prepend(after),
            found => Assert.Contains(found, p => p.StartsWith("table definition differs from the migrations'", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task AppendAsync_PlantedExpressionIndex_RefusesTheChosenRecordOnly()
    {
        // Why an extra index matters: it is evaluated on every insert, so it can refuse the records it is told to.
        await ExecuteAsync("CREATE INDEX ix_audit_events_misc ON audit_events (abs(CASE WHEN caller_id = 'caller-2' THEN -9223372036854775808 ELSE 0 END))");

        await Trail.AppendAsync(Event(1), CancellationToken.None);
        var refused = await Record.ExceptionAsync(() => Trail.AppendAsync(Event(2), CancellationToken.None));

        Assert.NotNull(refused);
        Assert.Single(await RowsAsync());
    }

    /// <summary>The table problems of the online and the read-only (offline) verification, each not intact.</summary>
    private async Task<IReadOnlyList<string>[]> BothVerificationsAsync()
    {
        var online = await Trail.VerifyAsync(null, CancellationToken.None);
        await using var readOnly = SqliteAuditTrail.OpenReadOnly(Sqlite.DatabasePath, new AuditKeyRing(Key), NullLogger<SqliteAuditTrail>.Instance);
        var offline = await readOnly.VerifyAsync(null, CancellationToken.None);
        foreach (var report in new[] { online, offline })
        {
            Assert.False(report.Intact);
            Assert.Equal(AuditProblems.TableChanged, report.Problem);
            Assert.Empty(report.Broken);
        }

        return [online.TableProblems, offline.TableProblems];
    }
}
