namespace Tokenizer.Ledger;

/// <summary>Settings of <see cref="SqliteTokenLedger"/>.</summary>
public sealed class SqliteLedgerOptions
{
    /// <summary>
    /// Path of the SQLite database file, absolute or relative to the working directory. Its parent directory is
    /// created on <see cref="RelationalTokenLedger.InitializeAsync"/>; <c>-wal</c> and <c>-shm</c> files live next to it.
    /// Required; <c>:memory:</c> is not supported (every operation opens its own connection).
    /// </summary>
    public string DatabasePath { get; set; } = "";
}
