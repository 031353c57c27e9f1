namespace Tokenizer.Ledger.Schema;

/// <summary>One schema object as the database lists it.</summary>
/// <param name="Type">SQLite: <c>table</c>, <c>index</c>, <c>trigger</c> or <c>view</c>; PostgreSQL: <c>index</c> or <c>constraint</c>.</param>
/// <param name="Name">Its name.</param>
/// <param name="Table">The table it belongs to.</param>
/// <param name="Sql">Its definition (SQLite: the stored SQL; PostgreSQL: <c>pg_get_indexdef</c> or <c>pg_get_constraintdef</c>).</param>
internal sealed record SchemaObject(string Type, string Name, string Table, string Sql);
