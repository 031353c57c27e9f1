using Tokenizer.Core.Ports;
using Tokenizer.Ledger.Schema;

namespace Tokenizer.Ledger.Customers;

/// <summary>
/// <see cref="ICustomerRepository"/> on the ledger's database, and the owner of tables <c>customers</c> and
/// <c>customer_successions</c>: every statement that writes them is in <see cref="CustomerSql"/>. Thread-safe.
/// </summary>
internal sealed class RelationalCustomerRepository(ILedgerDatabase database) : ICustomerRepository
{
    /// <inheritdoc />
    public Task<string?> FindCustomerAsync(string gateway, string customerReference, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(gateway);
        ArgumentException.ThrowIfNullOrEmpty(customerReference);
        return database.ReadAsync(
            async (connection, ct) =>
            {
                using var select = connection.Command(CustomerSql.SelectCustomer);
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
        return database.ReadAsync(
            async (connection, ct) =>
            {
                using var select = connection.Command(CustomerSql.SelectLastDeletedCustomer);
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
        return database.WriteAsync(
            async (transaction, ct) =>
            {
                using var write = transaction.Command(expected is null ? CustomerSql.InsertDeletedCustomer : CustomerSql.AdvanceDeletedCustomer);
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
        return database.WriteAsync(
            async (transaction, ct) =>
            {
                if (deletedCustomerId is not null)
                {
                    using var delete = transaction.Command(CustomerSql.DeleteCustomerIfMapped);
                    delete.Bind("@gateway", gateway)
                        .Bind("@customer_reference", customerReference)
                        .Bind("@deleted_customer_id", deletedCustomerId);
                    await delete.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                }

                using (var insert = transaction.Command(CustomerSql.InsertCustomer))
                {
                    insert.Bind("@gateway", gateway)
                        .Bind("@customer_reference", customerReference)
                        .Bind("@gateway_customer_id", gatewayCustomerId)
                        .Bind("@now", UnixMicros.From(now));
                    await insert.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                }

                using var select = transaction.Command(CustomerSql.SelectCustomer);
                select.Bind("@gateway", gateway).Bind("@customer_reference", customerReference);
                return (string?)await select.ExecuteScalarAsync(ct).ConfigureAwait(false)
                    ?? throw new InvalidOperationException("customer mapping vanished inside a write transaction");
            },
            cancellationToken);
    }

    /// <summary>Forgets the mapping of <paramref name="customerReference"/> (an erasure), in the caller's transaction.</summary>
    internal static async Task DeleteMappingAsync(System.Data.Common.DbTransaction transaction, string gateway, string customerReference, CancellationToken cancellationToken)
    {
        using var delete = transaction.Command(CustomerSql.DeleteCustomer);
        delete.Bind("@gateway", gateway).Bind("@customer_reference", customerReference);
        await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
