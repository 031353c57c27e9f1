using System.Data.Common;
using Tokenizer.Core.Ports;
using Tokenizer.Ledger.Schema;

namespace Tokenizer.Ledger.Intents;

/// <summary>
/// <see cref="IIntentStore"/> on the ledger's database, and the owner of table <c>intents</c>: every statement that
/// writes it is in <see cref="IntentSql"/>, run here or by the internal helpers that other stores call inside their own
/// transaction (a claim records and moves its intent with it). Thread-safe.
/// </summary>
internal sealed class RelationalIntentStore(ILedgerDatabase database, TimeProvider timeProvider) : IIntentStore
{
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
        return database.ReadAsync<IReadOnlyList<TokenIntent>>(
            async (connection, ct) =>
            {
                using var select = connection.Command(IntentSql.SelectIntents)
                    .Bind("@state", stateName).Bind("@updated_before", UnixMicros.From(updatedBefore)).Bind("@limit", limit);
                return await select.QueryAsync(
                    static reader => new TokenIntent(
                        reader.GetString(0),
                        reader.GetString(1),
                        reader.GetString(2),
                        reader.GetString(3),
                        reader.GetString(4),
                        (byte[])reader.GetValue(5),
                        IntentTexts.State.Parse(reader.GetString(6), "intents.state"),
                        reader.GetNullableString(7),
                        UnixMicros.ToDateTimeOffset(reader.GetInt64(8)),
                        UnixMicros.ToDateTimeOffset(reader.GetInt64(9))),
                    ct).ConfigureAwait(false);
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public Task SettleUnclaimedAsync(string callerId, string key, string? completedToken, CancellationToken cancellationToken) =>
        UpdateKeyAsync(IntentSql.SettleIntent, callerId, key, command => command.Bind("@token", completedToken), cancellationToken);

    /// <inheritdoc />
    public Task ConfirmDetachedAsync(string callerId, string key, CancellationToken cancellationToken) =>
        UpdateKeyAsync(IntentSql.ConfirmDetachedIntent, callerId, key, static _ => { }, cancellationToken);

    /// <summary>A key's intent state, updated_at and request HMAC (null: the key has none), in the caller's transaction.</summary>
    internal static async Task<(string State, long UpdatedAt, byte[] RequestHmac)?> ReadOfKeyAsync(
        DbTransaction transaction,
        string callerId,
        string key,
        CancellationToken cancellationToken)
    {
        using var select = transaction.Command(IntentSql.SelectIntentOfKey);
        BindKey(select, callerId, key);
        return await select.QueryFirstAsync<(string, long, byte[])?>(
            static reader => (reader.GetString(0), reader.GetInt64(1), (byte[])reader.GetValue(2)),
            null,
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A key's intent id (null: the key has none), in the caller's transaction.</summary>
    internal static async Task<string?> ReadIdOfKeyAsync(DbTransaction transaction, string callerId, string key, CancellationToken cancellationToken)
    {
        using var select = transaction.Command(IntentSql.SelectIntentIdOfKey);
        BindKey(select, callerId, key);
        return await select.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as string;
    }

    /// <summary>Records a started claim's intent as pending (see <see cref="IntentSql.UpsertPendingIntent"/>), in the claim's transaction.</summary>
    internal static async Task RecordPendingAsync(
        DbTransaction transaction,
        IdempotencyClaim claim,
        IntentInfo intent,
        long now,
        CancellationToken cancellationToken)
    {
        using var upsert = transaction.Command(IntentSql.UpsertPendingIntent);
        BindKey(upsert, claim.CallerId, claim.Key)
            .Bind("@intent_id", intent.IntentId)
            .Bind("@operation", claim.Operation)
            .Bind("@customer_reference", intent.CustomerReference)
            .Bind("@request_hmac", claim.RequestHmac)
            .Bind("@erased_hmac", new byte[claim.RequestHmac.Length])
            .Bind("@now", now);
        await upsert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Moves only the updated_at of a key's intent (a failed intent the sweep claimed stays failed).</summary>
    internal static Task TouchAsync(DbTransaction transaction, string callerId, string key, long now, CancellationToken cancellationToken) =>
        ExecuteAsync(transaction, IntentSql.TouchIntent, callerId, key, now, static _ => { }, cancellationToken);

    /// <summary>Moves a key's intent after a fenced release (see <see cref="IntentSql.ReleaseOwnedIntent"/>).</summary>
    internal static Task ReleaseAsync(
        DbTransaction transaction,
        string callerId,
        string key,
        IntentState outcome,
        long claimedAt,
        long now,
        CancellationToken cancellationToken) =>
        ExecuteAsync(
            transaction,
            IntentSql.ReleaseOwnedIntent,
            callerId,
            key,
            now,
            command => command.Bind("@state", IntentTexts.State.Text(outcome)).Bind("@claimed_at", claimedAt),
            cancellationToken);

    /// <summary>Marks a key's pending intent completed with its token (nothing when none is pending).</summary>
    internal static Task CompleteAsync(DbTransaction transaction, string callerId, string key, string token, long now, CancellationToken cancellationToken) =>
        ExecuteAsync(transaction, IntentSql.CompleteIntent, callerId, key, now, command => command.Bind("@token", token), cancellationToken);

    /// <summary>Sets a key's intent to <paramref name="state"/> with its token, whatever it was.</summary>
    internal static Task SetTokenAsync(
        DbTransaction transaction,
        string callerId,
        string key,
        IntentState state,
        string token,
        long now,
        CancellationToken cancellationToken) =>
        ExecuteAsync(
            transaction,
            IntentSql.SetIntentToken,
            callerId,
            key,
            now,
            command => command.Bind("@state", IntentTexts.State.Text(state)).Bind("@token", token),
            cancellationToken);

    private static DbCommand BindKey(DbCommand command, string callerId, string key) =>
        command.Bind("@caller_id", callerId).Bind("@idempotency_key", key);

    private static async Task<int> ExecuteAsync(
        DbTransaction transaction,
        string sql,
        string callerId,
        string key,
        long now,
        Action<DbCommand> bind,
        CancellationToken cancellationToken)
    {
        using var command = transaction.Command(sql);
        BindKey(command, callerId, key).Bind("@now", now);
        bind(command);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    // One statement on one key's intent in its own transaction.
    private Task<int> UpdateKeyAsync(string sql, string callerId, string key, Action<DbCommand> bind, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(callerId);
        ArgumentException.ThrowIfNullOrEmpty(key);
        var now = UnixMicros.From(timeProvider.GetUtcNow());
        return database.WriteAsync((transaction, ct) => ExecuteAsync(transaction, sql, callerId, key, now, bind, ct), cancellationToken);
    }

    /// <summary>Replaces <paramref name="customerReference"/> by <paramref name="erasedReference"/> on every intent (an erasure).</summary>
    internal static async Task UnlinkReferenceAsync(DbTransaction transaction, string customerReference, string erasedReference, CancellationToken cancellationToken)
    {
        using var unlink = transaction.Command(IntentSql.UnlinkIntents);
        unlink.Bind("@erased_reference", erasedReference).Bind("@customer_reference", customerReference);
        await unlink.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Deletes the completed or closed intents whose claim completed before <paramref name="before"/> (unix microseconds;
    /// retention), in the caller's transaction, before the claims themselves go.
    /// </summary>
    internal static async Task PurgeFinishedAsync(DbTransaction transaction, long before, CancellationToken cancellationToken)
    {
        using var purge = transaction.Command(IntentSql.PurgeFinishedIntents);
        purge.Bind("@before", before);
        await purge.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
