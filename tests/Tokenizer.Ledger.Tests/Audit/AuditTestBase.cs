using System.Text;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Tokenizer.Core.Audit;
using Tokenizer.Ledger.Audit;

namespace Tokenizer.Ledger.Tests.Audit;

/// <summary>
/// A fresh audit trail per test on its own SQLite file, plus an "attacker" connection that edits the file directly,
/// the way anyone with write access to the data directory could.
/// </summary>
public abstract class AuditTestBase : IAsyncLifetime
{
    private readonly List<SqliteAuditTrail> trails = [];

    protected AuditTestBase()
    {
        RootDirectory = Path.Combine(Path.GetTempPath(), "tokenizer-audit-tests", Guid.NewGuid().ToString("N"));
        DatabasePath = Path.Combine(RootDirectory, "data", "ledger.db");
    }

    protected static DateTimeOffset T0 { get; } = new(2026, 11, 15, 10, 0, 0, TimeSpan.Zero);

    /// <summary>The audit key of the trail under test (36 bytes: more than the minimum works too).</summary>
    protected static byte[] Key { get; } = Encoding.ASCII.GetBytes("audit-key-for-tests-0123456789abcdef");

    protected string RootDirectory { get; }

    protected string DatabasePath { get; }

    protected FakeTimeProvider Clock { get; } = new(T0);

    /// <summary>The first trail on the file, initialised.</summary>
    protected SqliteAuditTrail Trail { get; private set; } = null!;

    public async Task InitializeAsync() => Trail = await OpenTrailAsync();

    public async Task DisposeAsync()
    {
        foreach (var trail in trails)
        {
            await trail.DisposeAsync();
        }

        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(RootDirectory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a leftover temp directory must not fail a test.
        }
    }

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

    /// <summary>Another trail on the file (as a second process would have), optionally with another key or path.</summary>
    protected async Task<SqliteAuditTrail> OpenTrailAsync(byte[]? key = null, string? path = null, bool initialize = true)
    {
        var trail = new SqliteAuditTrail(
            new SqliteLedgerOptions { DatabasePath = path ?? DatabasePath },
            key ?? Key,
            Clock,
            NullLogger<SqliteAuditTrail>.Instance);
        trails.Add(trail);
        if (initialize)
        {
            await trail.InitializeAsync(CancellationToken.None);
        }

        return trail;
    }

    /// <summary>Appends events 1..<paramref name="count"/> one by one, the way the service does.</summary>
    protected async Task AppendEventsAsync(int count, SqliteAuditTrail? trail = null)
    {
        for (var n = 1; n <= count; n++)
        {
            await (trail ?? Trail).AppendAsync(Event(n), CancellationToken.None);
        }
    }

    /// <summary>Runs SQL on the file directly, bypassing the trail: the attacker's (or an admin tool's) access.</summary>
    protected Task ExecuteAsync(string sql, params (string Name, object? Value)[] parameters) =>
        ExecuteAsync(DatabasePath, sql, parameters);

    protected static async Task ExecuteAsync(string path, string sql, params (string Name, object? Value)[] parameters)
    {
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        await connection.OpenAsync();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Reads rows from the file directly.</summary>
    protected Task<List<T>> QueryAsync<T>(string sql, Func<SqliteDataReader, T> read) => QueryAsync(DatabasePath, sql, read);

    protected static async Task<List<T>> QueryAsync<T>(string path, string sql, Func<SqliteDataReader, T> read)
    {
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        await connection.OpenAsync();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = await command.ExecuteReaderAsync();
        var rows = new List<T>();
        while (await reader.ReadAsync())
        {
            rows.Add(read(reader));
        }

        return rows;
    }

    /// <summary>The stored rows in sequence order, as the MAC sees them.</summary>
    private protected Task<List<AuditRow>> RowsAsync(string? path = null) =>
        QueryAsync(path ?? DatabasePath, "SELECT " + Schema.AuditSql.Columns + " FROM audit_events ORDER BY sequence", AuditRow.Read);

    /// <summary>What an attacker with file access does first: the append-only triggers are just schema.</summary>
    protected Task DropTriggersAsync(string? path = null) => ExecuteAsync(
        path ?? DatabasePath,
        "DROP TRIGGER audit_events_refuse_update; DROP TRIGGER audit_events_refuse_delete;");

    /// <summary>
    /// Writes <paramref name="count"/> validly chained records in one transaction (fast set-up for paging tests),
    /// after whatever the file holds.
    /// </summary>
    protected async Task SeedChainAsync(int count, byte[]? key = null, string? path = null)
    {
        var existing = await RowsAsync(path);
        var previous = existing.Count == 0 ? AuditChain.Genesis() : existing[^1].Mac;
        var start = existing.Count == 0 ? 1 : existing[^1].Sequence + 1;
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path ?? DatabasePath, Pooling = false }.ToString());
        await connection.OpenAsync();
        await using var transaction = connection.BeginTransaction();
        for (var sequence = start; sequence < start + count; sequence++)
        {
            var unsigned = new AuditRow(
                sequence, Schema.UnixMicros.From(T0) + sequence, "seed", null, "seed/action", null, "success", null, "c-" + sequence, previous, []);
            var row = unsigned with { Mac = AuditChain.ComputeMac(key ?? Key, unsigned) };
            using var insert = connection.CreateCommand();
            insert.Transaction = transaction;
            insert.CommandText = Schema.AuditSql.Insert;
            row.Bind(insert);
            await insert.ExecuteNonQueryAsync();
            previous = row.Mac;
        }

        await transaction.CommitAsync();
    }
}
