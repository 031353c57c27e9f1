using Tokenizer.Core.Domain;
using Tokenizer.Core.Ports;
using Tokenizer.Core.Privacy;
using Tokenizer.Ledger.Claims;
using Tokenizer.Ledger.Customers;
using Tokenizer.Ledger.Intents;
using Tokenizer.Ledger.Schema;
using Tokenizer.Ledger.TokenEvents;
using Tokenizer.Ledger.Tokens;

namespace Tokenizer.Ledger.Privacy;

/// <summary>
/// <see cref="IPrivacyStore"/> in the ledger's own database (SQLite or PostgreSQL), tables <c>privacy_subject_keys</c>,
/// <c>privacy_personal_data</c> and <c>privacy_erasures</c> (migration 6), sharing the ledger's connections and write
/// queue. Every write is one transaction. Thread-safe.
/// </summary>
/// <remarks>
/// The tables hold only keyed pseudonyms, wrapped data keys (Data Protection payloads) and AES-GCM ciphertexts: nothing
/// in them reads in clear without the key ring. Deleting a row does not scrub its bytes from free pages, the WAL or
/// backups; that is what the per-subject key is for: once its row is gone (and the key ring's copies of it expire), the
/// leftover ciphertexts are noise.
/// </remarks>
public sealed class RelationalPrivacyStore : IPrivacyStore, ISubjectKeyStore
{
    private readonly ILedgerDatabase database;

    /// <param name="ledger">The token ledger whose database holds the privacy tables; must outlive this store.</param>
    public RelationalPrivacyStore(RelationalTokenLedger ledger)
    {
        ArgumentNullException.ThrowIfNull(ledger);
        database = ledger.SharedDatabase;
    }

    /// <inheritdoc />
    /// <remarks>The table <c>privacy_subject_keys</c>: in the database, so in its backups too (PostgreSQL deployments).</remarks>
    public Task<byte[]?> FindAsync(string subject, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(subject);
        return database.ReadAsync(
            async (connection, ct) =>
            {
                using var select = connection.Command(PrivacySql.SelectSubjectKey);
                select.Bind("@subject", subject);
                return await select.ExecuteScalarAsync(ct).ConfigureAwait(false) is byte[] wrapped ? wrapped : null;
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public Task<byte[]> AddAsync(string subject, byte[] wrappedKey, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(subject);
        ArgumentNullException.ThrowIfNull(wrappedKey);
        return database.WriteAsync(
            async (transaction, ct) =>
            {
                using (var insert = transaction.Command(PrivacySql.InsertSubjectKey))
                {
                    insert.Bind("@subject", subject).Bind("@wrapped_key", wrappedKey).Bind("@created_at", UnixMicros.From(now));
                    await insert.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                }

                using var select = transaction.Command(PrivacySql.SelectSubjectKey);
                select.Bind("@subject", subject);
                return (byte[])(await select.ExecuteScalarAsync(ct).ConfigureAwait(false))!;
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public Task DestroyAsync(string subject, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(subject);
        return WriteOneAsync(PrivacySql.DeleteSubjectKey, delete => delete.Bind("@subject", subject), cancellationToken);
    }

    /// <inheritdoc />
    public Task DeletePersonalDataAsync(string subject, string recordId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(subject);
        ArgumentException.ThrowIfNullOrEmpty(recordId);
        return WriteOneAsync(
            PrivacySql.DeletePersonalDataRecord,
            delete => delete.Bind("@subject", subject).Bind("@record_id", recordId),
            cancellationToken);
    }

    /// <inheritdoc />
    public Task SavePersonalDataAsync(PersonalDataRecord record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        return WriteOneAsync(
            PrivacySql.UpsertPersonalData,
            upsert => upsert.Bind("@subject", record.Subject)
                .Bind("@record_id", record.RecordId)
                .Bind("@ciphertext", record.Ciphertext)
                .Bind("@updated_at", UnixMicros.From(record.UpdatedAt)),
            cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<PersonalDataRecord>> ListPersonalDataAsync(string subject, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(subject);
        return database.ReadAsync<IReadOnlyList<PersonalDataRecord>>(
            async (connection, ct) =>
            {
                using var select = connection.Command(PrivacySql.SelectPersonalData).Bind("@subject", subject);
                return await select.QueryAsync(
                    reader => new PersonalDataRecord(subject, reader.GetString(0), (byte[])reader.GetValue(1), UnixMicros.ToDateTimeOffset(reader.GetInt64(2))),
                    ct).ConfigureAwait(false);
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public Task<ErasureRecord?> FindErasureAsync(string subject, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(subject);
        return database.ReadAsync(
            async (connection, ct) =>
            {
                using var select = connection.Command(PrivacySql.SelectErasure).Bind("@subject", subject);
                return await select.QueryFirstAsync<ErasureRecord?>(
                    reader => new ErasureRecord(
                    subject,
                    ErasureTexts.Step.Parse(reader.GetString(0), "privacy_erasures.step"),
                    UnixMicros.ToDateTimeOffset(reader.GetInt64(1)),
                    UnixMicros.ToDateTimeOffset(reader.GetInt64(2)),
                    reader.GetNullableInt64(3) is { } completed ? UnixMicros.ToDateTimeOffset(completed) : null,
                    checked((int)reader.GetInt64(4)),
                    checked((int)reader.GetInt64(5)),
                    reader.GetNullableInt64(6) is { } since ? UnixMicros.ToDateTimeOffset(since) : null),
                    null,
                    ct).ConfigureAwait(false);
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public Task<DateTimeOffset?> FindHoldingStartAsync(string customerReference, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(customerReference);
        return database.ReadAsync(
            async (connection, ct) =>
            {
                using var select = connection.Command(PrivacySql.SelectHoldingStart).Bind("@customer_reference", customerReference);
                return await select.QueryFirstAsync(
                    static reader => reader.GetNullableInt64(0) is { } start ? UnixMicros.ToDateTimeOffset(start) : (DateTimeOffset?)null,
                    null,
                    ct).ConfigureAwait(false);
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public Task SaveErasureAsync(ErasureRecord erasure, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(erasure);
        return WriteOneAsync(
            PrivacySql.UpsertErasure,
            upsert => upsert.Bind("@subject", erasure.Subject)
                .Bind("@step", ErasureTexts.Step.Text(erasure.Step))
                .Bind("@requested_at", UnixMicros.From(erasure.RequestedAt))
                .Bind("@updated_at", UnixMicros.From(erasure.UpdatedAt))
                .Bind("@completed_at", erasure.CompletedAt is { } completed ? UnixMicros.From(completed) : null)
                .Bind("@payment_methods_detached", (long)erasure.PaymentMethodsDetached)
                .Bind("@payment_methods_not_cleared", (long)erasure.PaymentMethodsNotCleared)
                .Bind("@holding_since", erasure.HoldingSince is { } since ? UnixMicros.From(since) : null),
            cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>
    /// Table <c>erasure_fences</c>. On PostgreSQL the transaction first takes the reference's fence lock exclusively
    /// (<see cref="SqlDialect.ReferenceFenceLock"/>): it waits for every claim that read no fence to commit, so their
    /// pending intents are counted; SQLite's single writer gives the same order.
    /// </remarks>
    public Task<int> FenceReferenceAsync(string customerReference, string subject, DateTimeOffset now, DateTimeOffset claimsLiveSince, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(customerReference);
        ArgumentException.ThrowIfNullOrEmpty(subject);
        return database.WriteAsync(
            async (transaction, ct) =>
            {
                await TakeFenceLockAsync(transaction, database.Dialect.ReferenceFenceLock, customerReference, ct).ConfigureAwait(false);
                using (var insert = transaction.Command(PrivacySql.InsertFence))
                {
                    insert.Bind("@customer_reference", customerReference).Bind("@fenced_at", UnixMicros.From(now));
                    await insert.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                }

                using var count = transaction.Command(PrivacySql.CountInFlightOfSubject);
                count.Bind("@customer_reference", customerReference).Bind("@subject", subject).Bind("@live_since", UnixMicros.From(claimsLiveSince))
                    .Bind("@erase_operation", PrivacyErasure.EraseOperation);
                return Convert.ToInt32(await count.ExecuteScalarAsync(ct).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
            },
            cancellationToken);
    }

    /// <summary>
    /// Whether an erasure of <paramref name="customerReference"/> is in progress, read in a tokenisation claim's
    /// transaction after taking the reference's shared fence lock (PostgreSQL), so the claim either commits before the
    /// erasure counts intents in flight or sees its fence. Take the lock exclusively (<paramref name="exclusive"/>) for
    /// claims that must not run beside each other, such as one person's corrections.
    /// </summary>
    internal static async Task<bool> IsFencedAsync(System.Data.Common.DbTransaction transaction, SqlDialect dialect, string customerReference, bool exclusive, CancellationToken cancellationToken)
    {
        await TakeFenceLockAsync(transaction, exclusive ? dialect.ReferenceFenceLock : dialect.ReferenceFenceSharedLock, customerReference, cancellationToken).ConfigureAwait(false);
        using var select = transaction.Command(PrivacySql.SelectFence);
        select.Bind("@customer_reference", customerReference);
        return Convert.ToInt64(await select.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture) > 0;
    }

    /// <summary>
    /// Takes the exclusive fence lock keyed by <paramref name="resource"/> (PostgreSQL; SQLite's single writer already
    /// serialises), for one-per-resource claims that no reference fences (an erasure's own claim).
    /// </summary>
    internal static Task LockResourceAsync(System.Data.Common.DbTransaction transaction, SqlDialect dialect, string resource, CancellationToken cancellationToken) =>
        TakeFenceLockAsync(transaction, dialect.ReferenceFenceLock, resource, cancellationToken);

    /// <summary>The second key of a reference's fence lock: the first 32 bits of SHA-256 of the reference (UTF-8).</summary>
    internal static int FenceKey(string customerReference) =>
        System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(
            System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(customerReference)));

    private static async Task TakeFenceLockAsync(System.Data.Common.DbTransaction transaction, string? statement, string customerReference, CancellationToken cancellationToken)
    {
        if (statement is null)
        {
            return;
        }

        using var fenceLock = transaction.Command(statement);
        fenceLock.Bind("@fence_key", FenceKey(customerReference));
        await fenceLock.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    /// <remarks>
    /// When the token was active, its owner's <c>revoked</c> token event (source <c>revoke:</c> + token, the one a Revoke
    /// RPC would append) is appended in the same transaction; a token already revoked (a detach webhook processed during
    /// the erasure reported it already) gets none.
    /// </remarks>
    public Task MarkTokenRevokedAsync(string token, DateTimeOffset revokedAt, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(token);
        return database.WriteAsync(
            async (transaction, ct) =>
            {
                // The append lock before any row lock, as every appending transaction takes them (PostgreSQL).
                await RelationalTokenEventStore.TakeAppendLockAsync(transaction, database.Dialect, ct).ConfigureAwait(false);
                var callerId = await RelationalTokenRepository.FindActiveCallerAsync(transaction, token, ct).ConfigureAwait(false);
                if (callerId is null || !await RelationalTokenRepository.RevokeActiveAsync(transaction, token, UnixMicros.From(revokedAt), ct).ConfigureAwait(false))
                {
                    return 0;
                }

                var draft = new TokenEventDraft(token, callerId, TokenEventKind.Revoked, "revoke:" + token, revokedAt, Card: null);
                await RelationalTokenEventStore.AppendWithChangeAsync(transaction, database.Dialect, draft, revokedAt, lockTaken: true, ct).ConfigureAwait(false);
                return 1;
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public Task SettleSetupAsync(TokenRecord token, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(token);
        ArgumentException.ThrowIfNullOrEmpty(token.Setup.SetupIntentId);
        return database.WriteAsync(
            (transaction, ct) => RelationalTokenRepository.SettleSetupAsync(transaction, token, ct),
            cancellationToken);
    }

    /// <inheritdoc />
    public async Task<bool> DestroySubjectAsync(string subject, string gateway, string customerReference, string erasedReference, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(subject);
        ArgumentException.ThrowIfNullOrEmpty(gateway);
        ArgumentException.ThrowIfNullOrEmpty(customerReference);
        ArgumentException.ThrowIfNullOrEmpty(erasedReference);
        var destroyed = await database.WriteAsync(
            async (transaction, ct) =>
            {
                if (await RelationalTokenRepository.CountActiveOfReferenceAsync(transaction, customerReference, ct).ConfigureAwait(false) > 0)
                {
                    return false;
                }

                foreach (var sql in new[] { PrivacySql.DeleteSubjectData, PrivacySql.DeleteSubjectKey })
                {
                    using var delete = transaction.Command(sql);
                    delete.Bind("@subject", subject);
                    await delete.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                }

                await RelationalCustomerRepository.DeleteMappingAsync(transaction, gateway, customerReference, ct).ConfigureAwait(false);

                using (var fence = transaction.Command(PrivacySql.DeleteFence))
                {
                    fence.Bind("@customer_reference", customerReference);
                    await fence.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                }

                // Every row that shows the reference beside the subject's tokens: the ledger's own, the idempotency
                // answers a retry would replay, and reconciliation (items, run filters, run cursors).
                await RelationalTokenRepository.UnlinkReferenceAsync(transaction, customerReference, erasedReference, ct).ConfigureAwait(false);
                await RelationalIntentStore.UnlinkReferenceAsync(transaction, customerReference, erasedReference, ct).ConfigureAwait(false);
                foreach (var sql in new[]
                {
                    PrivacySql.UnlinkReconciliationItems,
                    PrivacySql.UnlinkReconciliationRunFilters, PrivacySql.UnlinkReconciliationRunCurrent,
                    PrivacySql.UnlinkReconciliationRunCursor,
                })
                {
                    using var unlink = transaction.Command(sql);
                    unlink.Bind("@erased_reference", erasedReference).Bind("@customer_reference", customerReference).Bind("@gateway", gateway);
                    await unlink.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                }

                await RelationalClaimStore.RewriteResponsesAsync(
                    transaction,
                    Contains("\"" + customerReference + "\""),
                    Contains(System.Text.Json.JsonSerializer.Serialize(customerReference)),
                    response => Pseudonymise(response, customerReference, erasedReference),
                    ct).ConfigureAwait(false);

                // The person's corrections are claimed under the pseudonym, which the reference keeps: their answers
                // would replay to whoever the reference stands for next, and their keys refuse that holder's requests.
                await RelationalClaimStore.ForgetFinishedOfResourceAsync(transaction, subject, ct).ConfigureAwait(false);
                return true;
            },
            cancellationToken).ConfigureAwait(false);
        if (!destroyed)
        {
            return false;
        }

        // The WAL still holds the pages as they were before (and SQLite reuses it from the start without clearing it):
        // fold it into the file, whose replaced pages secure_delete zeroed, and truncate it.
        if (database is Sqlite.SqliteDatabase sqlite)
        {
            await sqlite.TruncateWalAsync(cancellationToken).ConfigureAwait(false);
        }

        return true;
    }

    /// <summary>
    /// <paramref name="json"/> with every string value equal to <paramref name="reference"/> replaced, or null when none
    /// is (the LIKE match was a case-insensitive or partial one). Text that is not JSON has the quoted forms replaced.
    /// </summary>
    internal static string? Pseudonymise(string json, string reference, string erasedReference)
    {
        System.Text.Json.Nodes.JsonNode? root;
        try
        {
            root = System.Text.Json.Nodes.JsonNode.Parse(json);
        }
        catch (System.Text.Json.JsonException)
        {
            var replaced = json
                .Replace("\"" + reference + "\"", "\"" + erasedReference + "\"", StringComparison.Ordinal)
                .Replace(System.Text.Json.JsonSerializer.Serialize(reference), System.Text.Json.JsonSerializer.Serialize(erasedReference), StringComparison.Ordinal);
            return string.Equals(replaced, json, StringComparison.Ordinal) ? null : replaced;
        }

        if (root is null || !Replace(root, reference, erasedReference))
        {
            return null;
        }

        return root.ToJsonString();

        static bool Replace(System.Text.Json.Nodes.JsonNode node, string reference, string erased)
        {
            var changed = false;
            switch (node)
            {
                case System.Text.Json.Nodes.JsonObject obj:
                    foreach (var name in obj.Select(p => p.Key).ToList())
                    {
                        if (obj[name] is not { } child)
                        {
                            continue;
                        }

                        if (IsReference(child, reference))
                        {
                            obj[name] = erased;
                            changed = true;
                        }
                        else
                        {
                            changed |= Replace(child, reference, erased);
                        }
                    }

                    break;
                case System.Text.Json.Nodes.JsonArray array:
                    for (var i = 0; i < array.Count; i++)
                    {
                        if (array[i] is not { } item)
                        {
                            continue;
                        }

                        if (IsReference(item, reference))
                        {
                            array[i] = erased;
                            changed = true;
                        }
                        else
                        {
                            changed |= Replace(item, reference, erased);
                        }
                    }

                    break;
            }

            return changed;
        }

        static bool IsReference(System.Text.Json.Nodes.JsonNode node, string reference) =>
            node is System.Text.Json.Nodes.JsonValue value && value.TryGetValue<string>(out var text) && string.Equals(text, reference, StringComparison.Ordinal);
    }

    /// <summary>A LIKE pattern matching any text that contains <paramref name="literal"/> (escape character <c>\</c>).</summary>
    private static string Contains(string literal) =>
        "%" + literal.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal) + "%";

    /// <inheritdoc />
    public Task<RetentionPurge> PurgeExpiredAsync(DateTimeOffset revokedTokensBefore, DateTimeOffset idempotencyBefore, CancellationToken cancellationToken)
    {
        var tokensBefore = UnixMicros.From(revokedTokensBefore);
        var recordsBefore = UnixMicros.From(idempotencyBefore);
        return database.WriteAsync(
            async (transaction, ct) =>
            {
                await RunAsync(transaction, PrivacySql.PurgeRevokedTokenData, tokensBefore, ct).ConfigureAwait(false);
                var tokens = await RelationalTokenRepository.PurgeRevokedAsync(transaction, tokensBefore, ct).ConfigureAwait(false);
                await RelationalIntentStore.PurgeFinishedAsync(transaction, recordsBefore, ct).ConfigureAwait(false);
                var records = await RelationalClaimStore.PurgeFinishedAsync(transaction, recordsBefore, ct).ConfigureAwait(false);
                return new RetentionPurge(tokens, records);
            },
            cancellationToken);
    }

    /// <summary>One statement, bound by <paramref name="bind"/>, in a write transaction of its own.</summary>
    private Task<int> WriteOneAsync(string sql, Action<System.Data.Common.DbCommand> bind, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async (transaction, ct) =>
            {
                using var command = transaction.Command(sql);
                bind(command);
                return await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            },
            cancellationToken);

    private static async Task<int> RunAsync(System.Data.Common.DbTransaction transaction, string sql, long before, CancellationToken cancellationToken)
    {
        using var command = transaction.Command(sql);
        command.Bind("@before", before);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

}
