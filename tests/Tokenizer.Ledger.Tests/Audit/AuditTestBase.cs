using System.Text;
using Microsoft.Extensions.Time.Testing;
using Tokenizer.Core.Audit;
using Tokenizer.Ledger.Audit;

namespace Tokenizer.Ledger.Tests.Audit;

/// <summary>
/// A fresh audit trail per test on a database of its own (<see cref="TestDatabase"/>), plus an "attacker" connection
/// that edits the database directly, the way anyone with write access to it could. A sealed class per provider runs the
/// test bodies.
/// </summary>
public abstract class AuditTestBase(TestDatabase database) : IAsyncLifetime
{
    protected static DateTimeOffset T0 { get; } = new(2026, 11, 15, 10, 0, 0, TimeSpan.Zero);

    /// <summary>The audit key of the trail under test (36 bytes: more than the minimum works too).</summary>
    protected static byte[] Key { get; } = Encoding.ASCII.GetBytes("audit-key-for-tests-0123456789abcdef");

    protected TestDatabase Database { get; } = database;

    protected FakeTimeProvider Clock { get; } = new(T0);

    /// <summary>The first trail on the database, initialised.</summary>
    protected RelationalAuditTrail Trail { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await Database.CreateAsync();
        Trail = await OpenTrailAsync();
    }

    public async Task DisposeAsync() => await Database.DisposeAsync();

    /// <summary>An event at <see cref="T0"/> plus <paramref name="n"/> seconds, its fields numbered by <paramref name="n"/>.</summary>
    protected static AuditEvent Event(int n, AuditOutcome outcome = AuditOutcome.Success) => new(
        T0.AddSeconds(n),
        "caller-" + n,
        "127.0.0." + (n % 250),
        "tokenizer.v1.TokenizerService/GetToken",
        "pm_" + n,
        outcome,
        outcome == AuditOutcome.Success ? null : "TOKEN_NOT_FOUND",
        "trace-" + n);

    /// <summary>Another trail with its own connections (as a second process or replica would have), optionally with another key or database.</summary>
    protected async Task<RelationalAuditTrail> OpenTrailAsync(byte[]? key = null, TestDatabase? on = null, bool initialize = true)
    {
        var trail = (on ?? Database).CreateTrail(key ?? Key, Clock);
        if (initialize)
        {
            await trail.InitializeAsync(CancellationToken.None);
        }

        return trail;
    }

    /// <summary>Appends events 1..<paramref name="count"/> one by one, the way the service does.</summary>
    protected async Task AppendEventsAsync(int count, RelationalAuditTrail? trail = null)
    {
        for (var n = 1; n <= count; n++)
        {
            await (trail ?? Trail).AppendAsync(Event(n), CancellationToken.None);
        }
    }

    /// <summary>Runs SQL on the database directly, bypassing the trail: the attacker's (or an admin tool's) access.</summary>
    protected Task ExecuteAsync(string sql, params (string Name, object? Value)[] parameters) => Database.ExecuteAsync(sql, parameters);

    /// <summary>The stored rows in sequence order, as the MAC sees them.</summary>
    private protected Task<List<AuditRow>> RowsAsync(TestDatabase? on = null) => (on ?? Database).AuditRowsAsync();

    /// <summary>What an attacker with database access does first: the append-only guards are just schema.</summary>
    protected Task DropTriggersAsync() => Database.DropAuditGuardsAsync();

    /// <summary>
    /// What someone holding <paramref name="key"/> and write access to the database can do: append one validly signed
    /// record after the head, naming <paramref name="keyId"/> and recorded at <paramref name="recordedAtMicros"/> (NULL:
    /// the older format, which signs neither). Returns its sequence.
    /// </summary>
    private protected async Task<long> ForgeAsync(byte[] key, string? keyId, long? recordedAtMicros)
    {
        var existing = await RowsAsync();
        var sequence = existing.Count == 0 ? 1 : existing[^1].Sequence + 1;
        var unsigned = new AuditRow(
            sequence,
            Schema.UnixMicros.From(T0) + sequence,
            "admin",
            "127.0.0.1",
            "tokenizer.v1.TokenizerService/RevokeToken",
            "pm_forged",
            "success",
            null,
            "forged-" + sequence,
            existing.Count == 0 ? AuditChain.Genesis() : existing[^1].Mac,
            [],
            keyId,
            recordedAtMicros);
        var row = unsigned with { Mac = AuditChain.ComputeMac(key, unsigned) };
        await Database.InTransactionAsync(async transaction =>
        {
            using var insert = Schema.DbCommandExtensions.Command(transaction, Schema.AuditSql.Insert);
            row.Bind(insert);
            await insert.ExecuteNonQueryAsync();
        });
        return sequence;
    }

    /// <summary>
    /// Writes <paramref name="count"/> validly chained records in one transaction (fast set-up for paging tests),
    /// after whatever the database holds.
    /// </summary>
    protected async Task SeedChainAsync(int count, byte[]? key = null)
    {
        var existing = await RowsAsync();
        var previous = existing.Count == 0 ? AuditChain.Genesis() : existing[^1].Mac;
        var start = existing.Count == 0 ? 1 : existing[^1].Sequence + 1;
        await Database.InTransactionAsync(async transaction =>
        {
            for (var sequence = start; sequence < start + count; sequence++)
            {
                var unsigned = new AuditRow(
                    sequence, Schema.UnixMicros.From(T0) + sequence, "seed", null, "seed/action", null, "success", null, "c-" + sequence, previous, []);
                var row = unsigned with { Mac = AuditChain.ComputeMac(key ?? Key, unsigned) };
                using var insert = Schema.DbCommandExtensions.Command(transaction, Schema.AuditSql.Insert);
                row.Bind(insert);
                await insert.ExecuteNonQueryAsync();
                previous = row.Mac;
            }
        });
    }

    /// <summary>
    /// SQLite only: rewrites the audit table's CREATE statement in sqlite_master (<paramref name="newSql"/> is an SQL
    /// expression over the old <c>sql</c>), as anyone who can write the file can, and bumps the schema version so open
    /// connections read the new definition (a stopped server's next start would).
    /// </summary>
    protected async Task RewriteSqliteSchemaAsync(string newSql)
    {
        var version = (await Database.QueryAsync("PRAGMA schema_version", r => r.GetInt64(0))).Single();
        await ExecuteAsync(
            "PRAGMA writable_schema = ON; UPDATE sqlite_master SET sql = " + newSql + " WHERE type = 'table' AND name = 'audit_events'; PRAGMA schema_version = "
            + (version + 1).ToString(System.Globalization.CultureInfo.InvariantCulture) + "; PRAGMA writable_schema = OFF;");
    }
}
