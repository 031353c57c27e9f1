namespace Tokenizer.Ledger.Tests.Postgres;

public sealed class PostgresPrivacyStoreTests() : PrivacyStoreTests(new PostgresTestDatabase());
