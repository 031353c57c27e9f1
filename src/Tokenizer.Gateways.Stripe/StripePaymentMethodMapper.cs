using Stripe;
using Tokenizer.Core.Domain;
using Tokenizer.Core.Ports;
using Address = Tokenizer.Core.Domain.Address;
using BillingDetails = Tokenizer.Core.Domain.BillingDetails;

namespace Tokenizer.Gateways.Stripe;

/// <summary>
/// Our payment details to Stripe's PaymentMethod create parameters, and Stripe's PaymentMethod back to masked
/// metadata. Stripe.net sends a property that was assigned null as an empty form value
/// (<c>billing_details[email]=</c>), so only non-empty values are assigned and empty groups stay null.
/// </summary>
internal static class StripePaymentMethodMapper
{
    /// <summary>Parameters of Stripe API POST /v1/payment_methods for exactly one card or bank account.</summary>
    /// <exception cref="ArgumentException">Neither or both of card and bank account, or an unknown enum value.</exception>
    public static PaymentMethodCreateOptions ToCreateOptions(PaymentMethodRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if ((request.Card is null) == (request.BankAccount is null))
        {
            throw new ArgumentException("exactly one of Card and BankAccount must be set", nameof(request));
        }

        var options = new PaymentMethodCreateOptions();
        if (request.Card is { } card)
        {
            options.Type = TokenTexts.Type.Text(TokenType.Card);
            options.Card = new PaymentMethodCardOptions { ExpMonth = card.ExpMonth, ExpYear = card.ExpYear };
            if (!string.IsNullOrEmpty(card.Pan))
            {
                options.Card.Number = card.Pan;
            }

            if (!string.IsNullOrEmpty(card.Cvc))
            {
                options.Card.Cvc = card.Cvc;
            }
        }
        else
        {
            SetBankAccount(options, request.BankAccount!);
        }

        options.BillingDetails = ToBillingDetails(request.Billing);

        if (request.Metadata is { Count: > 0 } metadata)
        {
            var sent = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (key, value) in metadata)
            {
                if (!string.IsNullOrEmpty(key) && !string.IsNullOrEmpty(value))
                {
                    sent[key] = value;
                }
            }

            if (sent.Count > 0)
            {
                options.Metadata = sent;
            }
        }

        return options;
    }

    /// <summary>
    /// The masked view of a PaymentMethod Stripe returned: id, type, and for cards brand, last4, expiry, funding,
    /// country and fingerprint; for bank accounts last4, bank identifier, country and fingerprint. Null when the
    /// answer is unusable (no id, another type than asked for, the type's details missing, or a last4 that is not
    /// four characters); the caller reports that as an invalid gateway response. Stripe's last4 is masked by
    /// <see cref="VisibleDigits.Mask"/> for <paramref name="numberLength"/> (the number sent), or, when that is unknown
    /// (a listed PaymentMethod), for the type's shortest number: Stripe's last4 of a 4-digit account is the whole account.
    /// </summary>
    public static GatewayPaymentMethod? ToGatewayPaymentMethod(PaymentMethod? paymentMethod, TokenType expected, int? numberLength = null)
    {
        var length = numberLength ?? VisibleDigits.ShortestNumber(expected);
        if (paymentMethod is null || string.IsNullOrEmpty(paymentMethod.Id) || TokenTexts.Type.Find(paymentMethod.Type) != expected)
        {
            return null;
        }

        var id = paymentMethod.Id;
        switch (expected)
        {
            case TokenType.Card when paymentMethod.Card is { } c && IsLast4(c.Last4):
                return new(id, expected, new CardMetadata(
                    string.IsNullOrEmpty(c.Brand) ? "unknown" : c.Brand,
                    VisibleDigits.Mask(c.Last4, length),
                    checked((int)c.ExpMonth),
                    checked((int)c.ExpYear),
                    NullIfEmpty(c.Funding),
                    NullIfEmpty(c.Country),
                    NullIfEmpty(c.Fingerprint)), null);
            case TokenType.AuBecsDebit when paymentMethod.AuBecsDebit is { } a && IsLast4(a.Last4):
                return Bank(id, expected, VisibleDigits.Mask(a.Last4, length), a.BsbNumber, "AU", a.Fingerprint);
            case TokenType.SepaDebit when paymentMethod.SepaDebit is { } s && IsLast4(s.Last4):
                return Bank(id, expected, VisibleDigits.Mask(s.Last4, length), s.BankCode, s.Country, s.Fingerprint);
            case TokenType.BacsDebit when paymentMethod.BacsDebit is { } b && IsLast4(b.Last4):
                return Bank(id, expected, VisibleDigits.Mask(b.Last4, length), b.SortCode, "GB", b.Fingerprint);
            case TokenType.UsBankAccount when paymentMethod.UsBankAccount is { } u && IsLast4(u.Last4):
                return Bank(id, expected, VisibleDigits.Mask(u.Last4, length), u.RoutingNumber, "US", u.Fingerprint);
            default:
                return null;
        }
    }

    /// <summary>
    /// A PaymentMethod from a list: the masked view of <see cref="ToGatewayPaymentMethod"/> for its own type, plus its
    /// Customer, metadata and created time. Null for a type Tokenizer does not issue or an unusable entry.
    /// </summary>
    public static GatewayPaymentMethod? ToListedPaymentMethod(PaymentMethod? paymentMethod)
    {
        if (paymentMethod is null || TokenTexts.Type.Find(paymentMethod.Type) is not { } type
            || ToGatewayPaymentMethod(paymentMethod, type) is not { } masked)
        {
            return null;
        }

        return masked with
        {
            CustomerId = NullIfEmpty(paymentMethod.CustomerId),
            Metadata = paymentMethod.Metadata is { Count: > 0 } metadata
                ? new Dictionary<string, string>(metadata, StringComparer.Ordinal)
                : masked.Metadata,
            CreatedAt = paymentMethod.Created == default ? null : new DateTimeOffset(DateTime.SpecifyKind(paymentMethod.Created, DateTimeKind.Utc)),
        };
    }

    /// <summary>The token type a request yields.</summary>
    public static TokenType TypeOf(PaymentMethodRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return request.Card is not null ? TokenType.Card : request.BankAccount!.Type;
    }

    private static void SetBankAccount(PaymentMethodCreateOptions options, BankAccountDetails account)
    {
        switch (account)
        {
            case AuBecsDebitDetails au:
                options.Type = TokenTexts.Type.Text(account.Type);
                options.AuBecsDebit = new PaymentMethodAuBecsDebitOptions();
                if (!string.IsNullOrEmpty(au.BsbNumber))
                {
                    options.AuBecsDebit.BsbNumber = au.BsbNumber;
                }

                if (!string.IsNullOrEmpty(au.AccountNumber))
                {
                    options.AuBecsDebit.AccountNumber = au.AccountNumber;
                }

                break;
            case SepaDebitDetails sepa:
                options.Type = TokenTexts.Type.Text(account.Type);
                options.SepaDebit = new PaymentMethodSepaDebitOptions();
                if (!string.IsNullOrEmpty(sepa.Iban))
                {
                    options.SepaDebit.Iban = sepa.Iban;
                }

                break;
            case BacsDebitDetails bacs:
                options.Type = TokenTexts.Type.Text(account.Type);
                options.BacsDebit = new PaymentMethodBacsDebitOptions();
                if (!string.IsNullOrEmpty(bacs.SortCode))
                {
                    options.BacsDebit.SortCode = bacs.SortCode;
                }

                if (!string.IsNullOrEmpty(bacs.AccountNumber))
                {
                    options.BacsDebit.AccountNumber = bacs.AccountNumber;
                }

                break;
            case UsBankAccountDetails us:
                options.Type = TokenTexts.Type.Text(account.Type);
                options.UsBankAccount = new PaymentMethodUsBankAccountOptions
                {
                    AccountHolderType = BankAccountTexts.HolderType.Text(us.AccountHolderType),
                    AccountType = BankAccountTexts.AccountType.Text(us.AccountType),
                };
                if (!string.IsNullOrEmpty(us.RoutingNumber))
                {
                    options.UsBankAccount.RoutingNumber = us.RoutingNumber;
                }

                if (!string.IsNullOrEmpty(us.AccountNumber))
                {
                    options.UsBankAccount.AccountNumber = us.AccountNumber;
                }

                break;
            default:
                throw new ArgumentException("unknown bank account kind", nameof(account));
        }
    }

    /// <summary>
    /// The update of a PaymentMethod's billing details (Stripe API POST /v1/payment_methods/{id}): a null field is not
    /// sent (unchanged), an empty one is sent empty (Stripe unsets it), any other value is sent as it is.
    /// </summary>
    public static PaymentMethodUpdateOptions ToUpdateOptions(BillingDetails billing)
    {
        ArgumentNullException.ThrowIfNull(billing);
        var details = new PaymentMethodBillingDetailsOptions();
        if (billing.Name is not null)
        {
            details.Name = billing.Name;
        }

        if (billing.Email is not null)
        {
            details.Email = billing.Email;
        }

        if (billing.Phone is not null)
        {
            details.Phone = billing.Phone;
        }

        if (billing.Address is { } a)
        {
            var address = new AddressOptions();
            if (a.Line1 is not null)
            {
                address.Line1 = a.Line1;
            }

            if (a.Line2 is not null)
            {
                address.Line2 = a.Line2;
            }

            if (a.City is not null)
            {
                address.City = a.City;
            }

            if (a.State is not null)
            {
                address.State = a.State;
            }

            if (a.PostalCode is not null)
            {
                address.PostalCode = a.PostalCode;
            }

            if (a.Country is not null)
            {
                address.Country = a.Country;
            }

            details.Address = address;
        }

        return new PaymentMethodUpdateOptions { BillingDetails = details };
    }

    private static PaymentMethodBillingDetailsOptions? ToBillingDetails(BillingDetails? billing)
    {
        if (billing is null)
        {
            return null;
        }

        PaymentMethodBillingDetailsOptions? options = null;
        if (HasValue(billing.Name))
        {
            (options ??= new()).Name = billing.Name;
        }

        if (HasValue(billing.Email))
        {
            (options ??= new()).Email = billing.Email;
        }

        if (HasValue(billing.Phone))
        {
            (options ??= new()).Phone = billing.Phone;
        }

        if (ToAddress(billing.Address) is { } address)
        {
            (options ??= new()).Address = address;
        }

        return options;
    }

    private static AddressOptions? ToAddress(Address? address)
    {
        if (address is null)
        {
            return null;
        }

        AddressOptions? options = null;
        if (HasValue(address.Line1))
        {
            (options ??= new()).Line1 = address.Line1;
        }

        if (HasValue(address.Line2))
        {
            (options ??= new()).Line2 = address.Line2;
        }

        if (HasValue(address.City))
        {
            (options ??= new()).City = address.City;
        }

        if (HasValue(address.State))
        {
            (options ??= new()).State = address.State;
        }

        if (HasValue(address.PostalCode))
        {
            (options ??= new()).PostalCode = address.PostalCode;
        }

        if (HasValue(address.Country))
        {
            (options ??= new()).Country = address.Country;
        }

        return options;
    }

    private static GatewayPaymentMethod Bank(string id, TokenType type, string last4, string? bankIdentifier, string? country, string? fingerprint) =>
        new(id, type, null, new BankAccountMetadata(last4, NullIfEmpty(bankIdentifier), NullIfEmpty(country), NullIfEmpty(fingerprint)));

    private static bool HasValue(string? value) => !string.IsNullOrWhiteSpace(value);

    private static bool IsLast4(string? value) => value is { Length: 4 };

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
