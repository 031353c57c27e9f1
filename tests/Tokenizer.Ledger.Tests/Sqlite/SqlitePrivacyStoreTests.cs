namespace Tokenizer.Ledger.Tests.Sqlite;

public sealed class SqlitePrivacyStoreTests() : PrivacyStoreTests(new SqliteTestDatabase());
