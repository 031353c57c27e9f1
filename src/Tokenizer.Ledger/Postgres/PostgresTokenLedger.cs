using Microsoft.Extensions.Logging;
using Npgsql;
using Tokenizer.Core.Ports;

namespace Tokenizer.Ledger.Postgres;

/// <summary>
/// The ledger (<see cref="RelationalTokenLedger"/>: schema and stores) on a PostgreSQL 15+ database, shared by any number of service replicas: the same schema
/// versions and statements as <see cref="SqliteTokenLedger"/> (see <see cref="RelationalTokenLedger"/>), a pooled
/// <see cref="NpgsqlDataSource"/>, transactions at READ COMMITTED. Register as a singleton per database and call
/// <see cref="RelationalTokenLedger.InitializeAsync"/> before anything else. Thread-safe.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="RelationalTokenLedger.InitializeAsync"/> applies pending migrations in one transaction under a
/// transaction-scoped advisory lock, so replicas starting together apply each version once. Idempotency claims are
/// decided by the primary key (<c>INSERT ... ON CONFLICT DO NOTHING</c>, then a read), so exactly one replica starts a
/// given request; lease take-over is an UPDATE conditional on the <c>updated_at</c> that was read.
/// </para>
/// <para>
/// Npgsql never logs parameter values, and <c>Include Error Detail</c> is forced off. Failures other than the documented
/// ones surface as <see cref="NpgsqlException"/> (<see cref="PostgresException"/> for errors the server reports:
/// a missing table, a refused connection, TLS verification failures...). Serialization failures and deadlocks are
/// retried (4 attempts); lost connections are not, since a commit's outcome is then unknown. Disposing closes the pool.
/// </para>
/// </remarks>
public sealed class PostgresTokenLedger : RelationalTokenLedger
{
    /// <param name="options">The connection string (see <see cref="PostgresLedgerOptions.ConnectionString"/>).</param>
    /// <param name="timeProvider">The clock for times the port does not pass in (completion, migration records).</param>
    /// <param name="loggerFactory">The ledger's events (migrations, retries, anomalies) and Npgsql's own; never input or parameter values.</param>
    /// <exception cref="ArgumentException">The connection string is empty or malformed (the message names the setting, never its value).</exception>
    public PostgresTokenLedger(PostgresLedgerOptions options, TimeProvider timeProvider, ILoggerFactory loggerFactory)
        : base(CreateDatabase(options, timeProvider, loggerFactory), timeProvider, loggerFactory.CreateLogger<PostgresTokenLedger>())
    {
        TimeProvider = timeProvider;
    }

    /// <summary>The SSL mode the connection string asked for (Npgsql's default, <c>Prefer</c>, when it names none).</summary>
    public SslMode SslMode => Database.SslMode;

    /// <summary>The PostgreSQL plumbing, shared with the audit trail and the key repository built on this ledger.</summary>
    internal PostgresDatabase Database => (PostgresDatabase)LedgerDatabase;

    /// <summary>The ledger's clock, for the key repository built on it.</summary>
    internal TimeProvider TimeProvider { get; }

    private static PostgresDatabase CreateDatabase(PostgresLedgerOptions options, TimeProvider timeProvider, ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        return new PostgresDatabase(options.ConnectionString, loggerFactory, loggerFactory.CreateLogger<PostgresTokenLedger>());
    }
}
