using System.Globalization;

namespace Tokenizer.Core.Validation;

/// <summary>
/// The rule texts of field violations. Constants on purpose: a rule names what failed and never carries
/// any part of the input (no digits, no substrings).
/// </summary>
internal static class ValidationRules
{
    /// <summary>A valid IBAN whose country is outside the SEPA schemes.</summary>
    public const string IbanOutsideSepa = "country is not in the SEPA schemes";

    /// <summary>A phone number with more digits than E.164 allows.</summary>
    public const string PhoneDigits = "must have at most 15 digits (E.164)";

    public const string Required = "is required";
    public const string AccountRequired = "one of au_becs_debit, sepa_debit, bacs_debit, us_bank_account is required";

    public const string PanCharacters = "must contain only digits, spaces or dashes";
    public const string PanLength = "must be 12-19 digits";
    public const string PanBrandLength = "length does not match the card brand of its prefix";
    public const string AllZero = "must not be all zeros";
    public const string FailedChecksum = "failed checksum";
    public const string ExpMonthRange = "must be 1-12";
    public const string ExpYearDigits = "must be a 4-digit year";
    public const string CardExpired = "card has expired";
    public const string ExpYearTooFar = "must be at most 20 years ahead";
    public const string Cvc3 = "must be 3 digits";
    public const string Cvc4 = "must be 4 digits for American Express";
    public const string CvcUnknownBrand = "must be 3 or 4 digits";

    public const string IbanCharacters = "must contain only letters, digits and spaces";
    public const string IbanShape = "must start with a 2-letter country code and 2 check digits";
    public const string IbanUnknownCountry = "unknown IBAN country";
    public const string IbanLength = "wrong length for its country";
    public const string IbanBban = "BBAN does not match its country's format";
    public const string IbanCheckDigits = "invalid check digits";
    public const string IbanBbanAllZero = "BBAN must not be all zeros";

    public const string BsbFormat = "must be 6 digits, optionally written 000-000";
    public const string BecsAccountFormat = "must be 5-9 digits";
    public const string SortCodeFormat = "must be 6 digits, optionally written 00-00-00";
    public const string BacsAccountFormat = "must be 6-8 digits";
    public const string RoutingFormat = "must be 9 digits";
    public const string RoutingPrefix = "must start with 00-12, 21-32, 61-72 or 80";
    public const string AchAccountFormat = "must be 4-17 digits";
    public const string HolderTypeValue = "must be individual or company";
    public const string AccountTypeValue = "must be checking or savings";

    public const string EmailShape = "must be an email address with one @, a local part and a domain with a dot, without spaces";
    public const string PhoneCharacters = "must contain only digits, spaces and + - ( )";
    public const string CountryCode = "must be a 2-letter ISO 3166-1 country code";

    /// <summary>The rule text for a length limit (a constant of ours, never the input's length).</summary>
    public static string MaxLength(int max) =>
        string.Create(CultureInfo.InvariantCulture, $"must be at most {max} characters");
}
