namespace Tokenizer.Core.Ports;

/// <summary>The ledger's schema: applied before any store is used.</summary>
public interface ILedgerSchema
{
    /// <summary>Creates or upgrades the schema (versioned migrations). Safe to call on every start.</summary>
    Task InitializeAsync(CancellationToken cancellationToken);
}
