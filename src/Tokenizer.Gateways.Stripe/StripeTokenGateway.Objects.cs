using Stripe;
using Tokenizer.Core.Errors;
using Tokenizer.Core.Ports;

namespace Tokenizer.Gateways.Stripe;

/// <summary>One Stripe event as a listing reports it: id, type, creation time and the id of its object. No body.</summary>
/// <param name="Id">The event id, <c>evt_...</c>.</param>
/// <param name="Type">The event type, e.g. <c>mandate.updated</c>.</param>
/// <param name="Created">When Stripe created it (UTC, whole seconds).</param>
/// <param name="ObjectId">The id of <c>data.object</c>, or null when it has none.</param>
public sealed record StripeEventSummary(string Id, string Type, DateTimeOffset Created, string? ObjectId);

/// <summary>The reads the webhook processing and catch-up need: an object's current state, and the event list.</summary>
public sealed partial class StripeTokenGateway
{
    /// <summary>
    /// The current masked state of a PaymentMethod (Stripe API GET /v1/payment_methods/{id}): type, card or bank fields,
    /// and the Customer it is attached to (null when detached). Null when Stripe no longer knows it (404) or it is of a
    /// type Tokenizer does not issue.
    /// </summary>
    /// <exception cref="TokenizerException">The gateway failed or refused otherwise.</exception>
    public async Task<GatewayPaymentMethod?> GetPaymentMethodAsync(string paymentMethodId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(paymentMethodId);
        var requestOptions = new RequestOptions { ApiKey = CurrentApiKey() };
        var paymentMethod = await SendAsync(
            StripeOperation.GetPaymentMethod,
            async ct =>
            {
                try
                {
                    return await paymentMethods.GetAsync(paymentMethodId, null, requestOptions, ct).ConfigureAwait(false);
                }
                catch (StripeException e) when (StripeErrorMapper.IsMissing(e))
                {
                    return null;
                }
            },
            cancellationToken).ConfigureAwait(false);
        return StripePaymentMethodMapper.ToListedPaymentMethod(paymentMethod);
    }

    /// <summary>
    /// True when the Customer is deleted at Stripe (Stripe API GET /v1/customers/{id} answers <c>deleted: true</c>, or
    /// 404 <c>resource_missing</c>).
    /// </summary>
    /// <exception cref="TokenizerException">The gateway failed or refused otherwise.</exception>
    public async Task<bool> IsCustomerDeletedAsync(string customerId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(customerId);
        var requestOptions = new RequestOptions { ApiKey = CurrentApiKey() };
        return await SendAsync(
            StripeOperation.GetCustomer,
            async ct =>
            {
                try
                {
                    var customer = await customers.GetAsync(customerId, null, requestOptions, ct).ConfigureAwait(false);
                    return customer?.Deleted == true;
                }
                catch (StripeException e) when (StripeErrorMapper.IsMissing(e))
                {
                    return true;
                }
            },
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Every event of <paramref name="types"/> created at or after <paramref name="createdFrom"/> (Stripe API GET
    /// /v1/events with <c>types[]</c>, <c>created[gte]</c> and <c>limit=100</c>, following <c>starting_after</c>; Stripe
    /// lists newest first and keeps 30 days), at most <paramref name="maxEvents"/>.
    /// </summary>
    /// <exception cref="TokenizerException">The gateway failed or refused.</exception>
    public async Task<IReadOnlyList<StripeEventSummary>> ListEventsAsync(
        DateTimeOffset createdFrom, IReadOnlyList<string> types, int maxEvents, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(types);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxEvents, 1);
        var events = new EventService(client);
        var found = new List<StripeEventSummary>();
        string? startingAfter = null;
        while (found.Count < maxEvents)
        {
            var options = new EventListOptions
            {
                Created = new DateRangeOptions { GreaterThanOrEqual = createdFrom.UtcDateTime },
                Types = [.. types],
                Limit = 100,
                StartingAfter = startingAfter,
            };
            var requestOptions = new RequestOptions { ApiKey = CurrentApiKey() };
            var page = await SendAsync(
                StripeOperation.ListEvents,
                ct => events.ListAsync(options, requestOptions, ct),
                cancellationToken).ConfigureAwait(false);
            var data = page?.Data ?? [];
            foreach (var item in data)
            {
                if (!string.IsNullOrEmpty(item.Id) && !string.IsNullOrEmpty(item.Type))
                {
                    var objectId = item.Data?.Object is IHasId hasId ? hasId.Id : null;
                    found.Add(new StripeEventSummary(item.Id, item.Type, new DateTimeOffset(DateTime.SpecifyKind(item.Created, DateTimeKind.Utc)), objectId));
                }
            }

            if (page?.HasMore != true || data.Count == 0)
            {
                break;
            }

            startingAfter = data[^1].Id;
        }

        return found;
    }
}
