using Tokenizer.Ledger.Tests;

namespace Tokenizer.Ledger.PostgresTests;

public sealed class PostgresPrivacyStoreTests() : PrivacyStoreTests(new PostgresTestDatabase());
