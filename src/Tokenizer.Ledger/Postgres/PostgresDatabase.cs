using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Npgsql;
using Tokenizer.Ledger.Schema;

namespace Tokenizer.Ledger.Postgres;

/// <summary>
/// Everything PostgreSQL-specific about the ledger: one <see cref="NpgsqlDataSource"/> (a connection pool) per
/// database, write transactions and their retry on serialization failures and deadlocks, and applying
/// <see cref="LedgerMigrations"/> under an advisory lock. Thread-safe; share one instance between the ledger, the audit
/// trail and the key repository of a process.
/// </summary>
/// <remarks>
/// Transactions run at READ COMMITTED. Races between instances are decided by the database, never by a read followed by
/// a write: unique constraints with <c>ON CONFLICT DO NOTHING</c> (idempotency claims, customers), conditional updates
/// (lease take-over) and advisory locks where one writer at a time is the rule (migrations, audit appends).
/// Npgsql never logs parameter values (<see cref="NpgsqlDataSourceBuilder.EnableParameterLogging"/> is off) and server
/// error details, which can quote row values, are never requested (<c>Include Error Detail</c> is forced off).
/// </remarks>
internal sealed class PostgresDatabase : ILedgerDatabase
{
    private const int MaxAttempts = 4;
    private const string SerializationFailure = "40001";
    private const string DeadlockDetected = "40P01";

    private readonly NpgsqlDataSource dataSource;
    private readonly ILogger logger;

    /// <param name="connectionString">An Npgsql connection string; its SSL settings are used as given.</param>
    /// <param name="loggerFactory">Receives Npgsql's own events (connection errors...), never parameter values.</param>
    /// <param name="logger">Migration and retry events of the ledger.</param>
    /// <exception cref="ArgumentException">The connection string is empty or not an Npgsql connection string.</exception>
    public PostgresDatabase(string connectionString, ILoggerFactory loggerFactory, ILogger logger)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new ArgumentException("the PostgreSQL ledger needs a connection string (ConnectionStrings:Ledger)", nameof(connectionString));
        }

        NpgsqlConnectionStringBuilder settings;
        try
        {
            settings = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidCastException)
        {
            // Npgsql's message can quote the offending value, which may be the password: name the setting only.
            throw new ArgumentException("the PostgreSQL ledger connection string (ConnectionStrings:Ledger) is malformed", nameof(connectionString));
        }

        settings.IncludeErrorDetail = false;
        if (string.IsNullOrEmpty(settings.ApplicationName))
        {
            settings.ApplicationName = "tokenizer";
        }

        var builder = new NpgsqlDataSourceBuilder(settings.ConnectionString);
        builder.EnableParameterLogging(false);
        builder.UseLoggerFactory(loggerFactory);
        dataSource = builder.Build();
        this.logger = logger;
        SslMode = settings.SslMode;
    }

    /// <inheritdoc />
    public SqlDialect Dialect => SqlDialect.Postgres;

    /// <summary>The SSL mode in force (from the connection string; Npgsql's default is Prefer).</summary>
    public SslMode SslMode { get; }

    /// <summary>The pool, for synchronous callers (the Data Protection key repository).</summary>
    public NpgsqlDataSource DataSource => dataSource;

    /// <inheritdoc />
    public Task<T> ReadAsync<T>(Func<DbConnection, CancellationToken, Task<T>> read, CancellationToken cancellationToken, [CallerMemberName] string operation = "")
        => LedgerTracing.TraceAsync("postgresql", "read", operation, () => ReadUntracedAsync(read, cancellationToken));

    /// <inheritdoc />
    public Task<T> WriteAsync<T>(Func<DbTransaction, CancellationToken, Task<T>> work, CancellationToken cancellationToken, [CallerMemberName] string operation = "")
        => LedgerTracing.TraceAsync("postgresql", "write", operation, () => WriteUntracedAsync(work, cancellationToken));

    /// <summary>Runs <paramref name="read"/> on a pooled connection.</summary>
    private async Task<T> ReadUntracedAsync<T>(Func<DbConnection, CancellationToken, Task<T>> read, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        return await read(connection, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Runs <paramref name="work"/> in one transaction and commits it.</summary>
    /// <remarks>Retries on serialization failure (40001) and deadlock (40P01), up to 4 attempts.</remarks>
    private async Task<T> WriteUntracedAsync<T>(Func<DbTransaction, CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                var result = await work(transaction, cancellationToken).ConfigureAwait(false);
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                return result;
            }
            catch (PostgresException e) when (e.SqlState is SerializationFailure or DeadlockDetected && attempt < MaxAttempts)
            {
                Log.TransientRetry(logger, e.SqlState, attempt + 1, MaxAttempts);

                // Real time on purpose: the other transaction finishes in wall-clock time, whatever clock the host injects.
                await Task.Delay(TimeSpan.FromMilliseconds(25 << attempt), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// One transaction holding the advisory lock <see cref="AdvisoryLocks.Migrations"/>: a second instance starting at the
    /// same time waits, then finds everything applied. PostgreSQL DDL is transactional, so a failed migration leaves the
    /// schema as it was.
    /// </remarks>
    public async Task MigrateAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var applied = await WriteAsync(
            async (transaction, ct) =>
            {
                await transaction.ExecuteAsync(SqlDialect.AdvisoryLock(AdvisoryLocks.Migrations), ct).ConfigureAwait(false);
                await LedgerMigrations.PrepareAsync(transaction, Dialect, ct).ConfigureAwait(false);
                var applied = new List<LedgerMigration>();
                foreach (var migration in LedgerMigrations.All)
                {
                    if (await LedgerMigrations.ApplyAsync(transaction, Dialect, migration, now, ct).ConfigureAwait(false))
                    {
                        applied.Add(migration);
                    }
                }

                return applied;
            },
            cancellationToken).ConfigureAwait(false);
        foreach (var migration in applied)
        {
            Log.MigrationApplied(logger, migration.Version, migration.Name);
        }
    }

    /// <summary>Closes the pool's connections.</summary>
    public void Dispose() => dataSource.Dispose();
}
