using Tokenizer.Core.Domain;
using Tokenizer.Core.Errors;

namespace Tokenizer.Core.Validation;

/// <summary>
/// IBAN rules of ISO 13616: spaces removed and letters upper-cased; country code, two check digits and a BBAN
/// whose length and structure the SWIFT registry fixes per country and that is not all zeros; mod 97 of the rearranged
/// number equals 1.
/// </summary>
internal static class IbanValidation
{
    public const string Field = "sepa_debit.iban";

    /// <summary>Validates an IBAN and returns the SEPA details, or null after adding one violation.</summary>
    public static SepaDebitDetails? Validate(string? iban, List<FieldViolation> violations)
    {
        var rule = Check(iban, out var normalised);
        if (rule is not null)
        {
            violations.Add(new(Field, rule));
            return null;
        }

        return new SepaDebitDetails(normalised!);
    }

    /// <summary>
    /// The electronic form: ASCII spaces removed, a-z upper-cased. Null when the value is null or holds
    /// anything but ASCII letters, digits and spaces.
    /// </summary>
    public static string? Normalise(string? iban)
    {
        if (iban is null)
        {
            return null;
        }

        var count = 0;
        foreach (var c in iban)
        {
            if (char.IsAsciiLetterOrDigit(c))
            {
                count++;
            }
            else if (c != ' ')
            {
                return null;
            }
        }

        return string.Create(count, iban, static (span, source) =>
        {
            var i = 0;
            foreach (var c in source)
            {
                if (c != ' ')
                {
                    span[i++] = char.ToUpperInvariant(c);
                }
            }
        });
    }

    /// <summary>The registry country of a readable IBAN, even an invalid one; null when it cannot be told.</summary>
    public static string? CountryOf(string? iban)
    {
        var normalised = Normalise(iban);
        return normalised is { Length: >= 2 } ? IbanRegistry.Find(normalised.AsSpan(0, 2))?.Code : null;
    }

    /// <summary>
    /// ISO 7064 MOD 97-10 over the rearranged IBAN (first four characters moved to the end, A=10 ... Z=35),
    /// computed piecewise: each step keeps the remainder below 97, so no big integer is needed.
    /// </summary>
    /// <param name="normalised">Upper-case ASCII letters and digits, at least four.</param>
    public static int Mod97(ReadOnlySpan<char> normalised)
    {
        var remainder = 0;
        for (var i = 0; i < normalised.Length; i++)
        {
            var c = normalised[(i + 4) % normalised.Length];
            remainder = char.IsAsciiDigit(c)
                ? ((remainder * 10) + (c - '0')) % 97
                : ((remainder * 100) + (c - 'A' + 10)) % 97;
        }

        return remainder;
    }

    private static string? Check(string? iban, out string? normalised)
    {
        normalised = Normalise(iban);
        if (string.IsNullOrWhiteSpace(iban))
        {
            return ValidationRules.Required;
        }

        if (normalised is null)
        {
            return ValidationRules.IbanCharacters;
        }

        var value = normalised.AsSpan();
        if (value.Length < 4 || !char.IsAsciiLetterUpper(value[0]) || !char.IsAsciiLetterUpper(value[1])
            || !char.IsAsciiDigit(value[2]) || !char.IsAsciiDigit(value[3]))
        {
            return ValidationRules.IbanShape;
        }

        var country = IbanRegistry.Find(value[..2]);
        if (country is null)
        {
            return ValidationRules.IbanUnknownCountry;
        }

        if (value.Length != country.Length)
        {
            return ValidationRules.IbanLength;
        }

        if (!country.MatchesBban(value[4..]))
        {
            return ValidationRules.IbanBban;
        }

        // Bank code and account number both zero: check digits can be computed for it, but no bank issued it.
        if (Digits.AreAllZero(value[4..]))
        {
            return ValidationRules.IbanBbanAllZero;
        }

        // 00, 01 and 99 are congruent to 97, 98 and 2 mod 97, so they can pass the checksum, but the
        // computation (98 - remainder) only ever yields 02-98: such an IBAN was not issued.
        if (value[2..4] is "00" or "01" or "99")
        {
            return ValidationRules.IbanCheckDigits;
        }

        return Mod97(value) == 1 ? null : ValidationRules.FailedChecksum;
    }
}
