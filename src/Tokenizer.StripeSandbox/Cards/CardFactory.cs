using System.Globalization;
using Tokenizer.StripeSandbox.Api;
using Tokenizer.StripeSandbox.State;

namespace Tokenizer.StripeSandbox.Cards;

/// <summary>
/// Turns <c>card[number]</c>, <c>card[exp_month]</c>, <c>card[exp_year]</c> and <c>card[cvc]</c> into Stripe's
/// <c>payment_method.card</c>, with Stripe test mode's create-time errors (HTTP 402 card_error: invalid_number,
/// incorrect_number, invalid_expiry_month, invalid_expiry_year, invalid_cvc). The number and CVC end here: the result
/// holds brand, last4, expiry, funding, country and the keyed fingerprint only.
/// </summary>
internal static class CardFactory
{
    public const string NumberParam = "card[number]";
    public const string ExpMonthParam = "card[exp_month]";
    public const string ExpYearParam = "card[exp_year]";
    public const string CvcParam = "card[cvc]";

    public static readonly IReadOnlyList<string> Params = [NumberParam, ExpMonthParam, ExpYearParam, CvcParam];

    /// <summary>The card object and the test card's profile (its attach decline, authentication and charge behaviour).</summary>
    public static (CardObject Card, CardProfile Profile) Create(StripeParams parameters, SandboxSecret secret, DateTimeOffset now)
    {
        var number = parameters.Required(NumberParam).Replace(" ", string.Empty, StringComparison.Ordinal);
        var monthText = parameters.Required(ExpMonthParam);
        var yearText = parameters.Required(ExpYearParam);
        var cvc = parameters.Get(CvcParam);

        if (!CardCatalog.IsWellFormed(number))
        {
            throw StripeErrors.Card("invalid_number", NumberParam, "Your card number is invalid.");
        }

        if (!CardCatalog.PassesLuhn(number))
        {
            throw StripeErrors.Card("incorrect_number", NumberParam, "Your card number is incorrect.");
        }

        var (month, year) = CheckExpiry(ParseInteger(monthText, ExpMonthParam), ParseInteger(yearText, ExpYearParam), now);

        if (cvc is not null && (cvc.Length is < 3 or > 4 || !cvc.All(char.IsAsciiDigit)))
        {
            throw StripeErrors.Card("invalid_cvc", CvcParam, "Your card's security code is invalid.");
        }

        var profile = CardCatalog.Profile(number);
        var card = new CardObject
        {
            Brand = profile.Brand,
            Checks = new CardChecksObject { CvcCheck = cvc is null ? null : "unchecked" },
            Country = profile.Country,
            DisplayBrand = CardCatalog.DisplayBrand(profile.Brand),
            ExpMonth = month,
            ExpYear = year,
            Fingerprint = secret.Fingerprint("card", number),
            Funding = profile.Funding,
            Last4 = number[^4..],
            Networks = new CardNetworksObject { Available = [profile.Brand] },
        };
        return (card, profile);
    }

    // Stripe answers a non-integer with parameter_invalid_integer and the value in the message; the sandbox leaves the value out.
    /// <summary>
    /// Stripe API POST /v1/payment_methods/{id} with <c>card[exp_month]</c> and/or <c>card[exp_year]</c>: the card with
    /// its new expiry, checked as at creation (a card reissued with a new expiry keeps its number, so its last4 and
    /// fingerprint).
    /// </summary>
    public static CardObject UpdateExpiry(CardObject card, StripeParams parameters, DateTimeOffset now)
    {
        var month = parameters.Get(ExpMonthParam) is { } monthText ? ParseInteger(monthText, ExpMonthParam) : card.ExpMonth;
        var year = parameters.Get(ExpYearParam) is { } yearText ? ParseInteger(yearText, ExpYearParam) : card.ExpYear;
        (month, year) = CheckExpiry(month, year, now);
        return card with { ExpMonth = month, ExpYear = year };
    }

    // Two-digit years are 20xx; a card is valid through the last day of its expiry month, at most 50 years ahead.
    private static (int Month, int Year) CheckExpiry(int month, int year, DateTimeOffset now)
    {
        if (month is < 1 or > 12)
        {
            throw StripeErrors.Card("invalid_expiry_month", ExpMonthParam, "Your card's expiration month is invalid.");
        }

        if (year is >= 0 and < 100)
        {
            year += 2000;
        }

        var expired = year < now.Year || (year == now.Year && month < now.Month);
        if (expired || year > now.Year + 50)
        {
            throw StripeErrors.Card("invalid_expiry_year", ExpYearParam, "Your card's expiration year is invalid.");
        }

        return (month, year);
    }

    private static int ParseInteger(string text, string param) =>
        text.Length <= 6 && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw StripeErrors.ParameterInvalid(param, "Invalid integer.", "parameter_invalid_integer");
}
