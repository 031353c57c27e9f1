using System.Data.Common;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Tokenizer.Core.Domain;
using Tokenizer.Core.Errors;
using Tokenizer.Core.Ports;
using Tokenizer.Ledger.Schema;

namespace Tokenizer.Ledger;

/// <summary>
/// The <see cref="ITokenLedger"/> logic shared by <see cref="SqliteTokenLedger"/> and
/// <see cref="Postgres.PostgresTokenLedger"/>: the same statements (<see cref="LedgerSql"/>), the same idempotency state
/// machine, the same listing order and page tokens. Only those two classes derive from it. Thread-safe.
/// </summary>
/// <remarks>
/// Times are stored as unix microseconds UTC: values read back are UTC and truncated to the microsecond. Failures other
/// than the documented ones surface as the provider's <see cref="DbException"/> (<c>SqliteException</c>,
/// <c>NpgsqlException</c>/<c>PostgresException</c>): disk, connection, corruption, a lock held past every retry.
/// </remarks>
public abstract class RelationalTokenLedger : ITokenLedger, IAsyncDisposable, IDisposable
{
    /// <summary>The SourceId prefix of a setup event the ledger appends when a refresh from the gateway changed the status.</summary>
    public const string SetupSourcePrefix = "setup:";

    /// <summary>The SourceId prefix of a revoke's token event ("revoke:" + token: one per token).</summary>
    public const string RevokeSourcePrefix = "revoke:";

    private const int HmacLength = 32;
    private const int MaxPageSize = 100;
    private const int MaxClaimAttempts = 3;
    private const string ClaimPending = "pending";

    private readonly TimeProvider timeProvider;
    private readonly ILogger logger;

    private protected RelationalTokenLedger(ILedgerDatabase database, TimeProvider timeProvider, ILogger logger)
    {
        LedgerDatabase = database;
        this.timeProvider = timeProvider;
        this.logger = logger;
    }

    /// <summary>The database plumbing, shared with the audit trail and key repository built on this ledger.</summary>
    private protected ILedgerDatabase LedgerDatabase { get; }

    /// <summary>The same database for the other stores of this assembly built on this ledger (privacy).</summary>
    internal ILedgerDatabase SharedDatabase => LedgerDatabase;

    /// <summary>
    /// The audit trail built on this ledger's database (set by its constructor), which appends the <c>INTERRUPTED</c>
    /// record of a call cut off by a crash in the same transaction as the claim's mark. Null: such calls are not audited.
    /// </summary>
    internal Audit.RelationalAuditTrail? AuditTrail { get; set; }

    /// <inheritdoc />
    /// <remarks>
    /// Applies pending migrations of the schema (the same versions for every provider). Throws
    /// <see cref="InvalidOperationException"/> if the database holds a newer schema than this build.
    /// </remarks>
    public Task InitializeAsync(CancellationToken cancellationToken) =>
        LedgerDatabase.MigrateAsync(timeProvider.GetUtcNow(), cancellationToken);

    /// <inheritdoc />
    /// <remarks>
    /// Atomic across threads, processes and replicas: the claim is an <c>INSERT ... ON CONFLICT DO NOTHING</c> on the
    /// (caller, key) primary key, never a read followed by a write. Operation and HMAC are both compared (the HMAC in
    /// constant time); a pending claim is live while <c>updated_at + Lease &gt; Now</c>. Taking over a claim is an
    /// UPDATE conditional on the <c>updated_at</c> that was read, so of two takers exactly one wins; it moves
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
        var trail = AuditTrail;
        var dialect = LedgerDatabase.Dialect;
        return LedgerDatabase.WriteAsync((transaction, ct) => ClaimAsync(transaction, dialect, trail, claim, now, lease, ct), cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>
    /// Lists the candidates (index <c>ix_idempotency_records_unaudited</c>), then audits each in its own write
    /// transaction: a compare-and-set of the mark on the claim time that was read (pending, unaudited), and the audit
    /// record appended in that transaction, so the record and the mark commit together or not at all, and of two
    /// replicas or passes exactly one writes it. A retry that takes the claim over first audits it in its own claim
    /// transaction instead (<see cref="BeginAsync"/>). A claim completed or taken over since it was listed is left alone.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="limit"/> is not 1-1000, or the lease is negative.</exception>
    public async Task<int> AuditAbandonedClaimsAsync(DateTimeOffset now, TimeSpan lease, int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, 1000);
        ArgumentOutOfRangeException.ThrowIfLessThan(lease, TimeSpan.Zero);
        var trail = AuditTrail;
        if (trail is null)
        {
            return 0;
        }

        var candidates = await LedgerDatabase.ReadAsync(
            async (connection, ct) =>
            {
                using var select = connection.CreateCommand();
                select.CommandText = LedgerSql.SelectUnauditedAbandonedClaims;
                select.Bind("@before", UnixMicros.From(now - lease)).Bind("@limit", limit);
                using var reader = await select.ExecuteReaderAsync(ct).ConfigureAwait(false);
                var rows = new List<(AbandonedClaim Claim, long UpdatedAt)>();
                while (await reader.ReadAsync(ct).ConfigureAwait(false))
                {
                    var updatedAt = reader.GetInt64(4);
                    rows.Add((new AbandonedClaim(
                        reader.GetString(0),
                        reader.GetString(2),
                        reader.GetString(1),
                        reader.GetNullableString(3),
                        reader.GetNullableString(5),
                        UnixMicros.ToDateTimeOffset(updatedAt)), updatedAt));
                }

                return rows;
            },
            cancellationToken).ConfigureAwait(false);

        var audited = 0;
        foreach (var (claim, updatedAt) in candidates)
        {
            // An operation with a longer lease of its own (a privacy correction) may still be running.
            if (claim.ClaimedAt + Core.Audit.InterruptedCalls.LeaseOf(claim.Operation, lease) > now)
            {
                continue;
            }

            var marked = await LedgerDatabase.WriteAsync(
                async (transaction, ct) =>
                {
                    using (var mark = transaction.Command(LedgerSql.MarkClaimAudited))
                    {
                        BindKey(mark, claim.CallerId, claim.Key).Bind("@now", UnixMicros.From(now)).Bind("@seen_updated_at", updatedAt);
                        if (await mark.ExecuteNonQueryAsync(ct).ConfigureAwait(false) != 1)
                        {
                            return false;
                        }
                    }

                    await trail.AppendInTransactionAsync(transaction, Core.Audit.InterruptedCalls.ToAuditEvent(claim), ct).ConfigureAwait(false);
                    return true;
                },
                cancellationToken).ConfigureAwait(false);
            audited += marked ? 1 : 0;
        }

        return audited;
    }

    /// <inheritdoc />
    /// <remarks>
    /// The token is recorded even when the claim is no longer pending (released, or completed first by an owner that
    /// took over): the gateway token exists, so the ledger must know it. A completed record keeps its first response,
    /// so replays never change. On an existing token, status and revoked_at only move towards revoked; gateway, type,
    /// caller, customer reference and created_at keep their first values; the masked metadata takes the new values.
    /// A token recorded revoked that this write moves from active to revoked gets its <see cref="TokenEventKind.Revoked"/>
    /// token event (source <c>"revoke:" + token</c>) in the same transaction: the revoke and its event commit together.
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
        var revokedEvent = token.Status == TokenStatus.Revoked
            ? new TokenEventDraft(token.Token, token.CallerId, TokenEventKind.Revoked, RevokeSourcePrefix + token.Token, token.RevokedAt ?? timeProvider.GetUtcNow(), Card: null)
            : null;
        return LedgerDatabase.WriteAsync(
            async (transaction, ct) =>
            {
                if (revokedEvent is not null)
                {
                    // A revoke: its token event in this same transaction, only when this write is what revokes the token
                    // (a webhook of the revoke's own detach may have revoked it first, with the same event).
                    await TokenEvents.RelationalTokenEventStore.TakeAppendLockAsync(transaction, LedgerDatabase.Dialect, ct).ConfigureAwait(false);
                    using var revoke = transaction.Command(LedgerSql.RevokeActiveToken);
                    revoke.Bind("@token", token.Token).Bind("@revoked_at", UnixMicros.From(revokedEvent.OccurredAt));
                    if (await revoke.ExecuteNonQueryAsync(ct).ConfigureAwait(false) == 1)
                    {
                        await TokenEvents.RelationalTokenEventStore.AppendWithChangeAsync(transaction, LedgerDatabase.Dialect, revokedEvent, timeProvider.GetUtcNow(), lockTaken: true, ct).ConfigureAwait(false);
                    }
                }

                using (var upsert = transaction.Command(LedgerSql.UpsertToken))
                {
                    TokenRows.BindToken(upsert, token);
                    await upsert.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                }

                using (var completeIntent = transaction.Command(LedgerSql.CompleteIntent))
                {
                    BindKey(completeIntent, callerId, key).Bind("@token", token.Token).Bind("@now", now);
                    await completeIntent.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                }

                using var complete = transaction.Command(LedgerSql.CompleteClaim);
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
    public Task<bool> ReleaseOwnedAsync(
        string callerId,
        string key,
        DateTimeOffset claimedAt,
        IntentState intentOutcome,
        CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(callerId);
        ArgumentException.ThrowIfNullOrEmpty(key);
        if (intentOutcome is not (IntentState.Failed or IntentState.Closed))
        {
            throw new ArgumentOutOfRangeException(nameof(intentOutcome), "a released intent is failed or closed");
        }

        var now = UnixMicros.From(timeProvider.GetUtcNow());
        var fence = UnixMicros.From(claimedAt);
        return LedgerDatabase.WriteAsync(
            async (transaction, ct) =>
            {
                using (var delete = transaction.Command(LedgerSql.ReleaseOwnedClaim))
                {
                    BindKey(delete, callerId, key).Bind("@claimed_at", fence);
                    if (await delete.ExecuteNonQueryAsync(ct).ConfigureAwait(false) == 0)
                    {
                        return false;
                    }
                }

                using var release = transaction.Command(LedgerSql.ReleaseOwnedIntent);
                BindKey(release, callerId, key).Bind("@state", IntentTexts.State.Text(intentOutcome)).Bind("@now", now).Bind("@claimed_at", fence);
                await release.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                return true;
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public Task<bool> CompleteOwnedAsync(
        string callerId,
        string key,
        DateTimeOffset claimedAt,
        string responseJson,
        TokenRecord token,
        IntentState intentState,
        CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(callerId);
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentException.ThrowIfNullOrEmpty(responseJson);
        ArgumentNullException.ThrowIfNull(token);
        if (intentState is not (IntentState.Completed or IntentState.Detaching))
        {
            throw new ArgumentOutOfRangeException(nameof(intentState), "an owned completion leaves the intent completed or detaching");
        }

        TokenRows.Validate(token);
        var now = UnixMicros.From(timeProvider.GetUtcNow());
        var fence = UnixMicros.From(claimedAt);
        return LedgerDatabase.WriteAsync(
            async (transaction, ct) =>
            {
                using (var complete = transaction.Command(LedgerSql.CompleteOwnedClaim))
                {
                    BindKey(complete, callerId, key).Bind("@response", responseJson).Bind("@now", now).Bind("@claimed_at", fence);
                    if (await complete.ExecuteNonQueryAsync(ct).ConfigureAwait(false) == 0)
                    {
                        return false;
                    }
                }

                using (var upsert = transaction.Command(LedgerSql.UpsertToken))
                {
                    TokenRows.BindToken(upsert, token);
                    await upsert.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                }

                using var intent = transaction.Command(LedgerSql.SetIntentToken);
                BindKey(intent, callerId, key).Bind("@state", IntentTexts.State.Text(intentState)).Bind("@token", token.Token).Bind("@now", now);
                await intent.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                return true;
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public Task CompleteClaimAsync(string callerId, string key, string responseJson, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(responseJson);
        return UpdateKeyAsync(LedgerSql.CompleteClaim, callerId, key, command => command.Bind("@response", responseJson), cancellationToken);
    }

    /// <inheritdoc />
    public Task SettleIntentAsync(string callerId, string key, string? completedToken, CancellationToken cancellationToken) =>
        UpdateKeyAsync(LedgerSql.SettleIntent, callerId, key, command => command.Bind("@token", completedToken), cancellationToken);

    /// <inheritdoc />
    public Task FinishDetachingAsync(string callerId, string key, CancellationToken cancellationToken) =>
        UpdateKeyAsync(LedgerSql.FinishDetachingIntent, callerId, key, static _ => { }, cancellationToken);

    // One statement on one key's rows (@caller_id, @idempotency_key, @now and whatever bind adds) in its own transaction.
    private Task<int> UpdateKeyAsync(string sql, string callerId, string key, Action<DbCommand> bind, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(callerId);
        ArgumentException.ThrowIfNullOrEmpty(key);
        var now = UnixMicros.From(timeProvider.GetUtcNow());
        return LedgerDatabase.WriteAsync(
            async (transaction, ct) =>
            {
                using var command = transaction.Command(sql);
                BindKey(command, callerId, key).Bind("@now", now);
                bind(command);
                return await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            },
            cancellationToken);
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="limit"/> is not 1-1000, or the state is unknown.</exception>
    public Task<IReadOnlyList<TokenIntent>> ListIntentsAsync(
        IntentState state,
        DateTimeOffset updatedBefore,
        int limit,
        CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, 1000);
        var stateName = IntentTexts.State.Text(state);
        return LedgerDatabase.ReadAsync<IReadOnlyList<TokenIntent>>(
            async (connection, ct) =>
            {
                using var select = connection.CreateCommand();
                select.CommandText = LedgerSql.SelectIntents;
                select.Bind("@state", stateName).Bind("@updated_before", UnixMicros.From(updatedBefore)).Bind("@limit", limit);
                var intents = new List<TokenIntent>();
                using var reader = await select.ExecuteReaderAsync(ct).ConfigureAwait(false);
                while (await reader.ReadAsync(ct).ConfigureAwait(false))
                {
                    intents.Add(new TokenIntent(
                        reader.GetString(0),
                        reader.GetString(1),
                        reader.GetString(2),
                        reader.GetString(3),
                        reader.GetString(4),
                        (byte[])reader.GetValue(5),
                        IntentTexts.State.Parse(reader.GetString(6), "intents.state"),
                        reader.GetNullableString(7),
                        UnixMicros.ToDateTimeOffset(reader.GetInt64(8)),
                        UnixMicros.ToDateTimeOffset(reader.GetInt64(9))));
                }

                return intents;
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public Task<bool> HasIdempotencyRecordAsync(string callerId, string idempotencyKeyId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(callerId);
        ArgumentException.ThrowIfNullOrEmpty(idempotencyKeyId);
        return LedgerDatabase.ReadAsync(
            async (connection, ct) =>
            {
                using var select = connection.CreateCommand();
                select.CommandText = LedgerSql.SelectClaim;
                select.Bind("@caller_id", callerId).Bind("@idempotency_key", idempotencyKeyId);
                using var reader = await select.ExecuteReaderAsync(ct).ConfigureAwait(false);
                return await reader.ReadAsync(ct).ConfigureAwait(false);
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public Task<string?> FindCustomerAsync(string gateway, string customerReference, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(gateway);
        ArgumentException.ThrowIfNullOrEmpty(customerReference);
        return LedgerDatabase.ReadAsync(
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
    /// <remarks>
    /// An <c>INSERT ... ON CONFLICT DO NOTHING</c> then a read, in one transaction: of concurrent writers (in any
    /// process) the first to commit wins and every caller gets its id. <paramref name="now"/> is recorded as created_at
    /// only when this call's mapping is the one stored.
    /// </remarks>
    public Task<string> SaveCustomerAsync(
        string gateway,
        string customerReference,
        string gatewayCustomerId,
        DateTimeOffset now,
        CancellationToken cancellationToken) =>
        WriteCustomerAsync(gateway, customerReference, deletedCustomerId: null, gatewayCustomerId, now, cancellationToken);

    /// <inheritdoc />
    /// <remarks>
    /// A <c>DELETE</c> of the mapping only while it names the deleted Customer, then what <see cref="SaveCustomerAsync"/>
    /// does, in one transaction: of concurrent replacements the first to commit wins and every caller gets its id.
    /// </remarks>
    public Task<string> ReplaceCustomerAsync(
        string gateway,
        string customerReference,
        string deletedCustomerId,
        string gatewayCustomerId,
        DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(deletedCustomerId);
        return WriteCustomerAsync(gateway, customerReference, deletedCustomerId, gatewayCustomerId, now, cancellationToken);
    }

    /// <inheritdoc />
    public Task<string?> FindLastDeletedCustomerAsync(string gateway, string subject, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(gateway);
        ArgumentException.ThrowIfNullOrEmpty(subject);
        return LedgerDatabase.ReadAsync(
            async (connection, ct) =>
            {
                using var select = connection.CreateCommand();
                select.CommandText = LedgerSql.SelectLastDeletedCustomer;
                select.Bind("@gateway", gateway).Bind("@subject", subject);
                return (string?)await select.ExecuteScalarAsync(ct).ConfigureAwait(false);
            },
            cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>
    /// <c>INSERT ... ON CONFLICT DO NOTHING</c> when <paramref name="expected"/> is null, else an <c>UPDATE</c> fenced on
    /// the recorded id: of concurrent writers from the same value one moves it, the others change nothing.
    /// </remarks>
    public Task<bool> RecordDeletedCustomerAsync(
        string gateway,
        string subject,
        string? expected,
        string deletedCustomerId,
        DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(gateway);
        ArgumentException.ThrowIfNullOrEmpty(subject);
        ArgumentException.ThrowIfNullOrEmpty(deletedCustomerId);
        return LedgerDatabase.WriteAsync(
            async (transaction, ct) =>
            {
                using var write = transaction.Command(expected is null ? LedgerSql.InsertDeletedCustomer : LedgerSql.AdvanceDeletedCustomer);
                write.Bind("@gateway", gateway)
                    .Bind("@subject", subject)
                    .Bind("@deleted_customer_id", deletedCustomerId)
                    .Bind("@now", UnixMicros.From(now));
                if (expected is not null)
                {
                    write.Bind("@expected", expected);
                }

                return await write.ExecuteNonQueryAsync(ct).ConfigureAwait(false) == 1;
            },
            cancellationToken);
    }

    private Task<string> WriteCustomerAsync(
        string gateway,
        string customerReference,
        string? deletedCustomerId,
        string gatewayCustomerId,
        DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(gateway);
        ArgumentException.ThrowIfNullOrEmpty(customerReference);
        ArgumentException.ThrowIfNullOrEmpty(gatewayCustomerId);
        return LedgerDatabase.WriteAsync(
            async (transaction, ct) =>
            {
                if (deletedCustomerId is not null)
                {
                    using var delete = transaction.Command(LedgerSql.DeleteCustomerIfMapped);
                    delete.Bind("@gateway", gateway)
                        .Bind("@customer_reference", customerReference)
                        .Bind("@deleted_customer_id", deletedCustomerId);
                    await delete.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                }

                using (var insert = transaction.Command(LedgerSql.InsertCustomer))
                {
                    insert.Bind("@gateway", gateway)
                        .Bind("@customer_reference", customerReference)
                        .Bind("@gateway_customer_id", gatewayCustomerId)
                        .Bind("@now", UnixMicros.From(now));
                    await insert.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                }

                using var select = transaction.Command(LedgerSql.SelectCustomer);
                select.Bind("@gateway", gateway).Bind("@customer_reference", customerReference);
                return (string?)await select.ExecuteScalarAsync(ct).ConfigureAwait(false)
                    ?? throw new InvalidOperationException("customer mapping vanished inside a write transaction");
            },
            cancellationToken);
    }

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
        return LedgerDatabase.WriteAsync(
            async (transaction, ct) =>
            {
                if (draft is not null)
                {
                    await TokenEvents.RelationalTokenEventStore.TakeAppendLockAsync(transaction, LedgerDatabase.Dialect, ct).ConfigureAwait(false);
                }

                using (var status = transaction.Command(LedgerSql.UpdateTokenSetupStatus))
                {
                    TokenRows.BindSetupOnly(status, token);
                    if (await status.ExecuteNonQueryAsync(ct).ConfigureAwait(false) == 1)
                    {
                        if (draft is not null)
                        {
                            await TokenEvents.RelationalTokenEventStore.AppendWithChangeAsync(transaction, LedgerDatabase.Dialect, draft, now, lockTaken: true, ct).ConfigureAwait(false);
                        }

                        return true;
                    }
                }

                using var update = transaction.Command(LedgerSql.UpdateTokenSetup);
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
        return LedgerDatabase.WriteAsync(
            async (transaction, ct) =>
            {
                using var update = transaction.Command(LedgerSql.MarkRevokeRequested);
                update.Bind("@token", token).Bind("@now", at);
                return await update.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public Task<TokenRecord?> GetTokenAsync(string token, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(token);
        return LedgerDatabase.ReadAsync(
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

        return LedgerDatabase.ReadAsync(
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

    // Claims (caller, key) inside one write transaction. SQLite's BEGIN IMMEDIATE holds the only write lock, so the row
    // that blocked the insert is still there when it is read. PostgreSQL runs at READ COMMITTED: the insert waits for a
    // concurrent claim of the same key to commit or roll back, and a claim released between the insert and the read
    // is simply claimed again.
    private static async Task<IdempotencyOutcome> ClaimAsync(
        DbTransaction transaction,
        SqlDialect dialect,
        Audit.RelationalAuditTrail? trail,
        IdempotencyClaim claim,
        long now,
        long lease,
        CancellationToken cancellationToken)
    {
        // A request that would set something up at the gateway for a person whose erasure is in progress is refused before
        // anything is claimed: the erasure counts the claims that came first and waits for them. The recovery worker's
        // fenced claims settle what is already at the gateway, so they still run.
        if ((claim.Intent?.CustomerReference ?? claim.FencedReference) is { } fenced && claim.Fence is null
            && await Privacy.RelationalPrivacyStore.IsFencedAsync(transaction, dialect, fenced, exclusive: claim.OnePerResource, cancellationToken).ConfigureAwait(false))
        {
            return new IdempotencyOutcome(IdempotencyState.ErasureInProgress);
        }

        // One live claim per resource (a person's corrections): on PostgreSQL the exclusive fence lock above serialises
        // these claims, so two never both see the other absent.
        if (claim.OnePerResource && claim.Resource is { } resource)
        {
            using var busy = transaction.Command(LedgerSql.CountOtherLiveClaimsOnResource);
            BindKey(busy, claim.CallerId, claim.Key)
                .Bind("@operation", claim.Operation)
                .Bind("@resource", resource)
                .Bind("@live_since", now - lease);
            if (Convert.ToInt64(await busy.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture) > 0)
            {
                return new IdempotencyOutcome(IdempotencyState.ResourceBusy);
            }
        }

        if (claim.Intent is not null)
        {
            var intent = await ReadIntentAsync(transaction, claim.CallerId, claim.Key, cancellationToken).ConfigureAwait(false);
            if (claim.Fence is { } fence
                && (intent is null || intent.Value.State != IntentTexts.State.Text(fence.State) || intent.Value.UpdatedAt != UnixMicros.From(fence.UpdatedAt)))
            {
                // Moved since the worker listed it (a retry, another replica): not the worker's to act on now.
                return new IdempotencyOutcome(IdempotencyState.InFlight);
            }

            if (intent is { State: "failed" or "closed" } released && !SameRequest(released.RequestHmac, claim.RequestHmac))
            {
                // The key's request was released without a token: failed (unknown outcome, a PaymentMethod may be attached,
                // so the key stays bound until the sweep has settled it) or closed (the gateway refused it, a decline). Either
                // way the key stays bound to that request, as the gateway binds its own key to the parameters first sent: a
                // retry of the same request runs again, another request under the key is the caller's reuse, refused here
                // before any gateway call.
                return new IdempotencyOutcome(IdempotencyState.Conflict);
            }
        }

        for (var attempt = 1; attempt <= MaxClaimAttempts; attempt++)
        {
            using (var insert = transaction.Command(LedgerSql.InsertPendingClaim))
            {
                BindKey(insert, claim.CallerId, claim.Key)
                    .Bind("@operation", claim.Operation)
                    .Bind("@request_hmac", claim.RequestHmac)
                    .Bind("@now", now)
                    .Bind("@resource", claim.Resource)
                    .Bind("@mark", WorkerMark(claim, now));
                if (await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1)
                {
                    return await StartedAsync(transaction, claim, now, cancellationToken).ConfigureAwait(false);
                }
            }

            var existing = await ReadClaimAsync(transaction, claim.CallerId, claim.Key, cancellationToken).ConfigureAwait(false);
            if (existing is null)
            {
                continue;
            }

            if (!string.Equals(existing.Operation, claim.Operation, StringComparison.Ordinal)
                || !SameRequest(existing.RequestHmac, claim.RequestHmac))
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

            using var takeOver = transaction.Command(LedgerSql.TakeOverClaim);
            BindKey(takeOver, claim.CallerId, claim.Key)
                .Bind("@now", now)
                .Bind("@seen_updated_at", existing.UpdatedAt)
                .Bind("@seen_mark", existing.InterruptedAuditedAt ?? -1)
                .Bind("@resource", claim.Resource)
                .Bind("@mark", WorkerMark(claim, now));
            if (await takeOver.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) != 1)
            {
                return new IdempotencyOutcome(IdempotencyState.InFlight);
            }

            if (existing.InterruptedAuditedAt is null && trail is not null)
            {
                // The claim's call was cut off and nobody audited it yet: its record commits with this takeover.
                var abandoned = new AbandonedClaim(
                    claim.CallerId,
                    existing.Operation,
                    claim.Key,
                    existing.Resource,
                    await ReadIntentIdAsync(transaction, claim.CallerId, claim.Key, cancellationToken).ConfigureAwait(false),
                    UnixMicros.ToDateTimeOffset(existing.UpdatedAt));
                await trail.AppendInTransactionAsync(transaction, Core.Audit.InterruptedCalls.ToAuditEvent(abandoned), cancellationToken).ConfigureAwait(false);
            }

            return await StartedAsync(transaction, claim, now, cancellationToken).ConfigureAwait(false);
        }

        // Claimed and released again between our insert and read, three times over: report it as busy.
        return new IdempotencyOutcome(IdempotencyState.InFlight);
    }

    // The claim is ours: record its intent as pending in the same transaction, so a crash from here on leaves a row
    // the recovery worker finds.
    private static async Task<IdempotencyOutcome> StartedAsync(
        DbTransaction transaction,
        IdempotencyClaim claim,
        long now,
        CancellationToken cancellationToken)
    {
        if (claim.Fence is { State: IntentState.Failed })
        {
            using var touch = transaction.Command(LedgerSql.TouchIntent);
            BindKey(touch, claim.CallerId, claim.Key).Bind("@now", now);
            await touch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        else if (claim.Intent is { } intent)
        {
            using var upsert = transaction.Command(LedgerSql.UpsertPendingIntent);
            BindKey(upsert, claim.CallerId, claim.Key)
                .Bind("@intent_id", intent.IntentId)
                .Bind("@operation", claim.Operation)
                .Bind("@customer_reference", intent.CustomerReference)
                .Bind("@request_hmac", claim.RequestHmac)
                .Bind("@erased_hmac", new byte[HmacLength])
                .Bind("@now", now);
            await upsert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        return new IdempotencyOutcome(IdempotencyState.Started);
    }

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA2100:Review SQL queries for security vulnerabilities", Justification = "The text is assembled from LedgerSql constant fragments chosen by which filters are set; every filter value travels as a bound parameter (Ledger.Tests: filters with quotes).")]
    private static void BuildListCommand(DbCommand command, TokenQuery query, PagePosition? after)
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
            command.Bind("@status", TokenTexts.Status.Text(status));
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

    private static DbCommand BindKey(DbCommand command, string callerId, string key) =>
        command.Bind("@caller_id", callerId).Bind("@idempotency_key", key);

    private static async Task<ClaimRow?> ReadClaimAsync(
        DbTransaction transaction,
        string callerId,
        string key,
        CancellationToken cancellationToken)
    {
        using var select = transaction.Command(LedgerSql.SelectClaim);
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
            reader.GetInt64(4),
            reader.GetNullableString(5),
            reader.GetNullableInt64(6));
    }

    // The recovery worker's claims (fenced on the intent it listed) are no caller's call: marked from the start, so a
    // worker cut off in turn is not audited as the caller's call. A caller's claim starts unaudited.
    private static long? WorkerMark(IdempotencyClaim claim, long now) => claim.Fence is null ? null : now;

    private static async Task<string?> ReadIntentIdAsync(DbTransaction transaction, string callerId, string key, CancellationToken cancellationToken)
    {
        using var select = transaction.Command(LedgerSql.SelectIntentIdOfKey);
        BindKey(select, callerId, key);
        return await select.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as string;
    }

    /// <summary>
    /// Whether a claim's request HMAC matches the stored one. An all-zero stored HMAC was erased by migration 11 (it
    /// covered the CVC) and compares equal to any request: the key's first request cannot be told apart any more.
    /// </summary>
    private static bool SameRequest(byte[] stored, byte[] claimed) =>
        stored.AsSpan().IndexOfAnyExcept((byte)0) < 0 || CryptographicOperations.FixedTimeEquals(stored, claimed);

    private static async Task<(string State, long UpdatedAt, byte[] RequestHmac)?> ReadIntentAsync(
        DbTransaction transaction,
        string callerId,
        string key,
        CancellationToken cancellationToken)
    {
        using var select = transaction.Command(LedgerSql.SelectIntentOfKey);
        BindKey(select, callerId, key);
        using var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
            ? (reader.GetString(0), reader.GetInt64(1), (byte[])reader.GetValue(2))
            : null;
    }

    private sealed record ClaimRow(string Operation, byte[] RequestHmac, string State, string? Response, long UpdatedAt, string? Resource, long? InterruptedAuditedAt);
}
