namespace Tokenizer.Ledger.Schema;

/// <summary>The Data Protection key ring's statements (table <c>data_protection_keys</c>, migration 3).</summary>
internal static class DataProtectionSql
{
    /// <summary>Every stored key document, oldest first.</summary>
    public const string SelectAll = "SELECT xml FROM data_protection_keys ORDER BY id";

    /// <summary>Stores one key document; times are unix microseconds UTC.</summary>
    public const string Insert =
        "INSERT INTO data_protection_keys (friendly_name, xml, created_at) VALUES (@friendly_name, @xml, @created_at)";
}
