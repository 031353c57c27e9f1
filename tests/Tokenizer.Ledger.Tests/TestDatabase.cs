using System.Data.Common;
using System.Globalization;
using Tokenizer.Ledger.Audit;
using Tokenizer.Ledger.Schema;

namespace Tokenizer.Ledger.Tests;

/// <summary>
/// One empty database of one provider, made for one test (xunit builds the test class per test) and removed after it,
/// plus an "attacker" or admin connection that bypasses the ledger. Ledgers and trails made here are disposed with it.
/// </summary>
public abstract class TestDatabase : IAsyncDisposable
{
    private readonly List<IAsyncDisposable> owned = [];

    /// <summary>"SQLite" or "PostgreSQL", for messages.</summary>
    public abstract string Provider { get; }

    /// <summary>Creates the (empty) database.</summary>
    public abstract Task CreateAsync();

    /// <summary>A new ledger instance on this database, as another process or replica would have; not initialised.</summary>
    public RelationalTokenLedger CreateLedger(TimeProvider clock) => Own(NewLedger(clock));

    /// <summary>A new audit trail on its own connections (another process or replica); not initialised.</summary>
    public RelationalAuditTrail CreateTrail(byte[] key, TimeProvider clock) => Own(NewTrail(key, clock));

    /// <summary>An audit trail on <paramref name="ledger"/>'s connections, as the service wires it; not initialised.</summary>
    public RelationalAuditTrail CreateSharedTrail(RelationalTokenLedger ledger, byte[] key, TimeProvider clock) =>
        Own(NewSharedTrail(ledger, key, clock));

    /// <summary>Another empty database of the same provider, removed with this one.</summary>
    public async Task<TestDatabase> CreateSiblingAsync()
    {
        var sibling = Own(NewSibling());
        await sibling.CreateAsync();
        return sibling;
    }

    /// <summary>
    /// Readies this database for SQL run before any ledger opened it (SQLite: the file's folder, which a ledger creates
    /// itself); nothing for a server database.
    /// </summary>
    public virtual Task PrepareForDirectSqlAsync() => Task.CompletedTask;

    /// <summary>A connection that bypasses the ledger: what someone with database access (or an admin tool) has.</summary>
    public abstract Task<DbConnection> OpenConnectionAsync();

    /// <summary>Removes the append-only guards of audit_events, the first thing an attacker with database access does.</summary>
    public abstract Task DropAuditGuardsAsync();

    /// <summary>
    /// The bytes the database keeps at rest, each file read as Latin-1 text: <see cref="StoredBytes.Own"/> holds only this
    /// database's data, <see cref="StoredBytes.Shared"/> what the server shares with other tests' databases (its log).
    /// </summary>
    public abstract Task<StoredBytes> ReadAtRestAsync();

    /// <summary>Runs SQL directly, with <c>@name</c> parameters.</summary>
    public async Task ExecuteAsync(string sql, params (string Name, object? Value)[] parameters)
    {
        await using var connection = await OpenConnectionAsync();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Bind(name, value);
        }

        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Reads rows directly.</summary>
    public async Task<List<T>> QueryAsync<T>(string sql, Func<DbDataReader, T> read)
    {
        await using var connection = await OpenConnectionAsync();
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

    /// <summary>Runs <paramref name="work"/> in one transaction on a direct connection and commits.</summary>
    public async Task InTransactionAsync(Func<DbTransaction, Task> work)
    {
        await using var connection = await OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await work(transaction);
        await transaction.CommitAsync();
    }

    /// <summary>Rows in one table (the name is the test's constant, never input).</summary>
    public async Task<long> CountRowsAsync(string table) =>
        (await QueryAsync("SELECT COUNT(*) FROM " + table, r => Convert.ToInt64(r.GetValue(0), CultureInfo.InvariantCulture))).Single();

    /// <summary>The stored audit rows in sequence order, as the MAC sees them.</summary>
    internal Task<List<AuditRow>> AuditRowsAsync() =>
        QueryAsync("SELECT " + AuditSql.Columns + " FROM audit_events ORDER BY sequence", AuditRow.Read);

    public async ValueTask DisposeAsync()
    {
        for (var i = owned.Count - 1; i >= 0; i--)
        {
            await owned[i].DisposeAsync();
        }

        await DropAsync();
        GC.SuppressFinalize(this);
    }

    protected abstract RelationalTokenLedger NewLedger(TimeProvider clock);

    protected abstract RelationalAuditTrail NewTrail(byte[] key, TimeProvider clock);

    protected abstract RelationalAuditTrail NewSharedTrail(RelationalTokenLedger ledger, byte[] key, TimeProvider clock);

    protected abstract TestDatabase NewSibling();

    /// <summary>Removes the database once every ledger and trail on it is disposed; best effort.</summary>
    protected abstract Task DropAsync();

    private T Own<T>(T disposable)
        where T : IAsyncDisposable
    {
        lock (owned)
        {
            owned.Add(disposable);
        }

        return disposable;
    }
}

/// <summary>What a database holds at rest, as Latin-1 text per file.</summary>
/// <param name="Own">Files holding only this database's data.</param>
/// <param name="Shared">Files the server shares with other databases (PostgreSQL's WAL), where other tests write too.</param>
public sealed record StoredBytes(IReadOnlyList<string> Own, IReadOnlyList<string> Shared)
{
    public IEnumerable<string> All => Own.Concat(Shared);
}
