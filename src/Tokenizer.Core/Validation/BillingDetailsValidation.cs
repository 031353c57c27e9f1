using Tokenizer.Core.Domain;
using Tokenizer.Core.Errors;

namespace Tokenizer.Core.Validation;

/// <summary>
/// Billing details rules: every field through <see cref="FreeTextRule"/> (no card or bank number, no control or bidi
/// character, a length limit), trimmed, empty values null; email and phone shape-checked, country upper-cased.
/// </summary>
internal static class BillingDetailsValidation
{
    public const string NameField = "billing_details.name";
    public const string EmailField = "billing_details.email";
    public const string PhoneField = "billing_details.phone";
    public const string Line1Field = "billing_details.address.line1";
    public const string Line2Field = "billing_details.address.line2";
    public const string CityField = "billing_details.address.city";
    public const string StateField = "billing_details.address.state";
    public const string PostalCodeField = "billing_details.address.postal_code";
    public const string CountryField = "billing_details.address.country";

    public const int MaxName = 200;
    public const int MaxEmail = 254; // RFC 5321 path limit.
    public const int MaxPhone = 32;
    public const int MaxLine = 200;
    public const int MaxCity = 100;
    public const int MaxState = 100;
    public const int MaxPostalCode = 20;

    /// <summary>Validates and cleans billing details, then adds "is required" for each required field left empty.</summary>
    /// <param name="input">As received; null means none were sent.</param>
    /// <param name="required">What the payment method type needs.</param>
    /// <param name="violations">Receives every violation.</param>
    /// <returns>The cleaned details; <see cref="BillingDetails.Address"/> is null when all its fields are empty.</returns>
    public static BillingDetails Validate(BillingDetails? input, RequiredBillingFields required, List<FieldViolation> violations)
    {
        var address = input?.Address;
        var name = Text(input?.Name, NameField, MaxName, violations);
        var email = Text(input?.Email, EmailField, MaxEmail, violations, IsEmailShaped, ValidationRules.EmailShape);
        var phone = Text(input?.Phone, PhoneField, MaxPhone, violations, IsPhoneShaped, ValidationRules.PhoneCharacters);
        var line1 = Text(address?.Line1, Line1Field, MaxLine, violations);
        var line2 = Text(address?.Line2, Line2Field, MaxLine, violations);
        var city = Text(address?.City, CityField, MaxCity, violations);
        var state = Text(address?.State, StateField, MaxState, violations);
        var postalCode = Text(address?.PostalCode, PostalCodeField, MaxPostalCode, violations);
        var country = Country(address?.Country, violations);

        if (required.HasFlag(RequiredBillingFields.Name))
        {
            Require(name, NameField, violations);
        }

        if (required.HasFlag(RequiredBillingFields.Email))
        {
            Require(email, EmailField, violations);
        }

        if (required.HasFlag(RequiredBillingFields.Address))
        {
            Require(line1, Line1Field, violations);
            Require(city, CityField, violations);
            Require(postalCode, PostalCodeField, violations);
            Require(country, CountryField, violations);
        }

        var cleanedAddress = line1 is null && line2 is null && city is null && state is null && postalCode is null && country is null
            ? null
            : new Address(line1, line2, city, state, postalCode, country);
        return name is null && email is null && phone is null && cleanedAddress is null
            ? BillingDetails.Empty
            : new BillingDetails(name, email, phone, cleanedAddress);
    }

    /// <summary>One '@', a non-empty local part, a domain with a dot inside it, no whitespace. A shape check only.</summary>
    public static bool IsEmailShaped(string email)
    {
        var at = email.IndexOf('@', StringComparison.Ordinal);
        if (at <= 0 || at != email.LastIndexOf('@') || email.Any(char.IsWhiteSpace))
        {
            return false;
        }

        var domain = email.AsSpan(at + 1);
        var dot = domain.IndexOf('.');
        return dot > 0 && domain[^1] != '.';
    }

    /// <summary>Digits, spaces and + - ( ) only.</summary>
    public static bool IsPhoneShaped(string phone) =>
        phone.All(c => char.IsAsciiDigit(c) || c is ' ' or '+' or '-' or '(' or ')');

    // Returns the trimmed value even when it breaks a rule, so a present-but-invalid field is not also "required".
    private static string? Text(
        string? value,
        string field,
        int maxLength,
        List<FieldViolation> violations,
        Func<string, bool>? shape = null,
        string? shapeRule = null)
    {
        var before = violations.Count;
        var cleaned = FreeTextRule.Check(value, field, maxLength, violations);
        if (cleaned is null || violations.Count > before)
        {
            return cleaned;
        }

        if (shape is not null && !shape(cleaned))
        {
            violations.Add(new(field, shapeRule!));
        }
        else if (field == PhoneField && cleaned.Count(char.IsAsciiDigit) > 15)
        {
            violations.Add(new(field, ValidationRules.PhoneDigits));
        }

        return cleaned;
    }

    private static string? Country(string? value, List<FieldViolation> violations)
    {
        var before = violations.Count;
        var cleaned = FreeTextRule.Check(value, CountryField, MaxCity, violations);
        if (cleaned is null || violations.Count > before)
        {
            return cleaned;
        }

        if (cleaned.Length != 2 || !char.IsAsciiLetter(cleaned[0]) || !char.IsAsciiLetter(cleaned[1]))
        {
            violations.Add(new(CountryField, ValidationRules.CountryCode));
            return cleaned;
        }

        return cleaned.ToUpperInvariant();
    }

    private static void Require(string? value, string field, List<FieldViolation> violations)
    {
        if (value is null)
        {
            violations.Add(new(field, ValidationRules.Required));
        }
    }
}
