namespace Tokenizer.Ledger.Tests.Sqlite;

public sealed class SqliteTokenEventStoreTests() : TokenEventStoreTests(new SqliteTestDatabase());
