using Microsoft.Data.Sqlite;
using Tokenizer.Ledger.Schema;

namespace Tokenizer.Ledger.Tests.Sqlite;

/// <summary>
/// The ledger's one read helper (<see cref="DbCommandExtensions.QueryAsync{T}"/>, <see cref="DbCommandExtensions.QueryFirstAsync{T}"/>)
/// on a real in-memory SQLite connection: every row in order, the first row only, and the caller's value for no row.
/// </summary>
public sealed class QueryHelperTests : IAsyncLifetime
{
    private readonly SqliteConnection connection = new("Data Source=:memory:");

    public async Task InitializeAsync()
    {
        await connection.OpenAsync();
        using var create = connection.Command("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NULL); INSERT INTO t VALUES (1, 'a'), (2, NULL), (3, 'c');");
        await create.ExecuteNonQueryAsync();
    }

    public async Task DisposeAsync() => await connection.DisposeAsync();

    [Fact]
    public async Task QueryAsync_ThreeRows_MapsEveryRowInOrderWithNulls()
    {
        using var select = connection.Command("SELECT id, name FROM t WHERE id >= @from ORDER BY id").Bind("@from", 1L);

        var rows = await select.QueryAsync(static reader => (reader.GetInt64(0), reader.GetNullableString(1)), CancellationToken.None);

        Assert.Equal([(1L, "a"), (2L, null), (3L, "c")], rows);
    }

    [Fact]
    public async Task QueryAsync_NoRow_Empty()
    {
        using var select = connection.Command("SELECT id FROM t WHERE id > @from").Bind("@from", 3L);

        Assert.Empty(await select.QueryAsync(static reader => reader.GetInt64(0), CancellationToken.None));
    }

    [Fact]
    public async Task QueryFirstAsync_SeveralRows_MapsOnlyTheFirst()
    {
        using var select = connection.Command("SELECT id FROM t ORDER BY id DESC");
        var mapped = 0;

        var first = await select.QueryFirstAsync(reader => { mapped++; return reader.GetInt64(0); }, -1L, CancellationToken.None);

        Assert.Equal(3L, first);
        Assert.Equal(1, mapped);
    }

    [Fact]
    public async Task QueryFirstAsync_NoRow_ReturnsTheCallersValueWithoutMapping()
    {
        using var select = connection.Command("SELECT id FROM t WHERE name = @name").Bind("@name", "absent");

        var found = await select.QueryFirstAsync<long?>(static _ => throw new InvalidOperationException("no row to map"), null, CancellationToken.None);

        Assert.Null(found);
    }
}
