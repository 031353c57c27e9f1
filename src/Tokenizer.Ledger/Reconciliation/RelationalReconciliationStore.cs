using System.Data.Common;
using System.Globalization;
using System.Text;
using Tokenizer.Core.Domain;
using Tokenizer.Core.Reconciliation;
using Tokenizer.Ledger.Postgres;
using Tokenizer.Ledger.Schema;

namespace Tokenizer.Ledger.Reconciliation;

/// <summary>
/// <see cref="IReconciliationStore"/> in the token ledger's database (tables <c>reconciliation_runs</c> and
/// <c>reconciliation_items</c>, migration 5), on the ledger's connections (SQLite: its write queue; PostgreSQL: its
/// pool). The same statements for both providers (<see cref="ReconciliationSql"/>). Thread-safe.
/// </summary>
/// <remarks>
/// Items hold masked metadata only (brand or bank identifier, last4), as the tokens table does. Claims and progress are
/// conditional updates on the run's owner, so two workers (processes, replicas) never both advance one run.
/// </remarks>
public sealed class RelationalReconciliationStore : IReconciliationStore
{
    private const int MaxRunPageSize = 100;
    private const int MaxItemPageSize = 1000;
    private const int MaxLookup = 100;
    private const int MaxDetailLength = 300;

    private readonly ILedgerDatabase database;

    /// <param name="ledger">The token ledger whose database holds the runs; must outlive this store. Call its InitializeAsync first (migration 5).</param>
    public RelationalReconciliationStore(RelationalTokenLedger ledger)
    {
        ArgumentNullException.ThrowIfNull(ledger);
        database = ledger.SharedDatabase;
    }

    /// <inheritdoc />
    public Task<(ReconciliationRun Run, bool Created)> CreateRunAsync(ReconciliationRun run, string requestKeyId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentException.ThrowIfNullOrEmpty(requestKeyId);
        return database.WriteAsync(
            async (transaction, ct) =>
            {
                int inserted;
                using (var insert = transaction.Command(ReconciliationSql.InsertRun))
                {
                    insert.Bind("@run_id", run.RunId)
                        .Bind("@started_by", run.StartedBy)
                        .Bind("@request_key_id", requestKeyId)
                        .Bind("@period_from", UnixMicros.From(run.Filter.From))
                        .Bind("@period_to", UnixMicros.From(run.Filter.To))
                        .Bind("@customer_reference", run.Filter.CustomerReference)
                        .Bind("@token_type", run.Filter.Type is { } type ? TokenTexts.Type.Text(type) : null)
                        .Bind("@now", UnixMicros.From(run.CreatedAt));
                    inserted = await insert.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                }

                using var select = transaction.Command(ReconciliationSql.SelectRunByKey);
                select.Bind("@started_by", run.StartedBy).Bind("@request_key_id", requestKeyId);
                var stored = await ReadRunsAsync(select, ct).ConfigureAwait(false);
                return (stored.Single(), inserted == 1);
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public Task<ReconciliationRun?> GetRunAsync(string runId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(runId);
        return database.ReadAsync(
            async (connection, ct) =>
            {
                using var select = connection.Command(ReconciliationSql.SelectRun);
                select.Bind("@run_id", runId);
                return (await ReadRunsAsync(select, ct).ConfigureAwait(false)).SingleOrDefault();
            },
            cancellationToken);
    }

    /// <inheritdoc />
    /// <exception cref="Core.Errors.TokenizerException">INVALID_ARGUMENT, field <c>page_token</c>: malformed.</exception>
    public Task<ReconciliationRunPage> ListRunsAsync(int pageSize, string? pageToken, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pageSize, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(pageSize, MaxRunPageSize);
        PagePosition? after = pageToken is null ? null : PageToken.Decode(pageToken);
        return database.ReadAsync(
            async (connection, ct) =>
            {
                using var select = connection.CreateCommand();
                var sql = new StringBuilder(ReconciliationSql.SelectRuns);
                if (after is { } position)
                {
                    sql.Append(ReconciliationSql.WhereRunAfterPosition);
                    select.Bind("@after_created_at", position.CreatedAtMicros).Bind("@after_run_id", position.Token);
                }

                SetText(select, sql.Append(ReconciliationSql.RunsOrder));
                select.Bind("@limit", pageSize + 1);
                var runs = await ReadRunsAsync(select, ct).ConfigureAwait(false);
                if (runs.Count <= pageSize)
                {
                    return new ReconciliationRunPage(runs, null);
                }

                runs.RemoveAt(pageSize);
                var last = runs[^1];
                return new ReconciliationRunPage(runs, PageToken.Encode(new PagePosition(UnixMicros.From(last.CreatedAt), last.RunId)));
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<ReconciliationRun>> ListResumableRunsAsync(
        DateTimeOffset runningStaleBefore,
        DateTimeOffset interruptedBefore,
        int limit,
        CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<ReconciliationRun>>(
            async (connection, ct) =>
            {
                using var select = connection.Command(ReconciliationSql.SelectResumableRuns);
                select.Bind("@running_stale_before", UnixMicros.From(runningStaleBefore))
                    .Bind("@interrupted_before", UnixMicros.From(interruptedBefore))
                    .Bind("@limit", limit);
                return await ReadRunsAsync(select, ct).ConfigureAwait(false);
            },
            cancellationToken);

    /// <inheritdoc />
    public Task<ReconciliationRun?> ClaimRunAsync(ReconciliationRun seen, string owner, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(seen);
        ArgumentException.ThrowIfNullOrEmpty(owner);
        return database.WriteAsync(
            async (transaction, ct) =>
            {
                using (var claim = transaction.Command(ReconciliationSql.ClaimRun))
                {
                    claim.Bind("@owner", owner)
                        .Bind("@now", UnixMicros.From(now))
                        .Bind("@run_id", seen.RunId)
                        .Bind("@seen_updated_at", UnixMicros.From(seen.UpdatedAt))
                        .Bind("@seen_owner", seen.Owner ?? string.Empty);
                    if (await claim.ExecuteNonQueryAsync(ct).ConfigureAwait(false) != 1)
                    {
                        return null;
                    }
                }

                using var select = transaction.Command(ReconciliationSql.SelectRun);
                select.Bind("@run_id", seen.RunId);
                return (await ReadRunsAsync(select, ct).ConfigureAwait(false)).SingleOrDefault();
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public Task<bool> SaveProgressAsync(string runId, string owner, ReconciliationProgress progress, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(runId);
        ArgumentException.ThrowIfNullOrEmpty(owner);
        ArgumentNullException.ThrowIfNull(progress);
        var cursor = progress.Cursor;
        return database.WriteAsync(
            async (transaction, ct) =>
            {
                using (var update = transaction.Command(ReconciliationSql.SaveProgress))
                {
                    update.Bind("@phase", ReconciliationTexts.Phase.Text(cursor.Phase))
                        .Bind("@after_customer", cursor.AfterCustomer)
                        .Bind("@current_customer", cursor.CurrentCustomer)
                        .Bind("@gateway_starting_after", cursor.GatewayStartingAfter)
                        .Bind("@sweep_after_token", cursor.SweepAfterToken)
                        .Bind("@customers_done", (long)progress.CustomersDone)
                        .Bind("@gateway_requests", (long)progress.GatewayRequests)
                        .Bind("@now", UnixMicros.From(now))
                        .Bind("@run_id", runId)
                        .Bind("@owner", owner);
                    if (await update.ExecuteNonQueryAsync(ct).ConfigureAwait(false) != 1)
                    {
                        return false;
                    }
                }

                foreach (var item in progress.Items)
                {
                    using var upsert = transaction.Command(ReconciliationSql.UpsertItem);
                    BindItem(upsert, runId, item);
                    await upsert.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                }

                return true;
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public Task<bool> FinishRunAsync(
        string runId,
        string owner,
        ReconciliationState state,
        string? errorReason,
        DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(runId);
        ArgumentException.ThrowIfNullOrEmpty(owner);
        var micros = UnixMicros.From(now);
        return database.WriteAsync(
            async (transaction, ct) =>
            {
                using var update = transaction.Command(ReconciliationSql.FinishRun);
                update.Bind("@state", ReconciliationTexts.State.Text(state))
                    .Bind("@error_reason", errorReason is null ? null : Truncate(errorReason, 100))
                    .Bind("@now", micros)
                    .Bind("@completed_at", state == ReconciliationState.Completed ? micros : null)
                    .Bind("@run_id", runId)
                    .Bind("@owner", owner);
                return await update.ExecuteNonQueryAsync(ct).ConfigureAwait(false) == 1;
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public Task SetCustomersTotalAsync(string runId, long total, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async (transaction, ct) =>
            {
                using var update = transaction.Command(ReconciliationSql.SetCustomersTotal);
                update.Bind("@total", total).Bind("@run_id", runId);
                return await update.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            },
            cancellationToken);

    /// <inheritdoc />
    public Task<long> CountCustomersAsync(string gateway, string? customerReference, CancellationToken cancellationToken) =>
        database.ReadAsync(
            async (connection, ct) =>
            {
                using var select = connection.CreateCommand();
                var sql = new StringBuilder(ReconciliationSql.CountCustomers);
                select.Bind("@gateway", gateway);
                if (customerReference is not null)
                {
                    sql.Append(ReconciliationSql.WhereCustomerReference);
                    select.Bind("@customer_reference", customerReference);
                }

                SetText(select, sql);
                return Convert.ToInt64(await select.ExecuteScalarAsync(ct).ConfigureAwait(false), CultureInfo.InvariantCulture);
            },
            cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<CustomerMapping>> ListCustomersAsync(
        string gateway,
        string? customerReference,
        string? afterReference,
        int limit,
        CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<CustomerMapping>>(
            async (connection, ct) =>
            {
                using var select = connection.CreateCommand();
                var sql = new StringBuilder(ReconciliationSql.SelectCustomers);
                select.Bind("@gateway", gateway);
                if (customerReference is not null)
                {
                    sql.Append(ReconciliationSql.WhereCustomerReference);
                    select.Bind("@customer_reference", customerReference);
                }

                if (afterReference is not null)
                {
                    sql.Append(ReconciliationSql.WhereCustomerAfter);
                    select.Bind("@after_reference", afterReference);
                }

                SetText(select, sql.Append(ReconciliationSql.CustomersOrder));
                select.Bind("@limit", limit);
                return await select.QueryAsync(static reader => new CustomerMapping(reader.GetString(0), reader.GetString(1)), ct).ConfigureAwait(false);
            },
            cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyDictionary<string, TokenRecord>> GetTokensAsync(IReadOnlyCollection<string> tokens, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(tokens.Count, MaxLookup, nameof(tokens));
        if (tokens.Count == 0)
        {
            return Task.FromResult<IReadOnlyDictionary<string, TokenRecord>>(new Dictionary<string, TokenRecord>());
        }

        return database.ReadAsync<IReadOnlyDictionary<string, TokenRecord>>(
            async (connection, ct) =>
            {
                using var select = connection.CreateCommand();
                var sql = new StringBuilder(ReconciliationSql.SelectTokensIn);
                var index = 0;
                foreach (var token in tokens)
                {
                    // Parameter names are generated from an index: no input reaches the text.
                    var name = string.Create(CultureInfo.InvariantCulture, $"@t{index}");
                    sql.Append(index == 0 ? string.Empty : ", ").Append(name);
                    select.Bind(name, token);
                    index++;
                }

                SetText(select, sql.Append(')'));
                var records = await select.QueryAsync(TokenRows.Read, ct).ConfigureAwait(false);
                return records.ToDictionary(record => record.Token, StringComparer.Ordinal);
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<TokenRecord>> ListUnseenTokensAsync(
        string runId,
        ReconciliationFilter filter,
        string? afterToken,
        int limit,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(filter);
        return database.ReadAsync<IReadOnlyList<TokenRecord>>(
            async (connection, ct) =>
            {
                using var select = connection.CreateCommand();
                var sql = new StringBuilder(ReconciliationSql.SelectUnseenTokens);
                select.Bind("@period_from", UnixMicros.From(filter.From))
                    .Bind("@period_to", UnixMicros.From(filter.To))
                    .Bind("@run_id", runId);
                if (filter.CustomerReference is { } reference)
                {
                    sql.Append(ReconciliationSql.WhereTokenCustomer);
                    select.Bind("@customer_reference", reference);
                }

                if (filter.Type is { } type)
                {
                    sql.Append(ReconciliationSql.WhereTokenType);
                    select.Bind("@token_type", TokenTexts.Type.Text(type));
                }

                if (afterToken is not null)
                {
                    sql.Append(ReconciliationSql.WhereTokenAfter);
                    select.Bind("@after_token", afterToken);
                }

                SetText(select, sql.Append(ReconciliationSql.TokensOrder));
                select.Bind("@limit", limit);
                return await select.QueryAsync(TokenRows.Read, ct).ConfigureAwait(false);
            },
            cancellationToken);
    }

    /// <inheritdoc />
    /// <exception cref="Core.Errors.TokenizerException">INVALID_ARGUMENT, field <c>page_token</c>: malformed.</exception>
    public Task<ReconciliationItemPage> ListItemsAsync(
        string runId,
        ReconciliationCategory? category,
        int pageSize,
        string? pageToken,
        CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pageSize, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(pageSize, MaxItemPageSize);
        var afterToken = pageToken is null ? null : PageToken.Decode(pageToken).Token;
        return database.ReadAsync(
            async (connection, ct) =>
            {
                using var select = connection.CreateCommand();
                var sql = new StringBuilder(ReconciliationSql.SelectItems);
                select.Bind("@run_id", runId);
                if (category is { } value)
                {
                    sql.Append(ReconciliationSql.WhereItemCategory);
                    select.Bind("@category", ReconciliationTexts.Category.Text(value));
                }

                if (afterToken is not null)
                {
                    sql.Append(ReconciliationSql.WhereItemAfterToken);
                    select.Bind("@after_token", afterToken);
                }

                SetText(select, sql.Append(ReconciliationSql.ItemsOrder));
                select.Bind("@limit", pageSize + 1);
                var items = await select.QueryAsync(ReadItem, ct).ConfigureAwait(false);

                if (items.Count <= pageSize)
                {
                    return new ReconciliationItemPage(items, null);
                }

                items.RemoveAt(pageSize);
                return new ReconciliationItemPage(items, PageToken.Encode(new PagePosition(0, items[^1].Token)));
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<ReconciliationCount>> CountItemsAsync(string runId, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<ReconciliationCount>>(
            async (connection, ct) =>
            {
                using var select = connection.Command(ReconciliationSql.CountItems).Bind("@run_id", runId);
                return await select.QueryAsync(
                    static reader => new ReconciliationCount(
                        ReconciliationTexts.Category.Parse(reader.GetString(0), "reconciliation_items.category"),
                        reader.GetNullableString(1) is { } type ? TokenTexts.Type.Parse(type, "reconciliation_items.type") : null,
                        reader.GetNullableString(2),
                        reader.GetInt64(3)),
                    ct).ConfigureAwait(false);
            },
            cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<ReconciliationDailyCount>> CountItemsByDayAsync(string runId, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<ReconciliationDailyCount>>(
            async (connection, ct) =>
            {
                using var select = connection.Command(ReconciliationSql.CountItemsByDay).Bind("@run_id", runId);
                return await select.QueryAsync(
                    static reader => new ReconciliationDailyCount(
                        DateOnly.FromDateTime(DateTime.UnixEpoch.AddDays(reader.GetInt64(0))),
                        ReconciliationTexts.Category.Parse(reader.GetString(1), "reconciliation_items.category"),
                        reader.GetInt64(2)),
                    ct).ConfigureAwait(false);
            },
            cancellationToken);

    private static string Truncate(string value, int length) => value.Length <= length ? value : value[..length];

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA2100:Review SQL queries for security vulnerabilities", Justification = "The text is assembled from ReconciliationSql constant fragments and index-numbered parameter names only; every value travels as a bound parameter.")]
    private static void SetText(DbCommand command, StringBuilder sql) => command.CommandText = sql.ToString();

    private static void BindItem(DbCommand command, string runId, ReconciliationItem item)
    {
        if ((item.Last4?.Length ?? 0) > 4)
        {
            throw new ArgumentException("last4 is longer than four characters", nameof(item));
        }

        command.Bind("@run_id", runId)
            .Bind("@token", item.Token)
            .Bind("@type", item.Type is { } type ? TokenTexts.Type.Text(type) : null)
            .Bind("@brand", item.Brand)
            .Bind("@last4", item.Last4)
            .Bind("@customer_reference", item.CustomerReference)
            .Bind("@created_at", UnixMicros.From(item.CreatedAt))
            .Bind("@ledger_status", item.LedgerStatus)
            .Bind("@gateway_status", item.GatewayStatus)
            .Bind("@category", ReconciliationTexts.Category.Text(item.Category))
            .Bind("@detail", item.Detail is null ? null : Truncate(item.Detail, MaxDetailLength));
    }

    private static ReconciliationItem ReadItem(DbDataReader reader) => new()
    {
        Token = reader.GetString(0),
        Type = reader.GetNullableString(1) is { } type ? TokenTexts.Type.Parse(type, "reconciliation_items.type") : null,
        Brand = reader.GetNullableString(2),
        Last4 = reader.GetNullableString(3),
        CustomerReference = reader.GetNullableString(4),
        CreatedAt = UnixMicros.ToDateTimeOffset(reader.GetInt64(5)),
        LedgerStatus = reader.GetString(6),
        GatewayStatus = reader.GetString(7),
        Category = ReconciliationTexts.Category.Parse(reader.GetString(8), "reconciliation_items.category"),
        Detail = reader.GetNullableString(9),
    };

    private static Task<List<ReconciliationRun>> ReadRunsAsync(DbCommand select, CancellationToken cancellationToken) =>
        select.QueryAsync(ReadRun, cancellationToken);

    private static ReconciliationRun ReadRun(DbDataReader reader) => new()
    {
        RunId = reader.GetString(0),
        StartedBy = reader.GetString(1),
        Filter = new ReconciliationFilter(
            UnixMicros.ToDateTimeOffset(reader.GetInt64(2)),
            UnixMicros.ToDateTimeOffset(reader.GetInt64(3)),
            reader.GetNullableString(4),
            reader.GetNullableString(5) is { } type ? TokenTexts.Type.Parse(type, "reconciliation_runs.token_type") : null),
        State = ReconciliationTexts.State.Parse(reader.GetString(6), "reconciliation_runs.state"),
        Cursor = new ReconciliationCursor(
            ReconciliationTexts.Phase.Parse(reader.GetString(7), "reconciliation_runs.phase"),
            reader.GetNullableString(8),
            reader.GetNullableString(9),
            reader.GetNullableString(10),
            reader.GetNullableString(11)),
        Owner = reader.GetNullableString(12),
        ErrorReason = reader.GetNullableString(13),
        CustomersDone = reader.GetInt64(14),
        CustomersTotal = reader.GetInt64(15),
        ItemsTotal = reader.GetInt64(16),
        Discrepancies = reader.GetInt64(17),
        GatewayRequests = reader.GetInt64(18),
        CreatedAt = UnixMicros.ToDateTimeOffset(reader.GetInt64(19)),
        UpdatedAt = UnixMicros.ToDateTimeOffset(reader.GetInt64(20)),
        CompletedAt = reader.GetNullableInt64(21) is { } completed ? UnixMicros.ToDateTimeOffset(completed) : null,
    };
}
