using System.Data.Common;
using System.Globalization;
using Tokenizer.Core.Domain;
using Tokenizer.Core.Ports;
using Tokenizer.Ledger.Customers;
using Tokenizer.Ledger.Schema;
using Tokenizer.Ledger.TokenEvents;
using Tokenizer.Ledger.Tokens;

namespace Tokenizer.Ledger.Webhooks;

/// <summary>Which source put an event into the inbox.</summary>
public enum WebhookSource
{
    /// <summary>A signed delivery to <c>POST /stripe/webhook</c>.</summary>
    Delivery = 1,

    /// <summary>The catch-up listing of Stripe API GET /v1/events.</summary>
    CatchUp = 2,
}

/// <summary>Where an inbox row stands.</summary>
public enum WebhookState
{
    /// <summary>Not yet processed (possibly claimed by a worker).</summary>
    Pending = 1,

    /// <summary>Processed: the ledger holds the object's state as Stripe reported it then.</summary>
    Processed = 2,

    /// <summary>Looked at and nothing to do (the object is not one of our tokens, or is gone at Stripe).</summary>
    Ignored = 3,
}

/// <summary>The stored texts of the inbox enums (<c>webhook_inbox.source</c>, <c>webhook_inbox.state</c>). Never change a text.</summary>
public static class WebhookTexts
{
    /// <summary><c>delivery</c>, <c>catch_up</c>.</summary>
    public static readonly EnumText<WebhookSource> Source = new(
        "webhook source",
        (WebhookSource.Delivery, "delivery"),
        (WebhookSource.CatchUp, "catch_up"));

    /// <summary><c>pending</c>, <c>processed</c>, <c>ignored</c>.</summary>
    public static readonly EnumText<WebhookState> State = new(
        "webhook state",
        (WebhookState.Pending, "pending"),
        (WebhookState.Processed, "processed"),
        (WebhookState.Ignored, "ignored"));
}

/// <summary>What the inbox keeps of a Stripe event: its id, type, creation time and object id. Never its body.</summary>
/// <param name="EventId">Stripe's event id, <c>evt_...</c>.</param>
/// <param name="Type">The event type, e.g. <c>setup_intent.succeeded</c>.</param>
/// <param name="Created">The event's <c>created</c> (UTC, whole seconds from Stripe).</param>
/// <param name="ObjectId">The id of <c>data.object</c> (<c>seti_</c>, <c>mandate_</c>, <c>pm_</c>, <c>cus_</c>), or null.</param>
public sealed record WebhookEvent(string EventId, string Type, DateTimeOffset Created, string? ObjectId);

/// <summary>An inbox row a worker holds a lease on.</summary>
/// <param name="Event">The event.</param>
/// <param name="ClaimedAt">The lease's start: the fence of <see cref="RelationalWebhookStore.FinishAsync"/>.</param>
/// <param name="Attempts">How many claims this row has had, this one included.</param>
/// <param name="Arrival">
/// Where the row stands in the order rows were added to the inbox (<c>webhook_inbox.arrival</c>; higher is later; 0 when
/// unknown). With <see cref="WebhookEvent.Created"/> first, the order claims are made in: see <see cref="IsBefore"/>.
/// </param>
public sealed record WebhookClaim(WebhookEvent Event, DateTimeOffset ClaimedAt, int Attempts, long Arrival = 0)
{
    /// <summary>
    /// Whether this event comes before <paramref name="other"/> in the inbox's order: Stripe's <c>created</c> (whole
    /// seconds), then arrival, then event id (<see cref="RelationalWebhookStore.ClaimAsync"/> claims in this order).
    /// </summary>
    public bool IsBefore(WebhookClaim other)
    {
        ArgumentNullException.ThrowIfNull(other);
        var byCreated = Event.Created.CompareTo(other.Event.Created);
        var byArrival = byCreated != 0 ? byCreated : Arrival.CompareTo(other.Arrival);
        return (byArrival != 0 ? byArrival : string.CompareOrdinal(Event.EventId, other.Event.EventId)) < 0;
    }
}

/// <summary>
/// The Stripe webhook inbox (tables <c>webhook_inbox</c>, <c>webhook_cursor</c>, migration 10) and the token updates
/// that processing an event makes, in the ledger's own database (SQLite or PostgreSQL), sharing its connections and
/// write queue. Thread-safe; safe across replicas (claims are leases taken by conditional updates).
/// </summary>
/// <remarks>
/// No body is stored: a webhook body carries billing details. Every token update writes only when a value differs, so a
/// replayed or reprocessed event leaves the database unchanged.
/// </remarks>
public sealed class RelationalWebhookStore
{
    private const string CatchUpCursor = "stripe_events";
    private readonly ILedgerDatabase database;
    private readonly TimeProvider timeProvider;

    /// <param name="ledger">The token ledger whose database holds the inbox; must outlive this store.</param>
    /// <param name="timeProvider">The clock of a token event's recorded_at; the system clock when null.</param>
    public RelationalWebhookStore(RelationalTokenLedger ledger, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(ledger);
        database = ledger.SharedDatabase;
        this.timeProvider = timeProvider ?? TimeProvider.System;
    }

    /// <summary>True when the inbox already holds <paramref name="eventId"/> (a read: changes nothing).</summary>
    public Task<bool> ContainsAsync(string eventId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(eventId);
        return database.ReadAsync(
            async (connection, ct) =>
            {
                using var select = connection.Command(WebhookSql.Exists);
                select.Bind("@event_id", eventId);
                return Convert.ToInt64(await select.ExecuteScalarAsync(ct).ConfigureAwait(false), CultureInfo.InvariantCulture) > 0;
            },
            cancellationToken);
    }

    /// <summary>
    /// Adds <paramref name="webhookEvent"/> as pending, durably (committed when this returns), unless its id is there
    /// already. Returns whether it was added.
    /// </summary>
    public Task<bool> AddAsync(WebhookEvent webhookEvent, WebhookSource source, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(webhookEvent);
        return database.WriteAsync(
            async (transaction, ct) =>
            {
                using var insert = transaction.Command(WebhookSql.Insert(database.Dialect));
                insert.Bind("@event_id", webhookEvent.EventId)
                    .Bind("@type", webhookEvent.Type)
                    .Bind("@created", UnixMicros.From(webhookEvent.Created))
                    .Bind("@object_id", webhookEvent.ObjectId)
                    .Bind("@source", WebhookTexts.Source.Text(source))
                    .Bind("@received_at", UnixMicros.From(now));
                return await insert.ExecuteNonQueryAsync(ct).ConfigureAwait(false) == 1;
            },
            cancellationToken);
    }

    /// <summary>
    /// Claims up to <paramref name="limit"/> pending rows, oldest event first (Stripe's <c>created</c>, then the order they
    /// were added in: <see cref="WebhookClaim.IsBefore"/>), that nobody holds or whose lease
    /// (<paramref name="lease"/>) has run out: each claim is a conditional update, so two workers never hold one row.
    /// </summary>
    public async Task<IReadOnlyList<WebhookClaim>> ClaimAsync(string owner, DateTimeOffset now, TimeSpan lease, int limit, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(owner);
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        var expiredBefore = UnixMicros.From(now - lease);
        var candidates = await database.ReadAsync(
            async (connection, ct) =>
            {
                using var select = connection.Command(WebhookSql.SelectClaimable)
                    .Bind("@expired_before", expiredBefore).Bind("@now", UnixMicros.From(now)).Bind("@limit", limit);
                return await select.QueryAsync(static reader => reader.GetString(0), ct).ConfigureAwait(false);
            },
            cancellationToken).ConfigureAwait(false);

        var claims = new List<WebhookClaim>();
        foreach (var id in candidates)
        {
            var claim = await database.WriteAsync(
                async (transaction, ct) =>
                {
                    using (var update = transaction.Command(WebhookSql.Claim))
                    {
                        update.Bind("@owner", owner).Bind("@now", UnixMicros.From(now)).Bind("@event_id", id).Bind("@expired_before", expiredBefore);
                        if (await update.ExecuteNonQueryAsync(ct).ConfigureAwait(false) != 1)
                        {
                            return null;
                        }
                    }

                    using var select = transaction.Command(WebhookSql.SelectEntry).Bind("@event_id", id);
                    return await select.QueryFirstAsync<WebhookClaim?>(ReadClaim, null, ct).ConfigureAwait(false);
                },
                cancellationToken).ConfigureAwait(false);
            if (claim is not null)
            {
                claims.Add(claim);
            }
        }

        return claims;
    }

    /// <summary>
    /// Marks a claimed row <paramref name="state"/> (processed or ignored), only while the claim is still
    /// <paramref name="owner"/>'s at <see cref="WebhookClaim.ClaimedAt"/>. Returns false when the lease was lost.
    /// </summary>
    public Task<bool> FinishAsync(WebhookClaim claim, string owner, WebhookState state, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(claim);
        if (state is not (WebhookState.Processed or WebhookState.Ignored))
        {
            throw new ArgumentOutOfRangeException(nameof(state), "a claim finishes processed or ignored");
        }

        return database.WriteAsync(
            async (transaction, ct) =>
            {
                using var update = transaction.Command(WebhookSql.Finish);
                update.Bind("@state", WebhookTexts.State.Text(state))
                    .Bind("@now", UnixMicros.From(now))
                    .Bind("@event_id", claim.Event.EventId)
                    .Bind("@owner", owner)
                    .Bind("@claimed_at", UnixMicros.From(claim.ClaimedAt));
                return await update.ExecuteNonQueryAsync(ct).ConfigureAwait(false) == 1;
            },
            cancellationToken);
    }

    /// <summary>
    /// Gives up a claim whose processing failed: the row stays pending, and no worker claims it before
    /// <paramref name="retryAt"/>. Only while the claim is still <paramref name="owner"/>'s; returns false when the
    /// lease was lost (another worker holds the row, and its own outcome stands).
    /// </summary>
    public Task<bool> FailAsync(WebhookClaim claim, string owner, DateTimeOffset retryAt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(claim);
        return database.WriteAsync(
            async (transaction, ct) =>
            {
                using var update = transaction.Command(WebhookSql.Fail);
                update.Bind("@retry_at", UnixMicros.From(retryAt))
                    .Bind("@event_id", claim.Event.EventId)
                    .Bind("@owner", owner)
                    .Bind("@claimed_at", UnixMicros.From(claim.ClaimedAt));
                return await update.ExecuteNonQueryAsync(ct).ConfigureAwait(false) == 1;
            },
            cancellationToken);
    }

    /// <summary>
    /// Hands back a claim whose processing never started (its turn did not come in time): the row is claimable again at
    /// once and the claim's attempt is not counted. Only while the claim is still <paramref name="owner"/>'s; returns
    /// false when the lease was lost.
    /// </summary>
    public Task<bool> ReleaseAsync(WebhookClaim claim, string owner, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(claim);
        return database.WriteAsync(
            async (transaction, ct) =>
            {
                using var update = transaction.Command(WebhookSql.Release);
                update.Bind("@event_id", claim.Event.EventId)
                    .Bind("@owner", owner)
                    .Bind("@claimed_at", UnixMicros.From(claim.ClaimedAt));
                return await update.ExecuteNonQueryAsync(ct).ConfigureAwait(false) == 1;
            },
            cancellationToken);
    }

    /// <summary>How many pending rows have been claimed at least <paramref name="attempts"/> times (events that keep failing).</summary>
    public Task<long> CountFailingAsync(int attempts, CancellationToken cancellationToken) =>
        database.ReadAsync(
            async (connection, ct) =>
            {
                using var select = connection.Command(WebhookSql.CountFailing);
                select.Bind("@attempts", attempts);
                return Convert.ToInt64(await select.ExecuteScalarAsync(ct).ConfigureAwait(false), CultureInfo.InvariantCulture);
            },
            cancellationToken);

    /// <summary>The state of <paramref name="eventId"/>'s row and how often it was claimed, or null when absent.</summary>
    public Task<(WebhookState State, int Attempts)?> FindAsync(string eventId, CancellationToken cancellationToken) =>
        database.ReadAsync(
            async (connection, ct) =>
            {
                using var select = connection.Command(WebhookSql.SelectEntry).Bind("@event_id", eventId);
                return await select.QueryFirstAsync<(WebhookState, int)?>(
                    static reader => (WebhookTexts.State.Parse(reader.GetString(6), "webhook_inbox.state"), checked((int)reader.GetInt64(9))),
                    null,
                    ct).ConfigureAwait(false);
            },
            cancellationToken);

    /// <summary>How many rows are pending.</summary>
    public Task<long> CountPendingAsync(CancellationToken cancellationToken) =>
        database.ReadAsync(
            async (connection, ct) =>
            {
                using var select = connection.Command(WebhookSql.CountPending);
                return Convert.ToInt64(await select.ExecuteScalarAsync(ct).ConfigureAwait(false), CultureInfo.InvariantCulture);
            },
            cancellationToken);

    /// <summary>
    /// The catch-up position: the newest event creation time seen, by catch-up (its cursor) or in the inbox, or null
    /// when neither has any.
    /// </summary>
    public Task<DateTimeOffset?> CatchUpPositionAsync(CancellationToken cancellationToken) =>
        database.ReadAsync(
            async (connection, ct) =>
            {
                long? newest = null;
                using (var cursor = connection.CreateCommand())
                {
                    cursor.CommandText = WebhookSql.SelectCursor;
                    cursor.Bind("@name", CatchUpCursor);
                    if (await cursor.ExecuteScalarAsync(ct).ConfigureAwait(false) is { } value and not DBNull)
                    {
                        newest = Convert.ToInt64(value, CultureInfo.InvariantCulture);
                    }
                }

                using (var inbox = connection.CreateCommand())
                {
                    inbox.CommandText = WebhookSql.NewestCreated;
                    if (await inbox.ExecuteScalarAsync(ct).ConfigureAwait(false) is { } value and not DBNull)
                    {
                        var created = Convert.ToInt64(value, CultureInfo.InvariantCulture);
                        newest = newest is null ? created : Math.Max(newest.Value, created);
                    }
                }

                return newest is { } micros ? UnixMicros.ToDateTimeOffset(micros) : (DateTimeOffset?)null;
            },
            cancellationToken);

    /// <summary>Moves the catch-up cursor forward to <paramref name="created"/> (never back; no write when not newer).</summary>
    public async Task AdvanceCatchUpAsync(DateTimeOffset created, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var current = await database.ReadAsync(
            async (connection, ct) =>
            {
                using var cursor = connection.Command(WebhookSql.SelectCursor);
                cursor.Bind("@name", CatchUpCursor);
                return await cursor.ExecuteScalarAsync(ct).ConfigureAwait(false) is { } value and not DBNull
                    ? Convert.ToInt64(value, CultureInfo.InvariantCulture)
                    : (long?)null;
            },
            cancellationToken).ConfigureAwait(false);
        var micros = UnixMicros.From(created);
        if (current >= micros)
        {
            return;
        }

        await database.WriteAsync(
            async (transaction, ct) =>
            {
                using var upsert = transaction.Command(WebhookSql.UpsertCursor);
                upsert.Bind("@name", CatchUpCursor).Bind("@created", micros).Bind("@now", UnixMicros.From(now));
                return await upsert.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            },
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Tokens whose SetupIntent (<c>seti_</c>) is <paramref name="setupIntentId"/>.</summary>
    public Task<IReadOnlyList<TokenRecord>> FindBySetupIntentAsync(string setupIntentId, CancellationToken cancellationToken) =>
        SelectTokensAsync(TokenKey.SetupIntent, setupIntentId, cancellationToken);

    /// <summary>Tokens charged under mandate <paramref name="mandateId"/>.</summary>
    public Task<IReadOnlyList<TokenRecord>> FindByMandateAsync(string mandateId, CancellationToken cancellationToken) =>
        SelectTokensAsync(TokenKey.Mandate, mandateId, cancellationToken);

    /// <summary>Tokens attached to gateway Customer <paramref name="customerId"/>.</summary>
    public Task<IReadOnlyList<TokenRecord>> FindByCustomerAsync(string customerId, CancellationToken cancellationToken) =>
        SelectTokensAsync(TokenKey.Customer, customerId, cancellationToken);

    /// <summary>
    /// Stores <paramref name="token"/>'s setup and mandate as the gateway reports them now, on the row whose SetupIntent
    /// is <see cref="TokenSetup.SetupIntentId"/>. Returns whether anything changed.
    /// </summary>
    public Task<bool> UpdateSetupAsync(TokenRecord token, CancellationToken cancellationToken) =>
        UpdateSetupAsync(token, null, cancellationToken);

    /// <summary>
    /// Stores <paramref name="token"/>'s setup and mandate as the gateway reports them now, on the row whose SetupIntent
    /// is <see cref="TokenSetup.SetupIntentId"/>; when the setup status itself changed, appends
    /// <paramref name="onStatusChange"/> (if given) in the same transaction, so the change and its token event commit
    /// together and a status that did not change gets no event. Returns whether anything changed.
    /// </summary>
    /// <exception cref="ArgumentException">The token has no SetupIntent, or the draft is malformed (names the field).</exception>
    public Task<bool> UpdateSetupAsync(TokenRecord token, TokenEventDraft? onStatusChange, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(token);
        ArgumentException.ThrowIfNullOrEmpty(token.Setup.SetupIntentId);
        ValidateDraft(onStatusChange);
        return database.WriteAsync(
            async (transaction, ct) =>
            {
                await LockIfAppendingAsync(transaction, onStatusChange, ct).ConfigureAwait(false);
                using (var status = transaction.Command(TokenSql.UpdateSetupStatusFromWebhook))
                {
                    TokenRows.BindSetupOnly(status, token);
                    if (await status.ExecuteNonQueryAsync(ct).ConfigureAwait(false) == 1)
                    {
                        await AppendAsync(transaction, onStatusChange, ct).ConfigureAwait(false);
                        return true;
                    }
                }

                using var update = transaction.Command(TokenSql.UpdateSetupFromWebhook);
                TokenRows.BindSetupOnly(update, token);
                return await update.ExecuteNonQueryAsync(ct).ConfigureAwait(false) == 1;
            },
            cancellationToken);
    }

    /// <summary>Stores mandate <paramref name="mandateId"/>'s status on every token under it. Returns whether anything changed.</summary>
    public async Task<bool> UpdateMandateStatusAsync(string mandateId, MandateStatus status, CancellationToken cancellationToken) =>
        (await UpdateMandateStatusAsync(mandateId, status, null, cancellationToken).ConfigureAwait(false)).Count > 0;

    /// <summary>
    /// Stores mandate <paramref name="mandateId"/>'s status on every token under it and, in the same transaction, appends
    /// <paramref name="eventFor"/>(token, caller id) for each token whose status changed (none when it returns null).
    /// Returns the tokens that changed.
    /// </summary>
    /// <exception cref="ArgumentException">A draft is malformed (names the field).</exception>
    public Task<IReadOnlyList<string>> UpdateMandateStatusAsync(
        string mandateId,
        MandateStatus status,
        Func<string, string, TokenEventDraft?>? eventFor,
        CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(mandateId);
        var name = TokenTexts.MandateStatus.Text(status);
        return database.WriteAsync<IReadOnlyList<string>>(
            async (transaction, ct) =>
            {
                if (eventFor is not null)
                {
                    await RelationalTokenEventStore.TakeAppendLockAsync(transaction, database.Dialect, ct).ConfigureAwait(false);
                }

                List<(string Token, string CallerId)> changed;
                using (var update = transaction.Command(TokenSql.UpdateMandateStatus).Bind("@mandate_status", name).Bind("@mandate_id", mandateId))
                {
                    changed = await update.QueryAsync(static reader => (reader.GetString(0), reader.GetString(1)), ct).ConfigureAwait(false);
                }

                foreach (var (token, callerId) in changed)
                {
                    if (eventFor?.Invoke(token, callerId) is { } draft)
                    {
                        RelationalTokenEventStore.Validate(draft);
                        await RelationalTokenEventStore.AppendWithChangeAsync(transaction, database.Dialect, draft, timeProvider.GetUtcNow(), lockTaken: true, ct).ConfigureAwait(false);
                    }
                }

                return changed.ConvertAll(c => c.Token);
            },
            cancellationToken);
    }

    /// <summary>
    /// Stores a card token's masked fields as the gateway reports them now (brand, last4, expiry, fingerprint).
    /// Returns whether anything changed.
    /// </summary>
    public Task<bool> UpdateCardAsync(string token, CardMetadata card, CancellationToken cancellationToken) =>
        UpdateCardAsync(token, card, null, cancellationToken);

    /// <summary>
    /// Stores a card token's masked fields as the gateway reports them now (brand, last4, expiry, fingerprint) and, only
    /// when one of them differed, appends <paramref name="onChange"/> (if given) in the same transaction. Returns whether
    /// anything changed.
    /// </summary>
    /// <exception cref="ArgumentException">The draft is malformed (names the field).</exception>
    public Task<bool> UpdateCardAsync(string token, CardMetadata card, TokenEventDraft? onChange, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(token);
        ArgumentNullException.ThrowIfNull(card);
        ValidateDraft(onChange);
        return WriteOneAsync(
            TokenSql.UpdateCard,
            update => update.Bind("@token", token)
                .Bind("@brand", card.Brand)
                .Bind("@last4", card.Last4)
                .Bind("@exp_month", card.ExpMonth)
                .Bind("@exp_year", card.ExpYear)
                .Bind("@fingerprint", card.Fingerprint),
            onChange,
            cancellationToken);
    }

    /// <summary>
    /// Marks an active token revoked (<see cref="TokenStatus.Revoked"/>: no longer chargeable, one-way) because the
    /// gateway no longer holds it attached. Returns whether it changed.
    /// </summary>
    public Task<bool> RevokeAsync(string token, DateTimeOffset now, CancellationToken cancellationToken) =>
        RevokeAsync(token, now, null, cancellationToken);

    /// <summary>
    /// Marks an active token revoked because the gateway no longer holds it (its Customer was deleted) and, only when it
    /// was active, appends <paramref name="onChange"/> (if given) in the same transaction. Returns whether it changed.
    /// </summary>
    /// <exception cref="ArgumentException">The draft is malformed (names the field).</exception>
    public Task<bool> RevokeAsync(string token, DateTimeOffset now, TokenEventDraft? onChange, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(token);
        ValidateDraft(onChange);
        return WriteOneAsync(TokenSql.RevokeActiveToken, update => update.Bind("@token", token).Bind("@revoked_at", UnixMicros.From(now)), onChange, cancellationToken);
    }

    /// <summary>
    /// Marks an active token revoked because the gateway confirms its PaymentMethod is detached, in one transaction that
    /// also tells whose detach it was: when no revoke of the token had started here (no
    /// <c>revoke_requested_at</c>), someone detached it at the gateway and <paramref name="detachedElsewhere"/> is
    /// appended; when a Revoke RPC had started (and committed its mark before it asked the gateway to detach), the detach
    /// is that revoke's own, seen before its ledger update, and <paramref name="revokedHere"/> is appended (the same event
    /// the revoke appends itself, so it stays one). A token that is already revoked changes nothing and gets no event.
    /// </summary>
    /// <returns>The kind of the event appended, or null when the token was not active (nothing changed).</returns>
    /// <exception cref="ArgumentException">A draft is malformed (names the field).</exception>
    public Task<TokenEventKind?> RevokeDetachedAsync(
        string token,
        DateTimeOffset now,
        TokenEventDraft detachedElsewhere,
        TokenEventDraft revokedHere,
        CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(token);
        ValidateDraft(detachedElsewhere);
        ValidateDraft(revokedHere);
        return database.WriteAsync(
            async (transaction, ct) =>
            {
                await RelationalTokenEventStore.TakeAppendLockAsync(transaction, database.Dialect, ct).ConfigureAwait(false);
                foreach (var (sql, draft) in new[] { (TokenSql.RevokeDetachedElsewhere, detachedElsewhere), (TokenSql.RevokeRequestedHere, revokedHere) })
                {
                    using var update = transaction.Command(sql);
                    update.Bind("@token", token).Bind("@now", UnixMicros.From(now));
                    if (await update.ExecuteNonQueryAsync(ct).ConfigureAwait(false) == 1)
                    {
                        await AppendAsync(transaction, draft, ct).ConfigureAwait(false);
                        return (TokenEventKind?)draft.Kind;
                    }
                }

                return null;
            },
            cancellationToken);
    }

    /// <summary>
    /// Forgets the customer mapping to a gateway Customer that was deleted at the gateway, so the next tokenisation for
    /// that customer reference creates a new one. Returns whether a mapping was removed.
    /// </summary>
    public Task<bool> ForgetCustomerAsync(string gateway, string customerId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(gateway);
        ArgumentException.ThrowIfNullOrEmpty(customerId);
        return WriteOneAsync(CustomerSql.DeleteCustomerMapping, delete => delete.Bind("@gateway", gateway).Bind("@id", customerId), cancellationToken, many: true);
    }

    private enum TokenKey
    {
        SetupIntent,
        Mandate,
        Customer,
    }

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA2100:Review SQL queries for security vulnerabilities", Justification = "The text is one of three WebhookSql constants chosen by an enum; the id travels as a bound parameter.")]
    private Task<IReadOnlyList<TokenRecord>> SelectTokensAsync(TokenKey key, string id, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        var sql = key switch
        {
            TokenKey.SetupIntent => TokenSql.SelectTokensBySetupIntent,
            TokenKey.Mandate => TokenSql.SelectTokensByMandate,
            _ => TokenSql.SelectTokensByCustomer,
        };
        return database.ReadAsync(
            async (connection, ct) =>
            {
                using var select = connection.Command(sql).Bind("@id", id);
                return (IReadOnlyList<TokenRecord>)await select.QueryAsync(TokenRows.Read, ct).ConfigureAwait(false);
            },
            cancellationToken);
    }

    private Task<bool> WriteOneAsync(string sql, Action<DbCommand> bind, CancellationToken cancellationToken, bool many = false) =>
        database.WriteAsync(
            async (transaction, ct) =>
            {
                using var command = transaction.Command(sql);
                bind(command);
                var rows = await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                return many ? rows > 0 : rows == 1;
            },
            cancellationToken);

    // One conditional update of one row; its token event only when it changed the row, in the same transaction.
    private Task<bool> WriteOneAsync(string sql, Action<DbCommand> bind, TokenEventDraft? onChange, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async (transaction, ct) =>
            {
                await LockIfAppendingAsync(transaction, onChange, ct).ConfigureAwait(false);
                using var command = transaction.Command(sql);
                bind(command);
                if (await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false) != 1)
                {
                    return false;
                }

                await AppendAsync(transaction, onChange, ct).ConfigureAwait(false);
                return true;
            },
            cancellationToken);

    private static void ValidateDraft(TokenEventDraft? draft)
    {
        if (draft is not null)
        {
            RelationalTokenEventStore.Validate(draft);
        }
    }

    // Before any row lock: a transaction that appends always takes the append lock first, so none waits for a row
    // while holding it (PostgreSQL; nothing on SQLite, whose writer is single).
    private Task LockIfAppendingAsync(DbTransaction transaction, TokenEventDraft? draft, CancellationToken cancellationToken) =>
        draft is null ? Task.CompletedTask : RelationalTokenEventStore.TakeAppendLockAsync(transaction, database.Dialect, cancellationToken);

    private async Task AppendAsync(DbTransaction transaction, TokenEventDraft? draft, CancellationToken cancellationToken)
    {
        if (draft is not null)
        {
            await RelationalTokenEventStore.AppendWithChangeAsync(transaction, database.Dialect, draft, timeProvider.GetUtcNow(), lockTaken: true, cancellationToken).ConfigureAwait(false);
        }
    }

    private static WebhookClaim ReadClaim(DbDataReader reader) => new(
        new WebhookEvent(
            reader.GetString(0),
            reader.GetString(1),
            UnixMicros.ToDateTimeOffset(reader.GetInt64(2)),
            reader.GetNullableString(3)),
        UnixMicros.ToDateTimeOffset(reader.GetInt64(8)),
        checked((int)reader.GetInt64(9)),
        reader.IsDBNull(10) ? 0 : reader.GetInt64(10));
}
