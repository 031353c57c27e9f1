using System.Data.Common;
using System.Text;
using Tokenizer.Core.Domain;
using Tokenizer.Core.Errors;
using Tokenizer.Core.Ports;
using Tokenizer.Ledger.Schema;

namespace Tokenizer.Ledger.Tokens;

/// <summary>
/// <see cref="ITokenRepository"/> on the ledger's database, and the owner of table <c>tokens</c>' writes: the rules of a
/// token row (identity fixed by its first insert, revocation one-way) are in <see cref="TokenSql"/> once, run here or by
/// the internal helpers that other stores call inside their own transaction (a claim records its token, an erasure or a
/// webhook revokes one). Thread-safe.
/// </summary>
/// <remarks>
/// Times are stored as unix microseconds UTC: values read back are UTC and truncated to the microsecond.
/// </remarks>
internal sealed class RelationalTokenRepository(ILedgerDatabase database, TimeProvider timeProvider) : ITokenRepository
{
    /// <summary>The SourceId prefix of a setup event appended when a refresh from the gateway changed the status.</summary>
    public const string SetupSourcePrefix = "setup:";

    private const int MaxPageSize = 100;

    /// <inheritdoc />
    /// <remarks>
    /// When the setup status itself changes to one with a token event (<see cref="TokenEventKinds.ForSetup"/>), that
    /// event is appended in the same transaction (source <c>"setup:" + SetupIntent id</c>, so the webhook that reports
    /// the same change later finds nothing changed and appends nothing).
    /// </remarks>
    public Task<bool> UpdateSetupAsync(TokenRecord token, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(token);
        TokenRows.Validate(token);
        var now = timeProvider.GetUtcNow();
        TokenEventDraft? draft = TokenEventKinds.ForSetup(token.Setup.Status) is { } kind && token.Setup.SetupIntentId is { } setupIntent
            ? new TokenEventDraft(token.Token, token.CallerId, kind, SetupSourcePrefix + setupIntent, now, Card: null)
            : null;
        return database.WriteAsync(
            async (transaction, ct) =>
            {
                if (draft is not null)
                {
                    await TokenEvents.RelationalTokenEventStore.TakeAppendLockAsync(transaction, database.Dialect, ct).ConfigureAwait(false);
                }

                using (var status = transaction.Command(TokenSql.UpdateTokenSetupStatus))
                {
                    TokenRows.BindSetupOnly(status, token);
                    if (await status.ExecuteNonQueryAsync(ct).ConfigureAwait(false) == 1)
                    {
                        if (draft is not null)
                        {
                            await TokenEvents.RelationalTokenEventStore.AppendWithChangeAsync(transaction, database.Dialect, draft, now, lockTaken: true, ct).ConfigureAwait(false);
                        }

                        return true;
                    }
                }

                using var update = transaction.Command(TokenSql.UpdateTokenSetup);
                TokenRows.BindSetupOnly(update, token);
                return await update.ExecuteNonQueryAsync(ct).ConfigureAwait(false) == 1;
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public Task MarkRevokeRequestedAsync(string token, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(token);
        var at = UnixMicros.From(now);
        return database.WriteAsync(
            async (transaction, ct) =>
            {
                using var update = transaction.Command(TokenSql.MarkRevokeRequested);
                update.Bind("@token", token).Bind("@now", at);
                return await update.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
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
                using var select = connection.Command(TokenSql.SelectToken).Bind("@token", token);
                return await select.QueryFirstAsync<TokenRecord?>(TokenRows.Read, null, ct).ConfigureAwait(false);
            },
            cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>
    /// Filters: customer reference equal, status equal, <c>CreatedAfter &lt;= created_at &lt; CreatedBefore</c>
    /// (microsecond precision). Token ids tie-break by their bytes (ordinal) with every provider. The page token only
    /// positions the page; the filters always come from <paramref name="query"/>, so a token from another listing
    /// cannot widen this one.
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
                var tokens = await select.QueryAsync(TokenRows.Read, ct).ConfigureAwait(false);

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

    /// <summary>
    /// Inserts <paramref name="token"/> or updates the row with its id (<see cref="TokenSql.UpsertToken"/>: identity
    /// fixed by the first insert, revocation one-way), in the caller's transaction.
    /// </summary>
    internal static async Task UpsertAsync(DbTransaction transaction, TokenRecord token, CancellationToken cancellationToken)
    {
        using var upsert = transaction.Command(TokenSql.UpsertToken);
        TokenRows.BindToken(upsert, token);
        await upsert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Revokes <paramref name="token"/> at <paramref name="revokedAt"/> (unix microseconds) if it is active, in the
    /// caller's transaction; returns whether this write revoked it (false: revoked already, or unknown).
    /// </summary>
    internal static async Task<bool> RevokeActiveAsync(DbTransaction transaction, string token, long revokedAt, CancellationToken cancellationToken)
    {
        using var revoke = transaction.Command(TokenSql.RevokeActiveToken);
        revoke.Bind("@token", token).Bind("@revoked_at", revokedAt);
        return await revoke.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
    }

    /// <summary>The caller of <paramref name="token"/> while it is active (null: revoked or unknown), in the caller's transaction.</summary>
    internal static async Task<string?> FindActiveCallerAsync(DbTransaction transaction, string token, CancellationToken cancellationToken)
    {
        using var select = transaction.Command(TokenSql.SelectActiveTokenCaller);
        select.Bind("@token", token);
        return await select.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as string;
    }

    /// <summary>
    /// An erasure's settled setup (<see cref="TokenSql.SettleSetup"/>: whatever the token's status, only while its stored
    /// setup is still pending under the same SetupIntent), in the caller's transaction. Returns the rows changed.
    /// </summary>
    internal static async Task<int> SettleSetupAsync(DbTransaction transaction, TokenRecord token, CancellationToken cancellationToken)
    {
        using var update = transaction.Command(TokenSql.SettleSetup);
        TokenRows.BindSetupOnly(update, token);
        return await update.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>How many active tokens <paramref name="customerReference"/> holds, in the caller's transaction.</summary>
    internal static async Task<long> CountActiveOfReferenceAsync(DbTransaction transaction, string customerReference, CancellationToken cancellationToken)
    {
        using var count = transaction.Command(TokenSql.CountActiveTokensOfReference);
        count.Bind("@customer_reference", customerReference);
        return Convert.ToInt64(await count.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Replaces <paramref name="customerReference"/> by <paramref name="erasedReference"/> on every token (an erasure).</summary>
    internal static async Task UnlinkReferenceAsync(DbTransaction transaction, string customerReference, string erasedReference, CancellationToken cancellationToken)
    {
        using var unlink = transaction.Command(TokenSql.UnlinkTokens);
        unlink.Bind("@erased_reference", erasedReference).Bind("@customer_reference", customerReference);
        await unlink.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Deletes the tokens revoked before <paramref name="before"/> (unix microseconds; retention); returns how many.</summary>
    internal static async Task<int> PurgeRevokedAsync(DbTransaction transaction, long before, CancellationToken cancellationToken)
    {
        using var purge = transaction.Command(TokenSql.PurgeRevokedTokens);
        purge.Bind("@before", before);
        return await purge.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA2100:Review SQL queries for security vulnerabilities", Justification = "The text is assembled from TokenSql constant fragments chosen by which filters are set; every filter value travels as a bound parameter (Ledger.Tests: filters with quotes).")]
    private static void BuildListCommand(DbCommand command, TokenQuery query, PagePosition? after)
    {
        // Only the fixed fragments of TokenSql are appended; every value is a parameter.
        var sql = new StringBuilder(TokenSql.SelectTokens);
        var conjunction = " WHERE ";
        void Where(string condition)
        {
            sql.Append(conjunction).Append(condition);
            conjunction = " AND ";
        }

        if (query.CustomerReference is { } reference)
        {
            Where(TokenSql.WhereCustomerReference);
            command.Bind("@customer_reference", reference);
        }

        if (query.Status is { } status)
        {
            Where(TokenSql.WhereStatus);
            command.Bind("@status", TokenTexts.Status.Text(status));
        }

        if (query.CreatedAfter is { } createdAfter)
        {
            Where(TokenSql.WhereCreatedAfter);
            command.Bind("@created_after", UnixMicros.From(createdAfter));
        }

        if (query.CreatedBefore is { } createdBefore)
        {
            Where(TokenSql.WhereCreatedBefore);
            command.Bind("@created_before", UnixMicros.From(createdBefore));
        }

        if (after is { } position)
        {
            Where(TokenSql.WhereAfterPosition);
            command.Bind("@after_created_at", position.CreatedAtMicros).Bind("@after_token", position.Token);
        }

        command.CommandText = sql.Append(TokenSql.ListOrder).ToString();
        command.Bind("@limit", query.PageSize + 1);
    }
}
