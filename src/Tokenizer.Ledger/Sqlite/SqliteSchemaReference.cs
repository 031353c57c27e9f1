using Microsoft.Data.Sqlite;
using Tokenizer.Ledger.Schema;

namespace Tokenizer.Ledger.Sqlite;

/// <summary>
/// The schema objects the migrations create, as SQLite stores them: every migration of <see cref="LedgerMigrations"/>
/// run once per process on a private in-memory database, then its <c>sqlite_master</c> read back. The audit checks
/// compare a ledger's stored <c>audit_events</c> definition and indexes with this text, so "as the migrations created
/// it" means exactly that, whichever version the ledger was created at: every upgrade path runs the same statements in
/// the same order (<c>CREATE TABLE</c> in version 2, then <c>ALTER TABLE ... ADD COLUMN</c> in 7 and 13, which SQLite
/// records by inserting the column's text before the closing parenthesis), so it leaves the same text.
/// </summary>
internal static class SqliteSchemaReference
{
    private static readonly Lazy<IReadOnlyList<SchemaObject>> Built = new(Build, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Every object of the migrated schema: type (<c>table</c>, <c>index</c>, <c>trigger</c>), name, table and stored SQL (empty for automatic indexes).</summary>
    public static IReadOnlyList<SchemaObject> Objects => Built.Value;

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA2100:Review SQL queries for security vulnerabilities", Justification = "The migrations' constant DDL only.")]
    private static List<SchemaObject> Build()
    {
        using var connection = new SqliteConnection("Data Source=:memory:");
        connection.Open();
        var dialect = SqlDialect.Sqlite;
        foreach (var statement in LedgerMigrations.All.SelectMany(m => m.Statements(dialect)).Prepend(LedgerMigrations.CreateMigrationsTable(dialect)))
        {
            using var command = connection.Command(statement);
            command.ExecuteNonQuery();
        }

        using var select = connection.Command("SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_master");
        using var reader = select.ExecuteReader();
        var objects = new List<SchemaObject>();
        while (reader.Read())
        {
            objects.Add(new SchemaObject(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3)));
        }

        return objects;
    }
}
