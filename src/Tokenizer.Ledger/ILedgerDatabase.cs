using System.Data.Common;
using System.Runtime.CompilerServices;
using Tokenizer.Ledger.Schema;

namespace Tokenizer.Ledger;

/// <summary>
/// What the provider-neutral ledger and audit logic (<see cref="RelationalTokenLedger"/>,
/// <see cref="Audit.RelationalAuditTrail"/>) needs from a database: connections, write transactions with the provider's
/// retry policy, the SQL dialect and the migrations. One instance per database; thread-safe.
/// </summary>
internal interface ILedgerDatabase : IDisposable
{
    /// <summary>The spellings of this database's SQL.</summary>
    SqlDialect Dialect { get; }

    /// <summary>Runs <paramref name="read"/> on a connection of its own, outside any explicit transaction.</summary>
    /// <param name="read">The reads.</param>
    /// <param name="cancellationToken">Cancels the reads.</param>
    /// <param name="operation">Names the span (<see cref="LedgerTracing"/>): the calling method, filled in by the compiler.</param>
    Task<T> ReadAsync<T>(Func<DbConnection, CancellationToken, Task<T>> read, CancellationToken cancellationToken, [CallerMemberName] string operation = "");

    /// <summary>
    /// Runs <paramref name="work"/> in one transaction and commits it. On the provider's transient errors the whole
    /// transaction is rolled back and run again (a bounded number of times), so <paramref name="work"/> must only touch
    /// the database. Any other exception rolls back and propagates.
    /// </summary>
    /// <param name="work">The transaction's statements.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <param name="operation">Names the span (<see cref="LedgerTracing"/>): the calling method, filled in by the compiler.</param>
    Task<T> WriteAsync<T>(Func<DbTransaction, CancellationToken, Task<T>> work, CancellationToken cancellationToken, [CallerMemberName] string operation = "");

    /// <summary>
    /// Applies every migration of <see cref="LedgerMigrations"/> not yet recorded. Safe to run concurrently from several
    /// processes.
    /// </summary>
    /// <exception cref="InvalidOperationException">The database holds a newer schema than this build.</exception>
    Task MigrateAsync(DateTimeOffset now, CancellationToken cancellationToken);
}
