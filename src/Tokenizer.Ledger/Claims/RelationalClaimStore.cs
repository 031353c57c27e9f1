using System.Data.Common;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Tokenizer.Core.Domain;
using Tokenizer.Core.Ports;
using Tokenizer.Ledger.Intents;
using Tokenizer.Ledger.Schema;
using Tokenizer.Ledger.Tokens;

namespace Tokenizer.Ledger.Claims;

/// <summary>
/// <see cref="IClaimStore"/> on the ledger's database, and the owner of table <c>idempotency_records</c>: every
/// statement that writes it is in <see cref="ClaimSql"/>. A claim records and moves its intent, and completing one
/// records its token, in the same transaction, through the helpers of their owners (<see cref="RelationalIntentStore"/>,
/// <see cref="RelationalTokenRepository"/>). Thread-safe.
/// </summary>
/// <remarks>
/// Failures other than the documented ones surface as the provider's <see cref="DbException"/>.
/// </remarks>
internal sealed class RelationalClaimStore(ILedgerDatabase database, TimeProvider timeProvider, ILogger logger) : IClaimStore
{
    /// <summary>The SourceId prefix of a revoke's token event ("revoke:" + token: one per token).</summary>
    public const string RevokeSourcePrefix = "revoke:";

    private const int HmacLength = 32;
    private const int MaxClaimAttempts = 3;
    private const string ClaimPending = "pending";

    /// <summary>
    /// The audit trail on the same database (set when the trail is built on it), which appends the <c>INTERRUPTED</c>
    /// record of a call cut off by a crash in the same transaction as the claim's mark. Null: such calls are not audited.
    /// </summary>
    internal Audit.RelationalAuditTrail? AuditTrail { get; set; }

    /// <inheritdoc />
    /// <remarks>
    /// Atomic across threads, processes and replicas: the claim is an <c>INSERT ... ON CONFLICT DO NOTHING</c> on the
    /// (caller, key) primary key, never a read followed by a write. Operation and HMAC are both compared (the HMAC in
    /// constant time); a pending claim is live while <c>updated_at + Lease &gt; Now</c>. Taking over a claim is an
    /// UPDATE conditional on the <c>updated_at</c> that was read, so of two takers exactly one wins; it moves
    /// <c>updated_at</c> to <see cref="IdempotencyClaim.Now"/>.
    /// </remarks>
    /// <exception cref="ArgumentException">The HMAC is not 32 bytes, the lease is negative, or a string is empty.</exception>
    public Task<IdempotencyOutcome> ClaimAsync(IdempotencyClaim claim, CancellationToken cancellationToken)
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
        var dialect = database.Dialect;
        return database.WriteAsync((transaction, ct) => ClaimInTransactionAsync(transaction, dialect, trail, claim, now, lease, ct), cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>
    /// Lists the candidates (index <c>ix_idempotency_records_unaudited</c>), then audits each in its own write
    /// transaction: a compare-and-set of the mark on the claim time that was read (pending, unaudited), and the audit
    /// record appended in that transaction, so the record and the mark commit together or not at all, and of two
    /// replicas or passes exactly one writes it. A retry that takes the claim over first audits it in its own claim
    /// transaction instead (<see cref="ClaimAsync"/>). A claim completed or taken over since it was listed is left alone.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="limit"/> is not 1-1000, or the lease is negative.</exception>
    public async Task<int> AuditAbandonedAsync(DateTimeOffset now, TimeSpan lease, int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, 1000);
        ArgumentOutOfRangeException.ThrowIfLessThan(lease, TimeSpan.Zero);
        var trail = AuditTrail;
        if (trail is null)
        {
            return 0;
        }

        var candidates = await database.ReadAsync(
            async (connection, ct) =>
            {
                using var select = connection.Command(ClaimSql.SelectUnauditedAbandonedClaims)
                    .Bind("@before", UnixMicros.From(now - lease)).Bind("@limit", limit);
                return await select.QueryAsync(
                    static reader => (Claim: new AbandonedClaim(
                        reader.GetString(0),
                        reader.GetString(2),
                        reader.GetString(1),
                        reader.GetNullableString(3),
                        reader.GetNullableString(5),
                        UnixMicros.ToDateTimeOffset(reader.GetInt64(4))), UpdatedAt: reader.GetInt64(4)),
                    ct).ConfigureAwait(false);
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

            var marked = await database.WriteAsync(
                async (transaction, ct) =>
                {
                    using (var mark = transaction.Command(ClaimSql.MarkClaimAudited))
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
    public Task CompleteWithTokenAsync(
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
        return database.WriteAsync(
            async (transaction, ct) =>
            {
                if (revokedEvent is not null)
                {
                    // A revoke: its token event in this same transaction, only when this write is what revokes the token
                    // (a webhook of the revoke's own detach may have revoked it first, with the same event).
                    await TokenEvents.RelationalTokenEventStore.TakeAppendLockAsync(transaction, database.Dialect, ct).ConfigureAwait(false);
                    if (await RelationalTokenRepository.RevokeActiveAsync(transaction, token.Token, UnixMicros.From(revokedEvent.OccurredAt), ct).ConfigureAwait(false))
                    {
                        await TokenEvents.RelationalTokenEventStore.AppendWithChangeAsync(transaction, database.Dialect, revokedEvent, timeProvider.GetUtcNow(), lockTaken: true, ct).ConfigureAwait(false);
                    }
                }

                await RelationalTokenRepository.UpsertAsync(transaction, token, ct).ConfigureAwait(false);

                await RelationalIntentStore.CompleteAsync(transaction, callerId, key, token.Token, now, ct).ConfigureAwait(false);

                using var complete = transaction.Command(ClaimSql.CompleteClaim);
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
        return database.WriteAsync(
            async (transaction, ct) =>
            {
                using (var delete = transaction.Command(ClaimSql.ReleaseOwnedClaim))
                {
                    BindKey(delete, callerId, key).Bind("@claimed_at", fence);
                    if (await delete.ExecuteNonQueryAsync(ct).ConfigureAwait(false) == 0)
                    {
                        return false;
                    }
                }

                await RelationalIntentStore.ReleaseAsync(transaction, callerId, key, intentOutcome, fence, now, ct).ConfigureAwait(false);
                return true;
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public Task<bool> CompleteOwnedWithTokenAsync(
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
        return database.WriteAsync(
            async (transaction, ct) =>
            {
                using (var complete = transaction.Command(ClaimSql.CompleteOwnedClaim))
                {
                    BindKey(complete, callerId, key).Bind("@response", responseJson).Bind("@now", now).Bind("@claimed_at", fence);
                    if (await complete.ExecuteNonQueryAsync(ct).ConfigureAwait(false) == 0)
                    {
                        return false;
                    }
                }

                await RelationalTokenRepository.UpsertAsync(transaction, token, ct).ConfigureAwait(false);

                await RelationalIntentStore.SetTokenAsync(transaction, callerId, key, intentState, token.Token, now, ct).ConfigureAwait(false);
                return true;
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public Task<bool> CompleteOwnedWithoutTokenAsync(string callerId, string key, DateTimeOffset claimedAt, string responseJson, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(responseJson);
        ArgumentException.ThrowIfNullOrEmpty(callerId);
        ArgumentException.ThrowIfNullOrEmpty(key);
        var now = UnixMicros.From(timeProvider.GetUtcNow());
        var fence = UnixMicros.From(claimedAt);
        return database.WriteAsync(
            async (transaction, ct) =>
            {
                using var complete = transaction.Command(ClaimSql.CompleteOwnedClaim);
                BindKey(complete, callerId, key).Bind("@response", responseJson).Bind("@now", now).Bind("@claimed_at", fence);
                return await complete.ExecuteNonQueryAsync(ct).ConfigureAwait(false) == 1;
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public Task<bool> HasClaimAsync(string callerId, string idempotencyKeyId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(callerId);
        ArgumentException.ThrowIfNullOrEmpty(idempotencyKeyId);
        return database.ReadAsync(
            async (connection, ct) =>
            {
                using var select = connection.Command(ClaimSql.SelectClaim)
                    .Bind("@caller_id", callerId).Bind("@idempotency_key", idempotencyKeyId);
                return await select.QueryFirstAsync(static _ => true, false, ct).ConfigureAwait(false);
            },
            cancellationToken);
    }

    // Claims (caller, key) inside one write transaction. SQLite's BEGIN IMMEDIATE holds the only write lock, so the row
    // that blocked the insert is still there when it is read. PostgreSQL runs at READ COMMITTED: the insert waits for a
    // concurrent claim of the same key to commit or roll back, and a claim released between the insert and the read
    // is simply claimed again.
    private static async Task<IdempotencyOutcome> ClaimInTransactionAsync(
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

        // One live claim per resource (a person's corrections, erasures): on PostgreSQL an exclusive lock serialises these
        // claims, so two never both see the other absent: the fence lock above when the claim is fenced by a reference,
        // else one on the resource itself (an erasure, which sets that fence itself).
        if (claim.OnePerResource && claim.Resource is { } resource)
        {
            if ((claim.Intent?.CustomerReference ?? claim.FencedReference) is null)
            {
                await Privacy.RelationalPrivacyStore.LockResourceAsync(transaction, dialect, resource, cancellationToken).ConfigureAwait(false);
            }

            using var busy = transaction.Command(ClaimSql.CountOtherLiveClaimsOnResource);
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
            var intent = await RelationalIntentStore.ReadOfKeyAsync(transaction, claim.CallerId, claim.Key, cancellationToken).ConfigureAwait(false);
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
            using (var insert = transaction.Command(ClaimSql.InsertPendingClaim))
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

            using var takeOver = transaction.Command(ClaimSql.TakeOverClaim);
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
                    await RelationalIntentStore.ReadIdOfKeyAsync(transaction, claim.CallerId, claim.Key, cancellationToken).ConfigureAwait(false),
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
            await RelationalIntentStore.TouchAsync(transaction, claim.CallerId, claim.Key, now, cancellationToken).ConfigureAwait(false);
        }
        else if (claim.Intent is { } intent)
        {
            await RelationalIntentStore.RecordPendingAsync(transaction, claim, intent, now, cancellationToken).ConfigureAwait(false);
        }

        return new IdempotencyOutcome(IdempotencyState.Started);
    }

    private static DbCommand BindKey(DbCommand command, string callerId, string key) =>
        command.Bind("@caller_id", callerId).Bind("@idempotency_key", key);

    private static async Task<ClaimRow?> ReadClaimAsync(
        DbTransaction transaction,
        string callerId,
        string key,
        CancellationToken cancellationToken)
    {
        using var select = transaction.Command(ClaimSql.SelectClaim);
        BindKey(select, callerId, key);
        return await select.QueryFirstAsync<ClaimRow?>(
            static reader => new ClaimRow(
                reader.GetString(0),
                (byte[])reader.GetValue(1),
                reader.GetString(2),
                reader.GetNullableString(3),
                reader.GetInt64(4),
                reader.GetNullableString(5),
                reader.GetNullableInt64(6)),
            null,
            cancellationToken).ConfigureAwait(false);
    }

    // The recovery worker's claims (fenced on the intent it listed) are no caller's call: marked from the start, so a
    // worker cut off in turn is not audited as the caller's call. A caller's claim starts unaudited.
    private static long? WorkerMark(IdempotencyClaim claim, long now) => claim.Fence is null ? null : now;

    /// <summary>
    /// Whether a claim's request HMAC matches the stored one. An all-zero stored HMAC was erased by migration 11 (it
    /// covered the CVC) and compares equal to any request: the key's first request cannot be told apart any more.
    /// </summary>
    private static bool SameRequest(byte[] stored, byte[] claimed) =>
        stored.AsSpan().IndexOfAnyExcept((byte)0) < 0 || CryptographicOperations.FixedTimeEquals(stored, claimed);

    private sealed record ClaimRow(string Operation, byte[] RequestHmac, string State, string? Response, long UpdatedAt, string? Resource, long? InterruptedAuditedAt);

    /// <summary>
    /// Rewrites the stored answers of completed claims that match either LIKE pattern (escape <c>\</c>), in the caller's
    /// transaction: each answer becomes what <paramref name="rewrite"/> returns for it, or stays when it returns null.
    /// </summary>
    internal static async Task RewriteResponsesAsync(
        DbTransaction transaction,
        string quotedPattern,
        string encodedPattern,
        Func<string, string?> rewrite,
        CancellationToken cancellationToken)
    {
        List<(string CallerId, string Key, string? Response)> rows;
        using (var select = transaction.Command(ClaimSql.SelectResponsesQuoting).Bind("@quoted", quotedPattern).Bind("@encoded", encodedPattern))
        {
            rows = await select.QueryAsync(reader => (reader.GetString(0), reader.GetString(1), rewrite(reader.GetString(2))), cancellationToken).ConfigureAwait(false);
        }

        foreach (var (callerId, key, response) in rows)
        {
            if (response is null)
            {
                continue;
            }

            using var update = transaction.Command(ClaimSql.UpdateResponse);
            update.Bind("@response", response).Bind("@caller_id", callerId).Bind("@idempotency_key", key);
            await update.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Deletes, in the caller's transaction, the completed claims acting on <paramref name="resource"/> with their stored
    /// answers; returns how many. Pending ones stay (their owner completes or releases them).
    /// </summary>
    internal static async Task<int> ForgetFinishedOfResourceAsync(DbTransaction transaction, string resource, CancellationToken cancellationToken)
    {
        using var delete = transaction.Command(ClaimSql.DeleteFinishedOfResource);
        delete.Bind("@resource", resource);
        return await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Deletes the claims completed before <paramref name="before"/> (unix microseconds; retention); returns how many.</summary>
    internal static async Task<int> PurgeFinishedAsync(DbTransaction transaction, long before, CancellationToken cancellationToken)
    {
        using var purge = transaction.Command(ClaimSql.PurgeFinishedIdempotencyRecords);
        purge.Bind("@before", before);
        return await purge.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
