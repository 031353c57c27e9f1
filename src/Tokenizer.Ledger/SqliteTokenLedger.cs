using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Tokenizer.Core.Domain;
using Tokenizer.Core.Errors;
using Tokenizer.Core.Ports;
using Tokenizer.Ledger.Schema;
using Tokenizer.Ledger.Sqlite;

namespace Tokenizer.Ledger;

/// <summary>
/// <see cref="ITokenLedger"/> on one SQLite file: WAL, <c>synchronous=FULL</c> (a commit is durable when the call
/// returns), a connection per operation from the pool. Register as a singleton (one per database file) and call
/// <see cref="InitializeAsync"/> before anything else. Thread-safe.
/// </summary>
/// <remarks>
/// Times are stored as unix microseconds UTC: values read back are UTC and truncated to the microsecond.
/// A database that cannot be reached or written (a lock held past the busy timeout on every retry, read-only, disk
/// full, I/O error, cannot open) surfaces as <see cref="TokenizerException"/> UNAVAILABLE <c>LEDGER_UNAVAILABLE</c>;
/// other failures (corruption, schema) as <see cref="SqliteException"/>. Every write is one transaction: a failure
/// leaves nothing half-written.
/// </remarks>
public sealed class SqliteTokenLedger : ITokenLedger, IAsyncDisposable, IDisposable
{
    private const int HmacLength = 32;
    private const int MaxPageSize = 100;
    private const string ClaimPending = "pending";

    private readonly SqliteDatabase database;
    private readonly TimeProvider timeProvider;
    private readonly ILogger<SqliteTokenLedger> logger;

    /// <param name="options">Where the database lives.</param>
    /// <param name="timeProvider">The clock for times the port does not pass in (completion, migration records).</param>
    /// <param name="logger">Migration, retry and anomaly events; never input values.</param>
    /// <exception cref="ArgumentException"><see cref="SqliteLedgerOptions.DatabasePath"/> is empty.</exception>
    public SqliteTokenLedger(SqliteLedgerOptions options, TimeProvider timeProvider, ILogger<SqliteTokenLedger> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(logger);
        if (string.IsNullOrWhiteSpace(options.DatabasePath))
        {
            throw new ArgumentException("SqliteLedgerOptions.DatabasePath must be set", nameof(options));
        }

        this.timeProvider = timeProvider;
        this.logger = logger;
        database = new SqliteDatabase(options.DatabasePath, logger, options.BusyTimeout);
    }

    /// <summary>The SQLite plumbing, for tests that inspect pragmas or the schema.</summary>
    internal SqliteDatabase Database => database;

    /// <inheritdoc />
    /// <remarks>
    /// Creates the parent directory and the file, switches it to WAL, and applies pending migrations each in its own
    /// transaction. Throws <see cref="InvalidOperationException"/> if the file holds a newer schema than this build or
    /// cannot use WAL.
    /// </remarks>
    public Task InitializeAsync(CancellationToken cancellationToken) =>
        database.MigrateAsync(timeProvider.GetUtcNow(), cancellationToken);

    /// <inheritdoc />
    /// <remarks>
    /// Atomic across threads and processes. Operation and HMAC are both compared (the HMAC in constant time);
    /// a pending claim is live while <c>updated_at + Lease &gt; Now</c>. Taking over a claim moves its
    /// <c>updated_at</c> to <see cref="IdempotencyClaim.Now"/>.
    /// </remarks>
    /// <exception cref="ArgumentException">The HMAC is not 32 bytes, the lease is negative, or a string is empty.</exception>
    public Task<IdempotencyOutcome> BeginAsync(IdempotencyClaim claim, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(claim);
        ArgumentException.ThrowIfNullOrEmpty(claim.CallerId, nameof(claim));
        ArgumentException.ThrowIfNullOrEmpty(claim.Key, nameof(claim));
        ArgumentException.ThrowIfNullOrEmpty(claim.Operation, nameof(claim));
        if (claim.RequestHmac is not { Length: HmacLength })
        {
            throw new ArgumentException("the request HMAC must be 32 bytes", nameof(claim));
        }

        if (claim.Lease < TimeSpan.Zero)
        {
            throw new ArgumentException("the lease must not be negative", nameof(claim));
        }

        var now = UnixMicros.From(claim.Now);
        var lease = UnixMicros.From(claim.Lease);
        return database.WriteAsync(
            async (transaction, ct) =>
            {
                using (var insert = SqliteDatabase.Command(transaction, LedgerSql.InsertPendingClaim))
                {
                    BindKey(insert, claim.CallerId, claim.Key)
                        .Bind("@operation", claim.Operation)
                        .Bind("@request_hmac", claim.RequestHmac)
                        .Bind("@now", now);
                    if (await insert.ExecuteNonQueryAsync(ct).ConfigureAwait(false) == 1)
                    {
                        return new IdempotencyOutcome(IdempotencyState.Started);
                    }
                }

                // The write lock is ours since BEGIN IMMEDIATE: the row that blocked the insert is still there.
                var existing = await ReadClaimAsync(transaction, claim.CallerId, claim.Key, ct).ConfigureAwait(false)
                    ?? throw new InvalidOperationException("idempotency record vanished inside a write transaction");
                if (!string.Equals(existing.Operation, claim.Operation, StringComparison.Ordinal)
                    || !CryptographicOperations.FixedTimeEquals(existing.RequestHmac, claim.RequestHmac))
                {
                    return new IdempotencyOutcome(IdempotencyState.Conflict);
                }

                if (!string.Equals(existing.State, ClaimPending, StringComparison.Ordinal))
                {
                    return new IdempotencyOutcome(IdempotencyState.Replay, existing.Response);
                }

                if (existing.UpdatedAt + lease > now)
                {
                    return new IdempotencyOutcome(IdempotencyState.InFlight);
                }

                using var takeOver = SqliteDatabase.Command(transaction, LedgerSql.TakeOverClaim);
                BindKey(takeOver, claim.CallerId, claim.Key)
                    .Bind("@now", now)
                    .Bind("@seen_updated_at", existing.UpdatedAt);
                return await takeOver.ExecuteNonQueryAsync(ct).ConfigureAwait(false) == 1
                    ? new IdempotencyOutcome(IdempotencyState.Started)
                    : new IdempotencyOutcome(IdempotencyState.InFlight);
            },
            cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>
    /// The token is recorded even when the claim is no longer pending (released, or completed first by an owner that
    /// took over): the gateway token exists, so the ledger must know it. A completed record keeps its first response,
    /// so replays never change. On an existing token, status and revoked_at only move towards revoked; gateway, type,
    /// caller, customer reference and created_at keep their first values; the masked metadata takes the new values.
    /// </remarks>
    /// <exception cref="ArgumentException">The response is empty, or the token's id or metadata is malformed.</exception>
    public Task CompleteAsync(
        string callerId,
        string key,
        string responseJson,
        TokenRecord token,
        CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(callerId);
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentException.ThrowIfNullOrEmpty(responseJson);
        ArgumentNullException.ThrowIfNull(token);
        TokenRows.Validate(token);

        var now = UnixMicros.From(timeProvider.GetUtcNow());
        return database.WriteAsync(
            async (transaction, ct) =>
            {
                using (var upsert = SqliteDatabase.Command(transaction, LedgerSql.UpsertToken))
                {
                    TokenRows.BindToken(upsert, token);
                    await upsert.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                }

                using var complete = SqliteDatabase.Command(transaction, LedgerSql.CompleteClaim);
                BindKey(complete, callerId, key).Bind("@response", responseJson).Bind("@now", now);
                if (await complete.ExecuteNonQueryAsync(ct).ConfigureAwait(false) == 0)
                {
                    Log.CompletedWithoutPendingClaim(logger, token.Token);
                }

                return true;
            },
            cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>Releasing a key that is unknown or completed does nothing.</remarks>
    public Task ReleaseAsync(string callerId, string key, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(callerId);
        ArgumentException.ThrowIfNullOrEmpty(key);
        return database.WriteAsync(
            async (transaction, ct) =>
            {
                using var delete = SqliteDatabase.Command(transaction, LedgerSql.ReleaseClaim);
                BindKey(delete, callerId, key);
                return await delete.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public Task<string?> FindCustomerAsync(string gateway, string customerReference, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(gateway);
        ArgumentException.ThrowIfNullOrEmpty(customerReference);
        return database.ReadAsync(
            async (connection, ct) =>
            {
                using var select = connection.CreateCommand();
                select.CommandText = LedgerSql.SelectCustomer;
                select.Bind("@gateway", gateway).Bind("@customer_reference", customerReference);
                return (string?)await select.ExecuteScalarAsync(ct).ConfigureAwait(false);
            },
            cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks><paramref name="now"/> is recorded as created_at only when this call's mapping is the one stored.</remarks>
    public Task<string> SaveCustomerAsync(
        string gateway,
        string customerReference,
        string gatewayCustomerId,
        DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(gateway);
        ArgumentException.ThrowIfNullOrEmpty(customerReference);
        ArgumentException.ThrowIfNullOrEmpty(gatewayCustomerId);
        return database.WriteAsync(
            async (transaction, ct) =>
            {
                using (var insert = SqliteDatabase.Command(transaction, LedgerSql.InsertCustomer))
                {
                    insert.Bind("@gateway", gateway)
                        .Bind("@customer_reference", customerReference)
                        .Bind("@gateway_customer_id", gatewayCustomerId)
                        .Bind("@now", UnixMicros.From(now));
                    await insert.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                }

                using var select = SqliteDatabase.Command(transaction, LedgerSql.SelectCustomer);
                select.Bind("@gateway", gateway).Bind("@customer_reference", customerReference);
                return (string?)await select.ExecuteScalarAsync(ct).ConfigureAwait(false)
                    ?? throw new InvalidOperationException("customer mapping vanished inside a write transaction");
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public Task<TokenRecord?> GetTokenAsync(string token, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(token);
        return database.ReadAsync(
            async (connection, ct) =>
            {
                using var select = connection.CreateCommand();
                select.CommandText = LedgerSql.SelectToken;
                select.Bind("@token", token);
                using var reader = await select.ExecuteReaderAsync(ct).ConfigureAwait(false);
                return await reader.ReadAsync(ct).ConfigureAwait(false) ? TokenRows.Read(reader) : null;
            },
            cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>
    /// Filters: customer reference equal, status equal, <c>CreatedAfter &lt;= created_at &lt; CreatedBefore</c>
    /// (microsecond precision). The page token only positions the page; the filters always come from
    /// <paramref name="query"/>, so a token from another listing cannot widen this one.
    /// </remarks>
    /// <exception cref="TokenizerException">INVALID_ARGUMENT, field <c>page_token</c>: the page token is malformed.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="TokenQuery.PageSize"/> is not 1-100.</exception>
    public Task<TokenPage> ListTokensAsync(TokenQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfLessThan(query.PageSize, 1, nameof(query));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(query.PageSize, MaxPageSize, nameof(query));
        PagePosition? after = query.PageToken is null ? null : PageToken.Decode(query.PageToken);

        return database.ReadAsync(
            async (connection, ct) =>
            {
                using var select = connection.CreateCommand();
                BuildListCommand(select, query, after);
                var tokens = new List<TokenRecord>(query.PageSize + 1);
                using (var reader = await select.ExecuteReaderAsync(ct).ConfigureAwait(false))
                {
                    while (await reader.ReadAsync(ct).ConfigureAwait(false))
                    {
                        tokens.Add(TokenRows.Read(reader));
                    }
                }

                if (tokens.Count <= query.PageSize)
                {
                    return new TokenPage(tokens, null);
                }

                tokens.RemoveAt(query.PageSize);
                var last = tokens[^1];
                return new TokenPage(tokens, PageToken.Encode(new PagePosition(UnixMicros.From(last.CreatedAt), last.Token)));
            },
            cancellationToken);
    }

    /// <summary>Closes this file's pooled connections; the last one to close checkpoints the WAL into the file.</summary>
    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Same as <see cref="DisposeAsync"/>. Also implemented so a DI container disposed synchronously does not throw on
    /// an async-only singleton.
    /// </summary>
    public void Dispose() => database.Dispose();

    /// <summary>Rows in one ledger table, for diagnostics and tests. Reads no row contents.</summary>
    [SuppressMessage("Security", "CA2100:Review SQL queries for security vulnerabilities", Justification = "One of four literal statements chosen by an enum; no input reaches the text.")]
    internal Task<long> CountRowsAsync(LedgerTable table, CancellationToken cancellationToken)
    {
        var sql = table switch
        {
            LedgerTable.Tokens => "SELECT COUNT(*) FROM tokens",
            LedgerTable.Customers => "SELECT COUNT(*) FROM customers",
            LedgerTable.IdempotencyRecords => "SELECT COUNT(*) FROM idempotency_records",
            LedgerTable.SchemaMigrations => "SELECT COUNT(*) FROM schema_migrations",
            _ => throw new ArgumentOutOfRangeException(nameof(table)),
        };
        return database.ReadAsync(
            async (connection, ct) =>
            {
                using var count = connection.CreateCommand();
                count.CommandText = sql;
                return Convert.ToInt64(await count.ExecuteScalarAsync(ct).ConfigureAwait(false), CultureInfo.InvariantCulture);
            },
            cancellationToken);
    }

    [SuppressMessage("Security", "CA2100:Review SQL queries for security vulnerabilities", Justification = "Assembled only from LedgerSql constant fragments; every filter value is a bound parameter (Ledger.Tests: filters with quotes).")]
    private static void BuildListCommand(SqliteCommand command, TokenQuery query, PagePosition? after)
    {
        // Only the fixed fragments of LedgerSql are appended; every value is a parameter.
        var sql = new StringBuilder(LedgerSql.SelectTokens);
        var conjunction = " WHERE ";
        void Where(string condition)
        {
            sql.Append(conjunction).Append(condition);
            conjunction = " AND ";
        }

        if (query.CustomerReference is { } reference)
        {
            Where(LedgerSql.WhereCustomerReference);
            command.Bind("@customer_reference", reference);
        }

        if (query.Status is { } status)
        {
            Where(LedgerSql.WhereStatus);
            command.Bind("@status", TokenRows.StatusName(status));
        }

        if (query.CreatedAfter is { } createdAfter)
        {
            Where(LedgerSql.WhereCreatedAfter);
            command.Bind("@created_after", UnixMicros.From(createdAfter));
        }

        if (query.CreatedBefore is { } createdBefore)
        {
            Where(LedgerSql.WhereCreatedBefore);
            command.Bind("@created_before", UnixMicros.From(createdBefore));
        }

        if (after is { } position)
        {
            Where(LedgerSql.WhereAfterPosition);
            command.Bind("@after_created_at", position.CreatedAtMicros).Bind("@after_token", position.Token);
        }

        command.CommandText = sql.Append(LedgerSql.ListOrder).ToString();
        command.Bind("@limit", query.PageSize + 1);
    }

    private static SqliteCommand BindKey(SqliteCommand command, string callerId, string key)
    {
        command.Bind("@caller_id", callerId).Bind("@idempotency_key", key);
        return command;
    }

    private static async Task<ClaimRow?> ReadClaimAsync(
        SqliteTransaction transaction,
        string callerId,
        string key,
        CancellationToken cancellationToken)
    {
        using var select = SqliteDatabase.Command(transaction, LedgerSql.SelectClaim);
        BindKey(select, callerId, key);
        using var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        return new ClaimRow(
            reader.GetString(0),
            (byte[])reader.GetValue(1),
            reader.GetString(2),
            reader.GetNullableString(3),
            reader.GetInt64(4));
    }

    private sealed record ClaimRow(string Operation, byte[] RequestHmac, string State, string? Response, long UpdatedAt);
}

/// <summary>The ledger's tables, for <see cref="SqliteTokenLedger.CountRowsAsync"/>.</summary>
internal enum LedgerTable
{
    Tokens,
    Customers,
    IdempotencyRecords,
    SchemaMigrations,
}
