using System.Collections.Frozen;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Tokenizer.StripeSandbox.Banks;
using Tokenizer.StripeSandbox.Cards;
using Tokenizer.StripeSandbox.State;

namespace Tokenizer.StripeSandbox.Api;

/// <summary>
/// Stripe API PaymentMethods: <c>POST /v1/payment_methods</c>, <c>GET /v1/payment_methods/{id}</c>, <c>POST /v1/payment_methods/{id}</c>,
/// <c>POST /v1/payment_methods/{id}/attach</c>, <c>POST /v1/payment_methods/{id}/detach</c>, and the customer's
/// list <c>GET /v1/customers/{id}/payment_methods</c> and item <c>GET /v1/customers/{id}/payment_methods/{pm}</c>.
/// </summary>
internal sealed class PaymentMethodsApi(SandboxStore store, SandboxSecret secret, IOptions<StripeSandboxOptions> options)
{
    public static readonly IReadOnlyList<string> Types = ["card", "au_becs_debit", "sepa_debit", "bacs_debit", "us_bank_account"];

    private const string Name = "billing_details[name]";
    private const string Email = "billing_details[email]";
    private const string Phone = "billing_details[phone]";
    private const string Line1 = "billing_details[address][line1]";
    private const string Line2 = "billing_details[address][line2]";
    private const string City = "billing_details[address][city]";
    private const string State = "billing_details[address][state]";
    private const string PostalCode = "billing_details[address][postal_code]";
    private const string Country = "billing_details[address][country]";

    private static readonly FrozenSet<string> CreateParams = FrozenSet.Create(
        StringComparer.Ordinal,
        [
            "type", Name, Email, Phone, Line1, Line2, City, State, PostalCode, Country,
            .. CardFactory.Params, .. BankFactory.AuBecsParams, .. BankFactory.SepaParams, .. BankFactory.BacsParams, .. BankFactory.UsBankParams,
        ]);

    private static readonly FrozenSet<string> UpdateParams =
        FrozenSet.Create(StringComparer.Ordinal, Name, Email, Phone, Line1, Line2, City, State, PostalCode, Country, CardFactory.ExpMonthParam, CardFactory.ExpYearParam);

    private static readonly FrozenSet<string> AttachParams = FrozenSet.Create(StringComparer.Ordinal, "customer");
    private static readonly FrozenSet<string> NoParams = FrozenSet<string>.Empty;
    private static readonly FrozenSet<string> ListParams =
        FrozenSet.Create(StringComparer.Ordinal, "type", "limit", "starting_after", "ending_before", "allow_redisplay");

    private readonly StripeSandboxOptions settings = options.Value;

    /// <summary>Stripe API POST /v1/payment_methods.</summary>
    public ApiResult Create(StripeParams parameters)
    {
        parameters.RejectUnknown(CreateParams, "metadata[");
        var type = parameters.Required("type");
        if (!Types.Contains(type))
        {
            throw StripeErrors.ParameterInvalid("type", "Invalid type: must be one of card, au_becs_debit, sepa_debit, bacs_debit or us_bank_account.");
        }

        // Parameters of another type are rejected as Stripe rejects them, before any value is looked at.
        foreach (var name in parameters.All.Keys)
        {
            var bracket = name.IndexOf('[', StringComparison.Ordinal);
            if (bracket > 0 && Types.Contains(name[..bracket]) && name[..bracket] != type)
            {
                throw StripeErrors.ParameterUnknown(name);
            }
        }

        if (type == "card" && !settings.RawCardDataEnabled)
        {
            throw StripeErrors.RawCardDataDisabled();
        }

        var now = settings.TimeProvider.GetUtcNow();
        var billing = BillingDetails(parameters);
        var metadata = parameters.Metadata();
        CardObject? card = null;
        AuBecsDebitObject? auBecs = null;
        SepaDebitObject? sepa = null;
        BacsDebitObject? bacs = null;
        UsBankAccountObject? usBank = null;
        string? declineCode = null;
        string? chargeFailure = null;
        var authentication = CardAuthentication.None;
        switch (type)
        {
            case "card":
                var (created, profile) = CardFactory.Create(parameters, secret, now);
                (card, declineCode, authentication, chargeFailure) = (created, profile.Decline?.DeclineCode, profile.Authentication, profile.ChargeDecline);
                break;
            case "au_becs_debit":
                auBecs = BankFactory.AuBecsDebit(parameters, secret);
                RequireBilling(parameters, Name, Email);
                break;
            case "sepa_debit":
                sepa = BankFactory.SepaDebit(parameters, secret);
                RequireBilling(parameters, Name, Email);
                chargeFailure = BankFactory.SepaChargeFailure(parameters);
                if (BankFactory.SepaNeedsAddress(parameters))
                {
                    RequireBilling(parameters, Line1, City, PostalCode, Country);
                }

                break;
            case "bacs_debit":
                bacs = BankFactory.BacsDebit(parameters, secret);
                RequireBilling(parameters, Name, Email, Line1, City, PostalCode, Country);
                break;
            default:
                usBank = BankFactory.UsBankAccount(parameters, secret);
                chargeFailure = BankFactory.UsBankChargeFailure(parameters);
                RequireBilling(parameters, Name);
                break;
        }

        var view = new PaymentMethodObject
        {
            Id = IdAlphabet.PaymentMethodId(),
            BillingDetails = billing,
            Created = now.ToUnixTimeSeconds(),
            Metadata = metadata,
            Type = type,
            Card = card,
            AuBecsDebit = auBecs,
            SepaDebit = sepa,
            BacsDebit = bacs,
            UsBankAccount = usBank,
        };
        store.Write(data => data.PaymentMethods[view.Id] = new StoredPaymentMethod(view, data.NextSequence(), declineCode, Detached: false, authentication, chargeFailure));
        return Ok(view);
    }

    /// <summary>Stripe API GET /v1/payment_methods/{id}.</summary>
    public ApiResult Get(string id, StripeParams parameters)
    {
        parameters.RejectUnknown(NoParams);
        return Ok(store.Read(data => Find(data, id)).View);
    }

    /// <summary>
    /// Stripe API POST /v1/payment_methods/{id}/attach (<c>customer=cus_...</c>). Decline test cards fail here with HTTP 402
    /// card_error; attaching to the customer it is already attached to answers the PaymentMethod.
    /// </summary>
    public ApiResult Attach(string id, StripeParams parameters)
    {
        parameters.RejectUnknown(AttachParams);
        var customerId = parameters.Required("customer");
        var view = store.Write(data =>
        {
            var stored = Find(data, id);
            if (!data.Customers.ContainsKey(customerId))
            {
                throw StripeErrors.ResourceMissing("customer", "customer");
            }

            if (stored.Detached)
            {
                throw StripeErrors.UnexpectedState(
                    "This PaymentMethod was previously used without being attached to a Customer or was detached from a Customer, and may not be used again.");
            }

            if (stored.View.Customer == customerId)
            {
                return stored.View;
            }

            if (stored.View.Customer is not null)
            {
                throw StripeErrors.UnexpectedState("The payment method you provided has already been attached to a customer.");
            }

            if (stored.DeclineCode is not null && CardCatalog.DeclineFor(stored.DeclineCode) is { } decline)
            {
                throw new StripeApiException(402, ErrorTypes.Card, decline.Message, decline.Code, declineCode: decline.DeclineCode);
            }

            var attached = stored.View with { Customer = customerId };
            data.PaymentMethods[id] = stored with { View = attached };
            return attached;
        });
        return Ok(view);
    }

    /// <summary>
    /// Stripe API POST /v1/payment_methods/{id}: updates <c>billing_details</c>, <c>card[exp_month]</c> and
    /// <c>card[exp_year]</c> (cards only) and <c>metadata</c> (merged; an empty value removes the key). As at Stripe, only a
    /// PaymentMethod attached to a Customer can be updated (400 otherwise); each parameter sent replaces that one field
    /// (address fields one by one), an empty value unsets it, and fields not sent keep their values.
    /// </summary>
    public ApiResult Update(string id, StripeParams parameters)
    {
        parameters.RejectUnknown(UpdateParams, "metadata[");
        var now = settings.TimeProvider.GetUtcNow();
        var email = parameters.Get(Email);
        if (!string.IsNullOrEmpty(email) && (email.Length > 512 || !email.Contains('@', StringComparison.Ordinal)))
        {
            throw StripeErrors.ParameterInvalid(Email, "Invalid email address.", "email_invalid");
        }

        var view = store.Write(data =>
        {
            var stored = Find(data, id);
            if (stored.View.Customer is null)
            {
                throw StripeErrors.UnexpectedState(
                    "You must save this PaymentMethod to a customer before you can update it.", "payment_method_unexpected_state");
            }

            var billing = stored.View.BillingDetails;
            var address = billing.Address;
            string? Field(string name, string? current) =>
                parameters.All.TryGetValue(name, out var value) ? (value.Length == 0 ? null : value) : current;
            var updatedBilling = billing with
            {
                Name = Field(Name, billing.Name),
                Email = Field(Email, billing.Email),
                Phone = Field(Phone, billing.Phone),
                Address = address with
                {
                    Line1 = Field(Line1, address.Line1),
                    Line2 = Field(Line2, address.Line2),
                    City = Field(City, address.City),
                    State = Field(State, address.State),
                    PostalCode = Field(PostalCode, address.PostalCode),
                    Country = Field(Country, address.Country),
                },
            };
            var metadata = new SortedDictionary<string, string>(
                stored.View.Metadata.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal), StringComparer.Ordinal);
            foreach (var (key, value) in parameters.Metadata())
            {
                if (value.Length == 0)
                {
                    metadata.Remove(key);
                }
                else
                {
                    metadata[key] = value;
                }
            }

            var updated = stored.View with { BillingDetails = updatedBilling, Metadata = metadata };
            if (parameters.Get(CardFactory.ExpMonthParam) is not null || parameters.Get(CardFactory.ExpYearParam) is not null)
            {
                updated = updated.Card is { } card
                    ? updated with { Card = CardFactory.UpdateExpiry(card, parameters, now) }
                    : throw StripeErrors.ParameterUnknown(parameters.Get(CardFactory.ExpMonthParam) is not null ? CardFactory.ExpMonthParam : CardFactory.ExpYearParam);
            }

            data.PaymentMethods[id] = stored with { View = updated };
            return updated;
        });
        return Ok(view);
    }

    /// <summary>Stripe API POST /v1/payment_methods/{id}/detach. Irreversible: a detached PaymentMethod cannot be attached again.</summary>
    public ApiResult Detach(string id, StripeParams parameters)
    {
        parameters.RejectUnknown(NoParams);
        var view = store.Write(data =>
        {
            var stored = Find(data, id);
            if (stored.View.Customer is null)
            {
                throw StripeErrors.UnexpectedState(
                    "The payment method you provided is not attached to a customer so detachment is impossible.", "payment_method_unexpected_state");
            }

            var detached = stored.View with { Customer = null };
            data.PaymentMethods[id] = stored with { View = detached, Detached = true };
            return detached;
        });
        return Ok(view);
    }

    /// <summary>
    /// Stripe API GET /v1/customers/{id}/payment_methods: newest first, <c>type</c> filter, <c>limit</c> 1-100 (default 10),
    /// cursors <c>starting_after</c> / <c>ending_before</c> (a PaymentMethod id), Stripe list object with <c>has_more</c>.
    /// </summary>
    public ApiResult ListForCustomer(string customerId, StripeParams parameters)
    {
        parameters.RejectUnknown(ListParams);
        var type = parameters.Get("type");
        if (type is not null && !Types.Contains(type))
        {
            throw StripeErrors.ParameterInvalid("type", "Invalid type: must be one of card, au_becs_debit, sepa_debit, bacs_debit or us_bank_account.");
        }

        var limit = 10;
        if (parameters.Get("limit") is { } limitText
            && (limitText.Length > 3 || !int.TryParse(limitText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out limit)
                || limit is < 1 or > 100))
        {
            throw StripeErrors.ParameterInvalid("limit", "Invalid limit: must be an integer between 1 and 100.", "parameter_invalid_integer");
        }

        var startingAfter = parameters.Get("starting_after");
        var endingBefore = parameters.Get("ending_before");
        if (startingAfter is not null && endingBefore is not null)
        {
            throw StripeErrors.ParameterInvalid("ending_before", "You may only specify one of these parameters: starting_after, ending_before.", "parameters_exclusive");
        }

        var list = store.Read(data =>
        {
            if (!data.Customers.ContainsKey(customerId))
            {
                throw StripeErrors.ResourceMissing("customer", "customer");
            }

            var items = data.PaymentMethods.Values
                .Where(p => p.View.Customer == customerId && (type is null || p.View.Type == type));
            if (startingAfter is not null)
            {
                var cursor = Cursor(data, startingAfter, "starting_after");
                var page = items.Where(p => p.Sequence < cursor).OrderByDescending(p => p.Sequence).Take(limit + 1).ToList();
                return Page(page, limit, customerId);
            }

            if (endingBefore is not null)
            {
                var cursor = Cursor(data, endingBefore, "ending_before");
                var page = items.Where(p => p.Sequence > cursor).OrderBy(p => p.Sequence).Take(limit + 1).ToList();
                var result = Page(page, limit, customerId);
                return result with { Data = [.. result.Data.Reverse()] };
            }

            return Page(items.OrderByDescending(p => p.Sequence).Take(limit + 1).ToList(), limit, customerId);
        });
        return new ApiResult(200, JsonSerializer.Serialize(list, SandboxJson.Default.ListObjectPaymentMethodObject), Replayable: true);
    }

    /// <summary>Stripe API GET /v1/customers/{id}/payment_methods/{pm}: 404 unless the PaymentMethod is attached to that customer.</summary>
    public ApiResult GetForCustomer(string customerId, string id, StripeParams parameters)
    {
        parameters.RejectUnknown(NoParams);
        var view = store.Read(data =>
        {
            if (!data.Customers.ContainsKey(customerId))
            {
                throw StripeErrors.ResourceMissing("customer", "customer");
            }

            var stored = Find(data, id);
            return stored.View.Customer == customerId ? stored.View : throw StripeErrors.ResourceMissing("payment_method", "PaymentMethod");
        });
        return Ok(view);
    }

    private static ListObject<PaymentMethodObject> Page(List<StoredPaymentMethod> page, int limit, string customerId) =>
        new([.. page.Take(limit).Select(p => p.View)], page.Count > limit, $"/v1/customers/{customerId}/payment_methods");

    private static long Cursor(SandboxData data, string id, string param) =>
        data.PaymentMethods.TryGetValue(id, out var stored) ? stored.Sequence : throw StripeErrors.ResourceMissing(param, "PaymentMethod");

    private static StoredPaymentMethod Find(SandboxData data, string id) =>
        data.PaymentMethods.TryGetValue(id, out var stored) ? stored : throw StripeErrors.ResourceMissing("payment_method", "PaymentMethod");

    private static ApiResult Ok(PaymentMethodObject view) =>
        ApiResult.Ok(JsonSerializer.Serialize(view, SandboxJson.Default.PaymentMethodObject));

    private static BillingDetailsObject BillingDetails(StripeParams parameters)
    {
        var email = parameters.Get(Email);
        if (email is not null && (email.Length > 512 || !email.Contains('@', StringComparison.Ordinal)))
        {
            throw StripeErrors.ParameterInvalid(Email, "Invalid email address.", "email_invalid");
        }

        return new BillingDetailsObject
        {
            Name = parameters.Get(Name),
            Email = email,
            Phone = parameters.Get(Phone),
            Address = new AddressObject
            {
                Line1 = parameters.Get(Line1),
                Line2 = parameters.Get(Line2),
                City = parameters.Get(City),
                State = parameters.Get(State),
                PostalCode = parameters.Get(PostalCode),
                Country = parameters.Get(Country),
            },
        };
    }

    private static void RequireBilling(StripeParams parameters, params ReadOnlySpan<string> names)
    {
        foreach (var name in names)
        {
            _ = parameters.Required(name);
        }
    }
}
