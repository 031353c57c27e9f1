using Tokenizer.Core.Errors;

namespace Tokenizer.Core.Tokenization;

/// <summary>The succession of a reference's gateway Customers: which key creates the next one.</summary>
public sealed partial class TokenizationService
{
    /// <summary>
    /// The reference's succession as recorded: its subject pseudonym (null when no pseudonyms are configured: nothing is
    /// recorded, and every walk starts at the reference's first Customer) and its last Customer the gateway confirmed
    /// deleted (Stripe API GET /v1/customers/{id}: <c>deleted: true</c>), null when none is recorded.
    /// </summary>
    private async Task<Succession> ReadSuccessionAsync(string customerReference, CancellationToken cancellationToken)
    {
        var subject = pseudonyms?.Of(customerReference);
        var lastDeleted = subject is null
            ? null
            : await customerRepository.FindLastDeletedCustomerAsync(gateway.Name, subject, cancellationToken).ConfigureAwait(false);
        return new Succession(customerReference, subject, lastDeleted);
    }

    /// <summary>
    /// Records <paramref name="deletedCustomerId"/> (a Customer the gateway confirmed deleted) as the reference's last
    /// deleted Customer, from the one this request read or recorded: a concurrent request that moved it first keeps it.
    /// </summary>
    private async Task RecordDeletedAsync(Succession succession, string deletedCustomerId, CancellationToken cancellationToken)
    {
        if (succession.Subject is null || succession.LastDeleted == deletedCustomerId)
        {
            return;
        }

        await customerRepository.RecordDeletedCustomerAsync(
            gateway.Name, succession.Subject, succession.LastDeleted, deletedCustomerId, timeProvider.GetUtcNow(), cancellationToken)
            .ConfigureAwait(false);
        succession.LastDeleted = deletedCustomerId;
    }

    /// <summary>
    /// The first live Customer after <paramref name="from"/> (a deleted Customer of the reference; null: the start): created
    /// under the key derived from it (<see cref="RequestHasher.ReplacementCustomerKey"/>, or
    /// <see cref="RequestHasher.CustomerKey"/> at the start), the same parameters for every request, so the gateway
    /// creates one and replays it to the others. When the gateway answers a Customer that is deleted too (it replayed an
    /// earlier creation), that one is recorded as the last deleted and the walk goes on from it. Null after
    /// <paramref name="maxSteps"/> deleted Customers (null: no bound; the walk then ends at a live Customer, at a Customer
    /// it already passed, or with the call).
    /// </summary>
    /// <exception cref="TokenizerException">
    /// INTERNAL <see cref="ErrorReasons.GatewayCustomerMissing"/>: the gateway answered a Customer this walk already passed
    /// (it did not honour the Idempotency-Key), so no key leads past it.
    /// </exception>
    private async Task<string?> LiveCustomerAsync(Succession succession, string? from, int? maxSteps, CancellationToken cancellationToken)
    {
        var passed = new HashSet<string>(StringComparer.Ordinal);
        if (from is not null)
        {
            passed.Add(from);
        }

        var deleted = from;
        var met = 0;
        while (true)
        {
            var key = deleted is null
                ? currentHasher.CustomerKey(gateway.Name, succession.Reference)
                : currentHasher.ReplacementCustomerKey(gateway.Name, succession.Reference, deleted);
            var created = await gateway.CreateCustomerAsync(succession.Reference, key, cancellationToken).ConfigureAwait(false);
            if (!passed.Add(created))
            {
                throw TokenizerErrors.GatewayCustomerMissing();
            }

            if (!await gateway.IsCustomerDeletedAsync(created, cancellationToken).ConfigureAwait(false))
            {
                return created;
            }

            // Recorded as met: the next request (a retry of this one included) starts after it, not at the beginning.
            await RecordDeletedAsync(succession, created, cancellationToken).ConfigureAwait(false);
            deleted = created;
            if (++met >= maxSteps)
            {
                return null;
            }
        }
    }

    /// <summary>A reference's succession as one request sees it; <see cref="LastDeleted"/> moves as the request records.</summary>
    private sealed class Succession(string reference, string? subject, string? lastDeleted)
    {
        public string Reference { get; } = reference;

        public string? Subject { get; } = subject;

        public string? LastDeleted { get; set; } = lastDeleted;
    }
}
