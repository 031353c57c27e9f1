using System.Data.Common;
using Microsoft.Extensions.Logging;
using Tokenizer.Core.Ports;
using Tokenizer.Ledger.Claims;
using Tokenizer.Ledger.Customers;
using Tokenizer.Ledger.Intents;
using Tokenizer.Ledger.Tokens;

namespace Tokenizer.Ledger;

/// <summary>
/// The ledger on one database, shared by <see cref="SqliteTokenLedger"/> and <see cref="Postgres.PostgresTokenLedger"/>:
/// it owns the connections and the schema (<see cref="ILedgerSchema"/>), and builds the stores of the core's ports on
/// them, each the one owner of its tables' SQL: <see cref="Claims"/> (<c>idempotency_records</c>), <see cref="Intents"/>
/// (<c>intents</c>), <see cref="Customers"/> (<c>customers</c>, <c>customer_successions</c>) and <see cref="Tokens"/>
/// (<c>tokens</c>). The other stores of this assembly (audit, privacy, reconciliation, webhooks, token events) are built
/// on its database too. Only those two classes derive from it. Thread-safe.
/// </summary>
/// <remarks>
/// Times are stored as unix microseconds UTC: values read back are UTC and truncated to the microsecond. Failures other
/// than the documented ones surface as the provider's <see cref="DbException"/> (<c>SqliteException</c>,
/// <c>NpgsqlException</c>/<c>PostgresException</c>): disk, connection, corruption, a lock held past every retry.
/// </remarks>
public abstract class RelationalTokenLedger : ILedgerSchema, IAsyncDisposable, IDisposable
{
    private readonly TimeProvider timeProvider;
    private readonly RelationalClaimStore claims;

    private protected RelationalTokenLedger(ILedgerDatabase database, TimeProvider timeProvider, ILogger logger)
    {
        LedgerDatabase = database;
        this.timeProvider = timeProvider;
        claims = new RelationalClaimStore(database, timeProvider, logger);
        Intents = new RelationalIntentStore(database, timeProvider);
        Customers = new RelationalCustomerRepository(database);
        Tokens = new RelationalTokenRepository(database, timeProvider);
    }

    /// <summary>The idempotency claims (<c>idempotency_records</c>).</summary>
    public IClaimStore Claims => claims;

    /// <summary>The intents of requests that create something at the gateway (<c>intents</c>).</summary>
    public IIntentStore Intents { get; }

    /// <summary>The customer mapping and the deleted Customers of subjects (<c>customers</c>, <c>customer_successions</c>).</summary>
    public ICustomerRepository Customers { get; }

    /// <summary>The issued tokens (<c>tokens</c>).</summary>
    public ITokenRepository Tokens { get; }

    /// <summary>The database plumbing, shared with the audit trail and key repository built on this ledger.</summary>
    private protected ILedgerDatabase LedgerDatabase { get; }

    /// <summary>The same database, for the other stores of this assembly built on it (privacy, webhooks, token events...).</summary>
    internal ILedgerDatabase SharedDatabase => LedgerDatabase;

    /// <summary>
    /// The audit trail built on this ledger's database (set by its constructor), with which the claim store appends the
    /// <c>INTERRUPTED</c> record of a call cut off by a crash in the same transaction as the claim's mark. Null: such
    /// calls are not audited.
    /// </summary>
    internal Audit.RelationalAuditTrail? AuditTrail
    {
        get => claims.AuditTrail;
        set => claims.AuditTrail = value;
    }

    /// <inheritdoc />
    /// <remarks>
    /// Applies pending migrations of the schema (the same versions for every provider). Throws
    /// <see cref="InvalidOperationException"/> if the database holds a newer schema than this build.
    /// </remarks>
    public Task InitializeAsync(CancellationToken cancellationToken) =>
        LedgerDatabase.MigrateAsync(timeProvider.GetUtcNow(), cancellationToken);

    /// <summary>Closes the database's pooled connections (SQLite: the last one to close checkpoints the WAL into the file).</summary>
    public ValueTask DisposeAsync()
    {
        Dispose();
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Same as <see cref="DisposeAsync"/>. Also implemented so a DI container disposed synchronously does not throw on
    /// an async-only singleton.
    /// </summary>
    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Closes the database when <paramref name="disposing"/>; nothing to do from a finalizer.</summary>
    protected virtual void Dispose(bool disposing)
    {
        if (disposing)
        {
            LedgerDatabase.Dispose();
        }
    }
}
