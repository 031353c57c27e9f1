using System.Text.Json;
using Microsoft.Extensions.Options;
using Tokenizer.StripeSandbox.Events;
using Tokenizer.StripeSandbox.State;

namespace Tokenizer.StripeSandbox.Api;

/// <summary>
/// What happens at Stripe behind the merchant's back, for tests (<c>/_sandbox/...</c> control endpoints and
/// <see cref="StripeSandboxServer"/> methods): the card account updater replacing a card's expiry (and last4), and a
/// customer cancelling a mandate at their bank, and someone detaching a PaymentMethod or deleting a Customer in the
/// Dashboard. Each fires the event Stripe sends for it.
/// </summary>
internal sealed class SandboxControl(SandboxStore store, IOptions<StripeSandboxOptions> options, PaymentMethodsApi paymentMethods, CustomersApi customers)
{
    /// <summary>The metadata key Tokenizer's gateway writes on each Customer it creates (its caller's customer reference).</summary>
    public const string CustomerReferenceMetadataKey = "tokenizer_customer_reference";

    /// <summary>
    /// A Customer deleted behind the merchant's back (someone in the Dashboard): for each, exactly what Stripe API
    /// <c>DELETE /v1/customers/{id}</c> does (its PaymentMethods detached with it, <c>customer.deleted</c> fired). By id,
    /// or every Customer whose <see cref="CustomerReferenceMetadataKey"/> metadata is <paramref name="reference"/>.
    /// Answers <c>{"deleted":["cus_..."]}</c>; 400 neither or both given; 404 no such Customer.
    /// </summary>
    public ApiResult DeleteCustomers(string? customerId, string? reference)
    {
        if ((customerId is null) == (reference is null))
        {
            throw StripeErrors.ParameterInvalid("customer", "Give exactly one of customer and customer_reference.");
        }

        var ids = customerId is not null
            ? [customerId]
            : store.Read(data => data.Customers.Values
                .Where(c => c.Metadata.TryGetValue(CustomerReferenceMetadataKey, out var value) && string.Equals(value, reference, StringComparison.Ordinal))
                .Select(c => c.Id)
                .Order(StringComparer.Ordinal)
                .ToList());
        if (ids.Count == 0)
        {
            throw StripeErrors.ResourceMissing("customer_reference", "customer");
        }

        foreach (var id in ids)
        {
            customers.Delete(id, StripeParams.Empty);
        }

        return ApiResult.Ok(JsonSerializer.Serialize(new Webhooks.DeletedCustomersJson(ids), SandboxJson.Default.DeletedCustomersJson));
    }

    /// <summary>
    /// A detach behind the merchant's back (someone in the Dashboard): exactly what Stripe API
    /// <c>POST /v1/payment_methods/{id}/detach</c> does, <c>customer</c> null and <c>payment_method.detached</c> fired.
    /// 404 unknown PaymentMethod; 400 not attached to a Customer.
    /// </summary>
    public ApiResult Detach(string paymentMethodId) => paymentMethods.Detach(paymentMethodId, StripeParams.Empty);

    /// <summary>
    /// The card account updater: sets <c>card.exp_month</c>, <c>card.exp_year</c> and, when given, <c>card.last4</c> (the
    /// fingerprint stays) and fires <c>payment_method.automatically_updated</c>. Values equal to the current ones change
    /// nothing and fire nothing. 404 unknown PaymentMethod; 400 not a card, detached, month not 1-12, year not four digits
    /// or the expiry in the past, last4 not four digits.
    /// </summary>
    public ApiResult AutomaticUpdate(string paymentMethodId, int? expMonth, int? expYear, string? last4)
    {
        var month = expMonth ?? throw StripeErrors.ParameterMissing("exp_month");
        var year = expYear ?? throw StripeErrors.ParameterMissing("exp_year");
        var now = options.Value.TimeProvider.GetUtcNow();
        if (month is < 1 or > 12)
        {
            throw StripeErrors.ParameterInvalid("exp_month", "exp_month must be between 1 and 12.");
        }

        if (year < 1000 || year > now.Year + 50 || year < now.Year || (year == now.Year && month < now.Month))
        {
            throw StripeErrors.ParameterInvalid("exp_year", "exp_year must be four digits, and the expiry not in the past nor more than 50 years ahead.");
        }

        if (last4 is not null && (last4.Length != 4 || !last4.All(char.IsAsciiDigit)))
        {
            throw StripeErrors.ParameterInvalid("last4", "last4 must be four digits.");
        }

        var view = store.Write(
            data =>
            {
                if (!data.PaymentMethods.TryGetValue(paymentMethodId, out var stored))
                {
                    throw StripeErrors.ResourceMissing("payment_method", "PaymentMethod");
                }

                if (stored.View.Card is not { } card)
                {
                    throw StripeErrors.ParameterInvalid("payment_method", "The card account updater updates card PaymentMethods only.");
                }

                if (stored.Detached)
                {
                    throw StripeErrors.UnexpectedState("This PaymentMethod was detached: the card account updater no longer updates it.", "payment_method_unexpected_state");
                }

                var updated = stored.View with { Card = card with { ExpMonth = month, ExpYear = year, Last4 = last4 ?? card.Last4 } };
                data.PaymentMethods[paymentMethodId] = stored with { View = updated };
                return updated;
            },
            EventRules.AutomaticUpdateCause);
        return ApiResult.Ok(JsonSerializer.Serialize(view, SandboxJson.Default.PaymentMethodObject));
    }

    /// <summary>
    /// The customer cancels the mandate at their bank: <c>status</c> becomes <c>inactive</c> (a Bacs mandate's
    /// <c>network_status</c> <c>revoked</c>) and <c>mandate.updated</c> fires. An inactive mandate stays as it is (no event).
    /// 404 unknown mandate.
    /// </summary>
    public ApiResult DeactivateMandate(string mandateId)
    {
        var view = store.Write(data =>
        {
            if (!data.Mandates.TryGetValue(mandateId, out var stored))
            {
                throw StripeErrors.ResourceMissing("mandate", "mandate");
            }

            if (stored.View.Status == "inactive")
            {
                return stored.View;
            }

            var details = stored.View.PaymentMethodDetails;
            var inactive = stored.View with
            {
                Status = "inactive",
                PaymentMethodDetails = details.BacsDebit is { } bacs ? details with { BacsDebit = bacs with { NetworkStatus = "revoked" } } : details,
            };
            data.Mandates[mandateId] = stored with { View = inactive };
            return inactive;
        });
        return ApiResult.Ok(JsonSerializer.Serialize(view, SandboxJson.Default.MandateObject));
    }
}
