namespace Tokenizer.Ledger.Schema;

/// <summary>
/// The schema's own statements (<c>schema_migrations</c>). SQL that SQLite and PostgreSQL both run unchanged;
/// every value is a parameter (<c>@name</c>), no statement is built from input. Times are unix microseconds UTC.
/// </summary>
internal static class LedgerSql
{
    /// <summary>Whether a migration version is recorded.</summary>
    public const string SelectMigration = "SELECT COUNT(*) FROM schema_migrations WHERE version = @version";

    /// <summary>The highest recorded migration version, or NULL.</summary>
    public const string SelectLatestMigration = "SELECT MAX(version) FROM schema_migrations";

    /// <summary>Records a migration as applied.</summary>
    public const string InsertMigration = "INSERT INTO schema_migrations (version, applied_at) VALUES (@version, @applied_at)";
}
