using Tokenizer.Core.Domain;
using Tokenizer.Core.Errors;
using Tokenizer.Core.Tokenization;

namespace Tokenizer.Core.Validation;

/// <summary>
/// Card number, expiry and CVC rules (ISO/IEC 7812 lengths, the brand's lengths, Luhn; expiry through the month's last day).
/// </summary>
internal static class CardValidation
{
    public const string NumberField = "card.number";
    public const string ExpMonthField = "card.exp_month";
    public const string ExpYearField = "card.exp_year";
    public const string CvcField = "card.cvc";

    /// <summary>Cards further ahead than this are almost certainly typos (Stripe refuses far-future years too).</summary>
    public const int MaxYearsAhead = 20;

    /// <summary>
    /// Validates a card and returns it normalised, or null after adding at least one violation.
    /// </summary>
    /// <remarks>
    /// Luhn is required for every brand, UnionPay included. Some UnionPay ranges are not Luhn-valid by design,
    /// but our gateway (Stripe) refuses a non-Luhn PAN as incorrect_number anyway, and its UnionPay test card
    /// 6200000000000005 passes Luhn; refusing here saves a gateway call and gives the caller a field violation.
    /// </remarks>
    public static CardDetails? Validate(CardInput card, DateTimeOffset now, List<FieldViolation> violations)
    {
        var before = violations.Count;
        var pan = ValidateNumber(card.Number, NormalisePan(card.Number), violations);

        // The brand picks the CVC length. An invalid number leaves it open (3 or 4 digits): a mistyped first digit
        // changes the brand, and one typo should give one violation, not a second one on a correct CVC.
        var brand = pan is null ? (CardBrand?)null : CardBrandDetector.Detect(pan);
        ValidateExpiry(card.ExpMonth, card.ExpYear, now, violations);
        ValidateCvc(card.Cvc, brand, violations);

        return violations.Count == before
            ? new CardDetails(pan!, card.ExpMonth, card.ExpYear, card.Cvc!, brand ?? CardBrand.Unknown)
            : null;
    }

    /// <summary>The PAN's digits with spaces and dashes removed, or null when anything else is present.</summary>
    public static string? NormalisePan(string? number) =>
        number is null ? null : Digits.StripSeparators(number, " -");

    private static string? ValidateNumber(string? number, string? digits, List<FieldViolation> violations)
    {
        string? rule = null;
        if (string.IsNullOrEmpty(number))
        {
            rule = ValidationRules.Required;
        }
        else if (digits is null)
        {
            rule = ValidationRules.PanCharacters;
        }
        else if (digits.Length is < CardBrandDetector.MinLength or > CardBrandDetector.MaxLength)
        {
            rule = ValidationRules.PanLength;
        }
        else if (!CardBrandDetector.HasBrandLength(digits))
        {
            // The network of the longest matching prefix issues no PAN of this length (a 13-digit number with an
            // American Express prefix): a digit was dropped or added.
            rule = ValidationRules.PanBrandLength;
        }
        else if (!Luhn.IsValid(digits))
        {
            rule = ValidationRules.FailedChecksum;
        }
        else if (Digits.AreAllZero(digits))
        {
            // Passes Luhn (the sum is 0), but no issuer has IIN 000000 (ISO/IEC 7812 assigns none).
            rule = ValidationRules.AllZero;
        }

        if (rule is not null)
        {
            violations.Add(new(NumberField, rule));
            return null;
        }

        return digits;
    }

    private static void ValidateExpiry(int month, int year, DateTimeOffset now, List<FieldViolation> violations)
    {
        var monthOk = month is >= 1 and <= 12;
        var yearOk = year is >= 1000 and <= 9999;
        if (!monthOk)
        {
            violations.Add(new(ExpMonthField, ValidationRules.ExpMonthRange));
        }

        if (!yearOk)
        {
            violations.Add(new(ExpYearField, ValidationRules.ExpYearDigits));
            return;
        }

        // Valid through the last instant of the expiry month in UTC: compare (year, month) pairs, so there is
        // no date arithmetic to overflow at 9999-12 and no local time zone involved.
        var utc = now.UtcDateTime;
        if (year < utc.Year)
        {
            violations.Add(new(ExpYearField, ValidationRules.CardExpired));
        }
        else if (year > utc.Year + MaxYearsAhead)
        {
            violations.Add(new(ExpYearField, ValidationRules.ExpYearTooFar));
        }
        else if (monthOk && year == utc.Year && month < utc.Month)
        {
            violations.Add(new(ExpMonthField, ValidationRules.CardExpired));
        }
    }

    private static void ValidateCvc(string? cvc, CardBrand? brand, List<FieldViolation> violations)
    {
        string? rule = null;
        if (string.IsNullOrEmpty(cvc))
        {
            rule = ValidationRules.Required;
        }
        else if (brand is null)
        {
            if (!Digits.AreAll(cvc, 3, 4))
            {
                rule = ValidationRules.CvcUnknownBrand;
            }
        }
        else
        {
            var length = CardBrandDetector.CvcLength(brand.Value);
            if (!Digits.AreAll(cvc, length, length))
            {
                rule = length == 4 ? ValidationRules.Cvc4 : ValidationRules.Cvc3;
            }
        }

        if (rule is not null)
        {
            violations.Add(new(CvcField, rule));
        }
    }
}
