using System.Data.Common;
using Tokenizer.Core.Ports;
using Tokenizer.Core.Validation;
using Tokenizer.Ledger.Schema;

namespace Tokenizer.Ledger.TokenEvents;

/// <summary>
/// <see cref="ITokenEventLog"/> and <see cref="ITokenEventReader"/> in the ledger's own database (SQLite or PostgreSQL),
/// table <c>token_events</c> (migration 9), sharing the ledger's connections and write queue. Each append is one
/// transaction. Thread-safe.
/// </summary>
/// <remarks>
/// <para>
/// A reader keeps the last sequence it saw and asks for what is above it, so the one rule that matters is: a row must
/// never become visible with a sequence below one a reader has already seen. On PostgreSQL an identity alone does not
/// give that: two transactions take 10 and 11, the one with 11 commits first, a watcher reads 11 and moves past 10, which
/// commits a moment later and is never delivered. The ways out considered:
/// </para>
/// <list type="bullet">
/// <item>A settle window (read only rows older than a few seconds) is a timing assumption: a transaction held up longer
/// than the window (a pause, a slow commit, a stalled connection) still loses its event, and every event arrives late.</item>
/// <item>A visibility guard on transaction ids (<c>pg_snapshot_xmin</c>) is not enough alone either: the identity value
/// is drawn before the row's transaction id is assigned, so the order of the two can differ.</item>
/// <item>Serialised appends (chosen): each append takes a transaction-scoped advisory lock before it draws its sequence,
/// and the lock is released only after its commit is visible, so sequences commit in the order they are drawn on every
/// replica. A reader that sees sequence N committed therefore sees every committed row below N. Appends are rare
/// (webhooks, revokes) and short (one INSERT), so one at a time costs nothing that matters; reads take no lock.</item>
/// </list>
/// <para>
/// SQLite gets the same property from its single writer (<c>BEGIN IMMEDIATE</c>). On both, sequences are never reused
/// after the retention purge deletes the newest rows (SQLite AUTOINCREMENT), so a cursor never falls behind a new row.
/// Aborted appends leave gaps, which readers skip.
/// </para>
/// </remarks>
public sealed class RelationalTokenEventStore : ITokenEventLog, ITokenEventReader
{
    /// <summary>The largest page <see cref="ReadAfterAsync"/> returns.</summary>
    public const int MaxLimit = 1000;

    private readonly ILedgerDatabase database;
    private readonly TimeProvider timeProvider;

    /// <param name="ledger">The token ledger whose database holds <c>token_events</c>; must outlive this store.</param>
    /// <param name="timeProvider">The clock for <see cref="TokenEvent.RecordedAt"/>.</param>
    public RelationalTokenEventStore(RelationalTokenLedger ledger, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(ledger);
        ArgumentNullException.ThrowIfNull(timeProvider);
        database = ledger.SharedDatabase;
        this.timeProvider = timeProvider;
    }

    /// <inheritdoc />
    /// <remarks>
    /// Refuses (ArgumentException naming the field, never the value) a token that is not token-id shaped, an empty or
    /// over-long caller id (200) or source id (300, printable ASCII), an unknown kind, card fields on any kind but
    /// <see cref="TokenEventKind.CardUpdated"/>, and card fields that are not masked ones (last4 four digits, month 1-12,
    /// year four digits, brand and fingerprint short ASCII words).
    /// </remarks>
    public Task<bool> AppendAsync(TokenEventDraft draft, CancellationToken cancellationToken)
    {
        Validate(draft);
        var recordedAt = timeProvider.GetUtcNow();
        var dialect = database.Dialect;
        return database.WriteAsync((transaction, ct) => AppendInTransactionAsync(transaction, dialect, draft, recordedAt, takeLock: true, ct), cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<TokenEvent>> ReadAfterAsync(long after, string? callerId, int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(after);
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, MaxLimit);
        return database.ReadAsync<IReadOnlyList<TokenEvent>>(
            async (connection, ct) =>
            {
                using var select = connection.CreateCommand();
#pragma warning disable CA2100 // One of two constants; every value is a bound parameter.
                select.CommandText = callerId is null ? TokenEventSql.SelectAfter : TokenEventSql.SelectCallerAfter;
#pragma warning restore CA2100
                select.Bind("@after", after).Bind("@limit", (long)limit);
                if (callerId is not null)
                {
                    select.Bind("@caller_id", callerId);
                }

                return await select.QueryAsync(Read, ct).ConfigureAwait(false);
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public Task<int> PurgeRecordedBeforeAsync(DateTimeOffset recordedBefore, CancellationToken cancellationToken)
    {
        var before = UnixMicros.From(recordedBefore);
        return database.WriteAsync(
            async (transaction, ct) =>
            {
                using var delete = transaction.Command(TokenEventSql.PurgeRecordedBefore);
                delete.Bind("@before", before);
                return await delete.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            },
            cancellationToken);
    }

    /// <summary>
    /// The append's statements inside <paramref name="transaction"/>: the dialect's append lock (unless
    /// <paramref name="takeLock"/> is false, which only the ordering tests' control does), then the insert.
    /// </summary>
    internal static async Task<bool> AppendInTransactionAsync(
        DbTransaction transaction,
        SqlDialect dialect,
        TokenEventDraft draft,
        DateTimeOffset recordedAt,
        bool takeLock,
        CancellationToken cancellationToken)
    {
        if (takeLock && dialect.TokenEventAppendLock is { } appendLock)
        {
            await transaction.ExecuteAsync(appendLock, cancellationToken).ConfigureAwait(false);
        }

        var card = draft.Kind == TokenEventKind.CardUpdated ? draft.Card : null;
        using var insert = transaction.Command(TokenEventSql.Insert);
        insert.Bind("@token", draft.Token)
            .Bind("@caller_id", draft.CallerId)
            .Bind("@kind", TokenEventKinds.Texts.Text(draft.Kind))
            .Bind("@source_id", draft.SourceId)
            .Bind("@occurred_at", UnixMicros.From(draft.OccurredAt))
            .Bind("@recorded_at", UnixMicros.From(recordedAt))
            .Bind("@brand", card?.Brand)
            .Bind("@last4", card?.Last4)
            .Bind("@exp_month", card?.ExpMonth is { } month ? (long)month : null)
            .Bind("@exp_year", card?.ExpYear is { } year ? (long)year : null)
            .Bind("@fingerprint", card?.Fingerprint);
        return await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
    }

    /// <summary>
    /// Appends <paramref name="draft"/> inside a transaction that has already changed the ledger state the event
    /// reports (the state change and its event commit together or not at all). Takes the dialect's append lock unless
    /// <paramref name="lockTaken"/> (the caller took it at the start of its transaction, before any row lock, which
    /// keeps transactions that update several tokens free of lock-order deadlocks).
    /// </summary>
    internal static Task<bool> AppendWithChangeAsync(DbTransaction transaction, SqlDialect dialect, TokenEventDraft draft, DateTimeOffset recordedAt, bool lockTaken, CancellationToken cancellationToken)
    {
        Validate(draft);
        return AppendInTransactionAsync(transaction, dialect, draft, recordedAt, takeLock: !lockTaken, cancellationToken);
    }

    /// <summary>Takes the dialect's append lock (PostgreSQL advisory, to commit); nothing on SQLite.</summary>
    internal static async Task TakeAppendLockAsync(DbTransaction transaction, SqlDialect dialect, CancellationToken cancellationToken)
    {
        if (dialect.TokenEventAppendLock is { } appendLock)
        {
            await transaction.ExecuteAsync(appendLock, cancellationToken).ConfigureAwait(false);
        }
    }

    private static TokenEvent Read(DbDataReader reader)
    {
        var kind = TokenEventKinds.Texts.Parse(reader.GetString(3), "token_events.kind");
        var card = kind == TokenEventKind.CardUpdated
            ? new CardUpdate(
                reader.GetNullableString(7),
                reader.GetNullableString(8),
                reader.GetNullableInt64(9) is { } month ? (int)month : null,
                reader.GetNullableInt64(10) is { } year ? (int)year : null,
                reader.GetNullableString(11))
            : null;
        return new TokenEvent(
            reader.GetInt64(0),
            reader.GetString(1),
            reader.GetString(2),
            kind,
            reader.GetString(4),
            UnixMicros.ToDateTimeOffset(reader.GetInt64(5)),
            UnixMicros.ToDateTimeOffset(reader.GetInt64(6)),
            card);
    }

    /// <summary>Refuses a draft <see cref="AppendAsync"/> would refuse (ArgumentException naming the field).</summary>
    internal static void Validate(TokenEventDraft draft)
    {
        ArgumentNullException.ThrowIfNull(draft);
        if (!InputRules.IsTokenIdShaped(draft.Token))
        {
            throw new ArgumentException("token: must be a token id of 1-255 letters, digits or underscores", nameof(draft));
        }

        if (draft.CallerId is not { Length: >= 1 and <= 200 })
        {
            throw new ArgumentException("caller_id: must be 1-200 characters", nameof(draft));
        }

        if (draft.SourceId is not { Length: >= 1 and <= 300 } || !draft.SourceId.All(c => c is >= '!' and <= '~'))
        {
            throw new ArgumentException("source_id: must be 1-300 printable ASCII characters", nameof(draft));
        }

        _ = TokenEventKinds.Texts.Text(draft.Kind);
        if (draft.Card is not { } card)
        {
            return;
        }

        if (draft.Kind != TokenEventKind.CardUpdated)
        {
            throw new ArgumentException("card: only card_updated events carry card fields", nameof(draft));
        }

        if (card.Last4 is not null && (card.Last4.Length != 4 || !card.Last4.All(char.IsAsciiDigit)))
        {
            throw new ArgumentException("card.last4: must be four digits", nameof(draft));
        }

        if (card.ExpMonth is < 1 or > 12)
        {
            throw new ArgumentException("card.exp_month: must be between 1 and 12", nameof(draft));
        }

        if (card.ExpYear is < 1000 or > 9999)
        {
            throw new ArgumentException("card.exp_year: must be four digits", nameof(draft));
        }

        if (card.Brand is not null && !IsWord(card.Brand, 32))
        {
            throw new ArgumentException("card.brand: must be 1-32 letters, digits or underscores", nameof(draft));
        }

        // A fingerprint is the gateway's opaque id; base64url ones (the sandbox's) hold '-' as well as '_'.
        if (card.Fingerprint is not null && !IsWord(card.Fingerprint.Replace('-', '_'), 64))
        {
            throw new ArgumentException("card.fingerprint: must be 1-64 letters, digits, underscores or dashes", nameof(draft));
        }
    }

    private static bool IsWord(string value, int maxLength) =>
        value.Length >= 1 && value.Length <= maxLength && value.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');
}
